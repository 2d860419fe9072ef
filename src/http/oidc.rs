//! The relying-party side: each workspace's discovery document and JWKS, byte for byte as
//! Bitbucket's issuer shapes them, through the workspace's injected fault if one is set.

use axum::extract::{Path, State};
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use crate::faults::{self, FaultEndpoint};

/// `GET {issuer}/.well-known/openid-configuration`
pub async fn discovery(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    let kid = ws.workspace.keys.active().kid().to_string();
    Ok(faults::apply(
        &state.faults,
        &slug,
        FaultEndpoint::Discovery,
        ws.discovery_json().clone(),
        &kid,
    )
    .await)
}

/// `GET {issuer}/keys.json`
pub async fn jwks(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    let kid = ws.workspace.keys.active().kid().to_string();
    Ok(faults::apply(
        &state.faults,
        &slug,
        FaultEndpoint::Jwks,
        ws.jwks_json().clone(),
        &kid,
    )
    .await)
}
