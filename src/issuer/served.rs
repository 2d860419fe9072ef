//! A workspace as served: its issuer URL and its discovery and JWKS documents, serialised once
//! per key change, and the published keys ready for verification.

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::keys::RS256;
use crate::paths;
use crate::validate::{KeySet, Policy};
use crate::workspace::{Workspace, braced};

/// The claims Bitbucket's discovery document lists, in its order.
pub const CLAIMS_SUPPORTED: [&str; 12] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "branchName",
    "compliant",
    "deploymentEnvironmentUuid",
    "pipelineUuid",
    "repositoryUuid",
    "stepUuid",
    "workspaceUuid",
];

/// A workspace as served: identity, keys, issuer URL and the pre-serialised documents.
#[derive(Debug)]
pub struct ServedWorkspace {
    /// The workspace.
    pub workspace: Workspace,
    /// Its issuer URL.
    pub issuer: String,
    discovery: Bytes,
    jwks: Bytes,
    /// When the JWKS changes on its own (a retiring key leaves, a staged key appears).
    pub(super) valid_until: Option<i64>,
    keyset: KeySet,
}

/// A summary of one workspace, as the control API and `serve --json` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct WorkspaceInfo {
    /// The slug.
    pub slug: String,
    /// The UUID, in braces.
    pub uuid: String,
    /// The issuer URL.
    pub issuer: String,
    /// The discovery document URL.
    pub discovery: String,
    /// The JWKS URL.
    pub jwks_uri: String,
    /// The `kid` new tokens are signed with.
    pub active_kid: String,
    /// The audience a token gets when the request names none
    /// (`ari:cloud:bitbucket::workspace/UUID`, the UUID without braces).
    pub default_audience: String,
}

/// A workspace with its keys and token defaults: the control API's workspace document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct WorkspaceDetails {
    /// The summary.
    #[serde(flatten)]
    pub info: WorkspaceInfo,
    /// The key ring, as of the request.
    pub keys: Vec<crate::keys::KeyView>,
    /// The repository UUID a token gets when the request names none, in braces.
    pub default_repository_uuid: String,
}

impl ServedWorkspace {
    /// Serves `workspace` under `base`: its issuer URL and the discovery and JWKS documents
    /// current at `now`.
    pub fn build(workspace: Workspace, base: &str, now: i64) -> Result<ServedWorkspace> {
        let issuer = paths::issuer_url(base, &workspace.slug);
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": paths::jwks_url(&issuer),
            "response_types_supported": ["id_token"],
            "scopes_supported": ["openid"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [RS256],
            "claims_supported": CLAIMS_SUPPORTED,
        });
        let jwks = json!({ "keys": workspace.keys.published(now) });
        let valid_until = workspace.keys.next_change(now);
        let to_bytes = |v: &serde_json::Value| {
            serde_json::to_vec(v)
                .map(Bytes::from)
                .map_err(|e| Error::crypto(format!("serialising a document: {e}")))
        };
        let keyset = KeySet::from_value(jwks.clone())?;
        Ok(ServedWorkspace {
            keyset,
            discovery: to_bytes(&discovery)?,
            jwks: to_bytes(&jwks)?,
            workspace,
            issuer,
            valid_until,
        })
    }

    /// The discovery document, serialised.
    pub fn discovery_json(&self) -> &Bytes {
        &self.discovery
    }

    /// The JWKS, serialised.
    pub fn jwks_json(&self) -> &Bytes {
        &self.jwks
    }

    /// The published keys, ready for verification.
    pub fn keyset(&self) -> &KeySet {
        &self.keyset
    }

    /// The validator's default policy for this workspace: its issuer and default audience.
    pub fn default_policy(&self) -> Policy {
        Policy::for_issuer(self.issuer.clone(), self.workspace.default_audience())
    }

    /// A summary for listings.
    pub fn info(&self) -> WorkspaceInfo {
        WorkspaceInfo {
            slug: self.workspace.slug.clone(),
            uuid: braced(&self.workspace.uuid),
            issuer: self.issuer.clone(),
            discovery: paths::discovery_url(&self.issuer),
            jwks_uri: paths::jwks_url(&self.issuer),
            active_kid: self.workspace.keys.active().kid().to_string(),
            default_audience: self.workspace.default_audience(),
        }
    }

    /// The summary with the key ring as of `now` and the token defaults: what the control
    /// API's workspace document and the desktop's Issuer screen show.
    pub fn details(&self, now: i64) -> WorkspaceDetails {
        WorkspaceDetails {
            info: self.info(),
            keys: self.workspace.keys.describe(now),
            default_repository_uuid: braced(&self.workspace.default_repository_uuid),
        }
    }
}
