//! Who may drive the control plane. The control API and the console answer only requests
//! addressed to a host this server serves (its public URL's host, `localhost`, the loopback
//! addresses, `--san` names): a page on another site that got a browser to resolve its own name
//! here (DNS rebinding) is refused. A state-changing request from a page of another origin is
//! refused (no permissive CORS: a cross-origin `POST` with `Content-Type: text/plain` needs no
//! preflight, so the server itself must say no). Beyond loopback a token is required. The
//! relying-party paths (discovery, JWKS, the attacker's documents) stay open to any client, as
//! the real issuer's are.

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::paths::{CONSOLE_PREFIX, CONTROL_PREFIX};

/// The header a token may also come in (besides `Authorization: Bearer`).
pub const TOKEN_HEADER: &str = "x-stepmint-token";

/// What the owner checks compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Host names (lower case, no port, IPv6 without brackets) requests may be addressed to.
    pub hosts: Vec<String>,
    /// Ports this server's own pages are served from (the bound one, the public URL's).
    pub ports: Vec<u16>,
    /// The control token, when one is required.
    pub token: Option<String>,
}

impl Default for Access {
    /// Loopback names on any port, no token: what an in-process server for tests needs.
    fn default() -> Self {
        Access {
            hosts: ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec(),
            ports: Vec::new(),
            token: None,
        }
    }
}

/// `host[:port]` (or `[v6]:port`) → lower-case host without brackets, and the port if given.
pub fn split_host(authority: &str) -> (String, Option<u16>) {
    let a = authority.trim();
    if let Some(rest) = a.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host.to_ascii_lowercase(), port);
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_ascii_lowercase(), p.parse().ok()),
        _ => (a.to_ascii_lowercase(), None),
    }
}

impl Access {
    fn host_ok(&self, authority: &str) -> bool {
        let (host, _) = split_host(authority);
        self.hosts.contains(&host)
    }

    /// Whether `origin` (`https://host:port`) is one of this server's own.
    fn origin_ok(&self, origin: &str) -> bool {
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        let (host, port) = split_host(rest);
        let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
        matches!(scheme, "https" | "http")
            && self.hosts.contains(&host)
            && (self.ports.is_empty() || self.ports.contains(&port))
    }
}

/// Whether `path` belongs to the control plane (the relying-party paths do not).
fn is_control(path: &str) -> bool {
    (path.starts_with(CONTROL_PREFIX) && !path.starts_with(&format!("{CONTROL_PREFIX}/attacker/")))
        || path.starts_with(CONSOLE_PREFIX)
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Response {
    ApiError::new(status, code, message).into_response()
}

/// The refusal for a request the owner checks turn away, `None` for one that may pass. Called by
/// [`super::guard::guard`], the one middleware every request goes through.
pub fn refusal(access: &Access, request: &Request) -> Option<Response> {
    let path = request.uri().path();
    if !is_control(path) {
        return None;
    }
    let authority = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    // No Host at all (HTTP/1.0, an in-process call) is no browser's: DNS rebinding needs a
    // browser, and every browser names the host it thinks it reaches.
    match authority {
        None => {}
        Some(a) if access.host_ok(&a) => {}
        Some(_) => {
            return Some(refuse(
                StatusCode::FORBIDDEN,
                "foreign_host",
                "this server answers its control plane only under the names it serves (localhost, the loopback addresses, its public URL's host and --san names)",
            ));
        }
    }
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes
        && let Some(origin) = request.headers().get(ORIGIN)
        && !origin.to_str().is_ok_and(|o| access.origin_ok(o))
    {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "a page of another origin may not change this server (no CORS here)",
        ));
    }
    // The console's pages hold no secret; every call they make does.
    let page = path.starts_with(CONSOLE_PREFIX);
    if let Some(token) = &access.token
        && !page
    {
        let given = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| {
                request
                    .headers()
                    .get(TOKEN_HEADER)
                    .and_then(|v| v.to_str().ok())
            });
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
            return Some(refuse(
                StatusCode::UNAUTHORIZED,
                "token_required",
                "this control plane needs its token (`Authorization: Bearer TOKEN`): the CLI reads it from the data directory; the console gets it from the link `stepmint serve` prints",
            ));
        }
    }
    None
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        let a = Access {
            hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "::1".into(),
                "api.bitbucket.org".into(),
            ],
            ports: vec![8443],
            token: None,
        };
        assert!(
            a.host_ok("localhost:8443")
                && a.host_ok("[::1]:8443")
                && a.host_ok("API.bitbucket.org")
        );
        assert!(!a.host_ok("evil.example:8443") && !a.host_ok("localhost.evil.example"));
        assert!(a.origin_ok("https://localhost:8443"));
        assert!(!a.origin_ok("https://evil.example"));
        assert!(!a.origin_ok("https://localhost:9999"));
        assert!(!a.origin_ok("null"));
        assert_eq!(split_host("[::1]:80"), ("::1".into(), Some(80)));
        assert!(is_control("/_stepmint/v1/tokens") && is_control("/_stepmint/ui/"));
        assert!(
            !is_control("/_stepmint/v1/attacker/x/jwks.json")
                && !is_control("/2.0/workspaces/x/pipelines-config/identity/oidc/keys.json")
        );
        assert!(
            constant_time_eq(b"abc", b"abc")
                && !constant_time_eq(b"abc", b"abd")
                && !constant_time_eq(b"ab", b"abc")
        );
    }
}
