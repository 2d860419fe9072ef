//! The engine's vocabulary, shared by every evaluator: which kind of relying party a document
//! configures, what a decision is judged against ([`Context`]), and what comes back
//! ([`Decision`], [`Finding`]). Plain serde data, so the CLI, the control API and the screens
//! print and send the same shapes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The kind of relying party a policy document configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "PolicyKind")]
pub enum Kind {
    /// An AWS IAM role trust policy (`sts:AssumeRoleWithWebIdentity`).
    Aws,
    /// A Vault/OpenBao JWT auth role (`auth/jwt/role/NAME`), optionally with the mount config.
    Vault,
    /// A GCP workload identity pool provider (OIDC).
    Gcp,
    /// An Azure (Entra) federated identity credential.
    Azure,
}

impl Kind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [Kind; 4] = [Kind::Aws, Kind::Vault, Kind::Gcp, Kind::Azure];

    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Aws => "aws",
            Kind::Vault => "vault",
            Kind::Gcp => "gcp",
            Kind::Azure => "azure",
        }
    }

    /// Which kind a parsed document is, from the members only that kind has; `None` when it
    /// looks like none of them (the caller then asks for `--kind`).
    pub fn detect(doc: &Value) -> Option<Kind> {
        let obj = doc.as_object()?;
        let has = |k: &str| obj.contains_key(k);
        if has("Statement") || has("Version") && obj.len() <= 3 && has("Id") {
            return Some(Kind::Aws);
        }
        if has("attributeMapping")
            || has("attributeCondition")
            || has("oidc") && obj["oidc"].get("issuerUri").is_some()
            || has("workloadIdentityPoolProviderId")
        {
            return Some(Kind::Gcp);
        }
        if has("claimsMatchingExpression")
            || has("issuer") && (has("subject") || has("audiences")) && !has("user_claim")
        {
            return Some(Kind::Azure);
        }
        let role = match (obj.get("role"), obj.get("data")) {
            (Some(Value::Object(r)), _) | (_, Some(Value::Object(r))) => r,
            _ => obj,
        };
        let vault_keys = [
            "user_claim",
            "bound_audiences",
            "bound_claims",
            "bound_subject",
            "role_type",
            "bound_claims_type",
        ];
        if vault_keys.iter().any(|k| role.contains_key(*k)) {
            return Some(Kind::Vault);
        }
        None
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid(
                    "kind",
                    format!("unknown kind `{s}` (expected aws, vault, gcp or azure)"),
                )
            })
    }
}

/// What a decision is judged against: the verified token and what the relying party knows
/// about its own registration. Every field but `claims` and `now` is optional; an evaluator
/// skips (and says so in the trace) a check whose input is absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// The token's claims, already verified (signature) by the caller.
    pub claims: Map<String, Value>,
    /// The token's protected header (its `alg` matters to Vault's `jwt_supported_algs`).
    pub header: Map<String, Value>,
    /// The relying party's clock, Unix seconds.
    pub now: i64,
    /// AWS: the account the role lives in. The `Federated` principal must name a provider in
    /// this account. `None`: any account the policy names is taken as the role's.
    pub aws_account: Option<String>,
    /// AWS: the IAM OIDC provider's client ID list (audiences). `None`: not checked.
    pub aws_client_ids: Option<Vec<String>>,
    /// AWS: `RoleSessionName` of the call, exposed as `sts:RoleSessionName`.
    pub role_session_name: Option<String>,
    /// AWS: the caller's address, exposed as `aws:SourceIp`.
    pub source_ip: Option<String>,
    /// GCP: the provider's full resource name
    /// (`projects/N/locations/global/workloadIdentityPools/P/providers/X`) when the document
    /// does not carry its `name`; the default audience is derived from it.
    pub gcp_provider: Option<String>,
}

impl Context {
    /// A context for `claims` at `now` with nothing else known.
    pub fn new(claims: Map<String, Value>, now: i64) -> Context {
        Context {
            claims,
            now,
            ..Context::default()
        }
    }
}

/// One step of an evaluation, in order: what was looked at and whether it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// Where in the document: `Statement[0] (Sid AllowDeploy)`, `bound_claims.branchName`.
    pub at: String,
    /// Whether it held.
    pub passed: bool,
    /// What was compared.
    pub detail: String,
}

/// The answer: does this token get in, and what decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the relying party lets the token in.
    pub allowed: bool,
    /// The kind of relying party.
    pub kind: Kind,
    /// The statement, field or condition that decided (`Statement[1] (Sid DenyForks)`,
    /// `bound_audiences`, `attributeCondition`).
    pub decided_by: String,
    /// Why, in a sentence a platform engineer can act on.
    pub reason: String,
    /// Every step looked at, in order.
    pub trace: Vec<TraceStep>,
}

impl Decision {
    pub(crate) fn new(
        kind: Kind,
        allowed: bool,
        decided_by: impl Into<String>,
        reason: impl Into<String>,
        trace: Vec<TraceStep>,
    ) -> Decision {
        Decision {
            allowed,
            kind,
            decided_by: decided_by.into(),
            reason: reason.into(),
            trace,
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "PolicySeverity")]
pub enum Severity {
    /// Informational: worth knowing, nothing to change.
    Info,
    /// Probably not what the author meant.
    Warning,
    /// Wrong: the policy admits what it should not, or can never admit what it should.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A lint finding: a stable `id`, a severity, what is wrong and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PolicyFinding")]
pub struct Finding {
    /// Stable identifier (`sub-unconstrained`, `for-all-values-missing-key`, ...).
    pub id: String,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong, naming the statement and key.
    pub message: String,
    /// What to change.
    pub fix: String,
    /// Where: the statement or field, with its line when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub at: Option<String>,
    /// The 1-based line in the document, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub line: Option<usize>,
}

impl Finding {
    pub(crate) fn new(
        id: &str,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            id: id.into(),
            severity,
            message: message.into(),
            fix: fix.into(),
            at: None,
            line: None,
        }
    }

    pub(crate) fn at(mut self, at: impl Into<String>, line: Option<usize>) -> Finding {
        self.at = Some(at.into());
        self.line = line;
        self
    }
}

/// What a relying party does with token times, for verifying a token "as it would".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRules {
    /// Whether a token without `exp` is refused.
    pub exp_required: bool,
    /// Seconds of grace after `exp` (and before `nbf`/`iat`).
    pub leeway: i64,
}
