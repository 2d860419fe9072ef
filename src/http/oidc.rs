//! The relying-party side: each workspace's discovery document and JWKS, byte for byte as
//! Bitbucket's issuer shapes them, through the workspace's injected fault if one is set.

use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::error::ApiError;
use super::faults;
use super::state::AppState;
use crate::faults::FaultEndpoint;

/// `GET {issuer}/.well-known/openid-configuration`
pub async fn discovery(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    serve(state, slug, FaultEndpoint::Discovery, request.headers()).await
}

/// `GET {issuer}/keys.json`
pub async fn jwks(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    serve(state, slug, FaultEndpoint::Jwks, request.headers()).await
}

// The handlers take the request itself rather than a `HeaderMap`, which axum would copy for
// every relying-party request only to read one header.
async fn serve(
    state: AppState,
    slug: String,
    endpoint: FaultEndpoint,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    let if_none_match = headers
        .get(axum::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    Ok(faults::apply(&state.faults, &ws, endpoint, if_none_match).await)
}
