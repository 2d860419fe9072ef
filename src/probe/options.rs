//! What a probe is asked to do: [`ProbeOptions`] and its limits.

use std::time::Duration;

use super::fuzz::FuzzOptions;
use super::target::Target;
use crate::hostile::Recipe;
use crate::token::StepRequest;
use crate::validate::Policy;

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The relying party.
    pub target: Target,
    /// What the relying party declares it accepts. `None`: the workspace's default policy (its
    /// issuer and default audience); otherwise start from
    /// [`ServedWorkspace::default_policy`](crate::ServedWorkspace::default_policy) and set
    /// fields.
    pub policy: Option<Policy>,
    /// The step the tokens describe (workspace, repository, environment, branch, audiences).
    /// Unset values the policy pins (a `branchName` condition, say) are taken from it.
    pub step: StepRequest,
    /// Only these cases: names, or families (`policy:aud`, `identity`). Default: all.
    pub only: Vec<String>,
    /// Not these cases (names or families).
    pub skip: Vec<String>,
    /// Send the catalogue and the policy-boundary cases. Default: true.
    pub cases: bool,
    /// Recipes run beside the cases.
    pub recipes: Vec<Recipe>,
    /// Generated tokens after the fixed cases.
    pub fuzz: Option<FuzzOptions>,
    /// Per-token timeout.
    pub timeout: Duration,
    /// Tokens in flight at once.
    pub concurrency: usize,
}

impl ProbeOptions {
    /// The defaults for `target`: every case, the workspace's policy, 10 s per token, 4 at once.
    pub fn new(target: Target) -> ProbeOptions {
        ProbeOptions {
            target,
            policy: None,
            step: StepRequest::default(),
            only: Vec::new(),
            skip: Vec::new(),
            cases: true,
            recipes: Vec::new(),
            fuzz: None,
            timeout: Duration::from_secs(10),
            concurrency: 4,
        }
    }
}

/// The most tokens in flight at once.
pub const MAX_CONCURRENCY: usize = 256;
