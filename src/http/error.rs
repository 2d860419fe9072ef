//! HTTP errors: every failure leaves as a 4xx/5xx with a JSON body
//! `{"error": CODE, "message": ..., "field": ...}`. Internal details are kept for the request
//! log and never sent.

use axum::Json;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// An error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code (`invalid_input`, `unknown_workspace`, ...).
    pub code: &'static str,
    /// A human-readable message.
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

/// The header naming an error's kind on an answer whose body is not the JSON error (a page
/// written for a person), so a script can still tell what it got.
pub const ERROR_KIND_HEADER: HeaderName = HeaderName::from_static("x-stepmint-error");

/// The error kind of a non-JSON error answer the guard rewrites, by its status: a 503 is
/// `unavailable`, never `bad_request`.
pub fn kind_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "body_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "invalid_input",
        429 => "too_many_requests",
        431 => "headers_too_large",
        501 => "not_implemented",
        502 => "bad_gateway",
        503 => "unavailable",
        504 => "gateway_timeout",
        s if s >= 500 => "internal",
        _ => "client_error",
    }
}

/// Marks an error answer written for a person (an HTML page): the guard passes it on as it is
/// instead of wrapping its text in the JSON error body.
#[derive(Debug, Clone, Copy)]
pub struct ForAPerson;

/// Marks an error answer in another protocol's own shape (AWS STS's XML, Google STS's OAuth JSON): the guard passes it
/// on as it is, since the clients of that protocol parse only their own error documents.
#[derive(Debug, Clone, Copy)]
pub struct OwnShape;

/// The most bytes of a refusal's text carried into the document that replaces it.
const MAX_CARRIED: usize = 4096;

/// An error answer from outside a protocol's handlers (the guard's limits, the router's 404 and
/// 405) re-rendered by `render(status, message)` in that protocol's own shape, keeping its status
/// and its other headers (Allow...). Successes and answers already in [`OwnShape`] pass as they are.
pub async fn reshape(
    response: Response,
    render: impl FnOnce(StatusCode, String) -> Response,
) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<OwnShape>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_CARRIED)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&text).trim().to_string());
    let mut out = render(status, message);
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Internal error text, attached to the response for the request log only.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

impl ApiError {
    /// An error with no field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 404 for a path that is not served.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such path: {path}"),
        )
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err.kind() {
            ErrorKind::InvalidInput { field, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message.clone())
                    .with_field(field.clone())
            }
            ErrorKind::UnknownWorkspace(slug) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_workspace",
                format!("unknown workspace `{slug}`"),
            )
            .with_field("workspace"),
            ErrorKind::UnknownRole(arn) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_role",
                format!("no emulated role `{arn}`"),
            )
            .with_field("arn"),
            ErrorKind::UnknownProvider(name) => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_provider",
                format!("no emulated provider `{name}`"),
            )
            .with_field("name"),
            _ => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal",
                // The detail goes to the request log, not to the client.
                message: format!("internal error: {err}"),
                field: None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let internal = self.status.is_server_error();
        let message = if internal {
            "internal error; see the server log"
        } else {
            &self.message
        };
        let mut response = (
            self.status,
            Json(Body {
                error: self.code,
                message,
                field: self.field.as_deref(),
            }),
        )
            .into_response();
        if internal {
            response
                .extensions_mut()
                .insert(InternalDetail(self.message));
        }
        response
    }
}
