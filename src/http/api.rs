//! The control API's wire contract: the request and reply type of every call under
//! `/_stepmint/v1/`. The handlers answer with these, [`super::ControlClient`] reads them back
//! (`client.get::<api::FaultList>(..)`), the CLI prints them and the desktop app returns them,
//! so a renamed field is a compile error rather than a front end that silently shows nothing.
//!
//! The JSON is pinned by the integration tests (`tests/control_api.rs` and others): field
//! order is declaration order, as the handlers wrote it before these types existed. The front
//! end's types are generated from these ([`typescript`], written to `ui/src/generated/api.ts`;
//! a test fails when that file is stale), so `ui/src/api.ts` declares no shape of its own.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::{TS, TypeVisitor};

pub use super::reqlog::{Endpoint, RequestRecord};
pub use crate::faults::{Fault, FaultEndpoint, FaultEntry};
pub use crate::history::{HistoryEntry, MintOrigin};
pub use crate::hostile::CaseSummary;
pub use crate::inspect::{DecodedToken, Inspection};
pub use crate::issuer::{MintedToken, WorkspaceDetails, WorkspaceInfo};
pub use crate::keys::{KeyAlg, KeyStatus, KeyView};
pub use crate::probe::{Progress, ScreenReport, ScreenRequest};
pub use crate::token::StepRequest;
pub use crate::validate::{Policy, PolicyOverrides, Report};
pub use crate::workspace::WorkspaceSpec;

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeyList {
    /// The key ring.
    pub keys: Vec<KeyView>,
}

/// Body of `POST /workspaces/{slug}/keys/rotate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct RotateRequest {
    /// Seconds the old key stays published. Default: the token lifetime.
    pub overlap: Option<u64>,
    /// Seconds the new key signs before it is published. Default: 0.
    pub unpublished_for: Option<u64>,
}

/// Reply to `POST /workspaces/{slug}/keys/rotate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Rotation {
    /// The key that signs now.
    pub active_kid: String,
    /// Seconds the previous key stays published.
    pub overlap: u64,
    /// The key ring after the rotation.
    pub keys: Vec<KeyView>,
}

/// Body of `POST /workspaces/{slug}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AddKeyRequest {
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: KeyAlg,
    /// Keep it out of the JWKS (a key staged for a later rotation).
    #[serde(default)]
    pub staged: bool,
    /// For a staged key: publish it this many seconds from now.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub publish_in: Option<u64>,
}

/// Reply to `POST /workspaces/{slug}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeyAdded {
    /// The new key's id.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
}

/// Reply to `DELETE /workspaces/{slug}/keys/{kid}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KeyRetired {
    /// The retired key's id.
    pub retired: String,
}

/// `GET /requests`: one page of the request log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RequestsPage {
    /// The requests after `since`, oldest first: at most `limit`, and never more than 1000.
    pub requests: Vec<RequestRecord>,
    /// The `since` for the next page.
    pub next: u64,
    /// Records after `since` this page left out: older ones when the newest were asked for,
    /// newer ones otherwise (read on from `next`).
    #[serde(default)]
    pub left_out: usize,
}

/// Body of `POST /verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token.
    pub token: String,
    /// The workspace whose keys and issuer to use. Default: the first.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub workspace: Option<String>,
    /// Policy members over the workspace's default policy (issuer and default audience).
    #[serde(default)]
    pub policy: PolicyOverrides,
}

/// Reply to `POST /verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Verification {
    /// The workspace whose keys were used.
    pub workspace: String,
    /// The policy applied.
    pub policy: Policy,
    /// The validator's report.
    pub report: Report,
}

/// `GET /cases`: the hostile catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CaseList {
    /// Every case.
    pub cases: Vec<CaseSummary>,
}

/// `GET /faults` and `PUT /faults/{slug}/{endpoint}`: the faults set now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FaultList {
    /// Every fault, by workspace and endpoint.
    pub faults: Vec<FaultEntry>,
}

/// `GET /aws/roles`, and what adding or removing a role answers: the emulated AWS roles and
/// where the emulated STS answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AwsRoleList {
    /// The emulated STS endpoint (`AWS_ENDPOINT_URL_STS`).
    pub aws_sts: String,
    /// Every role, by ARN.
    pub roles: Vec<AwsRoleView>,
}

/// One emulated AWS role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AwsRoleView {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub arn: String,
    /// The account, from the ARN.
    pub account: String,
    /// The role's name, from the ARN.
    pub name: String,
    /// The trust policy, as given.
    pub policy: serde_json::Value,
}

/// `PUT /aws/roles`: adds the role, or replaces its trust policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AwsRoleRequest {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub arn: String,
    /// The trust policy (an IAM policy document).
    pub policy: serde_json::Value,
}

/// `GET /gcp/providers`, and what adding or removing a provider answers: the emulated GCP
/// workload identity providers and where the emulated GCP STS answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GcpProviderList {
    /// The emulated STS's token URL (an external-account credential's `token_url`).
    pub gcp_sts: String,
    /// Every provider, by name.
    pub providers: Vec<GcpProviderView>,
}

/// One emulated GCP workload identity provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GcpProviderView {
    /// `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
    pub name: String,
    /// The audience an external-account credential names it by: `//iam.googleapis.com/` + `name`.
    pub audience: String,
    /// The provider, as given.
    pub provider: serde_json::Value,
}

/// `PUT /gcp/providers`: adds the provider, or replaces its document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct GcpProviderRequest {
    /// `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
    pub name: String,
    /// The provider (as `gcloud iam workload-identity-pools providers describe --format=json`
    /// prints it: `attributeMapping`, `attributeCondition`, `oidc`).
    pub provider: serde_json::Value,
}

/// `DELETE /faults...`: how many faults were cleared and what is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FaultsCleared {
    /// How many were cleared.
    pub cleared: usize,
    /// The faults left.
    pub faults: Vec<FaultEntry>,
}

/// `GET /status` and the app's `status` command: what the Issuer screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(rename = "Status")]
pub struct IssuerStatus {
    /// Whether a server runs (the app can stop its own; the console's always runs).
    pub running: bool,
    /// The running server.
    pub server: Option<ServerView>,
    /// The data directory.
    pub data_dir: PathBuf,
    /// What the server listens on and serves.
    pub settings: ListenSettings,
    /// A note for the user (a port that was busy, say).
    pub note: Option<String>,
    /// Why the server is not running.
    pub error: Option<String>,
}

/// A running server, as the Issuer screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServerView {
    /// The public base URL.
    pub base_url: String,
    /// The address bound.
    pub bound: String,
    /// The CA certificate file.
    pub ca_path: PathBuf,
    /// System roots plus the CA.
    pub bundle_path: PathBuf,
    /// The served workspaces, with keys.
    pub workspaces: Vec<WorkspaceDetails>,
}

/// What a server listens on and serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ListenSettings {
    /// The listen address.
    pub bind: String,
    /// The port.
    pub port: u16,
    /// The workspaces asked for.
    pub workspaces: Vec<WorkspaceSpec>,
}

/// Body of `POST /inspect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    /// The token.
    pub token: String,
    /// The workspace whose keys and policy judge it. Default: the first.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub workspace: Option<String>,
    /// Policy members over the workspace's default policy.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub policy: Option<PolicyOverrides>,
}

/// `GET`/`DELETE /history`: minted tokens, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryList {
    /// The entries.
    pub history: Vec<HistoryEntry>,
}

/// `GET /trust`: the shell lines that make clients trust the CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TrustLines {
    /// `export ...` lines.
    pub lines: String,
}

/// Body of `POST /recipes`: the Crafter's "save as recipe".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RecipeRequest {
    /// The Crafter's request.
    pub request: StepRequest,
    /// The recipe's name. Default: `crafted`.
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
}

/// Reply to `POST /recipes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecipeText {
    /// The recipe as TOML.
    pub toml: String,
}

/// Every request and reply type of the control API and the screens, as TypeScript: one
/// `export type` per type (and per type they use), sorted by name. `ui/src/generated/api.ts`
/// holds this text; `tests/api_types.rs` fails when it is stale.
pub fn typescript() -> String {
    struct Collect(BTreeMap<String, String>);
    impl TypeVisitor for Collect {
        fn visit<T: TS + 'static + ?Sized>(&mut self) {
            // Only declared types (the derived ones and serde_json's `JsonValue`) have a file.
            if T::output_path().is_none() {
                return;
            }
            let name = T::name();
            if self.0.contains_key(&name) {
                return;
            }
            // serde writes u64 and i64 as plain JSON numbers, which JavaScript reads as
            // `number`; ts-rs names them `bigint` (no type here is wider than 64 bits).
            let decl = T::decl().replace("bigint", "number");
            self.0.insert(name, format!("export {decl}"));
            T::visit_dependencies(self);
        }
    }
    let mut c = Collect(BTreeMap::new());
    c.visit::<Health>();
    c.visit::<WorkspaceList>();
    c.visit::<WorkspaceDetails>();
    c.visit::<KeyList>();
    c.visit::<RotateRequest>();
    c.visit::<Rotation>();
    c.visit::<AddKeyRequest>();
    c.visit::<KeyAdded>();
    c.visit::<KeyRetired>();
    c.visit::<StepRequest>();
    c.visit::<MintedToken>();
    c.visit::<RequestsPage>();
    c.visit::<VerifyRequest>();
    c.visit::<Verification>();
    c.visit::<CaseList>();
    c.visit::<Fault>();
    c.visit::<FaultList>();
    c.visit::<FaultsCleared>();
    c.visit::<AwsRoleList>();
    c.visit::<AwsRoleView>();
    c.visit::<AwsRoleRequest>();
    c.visit::<GcpProviderList>();
    c.visit::<GcpProviderView>();
    c.visit::<GcpProviderRequest>();
    c.visit::<IssuerStatus>();
    c.visit::<InspectRequest>();
    c.visit::<Inspection>();
    c.visit::<HistoryList>();
    c.visit::<TrustLines>();
    c.visit::<RecipeRequest>();
    c.visit::<RecipeText>();
    c.visit::<ScreenRequest>();
    c.visit::<ScreenReport>();
    c.visit::<Progress>();
    c.visit::<crate::policy_check::CheckText>();
    c.visit::<crate::policy::CheckReport>();
    super::calls::visit_types(&mut c);
    let mut out = String::from(
        "// Generated from the Rust types in src/http/api.rs and the call table in\n\
         // src/http/calls.rs: do not edit.\n\
         // Regenerate with `STEPMINT_BLESS=1 cargo test --test integration api_types`.\n",
    );
    out.push_str(&super::calls::typescript());
    for decl in c.0.values() {
        out.push('\n');
        out.push_str(decl);
        out.push('\n');
    }
    out
}
