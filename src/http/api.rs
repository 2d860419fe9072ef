//! The control API's wire contract: the request and reply type of every call under
//! `/_stepmint/v1/`. The handlers answer with these, [`crate::ControlClient`] reads them back
//! (`client.get::<api::FaultList>(..)`), the CLI prints them and the desktop app returns them,
//! so a renamed field is a compile error rather than a front end that silently shows nothing.
//!
//! The JSON is pinned by the integration tests (`tests/control_api.rs` and others): field
//! order is declaration order, as the handlers wrote it before these types existed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::reqlog::{Endpoint, RequestRecord};
pub use crate::faults::{Fault, FaultEndpoint, FaultEntry};
pub use crate::hostile::CaseSummary;
pub use crate::issuer::{MintedToken, WorkspaceDetails, WorkspaceInfo};
pub use crate::keys::{KeyAlg, KeyStatus, KeyView};
pub use crate::token::StepRequest;
pub use crate::validate::{Policy, Report};

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The server's version.
    pub version: String,
    /// Seconds since it started.
    pub uptime_s: u64,
    /// How many workspaces it serves.
    pub workspaces: usize,
}

/// `GET /workspaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceList {
    /// Every served workspace, the default first.
    pub workspaces: Vec<WorkspaceInfo>,
}

impl WorkspaceList {
    /// The default workspace's slug (the first served).
    pub fn default_slug(&self) -> Option<&str> {
        self.workspaces.first().map(|w| w.slug.as_str())
    }
}

/// `GET /workspaces/{slug}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    /// The key ring.
    pub keys: Vec<KeyView>,
}

/// Body of `POST /workspaces/{slug}/keys/rotate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the old key stays published. Default: the token lifetime.
    pub overlap: Option<u64>,
    /// Seconds the new key signs before it is published. Default: 0.
    pub unpublished_for: Option<u64>,
}

/// Reply to `POST /workspaces/{slug}/keys/rotate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// The key that signs now.
    pub active_kid: String,
    /// Seconds the previous key stays published.
    pub overlap: u64,
    /// The key ring after the rotation.
    pub keys: Vec<KeyView>,
}

/// Body of `POST /workspaces/{slug}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddKeyRequest {
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: KeyAlg,
    /// Keep it out of the JWKS (a key staged for a later rotation).
    #[serde(default)]
    pub staged: bool,
    /// For a staged key: publish it this many seconds from now.
    #[serde(default)]
    pub publish_in: Option<u64>,
}

/// Reply to `POST /workspaces/{slug}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAdded {
    /// The new key's id.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
}

/// Reply to `DELETE /workspaces/{slug}/keys/{kid}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRetired {
    /// The retired key's id.
    pub retired: String,
}

/// `GET /requests`: one page of the request log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestsPage {
    /// The requests after `since`, oldest first.
    pub requests: Vec<RequestRecord>,
    /// The `since` for the next page.
    pub next: u64,
}

/// Body of `POST /verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token.
    pub token: String,
    /// The workspace whose keys and issuer to use. Default: the first.
    #[serde(default)]
    pub workspace: Option<String>,
    /// Policy members over the workspace's default policy (issuer and default audience).
    #[serde(default)]
    pub policy: serde_json::Map<String, Value>,
}

/// Reply to `POST /verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// The workspace whose keys were used.
    pub workspace: String,
    /// The policy applied.
    pub policy: Policy,
    /// The validator's report.
    pub report: Report,
}

/// `GET /cases`: the hostile catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseList {
    /// Every case.
    pub cases: Vec<CaseSummary>,
}

/// `GET /faults` and `PUT /faults/{slug}/{endpoint}`: the faults set now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultList {
    /// Every fault, by workspace and endpoint.
    pub faults: Vec<FaultEntry>,
}

/// `DELETE /faults...`: how many faults were cleared and what is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultsCleared {
    /// How many were cleared.
    pub cleared: usize,
    /// The faults left.
    pub faults: Vec<FaultEntry>,
}
