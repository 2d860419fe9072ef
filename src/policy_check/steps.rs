//! One step's token for the access table: minted as the issuer would for the step's
//! deployment environment (its UUID from `--env`, else a stand-in, with a note), a branch its
//! trigger matches (none for a tag build, whose token has no `branchName`) and its audiences.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::pipelines::PipelineStep;
use crate::policy::StepToken;
use crate::policy::boundary::Scope;

pub(super) fn step_token(
    s: &PipelineStep,
    n: usize,
    envs: &mut BTreeMap<String, String>,
    notes: &mut Vec<String>,
    scope: &Scope,
    mint: &MintFn<'_>,
) -> Result<StepToken> {
    let env = s.deployment.as_ref().map(|name| match envs.get(name) {
            Some(u) => u.clone(),
            None => {
                let only = (scope.environment_uuids.len() == 1)
                    .then(|| scope.environment_uuids[0].clone());
                let stand_in = format!("{{0000b0de-0000-4000-8000-{:012x}}}", 0xe000 + n);
                notes.push(match only {
                    Some(pinned) => format!("environment `{name}` has no known UUID (the policy pins {pinned}): pass --env {name}={pinned} if that is it"),
                    None => format!("environment `{name}` has no known UUID: pass --env {name}=UUID"),
                });
                envs.insert(name.clone(), stand_in.clone());
                stand_in
            }
        });
    let branch = s.example_branch("feature/any");
    let mut claims = mint(
        env,
        branch.as_deref().unwrap_or("main"),
        s.audiences.clone(),
    )
    .map_err(|e| Error::invalid(s.location.clone(), e.to_string()))?;
    if branch.is_none() {
        // A tag build has no branch: Bitbucket's token for it carries no branchName.
        claims.remove("branchName");
    }
    Ok(StepToken {
        step: s.name.clone().unwrap_or_else(|| s.location.clone()),
        location: s.location.clone(),
        branch: s.branch.clone(),
        environment: s.deployment.clone(),
        oidc: s.oidc,
        claims,
    })
}

/// Mints one step's claims: (environment, step name, audiences) -> claims.
pub(super) type MintFn<'a> =
    dyn Fn(Option<String>, &str, Vec<String>) -> Result<Map<String, Value>> + 'a;
