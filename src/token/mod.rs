//! Step tokens: what a mint request may say, and the claims and header Bitbucket would produce.
//!
//! The claim set matches a Pipelines step with `oidc: true`: `iss`, `aud`, `sub`, `iat`, `exp`,
//! the workspace, repository, pipeline and step UUIDs (in braces), `branchName`, and
//! `deploymentEnvironmentUuid` for a deployment step. `sub` is `{repo}:{step}`, or
//! `{repo}:{env}:{step}` for a deployment step. `aud` is the workspace's ARI, with any custom
//! audiences appended (then it is an array). Callers may then merge arbitrary `claims` and
//! `header` members over the result (`null` removes one): that is how QA shapes a token, and
//! the signature is always made over exactly the bytes that are sent.

mod crafting;
mod edit;
mod request;
mod signer;

use serde_json::{Map, Value};

pub use crafting::{Crafting, MintRequest};
pub use edit::{Edit, EncodingEdit};
pub use request::{MAX_AUDIENCE_LEN, MAX_AUDIENCES, MAX_LIFETIME, StepRequest};
pub use signer::Signer;

use crate::clock::IdSource;
use crate::encoding::b64url;
use crate::error::{Error, Result};
use crate::keys::SigningKey;
use crate::workspace::{Workspace, braced, parse_uuid};

/// The inputs a claim set is built from besides the request.
pub(crate) struct MintContext<'a> {
    pub workspace: &'a Workspace,
    pub issuer: &'a str,
    pub now: i64,
    pub default_lifetime: u64,
    pub ids: &'a IdSource,
}

/// Builds the claim set for `req` (which must have been validated).
pub(crate) fn build_claims(req: &StepRequest, ctx: &MintContext<'_>) -> Result<Map<String, Value>> {
    let identity = StepIdentity {
        issuer: ctx.issuer.to_string(),
        workspace_uuid: ctx.workspace.uuid,
        default_repository_uuid: ctx.workspace.default_repository_uuid,
    };
    step_claims(req, &identity, ctx.now, ctx.default_lifetime, ctx.ids)
}

/// Who a step token is from, without keys: enough to say what a genuine token would claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepIdentity {
    /// The issuer URL.
    pub issuer: String,
    /// The workspace UUID.
    pub workspace_uuid: uuid::Uuid,
    /// The repository a request naming none is from.
    pub default_repository_uuid: uuid::Uuid,
}

impl StepIdentity {
    fn default_audience(&self) -> String {
        format!(
            "ari:cloud:bitbucket::workspace/{}",
            self.workspace_uuid.hyphenated()
        )
    }
}

/// The claims a genuine step token of `identity` would carry for `req` at `now` (the claim set
/// the issuer signs; no keys needed).
pub fn step_claims(
    req: &StepRequest,
    identity: &StepIdentity,
    now: i64,
    default_lifetime: u64,
    ids: &IdSource,
) -> Result<Map<String, Value>> {
    let ws = identity;
    let uuid_or =
        |field: &str, v: &Option<String>, default: &dyn Fn() -> uuid::Uuid| -> Result<String> {
            Ok(braced(&match v {
                Some(text) => parse_uuid(field, text)?,
                None => default(),
            }))
        };
    let repo = uuid_or("repository_uuid", &req.repository_uuid, &|| {
        ws.default_repository_uuid
    })?;
    let step = uuid_or("step_uuid", &req.step_uuid, &|| ids.uuid())?;
    let pipeline = uuid_or("pipeline_uuid", &req.pipeline_uuid, &|| ids.uuid())?;
    let env = req
        .deployment_environment_uuid
        .as_deref()
        .map(|e| parse_uuid("deployment_environment_uuid", e).map(|u| braced(&u)))
        .transpose()?;
    let lifetime = req.lifetime.unwrap_or(default_lifetime);
    let lifetime = i64::try_from(lifetime).map_err(|_| Error::invalid("lifetime", "too large"))?;

    let aud = if req.audiences.is_empty() {
        Value::String(ws.default_audience())
    } else {
        let mut all = vec![Value::String(ws.default_audience())];
        all.extend(req.audiences.iter().cloned().map(Value::String));
        Value::Array(all)
    };
    let sub = match &env {
        Some(env) => format!("{repo}:{env}:{step}"),
        None => format!("{repo}:{step}"),
    };

    let mut claims = Map::new();
    claims.insert("iss".into(), ws.issuer.clone().into());
    claims.insert("aud".into(), aud);
    claims.insert("sub".into(), sub.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), now.saturating_add(lifetime).into());
    claims.insert("workspaceUuid".into(), braced(&ws.workspace_uuid).into());
    claims.insert("repositoryUuid".into(), repo.into());
    claims.insert("pipelineUuid".into(), pipeline.into());
    claims.insert("stepUuid".into(), step.into());
    claims.insert(
        "branchName".into(),
        req.branch.clone().unwrap_or_else(|| "main".into()).into(),
    );
    if let Some(env) = env {
        claims.insert("deploymentEnvironmentUuid".into(), env.into());
    }
    merge(&mut claims, &req.claims);
    Ok(claims)
}

/// The default header for `key`, with `overrides` merged over it.
pub(crate) fn build_header(key: &SigningKey, overrides: &Map<String, Value>) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("alg".into(), key.alg().as_str().into());
    header.insert("kid".into(), key.kid().into());
    header.insert("typ".into(), "JWT".into());
    merge(&mut header, overrides);
    header
}

/// Merges `over` into `base`: a `null` removes the member, anything else replaces or adds it.
pub fn merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        if v.is_null() {
            base.shift_remove(k);
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}

/// Serialises and signs (RS256) a header and claims into a compact JWS.
pub(crate) fn sign(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &SigningKey,
) -> Result<String> {
    let h = serde_json::to_vec(header).map_err(|e| Error::invalid("header", e.to_string()))?;
    let c = serde_json::to_vec(claims).map_err(|e| Error::invalid("claims", e.to_string()))?;
    let mut token = String::with_capacity((h.len() + c.len()) * 4 / 3 + 350);
    token.push_str(&b64url(&h));
    token.push('.');
    token.push_str(&b64url(&c));
    let sig = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64url(&sig));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let cases: Vec<(StepRequest, &str)> = vec![
            (
                StepRequest {
                    repository_uuid: Some("x".into()),
                    ..Default::default()
                },
                "repository_uuid",
            ),
            (
                StepRequest {
                    deployment_environment_uuid: Some("{}".into()),
                    ..Default::default()
                },
                "deployment_environment_uuid",
            ),
            (
                StepRequest {
                    audiences: vec!["a".into(); 11],
                    ..Default::default()
                },
                "audiences",
            ),
            (
                StepRequest {
                    audiences: vec!["ok".into(), "x".repeat(151)],
                    ..Default::default()
                },
                "audiences[1]",
            ),
            (
                StepRequest {
                    audiences: vec![String::new()],
                    ..Default::default()
                },
                "audiences[0]",
            ),
            (
                StepRequest {
                    lifetime: Some(0),
                    ..Default::default()
                },
                "lifetime",
            ),
            (
                StepRequest {
                    branch: Some(String::new()),
                    ..Default::default()
                },
                "branch",
            ),
        ];
        for (req, field) in cases {
            match req.validate().unwrap_err().into_kind() {
                crate::ErrorKind::InvalidInput { field: f, .. } => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
        let ok = StepRequest {
            audiences: vec!["x".repeat(150); 10],
            ..Default::default()
        };
        ok.validate().unwrap();
    }

    #[test]
    fn aliases_and_unknown_fields() {
        let req: StepRequest = serde_json::from_str(
            r#"{"repositoryUuid":"{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}","branchName":"dev"}"#,
        )
        .unwrap();
        assert_eq!(req.branch.as_deref(), Some("dev"));
        assert!(serde_json::from_str::<StepRequest>(r#"{"branchname":"dev"}"#).is_err());
    }

    #[test]
    fn merge_replaces_adds_and_removes_in_place() {
        let mut base: Map<String, Value> = serde_json::from_str(r#"{"a":1,"b":2,"c":3}"#).unwrap();
        let over: Map<String, Value> =
            serde_json::from_str(r#"{"b":"x","a":null,"d":[1]}"#).unwrap();
        merge(&mut base, &over);
        assert_eq!(
            serde_json::to_string(&base).unwrap(),
            r#"{"b":"x","c":3,"d":[1]}"#
        );
    }
}
