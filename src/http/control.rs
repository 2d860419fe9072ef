//! The control API under `/_stepmint/v1/`: health, workspaces, minting, the request log and the
//! CA certificate. JSON in and out; request bodies are capped at 64 KiB.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::api::{
    AddKeyRequest, CaseList, FaultList, FaultsCleared, Health, KeyAdded, KeyList, KeyRetired,
    RequestsPage, RotateRequest, Rotation, Verification, VerifyRequest, WorkspaceDetails,
    WorkspaceList,
};
use super::body::{ApiJson, ApiQuery};
use super::error::ApiError;
use super::state::AppState;
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
    let ws = state.issuer.workspace(&slug)?;
    Ok(Json(KeyList {
        keys: ws.workspace.keys.describe(state.issuer.clock().now()),
    }))
}

/// `POST /_stepmint/v1/workspaces/{slug}/keys/rotate`
pub async fn rotate(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Json<Rotation>, ApiError> {
    let issuer = state.issuer.clone();
    let slug2 = slug.clone();
    let rotated =
        blocking(move || issuer.rotate_key(&slug2, req.overlap, req.unpublished_for)).await?;
    let ws = state.issuer.workspace(&slug)?;
    Ok(Json(Rotation {
        active_kid: rotated.key.kid().to_string(),
        overlap: rotated.overlap,
        keys: ws.workspace.keys.describe(state.issuer.clock().now()),
    }))
}

/// `POST /_stepmint/v1/workspaces/{slug}/keys`: add a key.
pub async fn add_key(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<AddKeyRequest>,
) -> Result<Json<KeyAdded>, ApiError> {
    let issuer = state.issuer.clone();
    let key = blocking(move || issuer.add_key(&slug, req.alg, req.staged, req.publish_in)).await?;
    Ok(Json(KeyAdded {
        kid: key.kid().to_string(),
        alg: key.alg(),
    }))
}

/// `DELETE /_stepmint/v1/workspaces/{slug}/keys/{kid}`: retire a key now.
pub async fn retire_key(
    State(state): State<AppState>,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Json<KeyRetired>, ApiError> {
    let issuer = state.issuer.clone();
    let k = kid.clone();
    blocking(move || issuer.retire_key(&slug, &k)).await?;
    Ok(Json(KeyRetired { retired: kid }))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::error::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(ApiError::from)
}

/// `POST /_stepmint/v1/tokens`: mint a step token (workspace from the body, default the first).
pub async fn mint(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<super::calls::MintQuery>,
    ApiJson(req): ApiJson<StepRequest>,
) -> Result<Json<MintedToken>, ApiError> {
    let keep = query.history;
    let minted = mint_token(state.clone(), req.clone()).await?;
    if keep {
        // The console's Crafter keeps what it mints, as the app does.
        let (h, m) = (state.history.clone(), minted.0.clone());
        let slug = match req.workspace {
            Some(w) => w,
            None => state
                .issuer
                .workspace_or_first(None)?
                .workspace
                .slug
                .clone(),
        };
        let now = state.issuer.clock().now();
        blocking(move || h.append(&m, &slug, now).map(|_| ())).await?;
    }
    Ok(minted)
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
    mint_token(state, req).await
}

async fn mint_token(state: AppState, req: StepRequest) -> Result<Json<MintedToken>, ApiError> {
    if req.is_crafted() {
        // Crafting may read or create the attacker's keys on disk: off the reactor.
        let issuer = state.issuer.clone();
        return Ok(Json(blocking(move || issuer.mint(&req)).await?));
    }
    // A plain token is one RSA signature (~0.4 ms) and nothing else: signing here, rather than
    // handing it to a blocking thread and back, is measurably faster (scripts/bench: about
    // 5 % more tokens/s, 6 % less CPU per token) because on a busy server the signature is
    // the work, and a hand-off only adds thread switches.
    Ok(Json(state.issuer.mint(&req)?))
}

/// `GET /_stepmint/v1/requests?since=ID&limit=N&all=true`: the request log, relying-party
/// traffic only unless `all=true`. `limit` is 500 unless given and at most
/// [`super::reqlog::MAX_PAGE`] (1000): a larger one reads as that, and the page's `next` reads
/// on, as a page cut short by `limit` does.
pub async fn requests(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<super::calls::RequestsQuery>,
) -> Result<Json<RequestsPage>, ApiError> {
    let (since, limit, all) = (q.since, q.limit, q.all);
    let requests = state.log.since(since, limit, all);
    let next = requests.last().map(|r| r.id).unwrap_or(since);
    Ok(Json(RequestsPage { requests, next }))
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
    let attacker = blocking(move || issuer.attacker()).await?;
    Ok(Json(attacker.jwks_as(ws.workspace.keys.active().kid())))
}

/// `GET /_stepmint/v1/attacker/{slug}/cert.pem`: the attacker certificate an `x5u` case points at.
pub async fn attacker_cert(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    state.issuer.workspace(&slug)?;
    let issuer = state.issuer.clone();
    let pem = blocking(move || issuer.attacker()?.cert_pem()).await?;
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
    Json(FaultList {
        faults: state.faults.list(),
    })
}

/// `PUT /_stepmint/v1/faults/{slug}/{endpoint}`: set a fault (body: the fault).
pub async fn set_fault(
    State(state): State<AppState>,
    Path((slug, endpoint)): Path<(String, String)>,
    ApiJson(fault): ApiJson<crate::faults::Fault>,
) -> Result<Json<FaultList>, ApiError> {
    state.issuer.workspace(&slug)?;
    let endpoint = crate::faults::FaultEndpoint::parse(&endpoint)?;
    state.faults.set(&slug, endpoint, fault)?;
    Ok(Json(FaultList {
        faults: state.faults.list(),
    }))
}

/// `DELETE /_stepmint/v1/faults/{slug}/{endpoint}`
pub async fn clear_fault(
    State(state): State<AppState>,
    Path((slug, endpoint)): Path<(String, String)>,
) -> Result<Json<FaultsCleared>, ApiError> {
    let endpoint = crate::faults::FaultEndpoint::parse(&endpoint)?;
    let cleared = state.faults.clear(Some(&slug), Some(endpoint));
    Ok(Json(cleared_reply(&state, cleared)))
}

/// `DELETE /_stepmint/v1/faults/{slug}`
pub async fn clear_workspace_faults(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Json<FaultsCleared> {
    let cleared = state.faults.clear(Some(&slug), None);
    Json(cleared_reply(&state, cleared))
}

/// `DELETE /_stepmint/v1/faults`
pub async fn clear_all_faults(State(state): State<AppState>) -> Json<FaultsCleared> {
    let cleared = state.faults.clear(None, None);
    Json(cleared_reply(&state, cleared))
}

fn cleared_reply(state: &AppState, cleared: usize) -> FaultsCleared {
    FaultsCleared {
        cleared,
        faults: state.faults.list(),
    }
}
