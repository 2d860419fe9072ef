//! What every request passes before a handler sees it, and every error answer after: the owner
//! checks of the control plane ([`super::access`]); a URI too
//! long for anything we serve is refused (414), so are headers over 64 KiB (431; the connection
//! reads heads of up to 256 KiB so that both get an answer rather than a closed socket); a body is refused when its declared
//! length is over the limit (413), read whole within a time limit (408) so a client trickling
//! it cannot hold a worker, and handed on buffered; and an error answer that is not JSON (an
//! extractor's plain-text rejection, a path that is not UTF-8) is rewritten as JSON, except under
//! the emulated token exchanges, whose clients parse only their own error documents (AWS STS's
//! XML, Google STS's OAuth JSON). A refusal
//! sent before the body is read first drains a small one (up to [`DRAIN_MAX`] within
//! [`DRAIN_TIME`]), so HTTP/2 clients see the answer instead of a reset stream. Every answer of
//! the control plane and the console, refusals included, carries the headers that keep browsers
//! from framing it or running anything but the console's own code ([`super::browser`]).

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, EXPECT};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::access::{self, Access};
use super::body::MAX_BODY;
use super::browser::Surface;
use super::error::{ApiError, ForAPerson, OwnShape, kind_of};
use super::exchange::{aws, gcp};
use super::reqlog::{Pending, RequestLog};
use crate::paths::{AWS_STS_PATH, GCP_STS_PATH};

/// The longest path and query accepted, in bytes: no route of ours comes near it.
pub const MAX_URI: usize = 16 * 1024;
/// The most header bytes accepted (names, values and separators), as HTTP/2 is limited too.
pub const MAX_HEADERS: usize = 64 * 1024;
/// How long a client may take to send a whole request body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The most body bytes read (and dropped) before a refusal is sent, so that it arrives whole.
pub const DRAIN_MAX: usize = 1024 * 1024;
/// How long a refusal waits for a body it drains.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

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
    let path = request.uri().path();
    let surface = Surface::of(path);
    let shape = Shape::of(path);
    let mut response = match admit(&edge.access, request).await {
        Ok(request) => shape.errors(next.run(request).await).await,
        Err(refused) if shape == Shape::Json => refused,
        Err(refused) => shape.errors(refused).await,
    };
    if let Some(surface) = surface {
        surface.protect(response.headers_mut());
    }
    pending.finish(&edge.log, &response);
    response
}

/// Whose error documents a path's clients parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Stepmint's own JSON errors.
    Json,
    /// AWS STS's XML (`ErrorResponse`), under [`AWS_STS_PATH`].
    Aws,
    /// Google STS's OAuth JSON (`error`, `error_description`), under [`GCP_STS_PATH`].
    Gcp,
}

impl Shape {
    fn of(path: &str) -> Shape {
        let under = |prefix: &str| path.starts_with(prefix) || path == prefix.trim_end_matches('/');
        if under(AWS_STS_PATH) {
            Shape::Aws
        } else if under(GCP_STS_PATH) {
            Shape::Gcp
        } else {
            Shape::Json
        }
    }

    /// `response`, its error (if it is one) in this shape.
    async fn errors(self, response: Response) -> Response {
        match self {
            Shape::Json => json_errors(response).await,
            Shape::Aws => aws::shaped(response).await,
            Shape::Gcp => gcp::shaped(response).await,
        }
    }
}

/// The request, with its body read whole, or the answer refusing it. Only a request with a
/// body or a refusal waits on anything, and that part is boxed: the future every request
/// carries (a keep-alive JWKS fetch included) stays small.
async fn admit(access: &Access, request: Request) -> Result<Request, Response> {
    match refusal(access, &request) {
        Some(refused) => Err(Box::pin(drained(request, refused)).await),
        None if request.body().is_end_stream() => Ok(request),
        None => Box::pin(read_whole(request)).await,
    }
}

/// The answer to a request refused before its body is read: the owner checks, then the sizes.
fn refusal(access: &Access, request: &Request) -> Option<Response> {
    if let Some(refused) = access::refusal(access, request) {
        return Some(refused);
    }
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return Some(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                format!("the path and query are {uri_len} bytes; at most {MAX_URI} are accepted"),
            )
            .into_response(),
        );
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_HEADERS {
        return Some(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
                format!("the headers are {header_bytes} bytes; at most {MAX_HEADERS} are accepted"),
            )
            .into_response(),
        );
    }
    if declared(request).is_some_and(|n| n > MAX_BODY as u64) {
        return Some(too_large());
    }
    None
}

/// `request` with its body read whole within [`BODY_READ_TIMEOUT`], or the refusal.
async fn read_whole(request: Request) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let deadline = Instant::now() + BODY_READ_TIMEOUT;
    match tokio::time::timeout_at(deadline.into(), read(body)).await {
        Ok(Read::Whole(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Read::TooLarge(body, read)) => {
            drain(body, read, deadline.min(Instant::now() + DRAIN_TIME)).await;
            Err(too_large())
        }
        Ok(Read::Failed) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "the request body could not be read",
        )
        .into_response()),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} s",
                BODY_READ_TIMEOUT.as_secs()
            ),
        )
        .into_response()),
    }
}

/// The body's declared length, if it declares one.
fn declared(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// `refusal`, once a small body the client is sending has been read and dropped.
///
/// A refusal sent while the body is still coming is followed, in HTTP/2, by a stream reset,
/// and some clients (curl 7.88) then show nothing of the answer: draining lets the stream end
/// normally (and keeps an HTTP/1.1 connection open). A body larger than [`DRAIN_MAX`], or one
/// that would only come after `100 Continue`, is not waited for.
async fn drained(request: Request, refusal: Response) -> Response {
    let waits_for_continue = request
        .headers()
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let small = declared(&request).is_none_or(|n| n <= DRAIN_MAX as u64);
    if small && !waits_for_continue && !request.body().is_end_stream() {
        drain(request.into_body(), 0, Instant::now() + DRAIN_TIME).await;
    }
    refusal
}

/// A request body read as far as it may be.
enum Read {
    /// All of it, at most [`MAX_BODY`] bytes.
    Whole(Bytes),
    /// More than [`MAX_BODY`]: the rest of the body, and how many bytes were read.
    TooLarge(Body, usize),
    /// The connection failed while it was sent.
    Failed,
}

async fn read(mut body: Body) -> Read {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    loop {
        match next_data(&mut body).await {
            Some(Ok(data)) => {
                len += data.len();
                if len > MAX_BODY {
                    return Read::TooLarge(body, len);
                }
                chunks.push(data);
            }
            Some(Err(())) => return Read::Failed,
            // One chunk (the usual case) is handed on as it came, without a copy.
            None if chunks.len() == 1 => return Read::Whole(chunks.swap_remove(0)),
            None => return Read::Whole(Bytes::from(chunks.concat())),
        }
    }
}

/// Reads and drops what is left of `body` until it ends, [`DRAIN_MAX`] bytes in all were read,
/// or `deadline`.
async fn drain(mut body: Body, mut read: usize, deadline: Instant) {
    let _ = tokio::time::timeout_at(deadline.into(), async {
        while read <= DRAIN_MAX {
            match next_data(&mut body).await {
                Some(Ok(data)) => read += data.len(),
                _ => return,
            }
        }
    })
    .await;
}

/// The next data frame of `body` (trailers are skipped); `None` at its end.
async fn next_data(body: &mut Body) -> Option<Result<Bytes, ()>> {
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
            }
            Err(_) => return Some(Err(())),
        }
    }
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
    let for_a_person = response.extensions().get::<ForAPerson>().is_some()
        || response.extensions().get::<OwnShape>().is_some();
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
    // The kind follows the status: a plain-text 503 is no `bad_request`. A 5xx's text is kept
    // for the server log (`InternalDetail`), which prints it.
    let mut out = ApiError::new(status, kind_of(status), message).into_response();
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

    async fn kind_and_detail(response: Response) -> (String, String, Option<String>) {
        let detail = response
            .extensions()
            .get::<super::super::error::InternalDetail>()
            .map(|d| d.0.clone());
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        (
            v["error"].as_str().unwrap().to_string(),
            v["message"].as_str().unwrap().to_string(),
            detail,
        )
    }

    #[tokio::test]
    async fn a_rewritten_error_is_of_the_kind_its_status_says_never_bad_request_for_a_5xx() {
        let plain = |s: StatusCode| (s, "upstream went away").into_response();
        let (kind, message, detail) =
            kind_and_detail(json_errors(plain(StatusCode::SERVICE_UNAVAILABLE)).await).await;
        assert_eq!(kind, "unavailable");
        // A 5xx's text stays out of the answer, and is kept for the server log.
        assert_eq!(message, "internal error; see the server log");
        assert_eq!(detail.as_deref(), Some("upstream went away"));
        let (kind, ..) =
            kind_and_detail(json_errors(plain(StatusCode::INTERNAL_SERVER_ERROR)).await).await;
        assert_eq!(kind, "internal");
        let (kind, message, _) =
            kind_and_detail(json_errors(plain(StatusCode::BAD_REQUEST)).await).await;
        assert_eq!(
            (kind.as_str(), message.as_str()),
            ("bad_request", "upstream went away")
        );
        let (kind, ..) =
            kind_and_detail(json_errors(plain(StatusCode::UNSUPPORTED_MEDIA_TYPE)).await).await;
        assert_eq!(kind, "unsupported_media_type");
    }
}
