//! `policy check`'s report: the access table (every step of a pipelines file with the token it
//! would get and whether it gets in), the boundary tokens (see [`super::boundary`]) and the
//! lint findings, with the verdict: the check fails when a step or boundary token gets in that
//! the author evidently meant to keep out, or a finding is an `error`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Document;
use super::boundary::{Scope, variants};
use super::types::{Context, Finding, Kind, Severity};

/// One step's token, minted by the caller as the issuer would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepToken {
    /// The step's name (or its location when unnamed).
    pub step: String,
    /// Where it is in the pipelines file.
    pub location: String,
    /// The branch (pattern) it runs for, if any.
    pub branch: Option<String>,
    /// Its deployment environment's name, if any.
    pub environment: Option<String>,
    /// Whether Bitbucket gives the step a token at all (`oidc: true`).
    pub oidc: bool,
    /// The claims it would carry.
    pub claims: Map<String, Value>,
}

/// A row of the access table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PolicyAccessRow")]
pub struct AccessRow {
    /// The step.
    pub step: String,
    /// Where it is.
    pub location: String,
    /// Its branch (pattern).
    pub branch: Option<String>,
    /// Its deployment environment.
    pub environment: Option<String>,
    /// Whether it gets in.
    pub allowed: bool,
    /// Why.
    pub reason: String,
    /// What decided.
    pub decided_by: String,
    /// It gets in although the policy evidently means to keep it out.
    pub unexpected: bool,
}

/// A row of the boundary table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PolicyBoundaryRow")]
pub struct BoundaryRow {
    /// What the token is (`other repository`, ...).
    pub token: String,
    /// What changed from the in-scope token.
    pub change: String,
    /// Whether it gets in.
    pub allowed: bool,
    /// Why.
    pub why: String,
    /// Whether the policy evidently means it in (`true`), out (`false`), or does not say.
    pub expected: Option<bool>,
    /// It gets in although the policy evidently means to keep it out.
    pub unexpected: bool,
    /// The token's claims.
    pub claims: Map<String, Value>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PolicyCheckReport")]
pub struct CheckReport {
    /// The kind of relying party.
    pub kind: Kind,
    /// What the policy evidently pins.
    pub scope: Scope,
    /// Every step of the pipelines file.
    pub access: Vec<AccessRow>,
    /// Boundary tokens derived from the policy.
    pub boundary: Vec<BoundaryRow>,
    /// Lint findings, most severe first.
    pub findings: Vec<Finding>,
    /// Whether the check fails (exit 1).
    pub failed: bool,
    /// Assumptions the report rests on (identities it inferred, what it could not know).
    pub notes: Vec<String>,
}

/// Builds the report. `base` is an in-scope token (minted by the caller from
/// [`Scope::of`]); `template` carries the relying party's registration (account, client IDs)
/// and the clock; `steps` are the pipelines file's steps.
pub fn check(
    doc: &Document,
    scope: &Scope,
    steps: &[StepToken],
    base: &Map<String, Value>,
    template: &Context,
    notes: Vec<String>,
) -> CheckReport {
    let eval = |claims: &Map<String, Value>| {
        let mut ctx = template.clone();
        ctx.claims = claims.clone();
        doc.evaluate(&ctx)
    };
    let mut access = Vec::new();
    for s in steps {
        if !s.oidc {
            access.push(AccessRow {
                step: s.step.clone(),
                location: s.location.clone(),
                branch: s.branch.clone(),
                environment: s.environment.clone(),
                allowed: false,
                reason: "the step has no oidc: true, so Bitbucket gives it no token".into(),
                decided_by: "pipelines".into(),
                unexpected: false,
            });
            continue;
        }
        let d = eval(&s.claims);
        let env_uuid = s
            .claims
            .get("deploymentEnvironmentUuid")
            .and_then(Value::as_str);
        let outside_env = !scope.environment_uuids.is_empty()
            && env_uuid.is_none_or(|e| !scope.environment_uuids.iter().any(|x| x == e));
        let outside_branch = !scope.branches.is_empty()
            && s.branch
                .as_ref()
                .is_some_and(|b| !scope.branches.contains(b));
        access.push(AccessRow {
            step: s.step.clone(),
            location: s.location.clone(),
            branch: s.branch.clone(),
            environment: s.environment.clone(),
            allowed: d.allowed,
            reason: d.reason,
            decided_by: d.decided_by,
            unexpected: d.allowed && (outside_env || outside_branch),
        });
    }
    let boundary: Vec<BoundaryRow> = variants(scope, base, template.now)
        .into_iter()
        .map(|t| {
            let d = eval(&t.claims);
            BoundaryRow {
                unexpected: d.allowed && t.expected == Some(false),
                token: t.name,
                change: t.change,
                allowed: d.allowed,
                why: d.reason,
                expected: t.expected,
                claims: t.claims,
            }
        })
        .collect();
    let findings = doc.findings();
    let failed = access.iter().any(|a| a.unexpected)
        || boundary.iter().any(|b| b.unexpected)
        || findings.iter().any(|f| f.severity == Severity::Error);
    CheckReport {
        kind: doc.kind(),
        scope: scope.clone(),
        access,
        boundary,
        findings,
        failed,
        notes,
    }
}
