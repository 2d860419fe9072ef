//! A validation's outcome: each check with its status and reason, and the verdict, built one
//! check at a time by [`Builder`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Refusal {
    /// Too long, wrong number of parts, or not base64url.
    Structure,
    /// The header is not an acceptable JSON object or has forbidden members.
    Header,
    /// `alg` is not allowed.
    Algorithm,
    /// No usable key.
    Key,
    /// The signature does not verify.
    Signature,
    /// The payload is not an acceptable JSON object.
    Payload,
    /// A registered claim has the wrong type.
    ClaimType,
    /// A required claim is missing.
    MissingClaim,
    /// `iss` is not the expected issuer.
    Issuer,
    /// `aud` holds no accepted audience.
    Audience,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future, or too old.
    IssuedAt,
    /// `sub` matches no pattern.
    Subject,
    /// A claim condition does not hold.
    Condition,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "CheckStatus")]
pub enum Status {
    /// Passed.
    Pass,
    /// Failed: the token is refused.
    Fail,
    /// Not applicable, or not reached.
    Skip,
}

/// One check in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Check {
    /// `structure`, `header`, `key`, `signature`, `iss`, `aud`, `exp`, `nbf`, `iat`, `sub`,
    /// `claims`, or `condition:NAME`.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// Why.
    pub detail: String,
    /// For failures, the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
}

/// The result of validating one token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Report {
    /// True when every check passed or was skipped, and the signature verified.
    pub accepted: bool,
    /// `accepted` or `refused`.
    pub verdict: String,
    /// The first failure's detail, when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The header, when it parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// The claims, when they parsed (not trusted unless accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
}

impl Report {
    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// The checks so far, in order.
pub(super) struct Builder {
    pub(super) checks: Vec<Check>,
}

impl Builder {
    pub(super) fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            refusal: None,
        });
    }

    pub(super) fn fail(&mut self, name: &str, refusal: Refusal, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status: Status::Fail,
            detail: detail.into(),
            refusal: Some(refusal),
        });
    }

    pub(super) fn skip(&mut self, name: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status: Status::Skip,
            detail: detail.into(),
            refusal: None,
        });
    }

    pub(super) fn finish(self, header: Option<Value>, claims: Option<Value>) -> Report {
        let failure = self.checks.iter().find(|c| c.status == Status::Fail);
        let signed = self
            .checks
            .iter()
            .any(|c| c.name == "signature" && c.status == Status::Pass);
        let accepted = failure.is_none() && signed;
        Report {
            accepted,
            verdict: if accepted { "accepted" } else { "refused" }.into(),
            reason: failure.map(|c| format!("{}: {}", c.name, c.detail)),
            checks: self.checks,
            header,
            claims,
        }
    }
}
