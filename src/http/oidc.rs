//! The relying-party side: each workspace's discovery document and JWKS, byte for byte as
//! Bitbucket's issuer shapes them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// `GET {issuer}/.well-known/openid-configuration`
pub async fn discovery(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    Ok(json_bytes(ws.discovery_json().clone()))
}

/// `GET {issuer}/keys.json`
pub async fn jwks(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    Ok(json_bytes(ws.jwks_json().clone()))
}

fn json_bytes(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}
