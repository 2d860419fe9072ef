//! JSON request bodies for the control API: [`ApiJson`] reads one (64 KiB at most, objects
//! only, an empty body as `{}`) and says which field is wrong when it cannot.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

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
        // A flattened struct (`MintRequest`) reads its members from a buffer, where the
        // path is lost: find the member it refuses on its own.
        let field = field.or_else(|| {
            (!inner.is_syntax() && !inner.is_eof())
                .then(|| member_at_fault::<T>(bytes))
                .flatten()
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

/// The first member of the JSON object `bytes` that `T` refuses when it is the only one.
fn member_at_fault<T: DeserializeOwned>(bytes: &[u8]) -> Option<String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes).ok()?;
    object.into_iter().find_map(|(name, value)| {
        let alone = serde_json::Value::Object([(name.clone(), value)].into_iter().collect());
        match serde_json::from_value::<T>(alone) {
            // A member missing is the others' absence, not this one's fault.
            Err(e) if !e.to_string().starts_with("missing field") => Some(name),
            _ => None,
        }
    })
}

fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// Query parameters read as `T` (a call's `Query`), whose errors are JSON naming the problem.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        if parts.uri.query().is_none_or(str::is_empty) {
            return Ok(ApiQuery(T::default()));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| {
                let text = e.body_text();
                // "Failed to deserialize query string: FIELD: why" names the field at fault.
                let field = text
                    .split(": ")
                    .nth(1)
                    .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .map(str::to_string);
                let err = ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", text);
                match field {
                    Some(f) => err.with_field(f),
                    None => err,
                }
            })
    }
}
