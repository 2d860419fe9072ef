//! The web console: the built `ui/` (embedded at compile time by `build.rs`) served under
//! `/_stepmint/ui/`, so any browser can use the app's screens against this server.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
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

/// `GET /_stepmint/ui/` and `GET /_stepmint/ui/{*path}`.
pub async fn page(path: Option<Path<String>>) -> Response {
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
