//! A run's findings as recipes: each wrongly accepted case made of edits and each fuzz
//! disagreement, with the run's step context, so `stepmint mint --recipe` mints the token the
//! relying party answered in the probe (same audiences, environment, branch...), and `probe
//! --recipes` replays them as a regression suite.

use std::path::{Path, PathBuf};

use super::report::{Finding, FindingKind, ProbeReport};
use crate::error::{Error, Result};
use crate::hostile::{Outcome, Recipe, RecipeStep};

impl Finding {
    /// This finding as a recipe minted in `context`.
    pub fn recipe(&self, context: &RecipeStep) -> Recipe {
        Recipe {
            name: self.id.clone(),
            description: Some(format!(
                "{}; validator: {}",
                self.difference.join("; "),
                self.validator
            )),
            expected: Some(match self.kind {
                FindingKind::Accepted => Outcome::Refuse,
                FindingKind::FalseRefusal => Outcome::Accept,
            }),
            step: context.clone(),
            edits: self.edits.clone(),
        }
    }
}

impl ProbeReport {
    /// The recipes `--save-findings` writes: every wrongly accepted case made of edits
    /// (policy-boundary cases, recipes), then every fuzz finding and false refusal.
    pub fn finding_recipes(&self) -> Vec<Recipe> {
        let mut recipes: Vec<Recipe> = self
            .failures()
            .into_iter()
            .filter(|r| !r.edits.is_empty())
            .map(|r| Recipe {
                name: r.case.clone(),
                description: Some(r.reference.clone()),
                expected: Some(r.expected),
                step: self.context.clone(),
                edits: r.edits.clone(),
            })
            .collect();
        recipes.extend(
            self.fuzz
                .iter()
                .flat_map(|f| f.findings.iter().chain(&f.false_refusals))
                .map(|f| f.recipe(&self.context)),
        );
        recipes
    }

    /// Writes [`finding_recipes`](Self::finding_recipes) into `dir` (created if needed), one
    /// `NAME.toml` each, and returns the paths.
    pub fn save_findings(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        let mut paths = Vec::new();
        for r in self.finding_recipes() {
            let name: String = r
                .name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let path = dir.join(format!("{name}.toml"));
            crate::store::write_atomic(&path, r.to_toml()?.as_bytes())?;
            paths.push(path);
        }
        Ok(paths)
    }
}
