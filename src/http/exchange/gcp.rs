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
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::roles::{judge, random};
use crate::http::error::OwnShape;
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
pub async fn token(State(state): State<AppState>, body: Bytes) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
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
    let Some(doc) = state.exchanges.gcp_provider(name) else {
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
    let judged = match judge(&state.issuer, &doc, subject, &registration, now) {
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

/// Google STS's OAuth error body; every refusal here is a 400, as Google's are.
fn error(code: &str, description: &str) -> Response {
    let mut r = (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response();
    r.extensions_mut().insert(OwnShape);
    r
}
