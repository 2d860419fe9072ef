//! What the log notes of a request before it is handled, finished into a record once the
//! response is known. Called by [`super::super::guard::guard`], the one middleware every
//! request passes.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use axum::extract::Request;
use axum::http::Method;
use axum::http::header::USER_AGENT;
use axum::response::Response;

use super::record::{
    Endpoint, LogTime, MAX_DETAIL, MAX_FIELD, PeerAddr, RequestRecord, classify, clip, clip_str,
};
use super::ring::RequestLog;
use crate::http::error::InternalDetail;
use crate::http::faults::AppliedFault;

/// What the log keeps of a request, taken before it is handled; [`Pending::finish`] adds the
/// response and pushes the record.
pub struct Pending {
    start: Instant,
    time: LogTime,
    method: Cow<'static, str>,
    path: String,
    user_agent: Option<String>,
    peer: Option<SocketAddr>,
    endpoint: Endpoint,
    workspace: Option<String>,
}

impl Pending {
    /// Notes `request`'s method, path, user agent, peer and endpoint, each clipped to
    /// [`MAX_FIELD`] bytes: only that much is ever copied out of the request.
    pub fn start(request: &Request) -> Pending {
        let uri = request.uri();
        let (endpoint, workspace) = classify(uri.path());
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        Pending {
            start: Instant::now(),
            time: LogTime(SystemTime::now()),
            method: method_name(request.method()),
            path: clip_str(path, MAX_FIELD),
            user_agent: request
                .headers()
                .get(USER_AGENT)
                .map(|v| clip(v.as_bytes(), MAX_FIELD)),
            peer: request.extensions().get::<PeerAddr>().map(|p| p.0),
            endpoint,
            workspace,
        }
    }

    /// Logs the request with `response`'s status, time, internal detail and injected fault.
    pub fn finish(self, log: &RequestLog, response: &Response) {
        log.push(RequestRecord {
            id: 0,
            time: self.time,
            peer: self.peer,
            method: self.method,
            path: self.path,
            status: response.status().as_u16(),
            user_agent: self.user_agent,
            endpoint: self.endpoint,
            workspace: self.workspace,
            duration_ms: self.start.elapsed().as_secs_f64() * 1000.0,
            error: response
                .extensions()
                .get::<InternalDetail>()
                .map(|d| clip_str(&d.0, MAX_DETAIL)),
            fault: response
                .extensions()
                .get::<AppliedFault>()
                .map(|f| f.fault.clone()),
            fault_summary: response
                .extensions()
                .get::<AppliedFault>()
                .map(|f| f.summary.clone()),
        });
    }
}

/// The method without an allocation for the ones a server meets.
fn method_name(method: &Method) -> Cow<'static, str> {
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::PATCH, "PATCH"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map(|(_, name)| Cow::Borrowed(*name))
        .unwrap_or_else(|| Cow::Owned(clip_str(method.as_str(), MAX_FIELD)))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn a_request_is_recorded_clipped_whatever_its_size() {
        let huge = "p".repeat(30 * 1024);
        let method = Method::from_bytes("X".repeat(4096).as_bytes()).unwrap();
        let request = Request::builder()
            .method(method)
            .uri(format!("/{huge}?q={huge}"))
            .header(USER_AGENT, "u".repeat(200 * 1024))
            .extension(PeerAddr(SocketAddr::from(([127, 0, 0, 1], 5000))))
            .body(Body::empty())
            .unwrap();
        let log = RequestLog::default();
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::URI_TOO_LONG;
        Pending::start(&request).finish(&log, &response);
        let r = &log.since(0, 1, true)[0];
        assert_eq!(r.status, 414);
        assert_eq!(
            r.path,
            format!(
                "/{}... [{} bytes cut]",
                &huge[..511],
                2 * huge.len() + 4 - 512
            )
        );
        assert_eq!(
            r.user_agent.as_deref().unwrap(),
            format!("{}... [{} bytes cut]", "u".repeat(512), 200 * 1024 - 512)
        );
        assert!(r.method.ends_with("... [3584 bytes cut]"));
        // Everything a client chose, together, is a few KiB at most.
        assert!(serde_json::to_string(r).unwrap().len() < 4 * MAX_FIELD);
        assert_eq!(method_name(&Method::GET), Cow::Borrowed("GET"));
    }
}
