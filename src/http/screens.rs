//! What the console's screens need beyond the control API proper: the Issuer screen's status,
//! the Inspector, the history, the trust lines, recipes. The same answers the desktop app's
//! commands give, built by the same core functions.

use axum::extract::{RawQuery, State};
use axum::response::Json;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::body::ApiJson;
use super::error::ApiError;
use super::state::AppState;
use crate::issuer::WorkspaceDetails;
use crate::token::StepRequest;

/// `GET /_stepmint/v1/status`: the Issuer screen's document for this running server.
pub async fn status(State(state): State<AppState>) -> Json<Value> {
    let now = state.issuer.clock().now();
    let workspaces: Vec<WorkspaceDetails> = state
        .issuer
        .workspaces()
        .iter()
        .map(|w| w.details(now))
        .collect();
    let facts = state.facts.clone().unwrap_or_default();
    let slugs: Vec<Value> = state
        .issuer
        .workspaces()
        .iter()
        .map(|w| json!({ "slug": w.workspace.slug }))
        .collect();
    Json(json!({
        "running": true,
        "server": {
            "base_url": state.issuer.public_url(),
            "bound": facts.bound,
            "ca_path": facts.ca_path,
            "bundle_path": facts.bundle_path,
            "workspaces": workspaces,
        },
        "data_dir": state.issuer.data_dir().root(),
        "settings": { "bind": facts.bind, "port": facts.port, "workspaces": slugs },
        "note": null,
        "error": null,
    }))
}

/// The Inspector's request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    token: String,
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    policy: Option<Map<String, Value>>,
}

/// `POST /_stepmint/v1/inspect`: decoding and the validator's report, side by side.
pub async fn inspect(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<InspectRequest>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.issuer.inspect(
        req.workspace.as_deref(),
        &req.token,
        req.policy.unwrap_or_default(),
    )?))
}

/// `GET /_stepmint/v1/history`: minted tokens, newest first.
pub async fn history(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let h = state.history.clone();
    let list = tokio::task::spawn_blocking(move || h.list())
        .await
        .map_err(|e| {
            ApiError::from(crate::Error::from(crate::ErrorKind::Server(e.to_string())))
        })??;
    Ok(Json(json!({ "history": list })))
}

/// `DELETE /_stepmint/v1/history`.
pub async fn clear_history(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let h = state.history.clone();
    tokio::task::spawn_blocking(move || h.clear())
        .await
        .map_err(|e| {
            ApiError::from(crate::Error::from(crate::ErrorKind::Server(e.to_string())))
        })??;
    Ok(Json(json!({ "history": [] })))
}

/// `GET /_stepmint/v1/trust`: the shell lines that make clients trust the CA.
pub async fn trust(State(state): State<AppState>) -> Json<Value> {
    let facts = state.facts.clone().unwrap_or_default();
    Json(json!({ "lines": crate::trust::shell_exports(&facts.ca_path, &facts.bundle_path) }))
}

/// The Crafter's "save as recipe".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeRequest {
    request: StepRequest,
    #[serde(default)]
    name: String,
}

/// `POST /_stepmint/v1/recipes`: a request as a recipe (TOML).
pub async fn recipe(ApiJson(req): ApiJson<RecipeRequest>) -> Result<Json<Value>, ApiError> {
    let name = if req.name.trim().is_empty() {
        "crafted"
    } else {
        req.name.trim()
    };
    let toml = crate::hostile::recipe::from_request(&req.request, name)?.to_toml()?;
    Ok(Json(json!({ "toml": toml })))
}

/// Whether a mint's query asks for it to be kept in the history (`?history=true`).
pub fn keeps_history(query: &RawQuery) -> bool {
    query
        .0
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .any(|p| p == "history=true" || p == "history=1")
}
