//! GCP's Security Token Service token exchange (RFC 8693), emulated as `google-auth`'s
//! external-account credentials call it: a form-encoded `POST .../v1/token` with
//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, `audience` (the provider,
//! `//iam.googleapis.com/projects/N/.../providers/X`), `subject_token` and
//! `subject_token_type` (`...:token-type:jwt` or `...:id_token`). The token is verified with the
//! served workspace's keys and judged by the provider's document (the GCP evaluator); the reply
//! is Google's JSON (`access_token`, `issued_token_type`, `token_type`, `expires_in`), errors
//! its OAuth shape (`{"error": "invalid_grant", "error_description": ...}`), which google-auth
//! raises as `OAuthError`. The access token is opaque and nothing here accepts it back.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::roles::{judge, random};
use crate::http::error::{OwnShape, reshape};
use crate::http::state::AppState;
use crate::policy::Context;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
const SUBJECT_TYPES: [&str; 2] = [
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id_token",
];
/// Google's federated access tokens last an hour.
const LIFETIME: i64 = 3600;

/// `POST /_stepmint/gcp/sts/v1/token`.
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = match params(&headers, &body) {
        Ok(p) => p,
        Err(why) => return error("invalid_request", &why),
    };
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some(GRANT) {
        return error(
            "unsupported_grant_type",
            &format!("grant_type must be {GRANT}"),
        );
    }
    let (Some(audience), Some(subject), Some(kind)) = (
        get("audience"),
        get("subject_token"),
        get("subject_token_type"),
    ) else {
        return error(
            "invalid_request",
            "audience, subject_token and subject_token_type are required",
        );
    };
    if !SUBJECT_TYPES.contains(&kind) {
        return error(
            "invalid_request",
            &format!("subject_token_type {kind:?} is not supported for an OIDC provider"),
        );
    }
    let name = audience
        .strip_prefix("//iam.googleapis.com/")
        .or_else(|| audience.strip_prefix("https://iam.googleapis.com/"))
        .unwrap_or(audience);
    let Some(provider) = state.exchanges.gcp_provider(name) else {
        return error(
            "invalid_target",
            &format!(
                "The target service indicated by the \"audience\" parameters is invalid: no provider {name} is emulated (add it with serve --gcp-provider NAME=PROVIDER.json)"
            ),
        );
    };
    let now = state.issuer.clock().now();
    let registration = Context {
        gcp_provider: Some(name.to_string()),
        ..Context::default()
    };
    let judged = match judge(&state.issuer, &provider.doc, subject, &registration, now) {
        Ok(j) => j,
        Err(e) => return error("invalid_grant", &format!("Invalid subject token: {e}")),
    };
    let d = &judged.decision;
    if !d.allowed {
        return error(
            "invalid_grant",
            &format!("{} (decided by {})", d.reason, d.decided_by),
        );
    }
    let token = format!(
        "ya29.stepmint.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random(48))
    );
    let mut r = Json(json!({
        "access_token": token,
        "issued_token_type": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": LIFETIME,
    }))
    .into_response();
    r.extensions_mut().insert(OwnShape);
    r
}

/// The request's parameters: a form (what google-auth sends), or the JSON object Google's REST
/// reference documents; any other declared body type is refused (`invalid_request`, with why).
fn params(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match kind.as_deref() {
        None | Some("application/x-www-form-urlencoded") => {
            Ok(form_urlencoded::parse(body).into_owned().collect())
        }
        Some("application/json") => {
            let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
                return Err(
                    "the JSON body is not an object of the token exchange's parameters".into(),
                );
            };
            Ok(map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect())
        }
        Some(other) => Err(format!(
            "Content-Type {other:?} is not supported: send application/x-www-form-urlencoded or application/json"
        )),
    }
}

/// An error answer from outside this module (the guard's limits, the router's 404 and 405) in
/// Google STS's OAuth shape, keeping its status, its message and its other headers (Allow...),
/// so google-auth raises it as the `OAuthError` it raises for Google's own.
pub async fn shaped(response: Response) -> Response {
    reshape(response, |status, message| {
        let message = if message.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            message
        };
        // RFC 6749's codes: a refusal of the request itself is `invalid_request`; the server's
        // own trouble and its back-pressure are `server_error` / `temporarily_unavailable`.
        let code = match status.as_u16() {
            429 | 503 => "temporarily_unavailable",
            s if s >= 500 => "server_error",
            _ => "invalid_request",
        };
        error_with(status, code, &message)
    })
    .await
}

/// Google STS's OAuth error body; every refusal here is a 400, as Google's are.
fn error(code: &str, description: &str) -> Response {
    error_with(StatusCode::BAD_REQUEST, code, description)
}

fn error_with(status: StatusCode, code: &str, description: &str) -> Response {
    let mut r = (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response();
    r.extensions_mut().insert(OwnShape);
    r
}
