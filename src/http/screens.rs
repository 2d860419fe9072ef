//! What the console's screens need beyond the control API proper: the Issuer screen's status,
//! the Inspector, the history, the trust lines, recipes. The same answers the desktop app's
//! commands give, built by the same core functions.

use axum::extract::State;
use axum::response::Json;

use super::api::{
    HistoryList, InspectRequest, IssuerStatus, ListenSettings, RecipeRequest, RecipeText,
    ServerView, TrustLines,
};
use super::body::ApiJson;
use super::error::ApiError;
use super::state::AppState;
use crate::inspect::Inspection;
use crate::workspace::WorkspaceSpec;

/// `GET /_stepmint/v1/status`: the Issuer screen's document for this running server.
pub async fn status(State(state): State<AppState>) -> Json<IssuerStatus> {
    let now = state.issuer.clock().now();
    let served = state.issuer.workspaces();
    let facts = state.facts.clone().unwrap_or_default();
    Json(IssuerStatus {
        running: true,
        server: Some(ServerView {
            base_url: state.issuer.public_url().to_string(),
            bound: facts.bound,
            ca_path: facts.ca_path,
            bundle_path: facts.bundle_path,
            workspaces: served.iter().map(|w| w.details(now)).collect(),
        }),
        data_dir: state.issuer.data_dir().root().to_path_buf(),
        settings: ListenSettings {
            bind: facts.bind,
            port: facts.port,
            workspaces: served
                .iter()
                .map(|w| WorkspaceSpec {
                    slug: w.workspace.slug.clone(),
                    uuid: None,
                })
                .collect(),
        },
        note: None,
        error: None,
    })
}

/// `POST /_stepmint/v1/inspect`: decoding and the validator's report, side by side.
pub async fn inspect(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<InspectRequest>,
) -> Result<Json<Inspection>, ApiError> {
    Ok(Json(state.issuer.inspect(
        req.workspace.as_deref(),
        &req.token,
        &req.policy.unwrap_or_default(),
    )?))
}

/// `GET /_stepmint/v1/history`: minted tokens, newest first.
pub async fn history(State(state): State<AppState>) -> Result<Json<HistoryList>, ApiError> {
    let h = state.history.clone();
    let history = tokio::task::spawn_blocking(move || h.list())
        .await
        .map_err(|e| {
            ApiError::from(crate::error::Error::from(crate::error::ErrorKind::Server(
                e.to_string(),
            )))
        })??;
    Ok(Json(HistoryList { history }))
}

/// `DELETE /_stepmint/v1/history`.
pub async fn clear_history(State(state): State<AppState>) -> Result<Json<HistoryList>, ApiError> {
    let h = state.history.clone();
    tokio::task::spawn_blocking(move || h.clear())
        .await
        .map_err(|e| {
            ApiError::from(crate::error::Error::from(crate::error::ErrorKind::Server(
                e.to_string(),
            )))
        })??;
    Ok(Json(HistoryList {
        history: Vec::new(),
    }))
}

/// `GET /_stepmint/v1/trust`: the shell lines that make clients trust the CA.
pub async fn trust(State(state): State<AppState>) -> Json<TrustLines> {
    let facts = state.facts.clone().unwrap_or_default();
    Json(TrustLines {
        lines: crate::trust::shell_exports(&facts.ca_path, &facts.bundle_path),
    })
}

/// `POST /_stepmint/v1/recipes`: a request as a recipe (TOML).
pub async fn recipe(ApiJson(req): ApiJson<RecipeRequest>) -> Result<Json<RecipeText>, ApiError> {
    let name = match req.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n,
        _ => "crafted",
    };
    let toml = crate::hostile::recipe::from_request(&req.request, name)?.to_toml()?;
    Ok(Json(RecipeText { toml }))
}
