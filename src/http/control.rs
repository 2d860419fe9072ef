//! The control API under `/_stepmint/v1/`: health, workspaces, minting, the request log and the
//! CA certificate. JSON in and out; request bodies are capped at 64 KiB.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::api::{
    AddKeyRequest, AwsRoleList, AwsRoleRequest, CaseList, FaultList, FaultsCleared,
    GcpProviderList, GcpProviderRequest, Health, KeyAdded, KeyList, KeyRetired, RequestsPage,
    RotateRequest, Rotation, Verification, VerifyRequest, WorkspaceDetails, WorkspaceList,
};
use super::body::{ApiJson, ApiQuery};
use super::error::ApiError;
use super::service;
use super::state::AppState;
use crate::history::MintOrigin;
use crate::issuer::MintedToken;
use crate::token::StepRequest;

/// `GET /_stepmint/v1/health`
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: state.started.elapsed().as_secs(),
        workspaces: state.issuer.workspaces().len(),
    })
}

/// `GET /_stepmint/v1/workspaces`
pub async fn workspaces(State(state): State<AppState>) -> Json<WorkspaceList> {
    let workspaces = state.issuer.workspaces().iter().map(|w| w.info()).collect();
    Json(WorkspaceList { workspaces })
}

/// `GET /_stepmint/v1/workspaces/{slug}`
pub async fn workspace(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<WorkspaceDetails>, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    Ok(Json(ws.details(state.issuer.clock().now())))
}

/// `GET /_stepmint/v1/workspaces/{slug}/keys`
pub async fn keys(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<KeyList>, ApiError> {
    Ok(Json(KeyList {
        keys: service::keys(&state, &slug)?,
    }))
}

/// `POST /_stepmint/v1/workspaces/{slug}/keys/rotate`
pub async fn rotate(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Json<Rotation>, ApiError> {
    Ok(Json(
        service::rotate_key(&state, &slug, req.overlap, req.unpublished_for).await?,
    ))
}

/// `POST /_stepmint/v1/workspaces/{slug}/keys`: add a key.
pub async fn add_key(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<AddKeyRequest>,
) -> Result<Json<KeyAdded>, ApiError> {
    Ok(Json(
        service::add_key(&state, &slug, req.alg, req.staged, req.publish_in).await?,
    ))
}

/// `DELETE /_stepmint/v1/workspaces/{slug}/keys/{kid}`: retire a key now.
pub async fn retire_key(
    State(state): State<AppState>,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Json<KeyRetired>, ApiError> {
    Ok(Json(service::retire_key(&state, &slug, &kid).await?))
}

/// `POST /_stepmint/v1/tokens`: mint a step token (workspace from the body, default the first);
/// recorded in the history as the API's (queued), as the console's with `?history=true` (the
/// Crafter's, written before the answer), not at all with `?history=false`.
pub async fn mint(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<super::calls::MintQuery>,
    ApiJson(req): ApiJson<StepRequest>,
) -> Result<Json<MintedToken>, ApiError> {
    Ok(Json(service::mint(&state, req, keep(&query)).await?))
}

/// How a `POST /tokens` mint is recorded.
fn keep(query: &super::calls::MintQuery) -> service::Keep {
    match query.history {
        Some(true) => service::Keep::Now(MintOrigin::Console),
        Some(false) => service::Keep::Not,
        None => service::Keep::Queued(MintOrigin::Api),
    }
}

/// `POST /_stepmint/v1/workspaces/{slug}/tokens`
pub async fn mint_for(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(mut req): ApiJson<StepRequest>,
) -> Result<Json<MintedToken>, ApiError> {
    match &req.workspace {
        Some(w) if *w != slug => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                format!("body names workspace `{w}` but the path names `{slug}`"),
            )
            .with_field("workspace"));
        }
        _ => req.workspace = Some(slug),
    }
    Ok(Json(
        service::mint(&state, req, service::Keep::Queued(MintOrigin::Api)).await?,
    ))
}

/// `GET /_stepmint/v1/requests?since=ID&limit=N&all=true`: the request log, relying-party
/// traffic only unless `all=true`. `limit` is 500 unless given and at most
/// [`super::reqlog::MAX_PAGE`] (1000): a larger one reads as that, and the page's `next` reads
/// on, as a page cut short by `limit` does.
pub async fn requests(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<super::calls::RequestsQuery>,
) -> Result<Json<RequestsPage>, ApiError> {
    Ok(Json(service::requests(&state, &q)))
}

/// `GET /_stepmint/v1/ca.pem`: the CA certificate (public), for clients to trust.
pub async fn ca_pem(State(state): State<AppState>) -> Result<Response, ApiError> {
    match &state.ca_pem {
        Some(pem) => {
            Ok(([(CONTENT_TYPE, "application/x-pem-file")], pem.to_string()).into_response())
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this server has no CA",
        )),
    }
}

/// `GET /_stepmint/v1/cases`: the hostile catalogue.
pub async fn cases() -> Json<CaseList> {
    Json(CaseList {
        cases: crate::hostile::summaries(),
    })
}

/// `GET /_stepmint/v1/attacker/{slug}/jwks.json`: the attacker JWKS a `jku` case points at.
pub async fn attacker_jwks(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    let issuer = state.issuer.clone();
    let attacker = service::blocking(move || issuer.attacker()).await?;
    Ok(Json(attacker.jwks_as(ws.workspace.keys.active().kid())))
}

/// `GET /_stepmint/v1/attacker/{slug}/cert.pem`: the attacker certificate an `x5u` case points at.
pub async fn attacker_cert(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    state.issuer.workspace(&slug)?;
    let issuer = state.issuer.clone();
    let pem = service::blocking(move || issuer.attacker()?.cert_pem()).await?;
    Ok(([(CONTENT_TYPE, "application/x-pem-file")], pem).into_response())
}

/// `POST /_stepmint/v1/verify`: the validator's report for a token.
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<Verification>, ApiError> {
    let v = state
        .issuer
        .verify(req.workspace.as_deref(), &req.token, &req.policy)?;
    Ok(Json(Verification {
        workspace: v.workspace,
        policy: v.policy,
        report: v.report,
    }))
}

/// `GET /_stepmint/v1/faults`
pub async fn list_faults(State(state): State<AppState>) -> Json<FaultList> {
    Json(service::faults(&state))
}

/// `PUT /_stepmint/v1/faults/{slug}/{endpoint}`: set a fault (body: the fault).
pub async fn set_fault(
    State(state): State<AppState>,
    Path((slug, endpoint)): Path<(String, String)>,
    ApiJson(fault): ApiJson<crate::faults::Fault>,
) -> Result<Json<FaultList>, ApiError> {
    Ok(Json(service::set_fault(&state, &slug, &endpoint, fault)?))
}

/// `DELETE /_stepmint/v1/faults/{slug}/{endpoint}`
pub async fn clear_fault(
    State(state): State<AppState>,
    Path((slug, endpoint)): Path<(String, String)>,
) -> Result<Json<FaultsCleared>, ApiError> {
    Ok(Json(service::clear_faults(
        &state,
        Some(&slug),
        Some(&endpoint),
    )?))
}

/// `DELETE /_stepmint/v1/faults/{slug}`
pub async fn clear_workspace_faults(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<FaultsCleared>, ApiError> {
    Ok(Json(service::clear_faults(&state, Some(&slug), None)?))
}

/// `DELETE /_stepmint/v1/faults`
pub async fn clear_all_faults(
    State(state): State<AppState>,
) -> Result<Json<FaultsCleared>, ApiError> {
    Ok(Json(service::clear_faults(&state, None, None)?))
}

/// `GET /_stepmint/v1/aws/roles`: the emulated AWS roles and the STS endpoint.
pub async fn aws_roles(State(state): State<AppState>) -> Json<AwsRoleList> {
    Json(service::aws_roles(&state))
}

/// `PUT /_stepmint/v1/aws/roles`: adds the role or replaces its trust policy.
pub async fn put_aws_role(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AwsRoleRequest>,
) -> Result<Json<AwsRoleList>, ApiError> {
    Ok(Json(service::put_aws_role(&state, &req.arn, &req.policy)?))
}

/// `DELETE /_stepmint/v1/aws/roles/{arn}`
pub async fn delete_aws_role(
    State(state): State<AppState>,
    Path(arn): Path<String>,
) -> Result<Json<AwsRoleList>, ApiError> {
    Ok(Json(service::delete_aws_role(&state, &arn)?))
}

/// `GET /_stepmint/v1/gcp/providers`: the emulated GCP providers and the STS token URL.
pub async fn gcp_providers(State(state): State<AppState>) -> Json<GcpProviderList> {
    Json(service::gcp_providers(&state))
}

/// `PUT /_stepmint/v1/gcp/providers`: adds the provider or replaces its document.
pub async fn put_gcp_provider(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<GcpProviderRequest>,
) -> Result<Json<GcpProviderList>, ApiError> {
    Ok(Json(service::put_gcp_provider(
        &state,
        &req.name,
        &req.provider,
    )?))
}

/// `DELETE /_stepmint/v1/gcp/providers/{name}` (the name percent-encoded: it has slashes)
pub async fn delete_gcp_provider(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<GcpProviderList>, ApiError> {
    Ok(Json(service::delete_gcp_provider(&state, &name)?))
}
