//! The probe as the Probe screen asks for it and shows it, in the app and in the console alike:
//! one request shape ([`ScreenRequest`]) and one reply ([`screen_json`]), so both front ends
//! send and read the same thing.

use serde_json::{Value, json};

use super::fuzz::FuzzOptions;
use super::options::{BASELINE_REFUSED, ProbeOptions};
use super::report::{FindingKind, ProbeReport};
use super::target::Target;
use crate::error::{Error, Result};
use crate::hostile::{Outcome, Recipe};
use crate::issuer::Issuer;
use crate::token::StepRequest;
use crate::validate::Condition;

/// A probe as the Probe screen sends it.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScreenRequest {
    /// The relying party's URL (or `exec`).
    pub url: Option<String>,
    /// A command relying party.
    pub exec: Option<String>,
    /// Run `exec` with `sh -c`.
    pub shell: bool,
    /// `Name: value` header lines.
    pub headers: Vec<String>,
    /// Accepted audiences (default: the workspace's).
    pub audiences: Vec<String>,
    /// `sub` patterns (StringLike).
    pub sub_like: Vec<String>,
    /// Claim conditions, `KEY=PATTERN`.
    pub claims: Vec<String>,
    /// Leeway in seconds.
    pub leeway: Option<u64>,
    /// The workspace (default: the first).
    pub workspace: Option<String>,
    /// Generated tokens after the fixed cases.
    pub fuzz: Option<usize>,
    /// The fuzz seed (default 1).
    pub seed: Option<u64>,
    /// Skip the catalogue and the policy-boundary cases.
    pub no_catalogue: bool,
    /// Recipes as TOML texts.
    pub recipes: Vec<String>,
}

impl ScreenRequest {
    /// The probe options this asks for, against `issuer`'s workspace.
    pub fn options(&self, issuer: &Issuer) -> Result<ProbeOptions> {
        let target = match (
            self.url.as_deref().filter(|u| !u.is_empty()),
            self.exec.as_deref().filter(|e| !e.is_empty()),
        ) {
            (Some(url), None) => Target::http(
                url.to_string(),
                "GET",
                &self.headers,
                None,
                200..=299,
                Vec::new(),
            )?,
            (None, Some(cmd)) if self.shell => Target::shell(cmd)?,
            (None, Some(cmd)) => Target::exec(cmd)?,
            _ => return Err(Error::invalid("target", "give either a URL or a command")),
        };
        let ws = issuer.workspace_or_first(self.workspace.as_deref())?;
        let mut policy = ws.default_policy();
        if !self.audiences.is_empty() {
            policy.audiences = self.audiences.clone();
        }
        policy.sub_like = self.sub_like.clone();
        policy.conditions = self
            .claims
            .iter()
            .map(|c| Condition::parse(c))
            .collect::<Result<_>>()?;
        if let Some(l) = self.leeway {
            policy.leeway = l;
        }
        let mut recipes = Vec::new();
        for (i, text) in self.recipes.iter().enumerate() {
            let origin = std::path::PathBuf::from(format!("recipe {}", i + 1));
            recipes.push(Recipe::from_toml(text, &origin)?);
        }
        let mut options = ProbeOptions::new(target);
        options.policy = Some(policy);
        options.step = StepRequest {
            workspace: Some(ws.workspace.slug.clone()),
            ..Default::default()
        };
        options.cases = !self.no_catalogue;
        options.recipes = recipes;
        options.fuzz = self.fuzz.filter(|n| *n > 0).map(|n| FuzzOptions {
            count: Some(n),
            seconds: None,
            seed: self.seed.unwrap_or(1),
        });
        Ok(options)
    }
}

fn label(v: Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The report as the Probe screen reads it: rows (baseline first), findings with the recipe
/// that replays each, the fuzz figures, counts, and the JUnit and JSON forms.
pub fn screen_json(report: &ProbeReport) -> Value {
    let rows: Vec<Value> = std::iter::once(&report.baseline)
        .chain(report.rows.iter())
        .map(|r| {
            json!({
                "case": r.case,
                "family": r.family,
                "expected": label(json!(r.expected)),
                "observed": label(serde_json::to_value(&r.observed).unwrap_or_default()),
                "verdict": label(json!(r.verdict)),
                "severity": r.severity.map(|s| label(json!(s))),
                "reference": r.reference,
                "detail": r.detail,
            })
        })
        .collect();
    let baseline = if report.tested() {
        "baseline accepted".to_string()
    } else {
        format!("{BASELINE_REFUSED}: {}", report.baseline.detail)
    };
    let findings: Vec<Value> = report
        .fuzz
        .iter()
        .flat_map(|f| f.findings.iter().chain(&f.false_refusals))
        .map(|f| {
            let recipe = Recipe {
                name: f.id.clone(),
                description: Some(f.difference.join("; ")),
                expected: Some(match f.kind {
                    FindingKind::Accepted => Outcome::Refuse,
                    FindingKind::FalseRefusal => Outcome::Accept,
                }),
                edits: f.edits.clone(),
            };
            json!({
                "id": f.id,
                "kind": label(json!(f.kind)),
                "severity": label(json!(f.severity)),
                "difference": f.difference,
                "validator": f.validator,
                "detail": f.detail,
                "occurrences": f.occurrences,
                "reproduce": f.reproduce,
                "recipe": recipe.to_toml().unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "baseline": baseline,
        "rows": rows,
        "findings": findings,
        "fuzz": report.fuzz.as_ref().map(|f| json!({"sent": f.sent, "rate": f.rate, "seed": f.seed})),
        "summary": {
            "total": report.summary.total,
            "passed": report.summary.passed,
            "failed": report.summary.failed,
            "skipped": report.summary.skipped + report.summary.errors,
            "findings": report.summary.findings,
        },
        "junit": report.junit(),
        "json": report,
    })
}
