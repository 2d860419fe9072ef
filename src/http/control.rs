//! The control API under `/_stepmint/v1/`: health, workspaces, minting, the request log and the
//! CA certificate. JSON in and out; request bodies are capped at 64 KiB.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::ApiError;
use super::state::AppState;
use crate::issuer::MintedToken;
use crate::keys::KeyAlg;
use crate::token::StepRequest;

/// The largest request body the control API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// A JSON request body whose errors are JSON too, naming the field at fault.
/// An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("request bodies are limited to {MAX_BODY} bytes"),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text())
            }
        })?;
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            None => parse_json(b"{}").map(ApiJson),
            // serde would read a struct from an array too; the API speaks objects only.
            Some(b'{') => parse_json(&bytes).map(ApiJson),
            Some(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "the body must be a JSON object",
            )),
        }
    }
}

/// Parses a JSON body, reporting the path of the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = unknown_field_name(&inner.to_string()).or(if path == "." || path == "?" {
            None
        } else {
            Some(path)
        });
        (inner, field)
    });
    let result = value.and_then(|v| de.end().map(|()| v).map_err(|e| (e, None)));
    result.map_err(|(inner, field)| {
        let code = if inner.is_syntax() || inner.is_eof() {
            "invalid_json"
        } else {
            "invalid_input"
        };
        let e = ApiError::new(StatusCode::BAD_REQUEST, code, inner.to_string());
        match field {
            Some(f) => e.with_field(f),
            None => e,
        }
    })
}

fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// `GET /_stepmint/v1/health`
pub async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
        "workspaces": state.issuer.workspaces().len(),
    }))
}

/// `GET /_stepmint/v1/workspaces`
pub async fn workspaces(State(state): State<AppState>) -> Json<Value> {
    let list: Vec<_> = state.issuer.workspaces().iter().map(|w| w.info()).collect();
    Json(json!({ "workspaces": list }))
}

/// `GET /_stepmint/v1/workspaces/{slug}`
pub async fn workspace(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    Ok(Json(ws.details(state.issuer.clock().now())))
}

/// `GET /_stepmint/v1/workspaces/{slug}/keys`
pub async fn keys(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ws = state.issuer.workspace(&slug)?;
    Ok(Json(
        json!({ "keys": ws.workspace.keys.describe(state.issuer.clock().now()) }),
    ))
}

/// Body of `POST .../keys/rotate`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the old key stays published. Default: the token lifetime.
    pub overlap: Option<u64>,
    /// Seconds the new key signs before it is published. Default: 0.
    pub unpublished_for: Option<u64>,
}

/// `POST /_stepmint/v1/workspaces/{slug}/keys/rotate`
pub async fn rotate(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Json<Value>, ApiError> {
    let issuer = state.issuer.clone();
    let slug2 = slug.clone();
    let rotated =
        blocking(move || issuer.rotate_key(&slug2, req.overlap, req.unpublished_for)).await?;
    let ws = state.issuer.workspace(&slug)?;
    Ok(Json(
        json!({ "active_kid": rotated.key.kid(), "overlap": rotated.overlap, "keys": ws.workspace.keys.describe(state.issuer.clock().now()) }),
    ))
}

/// Body of `POST .../keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddKeyRequest {
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: KeyAlg,
    /// `published` (default) or `staged`.
    #[serde(default)]
    pub staged: bool,
    /// For a staged key: publish it this many seconds from now.
    #[serde(default)]
    pub publish_in: Option<u64>,
}

/// `POST /_stepmint/v1/workspaces/{slug}/keys`: add a key.
pub async fn add_key(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<AddKeyRequest>,
) -> Result<Json<Value>, ApiError> {
    let issuer = state.issuer.clone();
    let key = blocking(move || issuer.add_key(&slug, req.alg, req.staged, req.publish_in)).await?;
    Ok(Json(json!({ "kid": key.kid(), "alg": key.alg() })))
}

/// `DELETE /_stepmint/v1/workspaces/{slug}/keys/{kid}`: retire a key now.
pub async fn retire_key(
    State(state): State<AppState>,
    Path((slug, kid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let issuer = state.issuer.clone();
    let k = kid.clone();
    blocking(move || issuer.retire_key(&slug, &k)).await?;
    Ok(Json(json!({ "retired": kid })))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(ApiError::from)
}

/// `POST /_stepmint/v1/tokens`: mint a step token (workspace from the body, default the first).
pub async fn mint(
    State(state): State<AppState>,
    query: axum::extract::RawQuery,
    ApiJson(req): ApiJson<StepRequest>,
) -> Result<Json<MintedToken>, ApiError> {
    let keep = super::screens::keeps_history(&query);
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
/// traffic only unless `all=true`.
pub async fn requests(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut since = 0u64;
    let mut limit = 500usize;
    let mut all = false;
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = |field: &str| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                format!("`{v}` is not a valid {field}"),
            )
            .with_field(field)
        };
        match k {
            "since" => since = v.parse().map_err(|_| bad("since"))?,
            "limit" => limit = v.parse().map_err(|_| bad("limit"))?,
            "all" => all = v.parse().map_err(|_| bad("all"))?,
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    format!("unknown query parameter `{other}` (since, limit, all)"),
                )
                .with_field(other.to_string()));
            }
        }
    }
    let records = state.log.since(since, limit, all);
    let next = records.last().map(|r| r.id).unwrap_or(since);
    Ok(Json(json!({ "requests": records, "next": next })))
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
pub async fn cases() -> Json<Value> {
    Json(json!({ "cases": crate::hostile::summaries() }))
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

/// Body of `POST /_stepmint/v1/verify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token.
    pub token: String,
    /// The workspace whose keys and issuer to use. Default: the first.
    #[serde(default)]
    pub workspace: Option<String>,
    /// Policy members over the workspace's default policy (issuer and default audience).
    #[serde(default)]
    pub policy: serde_json::Map<String, Value>,
}

/// `POST /_stepmint/v1/verify`: the validator's report for a token.
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Json<Value>, ApiError> {
    let v = state
        .issuer
        .verify(req.workspace.as_deref(), &req.token, |p| {
            p.with_json(req.policy)
        })?;
    Ok(Json(
        json!({ "workspace": v.workspace, "policy": v.policy, "report": v.report }),
    ))
}

/// `GET /_stepmint/v1/faults`
pub async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "faults": state.faults.list() }))
}

/// `PUT /_stepmint/v1/faults/{slug}/{endpoint}`: set a fault (body: the fault).
pub async fn set_fault(
    State(state): State<AppState>,
    Path((slug, endpoint)): Path<(String, String)>,
    ApiJson(fault): ApiJson<crate::faults::Fault>,
) -> Result<Json<Value>, ApiError> {
    state.issuer.workspace(&slug)?;
    let endpoint = crate::faults::FaultEndpoint::parse(&endpoint)?;
    state.faults.set(&slug, endpoint, fault)?;
    Ok(Json(json!({ "faults": state.faults.list() })))
}

/// `DELETE /_stepmint/v1/faults/{slug}/{endpoint}`
pub async fn clear_fault(
    State(state): State<AppState>,
    Path((slug, endpoint)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = crate::faults::FaultEndpoint::parse(&endpoint)?;
    let cleared = state.faults.clear(Some(&slug), Some(endpoint));
    Ok(Json(
        json!({ "cleared": cleared, "faults": state.faults.list() }),
    ))
}

/// `DELETE /_stepmint/v1/faults/{slug}`
pub async fn clear_workspace_faults(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Json<Value> {
    let cleared = state.faults.clear(Some(&slug), None);
    Json(json!({ "cleared": cleared, "faults": state.faults.list() }))
}

/// `DELETE /_stepmint/v1/faults`
pub async fn clear_all_faults(State(state): State<AppState>) -> Json<Value> {
    let cleared = state.faults.clear(None, None);
    Json(json!({ "cleared": cleared, "faults": state.faults.list() }))
}
