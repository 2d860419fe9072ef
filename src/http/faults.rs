//! Applying a fault to a relying-party response: the healthy document in, the faulty response
//! out, with what was done attached for the request log. The fault model is `crate::faults`.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::faults::{EtagMode, FaultEndpoint, FaultTable};
use crate::issuer::ServedWorkspace;

const NEVER_CHANGING_ETAG: &str = "\"stepmint-never-changes\"";

/// What was done to a response, for the request log: the fault as set (JSON) and, in a few
/// words, what it did to this response.
#[derive(Debug, Clone)]
pub struct AppliedFault {
    /// The fault, as `stepmint fault list` shows it.
    pub fault: String,
    /// What it did (`status 500`, `hang`, `delay 2s`).
    pub summary: String,
}

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
    let fault = if table.any_active() {
        table.take(&ws.workspace.slug, endpoint)
    } else {
        None
    };
    let Some((fault, fail)) = fault else {
        return ([(CONTENT_TYPE, "application/json")], body).into_response();
    };
    let note = AppliedFault {
        fault: fault.describe(),
        summary: fault.summary(fail),
    };
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
            let n = table.next_etag();
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
