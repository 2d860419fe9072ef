//! What a genuine step token should say, as a mint request gives it, and the limits Bitbucket
//! puts on it (checked before anything is signed).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::workspace::parse_uuid;

/// Bitbucket allows at most this many custom audiences.
pub const MAX_AUDIENCES: usize = 10;
/// Bitbucket allows custom audiences of at most this many characters.
pub const MAX_AUDIENCE_LEN: usize = 150;
/// The longest lifetime a mint request may ask for (one year).
pub const MAX_LIFETIME: u64 = 365 * 86_400;

/// What a genuine step token should say. Every field is optional; absent UUIDs are generated.
/// A genuine mint (`stepmint run`, a pipeline's steps, a probe's baseline) takes only this, so
/// it cannot craft by mistake; a [`MintRequest`](super::MintRequest) adds the [`Crafting`](super::Crafting) on top.
///
/// Field names are snake_case; the claim names (`repositoryUuid`, `branchName`, ...) are
/// accepted as aliases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct StepRequest {
    /// Workspace slug. Default: the first served workspace.
    pub workspace: Option<String>,
    /// Repository UUID. Default: the workspace's persisted default repository.
    #[serde(alias = "repositoryUuid")]
    pub repository_uuid: Option<String>,
    /// Step UUID. Default: random.
    #[serde(alias = "stepUuid")]
    pub step_uuid: Option<String>,
    /// Pipeline UUID. Default: random.
    #[serde(alias = "pipelineUuid")]
    pub pipeline_uuid: Option<String>,
    /// Deployment environment UUID; makes this a deployment step. Default: none.
    #[serde(alias = "deploymentEnvironmentUuid", alias = "env_uuid")]
    pub deployment_environment_uuid: Option<String>,
    /// Branch name. Default: `main`.
    #[serde(alias = "branchName")]
    pub branch: Option<String>,
    /// Custom audiences appended to the default one (at most 10, each at most 150 characters).
    pub audiences: Vec<String>,
    /// Lifetime in seconds (1 to one year). Default: the issuer's (3600).
    pub lifetime: Option<u64>,
    /// Claims merged over the defaults; `null` removes a claim.
    pub claims: Map<String, Value>,
    /// Header members merged over the defaults; `null` removes one. The signature is made by
    /// the signer (a crafting's `sign_with`) whatever `alg` says.
    pub header: Map<String, Value>,
}

impl StepRequest {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("repository_uuid", &self.repository_uuid),
            ("step_uuid", &self.step_uuid),
            ("pipeline_uuid", &self.pipeline_uuid),
            (
                "deployment_environment_uuid",
                &self.deployment_environment_uuid,
            ),
        ] {
            if let Some(v) = value {
                parse_uuid(field, v)?;
            }
        }
        if let Some(branch) = &self.branch
            && (branch.is_empty() || branch.len() > 255 || branch.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "branch",
                "a branch name is 1-255 characters without control characters",
            ));
        }
        if self.audiences.len() > MAX_AUDIENCES {
            return Err(Error::invalid(
                "audiences",
                format!(
                    "{} custom audiences given; Bitbucket allows at most {MAX_AUDIENCES}",
                    self.audiences.len()
                ),
            ));
        }
        for (i, aud) in self.audiences.iter().enumerate() {
            let len = aud.chars().count();
            if len == 0 || len > MAX_AUDIENCE_LEN {
                return Err(Error::invalid(
                    format!("audiences[{i}]"),
                    format!("an audience is 1-{MAX_AUDIENCE_LEN} characters; this one has {len}"),
                ));
            }
        }
        if let Some(l) = self.lifetime
            && (l == 0 || l > MAX_LIFETIME)
        {
            return Err(Error::invalid(
                "lifetime",
                format!(
                    "lifetime must be 1-{MAX_LIFETIME} seconds (mint an expired token with a catalogue case or an `exp` claim)"
                ),
            ));
        }
        Ok(())
    }
}
