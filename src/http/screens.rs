//! What the console's screens need beyond the control API proper: the Issuer screen's status,
//! the Inspector, the history, the trust lines, recipes. The same answers the desktop app's
//! commands give, built by the same core functions.

use axum::extract::State;
use axum::response::Json;

use super::api::{
    HistoryList, InspectRequest, IssuerStatus, ListenSettings, RecipeRequest, RecipeText,
    TrustLines,
};
use super::body::ApiJson;
use super::error::ApiError;
use super::service;
use super::state::AppState;
use crate::inspect::Inspection;
use crate::workspace::WorkspaceSpec;

/// `GET /_stepmint/v1/status`: the Issuer screen's document for this running server.
pub async fn status(State(state): State<AppState>) -> Json<IssuerStatus> {
    let facts = state.facts.clone().unwrap_or_default();
    Json(IssuerStatus {
        running: true,
        server: Some(service::server_view(&state)),
        data_dir: state.issuer.data_dir().root().to_path_buf(),
        settings: ListenSettings {
            bind: facts.bind,
            port: facts.port,
            workspaces: state
                .issuer
                .workspaces()
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
    let overrides = req.policy.unwrap_or_default();
    Ok(Json(service::inspect(
        &state,
        req.workspace.as_deref(),
        &req.token,
        &overrides,
    )?))
}

/// `GET /_stepmint/v1/history`: minted tokens, newest first.
pub async fn history(State(state): State<AppState>) -> Result<Json<HistoryList>, ApiError> {
    Ok(Json(HistoryList {
        history: service::history(&state.history).await?,
    }))
}

/// `DELETE /_stepmint/v1/history`.
pub async fn clear_history(State(state): State<AppState>) -> Result<Json<HistoryList>, ApiError> {
    service::clear_history(&state.history).await?;
    Ok(Json(HistoryList {
        history: Vec::new(),
    }))
}

/// `GET /_stepmint/v1/trust`: the shell lines that make clients trust the CA.
pub async fn trust(State(state): State<AppState>) -> Json<TrustLines> {
    Json(TrustLines {
        lines: service::trust_lines(&state),
    })
}

/// `POST /_stepmint/v1/recipes`: a request as a recipe (TOML).
pub async fn recipe(ApiJson(req): ApiJson<RecipeRequest>) -> Result<Json<RecipeText>, ApiError> {
    Ok(Json(RecipeText {
        toml: service::recipe(&req.request, req.name.as_deref())?,
    }))
}
