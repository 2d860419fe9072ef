//! The web console: the built `ui/` (embedded at compile time by `build.rs`) served under
//! `/_stepmint/ui/`, so any browser can use the app's screens against this server.
//!
//! Every console response says what a browser may do with it: a Content-Security-Policy that
//! allows the built console and nothing else (its own scripts, styles and calls; no inline code,
//! no other origin), `frame-ancestors 'none'` and `X-Frame-Options: DENY` so no other page can
//! frame it and click its buttons for the user, `nosniff`, and `Referrer-Policy: no-referrer`
//! (the console link carries the control token in its fragment).

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Stepmint console</title><p>This binary was built without the web console. Build it with <code>(cd ui &amp;&amp; npm ci &amp;&amp; npm run build)</code>, then <code>cargo build --release</code> again.</p>";

/// The console's Content-Security-Policy. The built console loads one script and one
/// stylesheet of its own, calls the control API on its own origin (`fetch`, including the live
/// log's event stream), shows a `data:` favicon and offers downloads as `blob:` links (a
/// navigation, which no fetch directive governs).
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Adds the console's browser-facing security headers to `headers`.
pub fn secure(headers: &mut HeaderMap) {
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONSOLE_CSP),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// `GET /_stepmint/ui/` and `GET /_stepmint/ui/{*path}`.
pub async fn page(path: Option<Path<String>>) -> Response {
    let mut r = asset(path);
    secure(r.headers_mut());
    r
}

/// `GET /_stepmint/ui`: to the console's page, with the same headers.
pub async fn to_index() -> Response {
    let mut r =
        axum::response::Redirect::permanent(&format!("{}/", crate::paths::CONSOLE_PREFIX))
            .into_response();
    secure(r.headers_mut());
    r
}

fn asset(path: Option<Path<String>>) -> Response {
    let wanted = path.map(|Path(p)| p).unwrap_or_default();
    let wanted = wanted.trim_start_matches('/');
    if !built() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    }
    let name = if wanted.is_empty() {
        "index.html"
    } else {
        wanted
    };
    let Some((file, bytes)) = ASSETS.iter().find(|(p, _)| *p == name) else {
        return super::error::ApiError::new(
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
