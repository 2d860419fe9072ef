//! What kinds of things a case is: its family, what a strict relying party must do with it, what
//! it needs to be built, and the case as data ([`CaseSummary`]). Plain data that the rest of
//! `hostile` and its callers name.

use serde::{Deserialize, Serialize};

/// A case's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// A genuine token, for comparison.
    Baseline,
    /// `exp`, `nbf`, `iat`.
    Time,
    /// `iss`, `aud`, `sub`.
    Identity,
    /// `alg` tricks and key confusion.
    Algorithm,
    /// Signatures and token structure.
    Signature,
    /// Header members that point at other keys or change processing.
    HeaderInjection,
    /// JSON and size edge cases.
    Parser,
}

/// What a relying party does with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Accepts it.
    Accept,
    /// Refuses it.
    Refuse,
}

/// What a strict relying party must do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Always refuse.
    Refuse,
    /// Always accept.
    Accept,
    /// Depends on the relying party's declared policy; `by_default` is the outcome under the
    /// validator's default policy for the workspace.
    Policy {
        /// The rule that decides.
        rule: &'static str,
        /// The outcome under the default policy.
        by_default: Outcome,
    },
}

impl Expected {
    /// The outcome under the default policy.
    pub fn by_default(&self) -> Outcome {
        match self {
            Expected::Refuse => Outcome::Refuse,
            Expected::Accept => Outcome::Accept,
            Expected::Policy { by_default, .. } => *by_default,
        }
    }

    /// `refuse`, `accept` or `policy`.
    pub fn label(&self) -> &'static str {
        match self {
            Expected::Refuse => "refuse",
            Expected::Accept => "accept",
            Expected::Policy { .. } => "policy",
        }
    }
}

/// Material a case needs that the issuer provides before crafting (see [`super::Armory`](crate::hostile::Armory)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Only the genuine token and the workspace's keys.
    Nothing,
    /// The attacker's keys.
    Attacker,
    /// A staged (generated, unpublished) key of the workspace.
    StagedKey,
}

/// A catalogue case as data (for listings, the control API and reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CaseSummary {
    /// Stable kebab-case name.
    pub name: String,
    /// Family.
    pub family: Family,
    /// One line on what the token is.
    pub description: String,
    /// `refuse`, `accept` or `policy`.
    pub expected: String,
    /// For `policy` cases, the rule that decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The outcome under the validator's default policy.
    pub default_outcome: Outcome,
    /// CVE, RFC section, or Bitbucket behaviour.
    pub reference: String,
}
