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
    AddKeyRequest, CaseList, Fault, FaultList, FaultsCleared, Health, HistoryList, InspectRequest,
    Inspection, IssuerStatus, KeyAdded, KeyList, KeyRetired, MintedToken, RecipeRequest,
    RecipeText, RequestsPage, RotateRequest, Rotation, ScreenReport, ScreenRequest, StepRequest,
    TrustLines, Verification, VerifyRequest, WorkspaceDetails, WorkspaceList,
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
}

impl Default for RequestsQuery {
    fn default() -> Self {
        RequestsQuery {
            since: 0,
            limit: 500,
            all: false,
        }
    }
}

/// `POST /tokens`'s query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct MintQuery {
    /// Keep the token in the history (the console's Crafter). Default: false.
    pub history: bool,
}

/// Declares calls: `Name "frontEndName" METHOD "/path", Query, Body => Reply [, Answer];`.
macro_rules! calls {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident $js:literal $method:ident $path:literal, $query:ty, $body:ty => $reply:ty $(, $answer:ident)?;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
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

calls! {
    /// The server's health.
    HealthCall "health" GET "/health", NoQuery, NoBody => Health;
    /// The served workspaces.
    ListWorkspaces "workspaces" GET "/workspaces", NoQuery, NoBody => WorkspaceList;
    /// One workspace.
    GetWorkspace "workspace" GET "/workspaces/{slug}", NoQuery, NoBody => WorkspaceDetails;
    /// Mints a token of the workspace in the path.
    MintFor "mintFor" POST "/workspaces/{slug}/tokens", NoQuery, StepRequest => MintedToken;
    /// A workspace's keys.
    ListKeys "keys" GET "/workspaces/{slug}/keys", NoQuery, NoBody => KeyList;
    /// Adds a key.
    AddKey "addKey" POST "/workspaces/{slug}/keys", NoQuery, AddKeyRequest => KeyAdded;
    /// Rotates the signing key.
    RotateKey "rotateKey" POST "/workspaces/{slug}/keys/rotate", NoQuery, RotateRequest => Rotation;
    /// Retires a key now.
    RetireKey "retireKey" DELETE "/workspaces/{slug}/keys/{kid}", NoQuery, NoBody => KeyRetired;
    /// Mints a token (workspace from the body).
    Mint "mint" POST "/tokens", MintQuery, StepRequest => MintedToken;
    /// The request log.
    Requests "requests" GET "/requests", RequestsQuery, NoBody => RequestsPage;
    /// The request log as it grows (events of `RequestRecord`s).
    RequestStream "requestStream" GET "/requests/stream", NoQuery, NoBody => RequestsPage, Events;
    /// The Issuer screen's status.
    Status "status" GET "/status", NoQuery, NoBody => IssuerStatus;
    /// Decoding and the validator's report.
    Inspect "inspect" POST "/inspect", NoQuery, InspectRequest => Inspection;
    /// Minted tokens, newest first.
    History "history" GET "/history", NoQuery, NoBody => HistoryList;
    /// Forgets the history.
    ClearHistory "clearHistory" DELETE "/history", NoQuery, NoBody => HistoryList;
    /// The shell lines that make clients trust the CA.
    Trust "trust" GET "/trust", NoQuery, NoBody => TrustLines;
    /// A request as a recipe.
    Recipe "recipe" POST "/recipes", NoQuery, RecipeRequest => RecipeText;
    /// A probe run in the server: `progress` events, then a `report`.
    Probe "probe" POST "/probe", NoQuery, ScreenRequest => ScreenReport, Events;
    /// The CA certificate.
    CaPem "caPem" GET "/ca.pem", NoQuery, NoBody => String, Pem;
    /// The active faults.
    Faults "faults" GET "/faults", NoQuery, NoBody => FaultList;
    /// Clears every fault.
    ClearAllFaults "clearAllFaults" DELETE "/faults", NoQuery, NoBody => FaultsCleared;
    /// Clears a workspace's faults.
    ClearWorkspaceFaults "clearWorkspaceFaults" DELETE "/faults/{slug}", NoQuery, NoBody => FaultsCleared;
    /// Sets a fault.
    SetFault "setFault" PUT "/faults/{slug}/{endpoint}", NoQuery, Fault => FaultList;
    /// Clears one fault.
    ClearFault "clearFault" DELETE "/faults/{slug}/{endpoint}", NoQuery, NoBody => FaultsCleared;
    /// The hostile catalogue.
    Cases "cases" GET "/cases", NoQuery, NoBody => CaseList;
    /// The validator's report for a token.
    Verify "verify" POST "/verify", NoQuery, VerifyRequest => Verification;
    /// `policy check` on a pasted policy (and pipelines text): the Policies screen.
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
