//! The web console: the built `ui/` (embedded at compile time by `build.rs`) served under
//! `/_stepmint/ui/`, so any browser can use the app's screens against this server.
//!
//! What a browser may do with these files (no framing, no inline code) is said by headers the
//! guard adds to every response under `/_stepmint/` ([`super::browser`]).

use axum::Json;
use axum::extract::Path;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ForAPerson, InternalDetail};

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// Whether this binary carries a built console.
pub fn built() -> bool {
    !ASSETS.is_empty()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Stepmint console: not in this build</title><h1>This build has no web console</h1><p>This <code>stepmint</code> binary was compiled without <code>ui/dist</code>, the console's files. The packaged releases (the .deb, the container image, the static binary) all carry it. From a checkout, restore the committed build with <code>git checkout -- ui/dist</code>, or make it with <code>(cd ui &amp;&amp; npm ci &amp;&amp; npm run build)</code>, then run <code>cargo build --release</code> again.</p><p>Everything else (discovery, JWKS, the control API, the CLI) works without it.</p>";

/// The error kind of a console path in a build without the console.
pub const NOT_BUILT_KIND: &str = "console_not_built";

/// What the server log says of a console path in a build without the console: the cause and
/// the way out, so the answer's "see the server log" is not a dead end.
pub const NOT_BUILT_CAUSE: &str = "this build has no web console: it was compiled without ui/dist; build it with `cd ui && npm ci && npm run build` (or restore it with `git checkout -- ui/dist`), then rebuild stepmint";

/// `GET /_stepmint/ui/` and `GET /_stepmint/ui/{*path}`.
pub async fn page(path: Option<Path<String>>, headers: HeaderMap) -> Response {
    let wanted = path.map(|Path(p)| p).unwrap_or_default();
    serve(ASSETS, &wanted, wants_json(&headers))
}

/// Whether the client asked for JSON rather than a page (a script, `curl -H 'Accept:
/// application/json'`): a browser's `Accept` names `text/html`, curl's is `*/*`.
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.contains("application/json") && !accept.contains("text/html")
}

/// One file of `assets` (the page itself for the bare prefix); without any, the page that says
/// why (or, to a client asking for JSON, the error `console_not_built` saying the same), as 501
/// Not Implemented: what this build does not do, not a passing outage (503). Either way the
/// cause goes to the server log.
fn serve(assets: &[(&str, &'static [u8])], wanted: &str, json: bool) -> Response {
    let wanted = wanted.trim_start_matches('/');
    if assets.is_empty() {
        let mut r = if json {
            // Not an `ApiError`: its 5xx answers hide their message, and this one is the help.
            (
                StatusCode::NOT_IMPLEMENTED,
                [(CACHE_CONTROL, "no-store")],
                Json(serde_json::json!({ "error": NOT_BUILT_KIND, "message": NOT_BUILT_CAUSE })),
            )
                .into_response()
        } else {
            let mut r = (
                StatusCode::NOT_IMPLEMENTED,
                [
                    (CONTENT_TYPE, "text/html; charset=utf-8"),
                    (CACHE_CONTROL, "no-store"),
                ],
                NOT_BUILT,
            )
                .into_response();
            r.extensions_mut().insert(ForAPerson);
            r
        };
        r.extensions_mut()
            .insert(InternalDetail(NOT_BUILT_CAUSE.to_string()));
        if let Ok(v) = HeaderValue::from_str(NOT_BUILT_KIND) {
            r.headers_mut().insert(super::error::ERROR_KIND_HEADER, v);
        }
        return r;
    }
    let name = if wanted.is_empty() {
        "index.html"
    } else {
        wanted
    };
    let Some((file, bytes)) = assets.iter().find(|(p, _)| *p == name) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no console file `{name}`"),
        )
        .into_response();
    };
    let mut r = (*bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(content_type(file)) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    // Hashed asset names never change; the page itself is always asked for again.
    let cache = if file.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::http::access::Access;
    use crate::http::guard::{Edge, guard};
    use crate::http::reqlog::RequestLog;

    #[test]
    fn a_build_without_the_console_answers_every_console_path_with_the_page_that_says_why() {
        for path in ["", "index.html", "assets/index-abc.js"] {
            let r = serve(&[], path, false);
            assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED, "{path}");
            assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
            assert_eq!(r.headers()["x-stepmint-error"], NOT_BUILT_KIND);
            assert!(r.extensions().get::<ForAPerson>().is_some());
        }
    }

    /// A router with the console's routes over `assets` behind the one middleware, and its log.
    fn console_without_files() -> (Router, Arc<RequestLog>) {
        let log = Arc::new(RequestLog::default());
        let edge = Arc::new(Edge {
            log: log.clone(),
            access: Arc::new(Access::default()),
        });
        let app = Router::new()
            .route(
                "/_stepmint/ui/",
                get(|h: HeaderMap| async move { serve(&[], "", wants_json(&h)) }),
            )
            .layer(axum::middleware::from_fn_with_state(edge, guard));
        (app, log)
    }

    async fn get_console(app: Router, accept: &str) -> (StatusCode, HeaderMap, String) {
        let r = app
            .oneshot(
                Request::get("/_stepmint/ui/")
                    .header(ACCEPT, accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let (parts, body) = r.into_parts();
        let text = String::from_utf8(to_bytes(body, 1 << 20).await.unwrap().to_vec()).unwrap();
        (parts.status, parts.headers, text)
    }

    #[tokio::test]
    async fn through_the_guard_a_missing_console_is_the_page_saying_how_to_build_it() {
        let (app, _) = console_without_files();
        let (status, headers, text) = get_console(app, "text/html,*/*;q=0.8").await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(text.contains("npm ci &amp;&amp; npm run build"), "{text}");
        assert!(!text.contains("bad_request"), "{text}");
    }

    #[tokio::test]
    async fn a_missing_console_asked_for_json_is_console_not_built_never_bad_request() {
        let (app, _) = console_without_files();
        let (status, headers, text) = get_console(app, "application/json").await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"], NOT_BUILT_KIND, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("cd ui && npm ci && npm run build"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_missing_console_says_why_in_the_server_log() {
        let (app, log) = console_without_files();
        get_console(app, "*/*").await;
        let record = &log.since(0, 10, true)[0];
        assert_eq!(record.status, 501);
        assert_eq!(record.error.as_deref(), Some(NOT_BUILT_CAUSE));
        // The printed access-log line (the server's stderr) carries it too.
        let line = record.to_string();
        assert!(line.contains("npm run build"), "{line}");
    }

    #[test]
    fn a_build_with_the_console_serves_its_files_and_names_a_missing_one() {
        let assets: &[(&str, &'static [u8])] =
            &[("index.html", b"<html>"), ("assets/a-1.js", b"x")];
        let r = serve(assets, "", false);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        let r = serve(assets, "/assets/a-1.js", true);
        assert_eq!(r.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(
            r.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            serve(assets, "nope.js", false).status(),
            StatusCode::NOT_FOUND
        );
    }
}
