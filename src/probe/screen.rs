//! The probe as the Probe screen asks for it and shows it, in the app and in the console alike:
//! one request shape ([`ScreenRequest`]) and one reply ([`ScreenReport`]), so both front ends
//! send and read the same thing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fuzz::FuzzOptions;
use super::options::ProbeOptions;
use super::report::{FindingKind, ProbeReport, Severity, Verdict};
use super::target::Target;
use crate::error::{Error, Result};
use crate::hostile::{ExploitableBy, Outcome, Recipe};
use crate::issuer::Issuer;
use crate::token::StepRequest;
use crate::validate::PolicyOverrides;

/// A probe as the Probe screen sends it.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(rename = "ProbeOptions", optional_fields = nullable)]
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
    /// The oldest `iat` the relying party accepts, in seconds before now.
    pub max_age: Option<u64>,
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

/// The most generated tokens one probe over the control API may ask for: a bound on the work
/// (and memory) a single request can start in the server.
pub const MAX_SCREEN_FUZZ: usize = 100_000;

impl ScreenRequest {
    /// The policy the relying party declares, over the workspace's default.
    pub fn declared(&self) -> PolicyOverrides {
        PolicyOverrides {
            audiences: self.audiences.clone(),
            sub_like: self.sub_like.clone(),
            claims: self.claims.clone(),
            leeway: self.leeway,
            max_age: self.max_age,
            ..PolicyOverrides::default()
        }
    }

    /// Whether this probe runs a command (which the control API allows only with
    /// `serve --allow-exec`).
    pub fn runs_command(&self) -> bool {
        self.exec.as_deref().is_some_and(|e| !e.is_empty())
    }

    /// The probe options this asks for, against `issuer`'s workspace.
    pub fn options(&self, issuer: &Issuer) -> Result<ProbeOptions> {
        if let Some(n) = self.fuzz
            && n > MAX_SCREEN_FUZZ
        {
            return Err(Error::invalid(
                "fuzz",
                format!("{n} generated tokens: at most {MAX_SCREEN_FUZZ} per probe"),
            ));
        }
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
        let policy = self.declared().apply(ws.default_policy())?;
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ProbeReport")]
pub struct ScreenReport {
    /// `baseline accepted`, or why the relying party could not be tested.
    pub baseline: String,
    /// Every case, the baseline first.
    pub rows: Vec<ScreenRow>,
    /// Generated tokens the relying party and the validator disagree on.
    pub findings: Vec<ScreenFinding>,
    /// The fuzz phase's figures, when it ran.
    pub fuzz: Option<FuzzFigures>,
    /// Counts.
    pub summary: ScreenSummary,
    /// The report as JUnit XML.
    pub junit: String,
    /// The whole report, as `stepmint probe --json` prints it.
    #[ts(type = "JsonValue")]
    pub json: Value,
}

/// One case's result; `severity` is set on wrongly accepted rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ProbeRow")]
pub struct ScreenRow {
    /// The case.
    pub case: String,
    /// Its family.
    pub family: String,
    /// What the token should get.
    pub expected: Outcome,
    /// What the relying party did.
    pub observed: String,
    /// How the relying party did.
    pub verdict: Verdict,
    /// How bad a wrongly accepted token is.
    pub severity: Option<Severity>,
    /// Who could exploit a relying party that accepts this token (none for the baseline).
    pub exploitable_by: Option<ExploitableBy>,
    /// How such a token is obtained, or why nobody can obtain one.
    pub exploit: String,
    /// For a branch pusher: the branch they would push.
    pub attacker_branch: Option<String>,
    /// CVE, RFC section or rule.
    pub reference: String,
    /// The relying party's answer, in short.
    pub detail: String,
}

/// A generated token the relying party and the reference validator disagree on, shrunk to its
/// minimal difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "Finding")]
pub struct ScreenFinding {
    /// Stable id.
    pub id: String,
    /// A hostile token accepted, or a genuine one refused.
    pub kind: FindingKind,
    /// How bad it is.
    pub severity: Severity,
    /// Who could exploit a relying party that accepts this token.
    pub exploitable_by: ExploitableBy,
    /// How such a token is obtained, or why nobody can obtain one.
    pub exploit: String,
    /// For a branch pusher: the branch they would push.
    pub attacker_branch: Option<String>,
    /// The minimal difference from a genuine token.
    pub difference: Vec<String>,
    /// What the reference validator said.
    pub validator: String,
    /// What the relying party said.
    pub detail: String,
    /// How many generated tokens shrank to it.
    pub occurrences: usize,
    /// The command that replays it.
    pub reproduce: String,
    /// The recipe (TOML) that replays it.
    pub recipe: String,
}

/// The fuzz phase's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FuzzFigures {
    /// Generated tokens sent.
    pub sent: usize,
    /// Tokens per second.
    pub rate: f64,
    /// The seed.
    pub seed: u64,
}

/// The counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ProbeSummary")]
pub struct ScreenSummary {
    /// Rows.
    pub total: usize,
    /// Rows that passed.
    pub passed: usize,
    /// Rows that failed.
    pub failed: usize,
    /// Rows skipped or in error.
    pub skipped: usize,
    /// Fuzz findings.
    pub findings: usize,
    /// Wrongly accepted cases and findings someone could exploit (what fails a run).
    pub exploitable: usize,
    /// Wrongly accepted cases and findings nobody could exploit (hygiene).
    pub hygiene: usize,
}

/// Builds the [`ScreenReport`] for `report`.
pub fn screen_report(report: &ProbeReport) -> ScreenReport {
    let rows = std::iter::once(&report.baseline)
        .chain(report.rows.iter())
        .map(|r| ScreenRow {
            case: r.case.clone(),
            family: r.family.clone(),
            expected: r.expected,
            observed: label(serde_json::to_value(&r.observed).unwrap_or_default()),
            verdict: r.verdict,
            severity: r.severity,
            exploitable_by: r.exploitable_by,
            exploit: r.exploit.clone(),
            attacker_branch: r.attacker_branch.clone(),
            reference: r.reference.clone(),
            detail: r.detail.clone(),
        })
        .collect();
    let baseline = match report.untested_because() {
        None => "baseline accepted".to_string(),
        Some(why) => format!("{why}: {}", report.baseline.detail),
    };
    let findings = report
        .fuzz
        .iter()
        .flat_map(|f| f.findings.iter().chain(&f.false_refusals))
        .map(|f| {
            let recipe = f.recipe(&report.context);
            ScreenFinding {
                id: f.id.clone(),
                kind: f.kind,
                severity: f.severity,
                exploitable_by: f.exploitable_by,
                exploit: f.exploit.clone(),
                attacker_branch: f.attacker_branch.clone(),
                difference: f.difference.clone(),
                validator: f.validator.clone(),
                detail: f.detail.clone(),
                occurrences: f.occurrences,
                reproduce: f.reproduce.clone(),
                recipe: recipe.to_toml().unwrap_or_default(),
            }
        })
        .collect();
    ScreenReport {
        baseline,
        rows,
        findings,
        fuzz: report.fuzz.as_ref().map(|f| FuzzFigures {
            sent: f.sent,
            rate: f.rate,
            seed: f.seed,
        }),
        summary: ScreenSummary {
            total: report.summary.total,
            passed: report.summary.passed,
            failed: report.summary.failed,
            skipped: report.summary.skipped + report.summary.errors,
            findings: report.summary.findings,
            exploitable: report.summary.exploitable,
            hygiene: report.summary.hygiene,
        },
        junit: report.junit(),
        json: serde_json::to_value(report).unwrap_or_default(),
    }
}
