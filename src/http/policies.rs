//! The Policies screen's call: `policy check` on a pasted policy (and optional pipelines text),
//! answered with the same report `stepmint policy check --json` prints. The checking is the
//! core's ([`crate::policy_check::check_text`]); this only moves it off the async runtime.

use axum::extract::State;
use axum::response::Json;

use super::body::ApiJson;
use super::error::ApiError;
use super::state::AppState;
use crate::error::{Error, ErrorKind};
use crate::policy::CheckReport;
use crate::policy_check::{CheckText, check_text};

/// `POST /_stepmint/v1/policies/check`: the access table, boundary tokens and findings; a
/// malformed policy, an unknown kind or a bad pipelines text is a 400 naming the field.
pub async fn check(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CheckText>,
) -> Result<Json<CheckReport>, ApiError> {
    let issuer = state.issuer.clone();
    // Parsing and evaluating up to a 64 KiB body is CPU work: keep it off the runtime's threads.
    let report = tokio::task::spawn_blocking(move || check_text(&issuer, &req))
        .await
        .map_err(|e| ApiError::from(Error::from(ErrorKind::Server(e.to_string()))))??;
    Ok(Json(report))
}
