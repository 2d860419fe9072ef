//! The control API's calls on the emulated exchanges: list, add or replace, and remove AWS
//! roles while the server runs (`serve --aws-role` gives the first ones).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::http::api::{AwsRoleList, AwsRoleRequest, AwsRoleView};
use crate::http::body::ApiJson;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// `GET /_stepmint/v1/aws/roles`
pub async fn list_roles(State(state): State<AppState>) -> Json<AwsRoleList> {
    Json(role_list(&state))
}

/// `PUT /_stepmint/v1/aws/roles`: adds the role or replaces its trust policy.
pub async fn put_role(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AwsRoleRequest>,
) -> Result<Json<AwsRoleList>, ApiError> {
    state.exchanges.put_role(&req.arn, &req.policy)?;
    Ok(Json(role_list(&state)))
}

/// `DELETE /_stepmint/v1/aws/roles/{arn}`
pub async fn delete_role(
    State(state): State<AppState>,
    Path(arn): Path<String>,
) -> Result<Json<AwsRoleList>, ApiError> {
    if !state.exchanges.delete_role(&arn) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_role",
            format!("no emulated role {arn}"),
        )
        .with_field("arn"));
    }
    Ok(Json(role_list(&state)))
}

fn role_list(state: &AppState) -> AwsRoleList {
    AwsRoleList {
        aws_sts: crate::paths::aws_sts_url(state.issuer.public_url()),
        roles: state
            .exchanges
            .roles()
            .into_iter()
            .map(|r| AwsRoleView {
                arn: r.arn,
                account: r.account,
                name: r.name,
                policy: r.policy,
            })
            .collect(),
    }
}
