//! The web console: the built `ui/` (embedded at compile time by `build.rs`) served under
//! `/_stepmint/ui/`, so any browser can use the app's screens against this server.
//!
//! What a browser may do with these files (no framing, no inline code) is said by headers the
//! guard adds to every response under `/_stepmint/` ([`super::browser`]).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ForAPerson};

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

/// `GET /_stepmint/ui/` and `GET /_stepmint/ui/{*path}`.
pub async fn page(path: Option<Path<String>>) -> Response {
    let wanted = path.map(|Path(p)| p).unwrap_or_default();
    serve(ASSETS, &wanted)
}

/// One file of `assets` (the page itself for the bare prefix); without any, the page that says
/// why, as 501 Not Implemented: what this build does not do, not a passing outage.
fn serve(assets: &[(&str, &'static [u8])], wanted: &str) -> Response {
    let wanted = wanted.trim_start_matches('/');
    if assets.is_empty() {
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
    use super::*;

    #[test]
    fn a_build_without_the_console_answers_every_console_path_with_the_page_that_says_why() {
        for path in ["", "index.html", "assets/index-abc.js"] {
            let r = serve(&[], path);
            assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED, "{path}");
            assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
            assert!(r.extensions().get::<ForAPerson>().is_some());
        }
    }

    #[test]
    fn a_build_with_the_console_serves_its_files_and_names_a_missing_one() {
        let assets: &[(&str, &'static [u8])] =
            &[("index.html", b"<html>"), ("assets/a-1.js", b"x")];
        let r = serve(assets, "");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        let r = serve(assets, "/assets/a-1.js");
        assert_eq!(r.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(
            r.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(serve(assets, "nope.js").status(), StatusCode::NOT_FOUND);
    }
}
