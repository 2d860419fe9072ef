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
    /// Who could exploit a relying party that accepts it.
    pub exploitable_by: ExploitableBy,
    /// Why: how such a token is obtained, or why Bitbucket never issues one.
    pub exploit: String,
}

/// Who could get a token like this one signed by the real issuer, and so exploit a relying
/// party that accepts it. Ordered from the most people to the fewest: reports sort by it, and a
/// probe's severities and exit status derive from it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ExploitableBy {
    /// Anyone: the token is forged (no signature, an attacker's key, algorithm confusion, a
    /// signature nobody checks).
    Anyone,
    /// Anyone with a Bitbucket workspace of their own (any Bitbucket user): the token is
    /// another workspace's, as Bitbucket issues it to that workspace.
    AnyWorkspace,
    /// Anyone who can run a pipeline in another repository of the same workspace.
    SameWorkspaceRepo,
    /// Anyone who can push a branch (or a tag) to the repository: `branchName` within git's
    /// ref-name rules, and what that branch's `bitbucket-pipelines.yml` chooses (deployment
    /// environment, custom audiences).
    BranchPusher,
    /// Whoever holds a token the trusted step itself was issued but that is not meant for this
    /// relying party now: an expired one (a leaked log, a cache), one older than the declared
    /// maximum age, or another step's or another audience's token of the same pipeline.
    TokenHolder,
    /// Nobody: Bitbucket never issues a token of this shape (a list-valued `branchName`, no
    /// `exp`, a header it never sends). Hygiene: correct to report, wrong to alarm on.
    Nobody,
}

impl ExploitableBy {
    /// Every value, the most people first.
    pub const ALL: [ExploitableBy; 6] = [
        ExploitableBy::Anyone,
        ExploitableBy::AnyWorkspace,
        ExploitableBy::SameWorkspaceRepo,
        ExploitableBy::BranchPusher,
        ExploitableBy::TokenHolder,
        ExploitableBy::Nobody,
    ];

    /// The JSON spelling: `anyone`, `any_workspace`, `same_workspace_repo`, `branch_pusher`,
    /// `token_holder`, `nobody`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExploitableBy::Anyone => "anyone",
            ExploitableBy::AnyWorkspace => "any_workspace",
            ExploitableBy::SameWorkspaceRepo => "same_workspace_repo",
            ExploitableBy::BranchPusher => "branch_pusher",
            ExploitableBy::TokenHolder => "token_holder",
            ExploitableBy::Nobody => "nobody",
        }
    }

    /// For people: `anyone`, `any Bitbucket workspace`, ...
    pub fn phrase(self) -> &'static str {
        match self {
            ExploitableBy::Anyone => "anyone",
            ExploitableBy::AnyWorkspace => "any Bitbucket workspace",
            ExploitableBy::SameWorkspaceRepo => "any repository in the workspace",
            ExploitableBy::BranchPusher => "anyone who can push a branch",
            ExploitableBy::TokenHolder => "a holder of the trusted step's other tokens",
            ExploitableBy::Nobody => "nobody (hygiene)",
        }
    }

    /// Whether someone could exploit it (everything but [`ExploitableBy::Nobody`]).
    pub fn is_exploitable(self) -> bool {
        self != ExploitableBy::Nobody
    }
}
