//! The request log: what relying parties (and everyone else) asked of the server.
//!
//! A bounded ring of [`RequestRecord`]s with increasing ids, readable through the control API
//! (`GET /_stepmint/v1/requests?since=ID`) and streamed to subscribers (the CLI prints each to
//! stderr, the desktop app's Log screen updates live). Times are wall-clock: they record when
//! something happened, which a fixed token clock must not hide.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

use axum::extract::Request;
use axum::http::Method;
use axum::http::header::USER_AGENT;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::error::InternalDetail;
use crate::encoding::printable;
use crate::paths::CONTROL_PREFIX;

/// How many records the log keeps.
pub const LOG_CAPACITY: usize = 2000;

/// The peer address of a connection, set by the server on every request it reads.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Which part of the server a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RequestRecord {
    /// Increasing id (use as `since`).
    pub id: u64,
    /// When it arrived; RFC 3339 UTC with milliseconds in JSON.
    #[ts(type = "string")]
    pub time: LogTime,
    /// The client's address (`"127.0.0.1:5000"` in JSON).
    pub peer: Option<SocketAddr>,
    /// HTTP method.
    pub method: Cow<'static, str>,
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
    // Shared, not cloned: the ring and every subscriber hold the same record.
    tx: broadcast::Sender<Arc<RequestRecord>>,
}

#[derive(Debug, Default)]
struct Ring {
    next_id: u64,
    records: VecDeque<Arc<RequestRecord>>,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog {
            inner: Mutex::new(Ring {
                next_id: 1,
                records: VecDeque::new(),
            }),
            tx: broadcast::channel(FEED_CAPACITY).0,
        }
    }
}

impl RequestLog {
    /// Appends a record, assigning its id.
    pub fn push(&self, mut record: RequestRecord) {
        let record = {
            let mut ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            record.id = ring.next_id;
            ring.next_id += 1;
            if ring.records.len() == LOG_CAPACITY {
                // Only a reference: the feed below still holds the record.
                ring.records.pop_front();
            }
            let record = Arc::new(record);
            ring.records.push_back(record.clone());
            record
        };
        // No subscribers is fine.
        let _ = self.tx.send(record);
    }

    /// Records something the server did on its own (a scenario step firing) in the same feed,
    /// as an `EVENT` record whose path says what happened.
    pub fn event(&self, workspace: Option<String>, what: String) {
        self.push(RequestRecord {
            id: 0,
            time: LogTime(SystemTime::now()),
            peer: None,
            method: Cow::Borrowed("EVENT"),
            path: what,
            status: 0,
            user_agent: None,
            endpoint: Endpoint::Other,
            workspace,
            duration_ms: 0.0,
            error: None,
            fault: None,
        });
    }

    /// Records with an id above `since`, oldest first, at most `limit`.
    pub fn since(&self, since: u64, limit: usize, include_control: bool) -> Vec<RequestRecord> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        ring.records
            .iter()
            .filter(|r| r.id > since && (include_control || r.endpoint != Endpoint::Control))
            .take(limit)
            .map(|r| RequestRecord::clone(r))
            .collect()
    }

    /// A live feed of new records.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RequestRecord>> {
        self.tx.subscribe()
    }

    /// Prints every new record to `out`, one [`RequestRecord`] line each, from a thread of its
    /// own until the log is dropped or `out` fails.
    ///
    /// Records that arrive together are written together: one `write` per batch, not one per
    /// field, so a busy server spends its time serving rather than logging. A reader too slow
    /// to keep up loses lines, never the server's pace, and is told how many it lost.
    pub fn print_to(&self, out: impl Write + Send + 'static) -> std::io::Result<JoinHandle<()>> {
        let feed = self.subscribe();
        std::thread::Builder::new()
            .name("stepmint-log".into())
            .spawn(move || print_feed(feed, out))
    }
}

/// How long the printer lets lines gather once it sees traffic; the feed holds
/// [`FEED_CAPACITY`] lines, several times what a few milliseconds bring at full load.
const GATHER: std::time::Duration = std::time::Duration::from_millis(5);
const FEED_CAPACITY: usize = 2048;

fn print_feed(mut feed: broadcast::Receiver<Arc<RequestRecord>>, mut out: impl Write) {
    use broadcast::error::{RecvError, TryRecvError};
    use fmt::Write as _;
    let mut batch = String::new();
    loop {
        let mut next = feed.blocking_recv().map_err(|e| match e {
            RecvError::Closed => TryRecvError::Closed,
            RecvError::Lagged(n) => TryRecvError::Lagged(n),
        });
        let mut lines = 0usize;
        let closed = loop {
            lines += 1;
            match next {
                Ok(record) => {
                    let _ = writeln!(batch, "{record}");
                }
                Err(TryRecvError::Lagged(n)) => {
                    let _ = writeln!(batch, "({n} log lines skipped)");
                }
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Closed) => break true,
            }
            if batch.len() > 64 * 1024 {
                break false;
            }
            next = feed.try_recv();
        };
        if !batch.is_empty()
            && out
                .write_all(batch.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
        {
            return;
        }
        if closed {
            return;
        }
        // Under load, let a few milliseconds of lines gather rather than wake (and be woken)
        // for each; a lone request is still printed at once.
        if lines > 2 {
            std::thread::sleep(GATHER);
        }
        batch.clear();
    }
}

/// The access-log line: `TIME PEER METHOD PATH STATUS DURATIONms "USER-AGENT"`, with `-` for
/// what is missing and the fault, if one was injected, at the end.
impl fmt::Display for RequestRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.time)?;
        match &self.peer {
            Some(peer) => write!(f, "{peer} ")?,
            None => f.write_str("- ")?,
        }
        // Request lines are the client's text: shown escaped, never as terminal controls.
        write!(
            f,
            "{} {} {} {:.1}ms ",
            printable(&self.method),
            printable(&self.path),
            self.status,
            self.duration_ms,
        )?;
        match &self.user_agent {
            Some(ua) => write!(f, "\"{}\"", printable(ua))?,
            None => f.write_str("-")?,
        }
        if let Some(fault) = &self.fault {
            write!(f, " fault={fault}")?;
        }
        Ok(())
    }
}

/// Classifies a path: which endpoint, and for issuer paths which workspace.
pub fn classify(path: &str) -> (Endpoint, Option<String>) {
    // The console's pages belong to the control plane, not to relying-party traffic.
    if path.starts_with(crate::paths::CONSOLE_PREFIX) {
        return (Endpoint::Control, None);
    }
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

/// What the log keeps of a request, taken before it is handled; [`Pending::finish`] adds the
/// response and pushes the record. Called by [`super::guard::guard`], the one middleware every
/// request passes.
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
    /// Notes `request`'s method, path, user agent, peer and endpoint.
    pub fn start(request: &Request) -> Pending {
        let (endpoint, workspace) = classify(request.uri().path());
        Pending {
            start: Instant::now(),
            time: LogTime(SystemTime::now()),
            method: method_name(request.method()),
            path: request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| request.uri().path().to_string()),
            user_agent: request
                .headers()
                .get(USER_AGENT)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
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
                .map(|d| d.0.clone()),
            fault: response
                .extensions()
                .get::<super::faults::AppliedFault>()
                .map(|f| f.0.clone()),
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
        .unwrap_or_else(|| Cow::Owned(method.as_str().to_owned()))
}

/// A wall-clock instant of the log, formatted (RFC 3339 UTC, milliseconds) only when read:
/// the server records thousands a second and prints or serves far fewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTime(pub SystemTime);

const LOG_TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

impl fmt::Display for LogTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utc = time::OffsetDateTime::from(self.0);
        match utc.format(LOG_TIME_FORMAT) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for LogTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(serde::de::Error::custom)?;
        Ok(LogTime(parsed.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: &str) -> RequestRecord {
        let (endpoint, workspace) = classify(path);
        RequestRecord {
            id: 0,
            time: LogTime(
                SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123),
            ),
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

    /// A pipe that hands each `write` call to the test as one chunk.
    struct Chunks(std::sync::mpsc::Sender<Vec<u8>>);

    impl Write for Chunks {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .send(buf.to_vec())
                .map_err(|_| std::io::Error::other("closed"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn printer_batches_whole_lines_and_stops_with_the_log() {
        let log = RequestLog::default();
        let feed = log.subscribe();
        let mut r = rec("/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json");
        r.user_agent = Some("curl/8".into());
        r.peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        r.fault = Some("latency 5ms".into());
        for _ in 0..300 {
            log.push(r.clone());
        }
        drop(log);
        let (tx, rx) = std::sync::mpsc::channel();
        print_feed(feed, Chunks(tx));
        let chunks: Vec<Vec<u8>> = rx.iter().collect();
        // Everything was waiting: one write, not one per line (or per field).
        assert_eq!(chunks.len(), 1);
        let text = String::from_utf8(chunks[0].clone()).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), 300);
        for line in text.lines() {
            assert_eq!(
                line,
                "2023-11-14T22:13:20.123Z 127.0.0.1:5000 GET \
                 /2.0/workspaces/a/pipelines-config/identity/oidc/keys.json 200 0.0ms \"curl/8\" \
                 fault=latency 5ms"
            );
        }
    }

    #[test]
    fn printer_says_how_many_lines_a_slow_reader_lost() {
        let log = RequestLog::default();
        let feed = log.subscribe();
        for _ in 0..FEED_CAPACITY + 76 {
            log.push(rec("/x"));
        }
        drop(log);
        let (tx, rx) = std::sync::mpsc::channel();
        print_feed(feed, Chunks(tx));
        let text: String = rx.iter().map(|c| String::from_utf8(c).unwrap()).collect();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "(76 log lines skipped)");
        assert_eq!(lines.len(), 1 + FEED_CAPACITY);
        assert_eq!(lines[1], "2023-11-14T22:13:20.123Z - GET /x 200 0.0ms -");
    }

    #[test]
    fn records_keep_their_json_shape() {
        let mut r = rec("/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json");
        r.peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        r.method = method_name(&Method::from_bytes(b"PROPFIND").unwrap());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(json["peer"], "127.0.0.1:5000");
        assert_eq!(json["method"], "PROPFIND");
        let back: RequestRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert_eq!(method_name(&Method::GET), Cow::Borrowed("GET"));
    }
}
