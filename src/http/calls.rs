//! The control API's call table: every call's method, path, query, body and reply, once. The
//! router mounts each handler by its call ([`super::router`]), `ControlClient::call` speaks it,
//! and the front end's `CALLS` and `Calls` are generated from it ([`typescript`]), so a new
//! call is a line here and its handler, and a caller cannot pick a reply type by convention.

use axum::http::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::policy::CheckReport;
use crate::policy_check::CheckText;

use super::api::{
    AddKeyRequest, AwsRoleList, AwsRoleRequest, CaseList, Fault, FaultList, FaultsCleared,
    GcpProviderList, GcpProviderRequest, Health, HistoryList, InspectRequest, Inspection,
    IssuerStatus, KeyAdded, KeyList, KeyRetired, MintedToken, RecipeRequest, RecipeText,
    RequestsPage, RotateRequest, Rotation, ScreenReport, ScreenRequest, StepRequest, TrustLines,
    Verification, VerifyRequest, WorkspaceDetails, WorkspaceList,
};

/// How a call's reply comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// One JSON document, the call's `Reply`.
    Json,
    /// Server-sent events (the `Reply` type is the last, `report`, event's).
    Events,
    /// A PEM text.
    Pem,
}

/// One control call. Path parameters are the `{name}`s of [`Call::PATH`], in order.
pub trait Call {
    /// The call's name in the front end (`rotateKey`).
    const NAME: &'static str;
    /// Its HTTP method.
    const METHOD: Method;
    /// Its path under `/_stepmint/v1`, in the router's syntax (`/workspaces/{slug}/keys`).
    const PATH: &'static str;
    /// How the reply comes.
    const ANSWER: Answer = Answer::Json;
    /// Its query parameters ([`NoQuery`] for none).
    type Query: Serialize + DeserializeOwned + Default + TS + Send + 'static;
    /// Its JSON body ([`NoBody`] for none).
    type Body: Serialize + DeserializeOwned + TS + Send + 'static;
    /// What it answers.
    type Reply: Serialize + DeserializeOwned + TS + Send + 'static;
}

/// A call without query parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// A call without a body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}

/// `GET /requests`'s query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct RequestsQuery {
    /// Records after this id. Default: 0 (from the oldest kept).
    pub since: u64,
    /// At most this many (default 500; more reads as the cap).
    pub limit: usize,
    /// Control-plane traffic too. Default: false (relying-party traffic only).
    pub all: bool,
    /// The newest `limit` records after `since` rather than the oldest. Default: false.
    pub newest: bool,
}

impl Default for RequestsQuery {
    fn default() -> Self {
        RequestsQuery {
            since: 0,
            limit: 500,
            all: false,
            newest: false,
        }
    }
}

/// `POST /tokens`'s query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct MintQuery {
    /// `true`: the console's Crafter minting, kept in the history before the answer; `false`:
    /// not kept. Default: kept as the control API's, in the background.
    pub history: Option<bool>,
}

/// Implements [`Call`] for each declared call: `Name "frontEndName" METHOD "/path", Query, Body => Reply [, Answer];`.
macro_rules! calls {
    ($(
        $name:ident $js:literal $method:ident $path:literal, $query:ty, $body:ty => $reply:ty $(, $answer:ident)?;
    )*) => {
        $(
            impl Call for $name {
                const NAME: &'static str = $js;
                const METHOD: Method = Method::$method;
                const PATH: &'static str = $path;
                $(const ANSWER: Answer = Answer::$answer;)?
                type Query = $query;
                type Body = $body;
                type Reply = $reply;
            }
        )*

        /// Every call's front-end name, method and path, and its TypeScript types.
        pub fn table() -> Vec<Entry> {
            vec![$(Entry::of::<$name>()),*]
        }
    };
}

/// The server's health.
#[derive(Debug, Clone, Copy)]
pub struct HealthCall;

/// The served workspaces.
#[derive(Debug, Clone, Copy)]
pub struct ListWorkspaces;

/// One workspace.
#[derive(Debug, Clone, Copy)]
pub struct GetWorkspace;

/// Mints a token of the workspace in the path.
#[derive(Debug, Clone, Copy)]
pub struct MintFor;

/// A workspace's keys.
#[derive(Debug, Clone, Copy)]
pub struct ListKeys;

/// Adds a key.
#[derive(Debug, Clone, Copy)]
pub struct AddKey;

/// Rotates the signing key.
#[derive(Debug, Clone, Copy)]
pub struct RotateKey;

/// Retires a key now.
#[derive(Debug, Clone, Copy)]
pub struct RetireKey;

/// Mints a token (workspace from the body).
#[derive(Debug, Clone, Copy)]
pub struct Mint;

/// The request log.
#[derive(Debug, Clone, Copy)]
pub struct Requests;

/// The request log as it grows (events of `RequestRecord`s).
#[derive(Debug, Clone, Copy)]
pub struct RequestStream;

/// The Issuer screen's status.
#[derive(Debug, Clone, Copy)]
pub struct Status;

/// Decoding and the validator's report.
#[derive(Debug, Clone, Copy)]
pub struct Inspect;

/// Minted tokens, newest first.
#[derive(Debug, Clone, Copy)]
pub struct History;

/// Forgets the history.
#[derive(Debug, Clone, Copy)]
pub struct ClearHistory;

/// The shell lines that make clients trust the CA.
#[derive(Debug, Clone, Copy)]
pub struct Trust;

/// A request as a recipe.
#[derive(Debug, Clone, Copy)]
pub struct Recipe;

/// A probe run in the server: `progress` events, then a `report`.
#[derive(Debug, Clone, Copy)]
pub struct Probe;

/// The CA certificate.
#[derive(Debug, Clone, Copy)]
pub struct CaPem;

/// The active faults.
#[derive(Debug, Clone, Copy)]
pub struct Faults;

/// Clears every fault.
#[derive(Debug, Clone, Copy)]
pub struct ClearAllFaults;

/// Clears a workspace's faults.
#[derive(Debug, Clone, Copy)]
pub struct ClearWorkspaceFaults;

/// Sets a fault.
#[derive(Debug, Clone, Copy)]
pub struct SetFault;

/// Clears one fault.
#[derive(Debug, Clone, Copy)]
pub struct ClearFault;

/// The emulated AWS roles.
#[derive(Debug, Clone, Copy)]
pub struct AwsRoles;

/// Adds or replaces an emulated AWS role.
#[derive(Debug, Clone, Copy)]
pub struct PutAwsRole;

/// Removes an emulated AWS role.
#[derive(Debug, Clone, Copy)]
pub struct DeleteAwsRole;

/// The emulated GCP workload identity providers.
#[derive(Debug, Clone, Copy)]
pub struct GcpProviders;

/// Adds or replaces an emulated GCP provider.
#[derive(Debug, Clone, Copy)]
pub struct PutGcpProvider;

/// Removes an emulated GCP provider.
#[derive(Debug, Clone, Copy)]
pub struct DeleteGcpProvider;

/// The hostile catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Cases;

/// The validator's report for a token.
#[derive(Debug, Clone, Copy)]
pub struct Verify;

/// `policy check` on a pasted policy (and pipelines text): the Policies screen.
#[derive(Debug, Clone, Copy)]
pub struct PolicyCheck;

calls! {
    HealthCall "health" GET "/health", NoQuery, NoBody => Health;
    ListWorkspaces "workspaces" GET "/workspaces", NoQuery, NoBody => WorkspaceList;
    GetWorkspace "workspace" GET "/workspaces/{slug}", NoQuery, NoBody => WorkspaceDetails;
    MintFor "mintFor" POST "/workspaces/{slug}/tokens", NoQuery, StepRequest => MintedToken;
    ListKeys "keys" GET "/workspaces/{slug}/keys", NoQuery, NoBody => KeyList;
    AddKey "addKey" POST "/workspaces/{slug}/keys", NoQuery, AddKeyRequest => KeyAdded;
    RotateKey "rotateKey" POST "/workspaces/{slug}/keys/rotate", NoQuery, RotateRequest => Rotation;
    RetireKey "retireKey" DELETE "/workspaces/{slug}/keys/{kid}", NoQuery, NoBody => KeyRetired;
    Mint "mint" POST "/tokens", MintQuery, StepRequest => MintedToken;
    Requests "requests" GET "/requests", RequestsQuery, NoBody => RequestsPage;
    RequestStream "requestStream" GET "/requests/stream", NoQuery, NoBody => RequestsPage, Events;
    Status "status" GET "/status", NoQuery, NoBody => IssuerStatus;
    Inspect "inspect" POST "/inspect", NoQuery, InspectRequest => Inspection;
    History "history" GET "/history", NoQuery, NoBody => HistoryList;
    ClearHistory "clearHistory" DELETE "/history", NoQuery, NoBody => HistoryList;
    Trust "trust" GET "/trust", NoQuery, NoBody => TrustLines;
    Recipe "recipe" POST "/recipes", NoQuery, RecipeRequest => RecipeText;
    Probe "probe" POST "/probe", NoQuery, ScreenRequest => ScreenReport, Events;
    CaPem "caPem" GET "/ca.pem", NoQuery, NoBody => String, Pem;
    Faults "faults" GET "/faults", NoQuery, NoBody => FaultList;
    ClearAllFaults "clearAllFaults" DELETE "/faults", NoQuery, NoBody => FaultsCleared;
    ClearWorkspaceFaults "clearWorkspaceFaults" DELETE "/faults/{slug}", NoQuery, NoBody => FaultsCleared;
    SetFault "setFault" PUT "/faults/{slug}/{endpoint}", NoQuery, Fault => FaultList;
    ClearFault "clearFault" DELETE "/faults/{slug}/{endpoint}", NoQuery, NoBody => FaultsCleared;
    AwsRoles "awsRoles" GET "/aws/roles", NoQuery, NoBody => AwsRoleList;
    PutAwsRole "putAwsRole" PUT "/aws/roles", NoQuery, AwsRoleRequest => AwsRoleList;
    DeleteAwsRole "deleteAwsRole" DELETE "/aws/roles/{arn}", NoQuery, NoBody => AwsRoleList;
    GcpProviders "gcpProviders" GET "/gcp/providers", NoQuery, NoBody => GcpProviderList;
    PutGcpProvider "putGcpProvider" PUT "/gcp/providers", NoQuery, GcpProviderRequest => GcpProviderList;
    DeleteGcpProvider "deleteGcpProvider" DELETE "/gcp/providers/{name}", NoQuery, NoBody => GcpProviderList;
    Cases "cases" GET "/cases", NoQuery, NoBody => CaseList;
    Verify "verify" POST "/verify", NoQuery, VerifyRequest => Verification;
    PolicyCheck "policyCheck" POST "/policies/check", NoQuery, CheckText => CheckReport;
}

/// A call as the TypeScript generator and tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The front end's name.
    pub name: &'static str,
    /// `GET`, `POST`, ...
    pub method: Method,
    /// The path under `/_stepmint/v1`.
    pub path: &'static str,
    /// How the reply comes.
    pub answer: Answer,
    /// The TypeScript names of its query, body and reply types.
    pub types: [String; 3],
}

impl Entry {
    fn of<C: Call>() -> Entry {
        Entry {
            name: C::NAME,
            method: C::METHOD,
            path: C::PATH,
            answer: C::ANSWER,
            types: [
                <C::Query as TS>::name(),
                <C::Body as TS>::name(),
                <C::Reply as TS>::name(),
            ],
        }
    }
}

/// The path of call `C` with its `{params}` filled by `params`, each percent-encoded so a slug
/// or kid cannot reach another route; `None` when the counts differ.
pub fn path_of<C: Call>(params: &[&str]) -> Option<String> {
    let mut out = String::new();
    let mut given = params.iter();
    for segment in C::PATH.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if segment.starts_with('{') {
            out.push_str(&crate::paths::segment(given.next()?));
        } else {
            out.push_str(segment);
        }
    }
    given.next().is_none().then_some(out)
}

/// The table as TypeScript: `CALLS` (method, path and answer by name) and `Calls` (each call's
/// query, body and reply types), for `ui/src/generated/api.ts`.
pub fn typescript() -> String {
    let table = table();
    let mut out = String::from("\nexport const CALLS = {\n");
    for e in &table {
        out.push_str(&format!(
            "  {}: {{ method: \"{}\", path: \"{}\", answer: \"{}\" }},\n",
            e.name,
            e.method,
            e.path,
            match e.answer {
                Answer::Json => "json",
                Answer::Events => "events",
                Answer::Pem => "pem",
            }
        ));
    }
    out.push_str("} as const;\n\nexport type Calls = {\n");
    for e in &table {
        let [q, b, r] = &e.types;
        out.push_str(&format!(
            "  {}: {{ query: {q}, body: {b}, reply: {r} }},\n",
            e.name
        ));
    }
    out.push_str("};\n");
    out
}

/// Visits every type the table names, for the TypeScript declarations.
pub fn visit_types(v: &mut impl ts_rs::TypeVisitor) {
    macro_rules! each {
        ($($t:ty),*) => { $(v.visit::<$t>();)* };
    }
    each!(NoQuery, NoBody, RequestsQuery, MintQuery);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_their_parameters_encoded_and_in_order() {
        assert_eq!(
            path_of::<RetireKey>(&["acme", "k/../x"]).unwrap(),
            "/workspaces/acme/keys/k%2F..%2Fx"
        );
        assert_eq!(path_of::<HealthCall>(&[]).unwrap(), "/health");
        assert_eq!(path_of::<RetireKey>(&["acme"]), None, "one missing");
        assert_eq!(path_of::<HealthCall>(&["extra"]), None, "one too many");
    }

    #[test]
    fn names_and_routes_are_unique() {
        let t = table();
        let mut names: Vec<_> = t.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), t.len());
        let mut routes: Vec<_> = t.iter().map(|e| (e.method.clone(), e.path)).collect();
        routes.sort_by_key(|(m, p)| (m.to_string(), *p));
        routes.dedup();
        assert_eq!(routes.len(), t.len());
    }
}
