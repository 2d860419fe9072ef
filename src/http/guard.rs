//! What every request passes before a handler sees it, and every error answer after: the owner
//! checks of the control plane ([`super::access`]); a URI too
//! long for anything we serve is refused (414), so are headers over 64 KiB (431; the connection
//! reads heads of up to 256 KiB so that both get an answer rather than a closed socket); a body is refused at once when its declared
//! length is over the limit (413), read whole within a time limit (408) so a client trickling
//! it cannot hold a worker, and handed on buffered; and an error answer that is not JSON (an
//! extractor's plain-text rejection, a path that is not UTF-8) is rewritten as JSON.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::access::{self, Access};
use super::body::MAX_BODY;
use super::error::{ApiError, ForAPerson};
use super::reqlog::{Pending, RequestLog};

/// The longest path and query accepted, in bytes: no route of ours comes near it.
pub const MAX_URI: usize = 16 * 1024;
/// The most header bytes accepted (names, values and separators), as HTTP/2 is limited too.
pub const MAX_HEADERS: usize = 64 * 1024;
/// How long a client may take to send a whole request body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the one middleware needs: the request log and the owner's access rules.
#[derive(Clone)]
pub struct Edge {
    /// Where every request is recorded.
    pub log: Arc<RequestLog>,
    /// Who may drive the control plane.
    pub access: Arc<Access>,
}

/// The middleware every request passes: logged (outermost, so the record has the final answer,
/// refusals included), then the owner checks, then the limits below, then the handler.
// One middleware, not one per concern: each `from_fn` layer costs boxed futures and a service
// clone per request, several per cent of the keep-alive JWKS path (scripts/bench).
pub async fn guard(State(edge): State<Arc<Edge>>, request: Request, next: Next) -> Response {
    let pending = Pending::start(&request);
    let response = match access::refusal(&edge.access, &request) {
        Some(refused) => refused,
        None => limits(request, next).await,
    };
    pending.finish(&edge.log, &response);
    response
}

async fn limits(request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path and query are {uri_len} bytes; at most {MAX_URI} are accepted"),
        )
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_HEADERS {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("the headers are {header_bytes} bytes; at most {MAX_HEADERS} are accepted"),
        )
        .into_response();
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let has_body =
        declared.is_some_and(|n| n > 0) || request.headers().contains_key(TRANSFER_ENCODING);
    let request = if has_body {
        let (parts, body) = request.into_parts();
        match tokio::time::timeout(BODY_READ_TIMEOUT, to_bytes(body, MAX_BODY)).await {
            Ok(Ok(bytes)) => Request::from_parts(parts, Body::from(bytes)),
            Ok(Err(_)) => return too_large(),
            Err(_) => {
                return ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!(
                        "the request body did not arrive within {} s",
                        BODY_READ_TIMEOUT.as_secs()
                    ),
                )
                .into_response();
            }
        }
    } else {
        request
    };
    let response = next.run(request).await;
    json_errors(response).await
}

fn too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("request bodies are at most {} KiB", MAX_BODY / 1024),
    )
    .into_response()
}

/// An error answer that is not JSON becomes one, with the original text as its message.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    // An injected fault answers exactly as it was told to, JSON or not.
    let injected = response
        .extensions()
        .get::<super::faults::AppliedFault>()
        .is_some();
    let for_a_person = response.extensions().get::<ForAPerson>().is_some();
    if !(status.is_client_error() || status.is_server_error())
        || is_json
        || injected
        || for_a_person
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_string();
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        message
    };
    let mut out = ApiError::new(status, "bad_request", message).into_response();
    // Keep what the original answer said besides its body (Allow, Retry-After...).
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    out.extensions_mut().extend(parts.extensions);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(status: StatusCode) -> Response {
        (status, [(CONTENT_TYPE, "text/html")], "<p>why</p>").into_response()
    }

    #[tokio::test]
    async fn an_error_page_for_a_person_stays_a_page_and_any_other_becomes_json() {
        let mut page = html(StatusCode::NOT_IMPLEMENTED);
        page.extensions_mut().insert(ForAPerson);
        let kept = json_errors(page).await;
        assert_eq!(kept.status(), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(kept.headers()[CONTENT_TYPE], "text/html");
        let wrapped = json_errors(html(StatusCode::NOT_IMPLEMENTED)).await;
        assert_eq!(wrapped.status(), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(wrapped.headers()[CONTENT_TYPE], "application/json");
    }
}
