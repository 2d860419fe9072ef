//! What a browser is told about every response of the control plane and the console: what it
//! may load and run, and that no other page may frame it. A page on another origin that frames
//! the console could otherwise get its buttons clicked (Rotate, Clear all) by a user who thinks
//! they are clicking something else.
//!
//! The console's policy allows its own built files and nothing else: one script and one
//! stylesheet from its own origin (no inline code: the build has none, and the screens set no
//! `style` attribute), calls to the control API on its own origin (the live log's event stream
//! included), a `data:` favicon. Downloads are `blob:` links, a navigation no fetch directive
//! governs. The control API's JSON gets the strictest policy (nothing at all), so a response
//! opened directly in a tab runs nothing either. Relying-party documents (discovery, JWKS) are
//! read by programs, not browsers, and stay as they are.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};

use crate::paths::{CONSOLE_PREFIX, CONTROL_PREFIX};

/// The console's Content-Security-Policy.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The control API's: a JSON answer needs nothing, and nobody may frame it.
pub const API_CSP: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Which policy a path's answers carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// The web console's page and files.
    Console,
    /// The control API (and anything else under `/_stepmint/`).
    Control,
}

impl Surface {
    /// The surface `path` belongs to; `None` for relying-party paths.
    pub fn of(path: &str) -> Option<Surface> {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under(CONSOLE_PREFIX) {
            Some(Surface::Console)
        } else if under(CONTROL_PREFIX) || under("/_stepmint") {
            Some(Surface::Control)
        } else {
            None
        }
    }

    /// Adds this surface's headers to an answer's, replacing any already there.
    pub fn protect(self, headers: &mut HeaderMap) {
        let csp = match self {
            Surface::Console => CONSOLE_CSP,
            Surface::Control => API_CSP,
        };
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        // For browsers that predate frame-ancestors.
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // The console link carries the control token in its fragment: browsers never send a
        // fragment, but nothing of the URL need leave either.
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_sorted_by_prefix_not_by_text() {
        assert_eq!(Surface::of("/_stepmint/ui"), Some(Surface::Console));
        assert_eq!(Surface::of("/_stepmint/ui/"), Some(Surface::Console));
        assert_eq!(
            Surface::of("/_stepmint/ui/assets/a.js"),
            Some(Surface::Console)
        );
        assert_eq!(Surface::of("/_stepmint/uix"), Some(Surface::Control));
        assert_eq!(Surface::of("/_stepmint/v1/status"), Some(Surface::Control));
        assert_eq!(Surface::of("/_stepmint"), Some(Surface::Control));
        assert_eq!(Surface::of("/_stepmintx"), None);
        assert_eq!(
            Surface::of("/2.0/workspaces/w/pipelines-config/identity/oidc/keys.json"),
            None
        );
        assert_eq!(Surface::of("/"), None);
    }

    #[test]
    fn every_policy_forbids_framing_and_inline_code() {
        for csp in [CONSOLE_CSP, API_CSP] {
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert!(csp.starts_with("default-src 'none'"), "{csp}");
            assert!(!csp.contains("unsafe"), "{csp}");
        }
    }
}
