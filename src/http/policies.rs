//! The Policies screen's call: `policy check` on a pasted policy (and optional pipelines text),
//! answered with the same report `stepmint policy check --json` prints. The checking is the
//! service's ([`super::service::policy_check`]), shared with the desktop app.

use axum::extract::State;
use axum::response::Json;

use super::body::ApiJson;
use super::error::ApiError;
use super::service;
use super::state::AppState;
use crate::policy::CheckReport;
use crate::policy_check::CheckText;

/// `POST /_stepmint/v1/policies/check`: the access table, boundary tokens and findings; a
/// malformed policy, an unknown kind or a bad pipelines text is a 400 naming the field.
pub async fn check(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CheckText>,
) -> Result<Json<CheckReport>, ApiError> {
    Ok(Json(service::policy_check(&state, req).await?))
}
