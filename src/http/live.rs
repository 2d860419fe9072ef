//! Live answers as server-sent events: the request log as it grows (the console's Log screen)
//! and a probe run's progress then its report (the console's Probe screen).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

use super::body::ApiJson;
use super::error::ApiError;
use super::reqlog::Endpoint;
use super::state::{AppState, MAX_CONCURRENT_PROBES};
use crate::probe::{Progress, ScreenRequest};

/// How often a quiet stream sends a comment line.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A body fed from a channel; the stream ends when the sender is dropped.
struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|c| c.map(Ok))
    }
}

fn event(name: Option<&str>, data: &impl serde::Serialize) -> Bytes {
    let mut out = String::new();
    if let Some(n) = name {
        out.push_str(&format!("event: {n}\n"));
    }
    // JSON text has no raw newline, so one `data:` line holds it.
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    out.push_str(&format!("data: {data}\n\n"));
    Bytes::from(out)
}

fn stream(rx: mpsc::Receiver<Bytes>) -> Response {
    let mut r = Response::new(Body::from_stream(Chunks(rx)));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /_stepmint/v1/requests/stream`: every new relying-party request, one event each.
pub async fn requests(State(state): State<AppState>) -> Response {
    let (tx, rx) = mpsc::channel(256);
    let mut feed = state.log.subscribe();
    tokio::spawn(async move {
        loop {
            let next = tokio::time::timeout(KEEP_ALIVE, feed.recv()).await;
            let chunk = match next {
                Ok(Ok(r)) if r.endpoint == Endpoint::Control => continue,
                Ok(Ok(r)) => event(None, &json!(*r)),
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    event(Some("lagged"), &json!({ "skipped": n }))
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => break,
                // A comment now and then: proxies and browsers keep an idle stream open.
                Err(_) => Bytes::from_static(b": keep-alive\n\n"),
            };
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    });
    stream(rx)
}

/// `POST /_stepmint/v1/probe`: runs a probe in the server, streaming `progress` events, then
/// one `report` event (the Probe screen's JSON) or an `error` event.
///
/// A command target needs `serve --allow-exec` (the token alone is not enough: a token leaks
/// into shell history and screenshots, and a command runs as the server's user). At most
/// [`MAX_CONCURRENT_PROBES`] run at once. The probe belongs to its stream: when the client
/// goes away (closed tab, Cancel, a dropped connection) the probe stops, its commands killed.
pub async fn probe_run(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ScreenRequest>,
) -> Result<Response, ApiError> {
    if req.runs_command() && !state.serving.allow_exec {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "exec_not_allowed",
            "this server does not run commands for its control API: start it with `stepmint serve --allow-exec`, or probe an HTTP relying party, or run `stepmint probe --exec` yourself",
        ));
    }
    let Ok(permit) = state.probes.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_probes",
            format!(
                "{MAX_CONCURRENT_PROBES} probes are already running in this server: wait for one to finish, or cancel it"
            ),
        ));
    };
    // A bad request is a 400 before any stream starts.
    let options = req.options(&state.issuer)?;
    let (tx, rx) = mpsc::channel(64);
    let issuer = state.issuer.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let progress_tx = tx.clone();
        let run = super::service::probe(issuer, options, move |p: &Progress| {
            // Progress may be dropped when the reader is slow; the report never is.
            let _ = progress_tx.try_send(event(Some("progress"), p));
        });
        tokio::pin!(run);
        let result = loop {
            tokio::select! {
                result = &mut run => break result,
                // The reader is gone: dropping the run cancels every request and kills every
                // command it started.
                _ = tx.closed() => return,
                // A comment now and then, so a client that went away is noticed even while
                // the relying party is slow to answer.
                _ = tokio::time::sleep(KEEP_ALIVE) => {
                    if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                        return;
                    }
                }
            }
        };
        let last = match result {
            Ok(report) => event(Some("report"), &report),
            Err(e) => event(Some("error"), &json!({ "message": e.to_string() })),
        };
        let _ = tx.send(last).await;
    });
    Ok(stream(rx))
}
