//! The request log: what relying parties (and everyone else) asked of the server.
//!
//! A bounded ring of [`RequestRecord`]s with increasing ids, readable through the control API
//! (`GET /_stepmint/v1/requests?since=ID`) and streamed to subscribers (the CLI prints each to
//! stderr, the desktop app's Log screen updates live). Times are wall-clock: they record when
//! something happened, which a fixed token clock must not hide.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::USER_AGENT;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::AppState;
use super::error::InternalDetail;
use crate::paths::CONTROL_PREFIX;

/// How many records the log keeps.
pub const LOG_CAPACITY: usize = 2000;

/// The peer address of a connection, set by the server on every request it reads.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Which part of the server a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// A workspace's discovery document.
    Discovery,
    /// A workspace's JWKS.
    Jwks,
    /// The control API.
    Control,
    /// The attacker documents hostile `jku`/`x5u` cases point at (relying-party traffic).
    Attacker,
    /// Anything else (a 404).
    Other,
}

/// One request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Increasing id (use as `since`).
    pub id: u64,
    /// When it arrived, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The client's address.
    pub peer: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// What it was for.
    pub endpoint: Endpoint,
    /// The workspace slug, for issuer paths.
    pub workspace: Option<String>,
    /// Time to the response head, in milliseconds.
    pub duration_ms: f64,
    /// Internal error detail, for 5xx responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The injected fault this response carried, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// The log itself.
#[derive(Debug)]
pub struct RequestLog {
    inner: Mutex<Ring>,
    tx: broadcast::Sender<RequestRecord>,
}

#[derive(Debug, Default)]
struct Ring {
    next_id: u64,
    records: VecDeque<RequestRecord>,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog {
            inner: Mutex::new(Ring {
                next_id: 1,
                records: VecDeque::new(),
            }),
            tx: broadcast::channel(1024).0,
        }
    }
}

impl RequestLog {
    /// Appends a record, assigning its id.
    pub fn push(&self, mut record: RequestRecord) {
        {
            let mut ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            record.id = ring.next_id;
            ring.next_id += 1;
            if ring.records.len() == LOG_CAPACITY {
                ring.records.pop_front();
            }
            ring.records.push_back(record.clone());
        }
        // No subscribers is fine.
        let _ = self.tx.send(record);
    }

    /// Records with an id above `since`, oldest first, at most `limit`.
    pub fn since(&self, since: u64, limit: usize, include_control: bool) -> Vec<RequestRecord> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        ring.records
            .iter()
            .filter(|r| r.id > since && (include_control || r.endpoint != Endpoint::Control))
            .take(limit)
            .cloned()
            .collect()
    }

    /// A live feed of new records.
    pub fn subscribe(&self) -> broadcast::Receiver<RequestRecord> {
        self.tx.subscribe()
    }
}

/// Classifies a path: which endpoint, and for issuer paths which workspace.
pub fn classify(path: &str) -> (Endpoint, Option<String>) {
    if let Some(rest) = path.strip_prefix(CONTROL_PREFIX) {
        if let Some(attacker) = rest.strip_prefix("/attacker/") {
            return (
                Endpoint::Attacker,
                attacker.split('/').next().map(str::to_string),
            );
        }
        return (Endpoint::Control, None);
    }
    if let Some(rest) = path.strip_prefix("/2.0/workspaces/")
        && let Some((slug, tail)) = rest.split_once('/')
    {
        let endpoint = match tail {
            "pipelines-config/identity/oidc/.well-known/openid-configuration" => {
                Endpoint::Discovery
            }
            "pipelines-config/identity/oidc/keys.json" => Endpoint::Jwks,
            _ => Endpoint::Other,
        };
        return (endpoint, Some(slug.to_string()));
    }
    (Endpoint::Other, None)
}

/// Middleware that records every request.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let time = now_rfc3339();
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let user_agent = request
        .headers()
        .get(USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let peer = request
        .extensions()
        .get::<PeerAddr>()
        .map(|p| p.0.to_string());
    let (endpoint, workspace) = classify(request.uri().path());
    let response = next.run(request).await;
    state.log.push(RequestRecord {
        id: 0,
        time,
        peer,
        method,
        path,
        status: response.status().as_u16(),
        user_agent,
        endpoint,
        workspace,
        duration_ms: start.elapsed().as_secs_f64() * 1000.0,
        error: response
            .extensions()
            .get::<InternalDetail>()
            .map(|d| d.0.clone()),
        fault: response
            .extensions()
            .get::<crate::faults::AppliedFault>()
            .map(|f| f.0.clone()),
    });
    response
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: &str) -> RequestRecord {
        let (endpoint, workspace) = classify(path);
        RequestRecord {
            id: 0,
            time: String::new(),
            peer: None,
            method: "GET".into(),
            path: path.into(),
            status: 200,
            user_agent: None,
            endpoint,
            workspace,
            duration_ms: 0.0,
            error: None,
            fault: None,
        }
    }

    #[test]
    fn ring_is_bounded_and_filters_control() {
        let log = RequestLog::default();
        for _ in 0..LOG_CAPACITY + 5 {
            log.push(rec(
                "/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json",
            ));
        }
        log.push(rec("/_stepmint/v1/health"));
        let all = log.since(0, usize::MAX, true);
        assert_eq!(all.len(), LOG_CAPACITY);
        assert_eq!(all.last().unwrap().endpoint, Endpoint::Control);
        assert_eq!(all[0].id, 7);
        let rp = log.since(0, usize::MAX, false);
        assert!(
            rp.iter()
                .all(|r| r.endpoint == Endpoint::Jwks && r.workspace.as_deref() == Some("a"))
        );
        assert_eq!(log.since(all[all.len() - 2].id, 10, true).len(), 1);
    }
}
