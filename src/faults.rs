//! Fault injection: make the relying-party endpoints (discovery, JWKS) misbehave on purpose,
//! per workspace and endpoint, changeable at run time. The control API is never affected.
//!
//! A [`Fault`] is plain data; the [`FaultTable`] holds the active ones and counts down
//! "fail the next N requests". [`apply`] turns a healthy response into the faulty one and
//! describes what it did, for the request log.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::issuer::ServedWorkspace;

/// Which relying-party endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultEndpoint {
    /// `.well-known/openid-configuration`
    Discovery,
    /// `keys.json`
    Jwks,
}

impl FaultEndpoint {
    /// Parses `discovery` or `jwks`.
    pub fn parse(text: &str) -> Result<FaultEndpoint> {
        match text {
            "discovery" => Ok(FaultEndpoint::Discovery),
            "jwks" | "keys" | "keys.json" => Ok(FaultEndpoint::Jwks),
            other => Err(Error::invalid(
                "endpoint",
                format!("`{other}` is not an endpoint (discovery, jwks)"),
            )),
        }
    }
}

/// How an `ETag` misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EtagMode {
    /// The same ETag whatever the content (a cache never sees changes).
    NeverChanges,
    /// A new ETag on every response (a cache never hits).
    AlwaysChanges,
}

/// One fault. Every member is optional; several combine (latency then status, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Added latency in milliseconds: `[fixed]` or `[min, max]` (uniformly random).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Vec<u64>>,
    /// Answer with this status (4xx or 5xx) instead of the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds, with a status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Fail only the next N requests (with `status`, default 503), then recover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_next: Option<u32>,
    /// Reset the connection part-way through the body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
    /// Never answer (past any client timeout).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hang: bool,
    /// Send only the first half of the body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncate: bool,
    /// Send a body that is not JSON.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub non_json: bool,
    /// Send this `Content-Type` instead of `application/json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Add this `Cache-Control` (`no-store`, `max-age=31536000`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// Add a misbehaving `ETag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<EtagMode>,
    /// JWKS only: serve `{"keys": []}`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub empty_jwks: bool,
    /// JWKS only: add a second key under the signing key's `kid`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate_kid: bool,
}

impl Fault {
    /// Checks the values, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.latency_ms
            && (l.is_empty()
                || l.len() > 2
                || (l.len() == 2 && l[0] > l[1])
                || l.iter().any(|&v| v > 600_000))
        {
            return Err(Error::invalid(
                "latency_ms",
                "one value, or [min, max] with min <= max, at most 600000",
            ));
        }
        if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            return Err(Error::invalid(
                "status",
                format!("{s} is not a 4xx or 5xx status"),
            ));
        }
        if self.fail_next == Some(0) {
            return Err(Error::invalid("fail_next", "must be at least 1"));
        }
        for (name, v) in [
            ("content_type", &self.content_type),
            ("cache_control", &self.cache_control),
        ] {
            if let Some(v) = v
                && HeaderValue::from_str(v).is_err()
            {
                return Err(Error::invalid(name, "not a valid header value"));
            }
        }
        Ok(())
    }

    /// A short description for the request log.
    pub fn describe(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
struct Active {
    fault: Fault,
    remaining: Option<u32>,
}

/// The active faults, by workspace and endpoint.
#[derive(Debug, Default)]
pub struct FaultTable {
    map: Mutex<BTreeMap<(String, FaultEndpoint), Active>>,
    /// Whether any fault is set, so healthy requests skip the lock.
    active: AtomicBool,
    etag_counter: AtomicU64,
}

/// A listed fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultEntry {
    /// Workspace slug.
    pub workspace: String,
    /// Endpoint.
    pub endpoint: FaultEndpoint,
    /// The fault.
    pub fault: Fault,
    /// For `fail_next`: failures left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
}

impl FaultTable {
    /// Sets (replaces) the fault of `workspace`'s `endpoint`.
    pub fn set(&self, workspace: &str, endpoint: FaultEndpoint, fault: Fault) -> Result<()> {
        fault.validate()?;
        let remaining = fault.fail_next;
        let mut map = self.lock();
        map.insert(
            (workspace.to_string(), endpoint),
            Active { fault, remaining },
        );
        self.active.store(true, Ordering::Release);
        Ok(())
    }

    /// Clears one fault, or all of a workspace's, or all; returns how many were cleared.
    pub fn clear(&self, workspace: Option<&str>, endpoint: Option<FaultEndpoint>) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|(w, e), _| {
            !(workspace.is_none_or(|x| x == w) && endpoint.is_none_or(|x| x == *e))
        });
        self.active.store(!map.is_empty(), Ordering::Release);
        before - map.len()
    }

    /// Every active fault.
    pub fn list(&self) -> Vec<FaultEntry> {
        self.lock()
            .iter()
            .map(|((w, e), a)| FaultEntry {
                workspace: w.clone(),
                endpoint: *e,
                fault: a.fault.clone(),
                remaining: a.remaining,
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, FaultEndpoint), Active>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fault to apply to this request, counting down `fail_next` (which removes itself
    /// when spent).
    fn take(&self, workspace: &str, endpoint: FaultEndpoint) -> Option<(Fault, bool)> {
        let mut map = self.lock();
        let key = (workspace.to_string(), endpoint);
        let active = map.get_mut(&key)?;
        let fault = active.fault.clone();
        let fail = match &mut active.remaining {
            None => fault.status.is_some(),
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        };
        if active.remaining == Some(0) && fault.fail_next.is_some() {
            map.remove(&key);
            self.active.store(!map.is_empty(), Ordering::Release);
        }
        Some((fault, fail))
    }
}

const NEVER_CHANGING_ETAG: &str = "\"stepmint-never-changes\"";

/// What was done to a response, for the request log.
#[derive(Debug, Clone)]
pub struct AppliedFault(pub String);

/// Serves `ws`'s document for `endpoint`, through its fault if one is set.
/// `if_none_match` is the request's `If-None-Match`, which the never-changing ETag answers 304.
pub async fn apply(
    table: &FaultTable,
    ws: &ServedWorkspace,
    endpoint: FaultEndpoint,
    if_none_match: Option<&str>,
) -> Response {
    let body = match endpoint {
        FaultEndpoint::Discovery => ws.discovery_json().clone(),
        FaultEndpoint::Jwks => ws.jwks_json().clone(),
    };
    // The healthy path takes no lock: it is every relying-party request.
    let fault = if table.active.load(Ordering::Acquire) {
        table.take(&ws.workspace.slug, endpoint)
    } else {
        None
    };
    let Some((fault, fail)) = fault else {
        return ([(CONTENT_TYPE, "application/json")], body).into_response();
    };
    let note = AppliedFault(fault.describe());
    if let Some(l) = &fault.latency_ms {
        let ms = match l.as_slice() {
            [fixed] => *fixed,
            [min, max] => {
                let mut b = [0u8; 8];
                let _ = aws_lc_rs::rand::fill(&mut b);
                min + u64::from_le_bytes(b) % (max - min + 1)
            }
            _ => 0,
        };
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if fault.etag == Some(EtagMode::NeverChanges) && if_none_match == Some(NEVER_CHANGING_ETAG) {
        // The cache is told its copy is current, whatever the keys are now.
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut()
            .insert(ETAG, HeaderValue::from_static(NEVER_CHANGING_ETAG));
        r.extensions_mut().insert(note);
        return r;
    }
    if fault.hang {
        // Past any client's patience; the connection closes when the client gives up or the
        // server shuts down.
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
    let mut response = if fail {
        let status = StatusCode::from_u16(fault.status.unwrap_or(503))
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut r = (
            status,
            [(CONTENT_TYPE, "application/json")],
            format!("{{\"error\":\"injected\",\"status\":{}}}", status.as_u16()),
        )
            .into_response();
        if let Some(s) = fault.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(RETRY_AFTER, v);
        }
        r
    } else {
        let mut body = body;
        if endpoint == FaultEndpoint::Jwks && fault.empty_jwks {
            body = Bytes::from_static(br#"{"keys":[]}"#);
        }
        if endpoint == FaultEndpoint::Jwks && fault.duplicate_kid {
            body = duplicate_kid(&body, ws.workspace.keys.active().kid()).unwrap_or(body);
        }
        if fault.non_json {
            body = Bytes::from_static(b"<html><body>Service temporarily unavailable</body></html>");
        }
        if fault.truncate {
            body = body.slice(..body.len() / 2);
        }
        let body = if fault.reset {
            // Half the body, then an error: hyper aborts the connection mid-response.
            let half = body.slice(..body.len() / 2);
            let chunks: Vec<std::result::Result<Bytes, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected reset",
                )),
            ];
            Body::from_stream(futures_stream(chunks))
        } else {
            Body::from(body)
        };
        let mut r = Response::new(body);
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    };
    let headers = response.headers_mut();
    if let Some(ct) = fault
        .content_type
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(CONTENT_TYPE, ct);
    }
    if let Some(cc) = fault
        .cache_control
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(CACHE_CONTROL, cc);
    }
    match fault.etag {
        Some(EtagMode::NeverChanges) => {
            headers.insert(ETAG, HeaderValue::from_static(NEVER_CHANGING_ETAG));
        }
        Some(EtagMode::AlwaysChanges) => {
            let n = table.etag_counter.fetch_add(1, Ordering::Relaxed);
            if let Ok(v) = HeaderValue::from_str(&format!("\"stepmint-{n}\"")) {
                headers.insert(ETAG, v);
            }
        }
        None => {}
    }
    response.extensions_mut().insert(note);
    response
}

fn futures_stream(
    items: Vec<std::result::Result<Bytes, std::io::Error>>,
) -> impl futures_core::Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send {
    struct Iter(std::vec::IntoIter<std::result::Result<Bytes, std::io::Error>>);
    impl futures_core::Stream for Iter {
        type Item = std::result::Result<Bytes, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

/// The JWKS with a second key (the first key's modulus reversed, so it verifies nothing) filed
/// under `kid`.
fn duplicate_kid(jwks: &Bytes, kid: &str) -> Option<Bytes> {
    let mut v: Value = serde_json::from_slice(jwks).ok()?;
    let keys = v.get_mut("keys")?.as_array_mut()?;
    let mut twin = keys.first()?.clone();
    twin["kid"] = kid.into();
    // A different, well-formed modulus: the same bytes reversed, re-encoded canonically.
    if let Some(mut n) = twin
        .get("n")
        .and_then(Value::as_str)
        .and_then(crate::encoding::b64url_decode)
    {
        n.reverse();
        if let Some(top) = n.first_mut() {
            *top |= 0x80;
        }
        twin["n"] = crate::encoding::b64url(&n).into();
    }
    keys.push(twin);
    serde_json::to_vec(&v).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_member() {
        let bad = [
            (
                Fault {
                    status: Some(200),
                    ..Default::default()
                },
                "status",
            ),
            (
                Fault {
                    latency_ms: Some(vec![5, 1]),
                    ..Default::default()
                },
                "latency_ms",
            ),
            (
                Fault {
                    latency_ms: Some(vec![]),
                    ..Default::default()
                },
                "latency_ms",
            ),
            (
                Fault {
                    fail_next: Some(0),
                    ..Default::default()
                },
                "fail_next",
            ),
            (
                Fault {
                    content_type: Some("a\nb".into()),
                    ..Default::default()
                },
                "content_type",
            ),
        ];
        for (f, field) in bad {
            assert!(
                f.validate().unwrap_err().to_string().starts_with(field),
                "{field}"
            );
        }
    }

    #[test]
    fn fail_next_counts_down_and_removes_itself() {
        let t = FaultTable::default();
        t.set(
            "a",
            FaultEndpoint::Jwks,
            Fault {
                fail_next: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(t.take("a", FaultEndpoint::Jwks).unwrap().1);
        assert!(t.take("a", FaultEndpoint::Jwks).unwrap().1);
        assert!(t.take("a", FaultEndpoint::Jwks).is_none());
        assert!(t.take("a", FaultEndpoint::Discovery).is_none());
        t.set("a", FaultEndpoint::Jwks, Fault::default()).unwrap();
        t.set("b", FaultEndpoint::Jwks, Fault::default()).unwrap();
        assert_eq!(t.clear(Some("a"), None), 1);
        assert_eq!(t.list().len(), 1);
    }
}
