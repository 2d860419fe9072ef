//! Every URL and route the issuer serves, built in one place.
//!
//! Bitbucket's issuer for a workspace is
//! `https://api.bitbucket.org/2.0/workspaces/{slug}/pipelines-config/identity/oidc`; the discovery
//! document and the JWKS hang off it. Stepmint serves the same paths under its own base URL, so
//! a relying party pointed at the real issuer works unchanged once the host resolves here.

/// The control API's prefix (JSON; never affected by faults).
pub const CONTROL_PREFIX: &str = "/_stepmint/v1";
/// The web console's prefix (the built `ui/`, embedded).
pub const CONSOLE_PREFIX: &str = "/_stepmint/ui";

/// The emulated AWS STS endpoint (`AWS_ENDPOINT_URL_STS`), outside the control prefix: STS
/// clients carry no control token.
pub const AWS_STS_PATH: &str = "/_stepmint/aws/sts/";

/// The emulated AWS STS URL of the server at `base`.
pub fn aws_sts_url(base: &str) -> String {
    format!("{}{AWS_STS_PATH}", trim_base(base))
}

/// The emulated GCP STS (`token_url` of an external-account credential is this + `v1/token`),
/// outside the control prefix for the same reason.
pub const GCP_STS_PATH: &str = "/_stepmint/gcp/sts/";

/// The emulated GCP STS token URL of the server at `base`.
pub fn gcp_sts_url(base: &str) -> String {
    format!("{}{GCP_STS_PATH}v1/token", trim_base(base))
}

/// Axum route of a workspace's discovery document.
pub const DISCOVERY_ROUTE: &str =
    "/2.0/workspaces/{slug}/pipelines-config/identity/oidc/.well-known/openid-configuration";
/// Axum route of a workspace's JWKS.
pub const JWKS_ROUTE: &str = "/2.0/workspaces/{slug}/pipelines-config/identity/oidc/keys.json";

/// The issuer path of a workspace (no host).
pub fn issuer_path(slug: &str) -> String {
    format!("/2.0/workspaces/{slug}/pipelines-config/identity/oidc")
}

/// The issuer URL of a workspace under `base` (e.g. `https://localhost:8443`).
pub fn issuer_url(base: &str, slug: &str) -> String {
    format!("{}{}", trim_base(base), issuer_path(slug))
}

/// The discovery document's URL for an issuer URL.
pub fn discovery_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/openid-configuration")
}

/// The JWKS URL for an issuer URL.
pub fn jwks_url(issuer: &str) -> String {
    format!("{issuer}/keys.json")
}

/// A path segment percent-encoded: every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// becomes `%XX`, so a segment can never add a `/`, a `..` step, a query or a fragment. (`.`
/// and `..` alone are encoded too: a URL resolver would otherwise take them as steps.)
pub fn segment(text: &str) -> String {
    if text == "." || text == ".." {
        return text.replace('.', "%2E");
    }
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The control API path for `segments`, each [percent-encoded](segment):
/// `control_path(&["workspaces", slug, "keys"])` is `/workspaces/{slug}/keys`.
pub fn control_path(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", segment(s)))
        .collect()
}

/// A control API URL: `control_url(base, "/tokens")`.
pub fn control_url(base: &str, rest: &str) -> String {
    format!("{}{CONTROL_PREFIX}{rest}", trim_base(base))
}

/// Where the hostile catalogue hosts an attacker JWKS for `jku` cases.
pub fn attacker_jwks_url(base: &str, slug: &str) -> String {
    control_url(base, &format!("/attacker/{slug}/jwks.json"))
}

/// Where the hostile catalogue hosts an attacker certificate for `x5u` cases.
pub fn attacker_cert_url(base: &str, slug: &str) -> String {
    control_url(base, &format!("/attacker/{slug}/cert.pem"))
}

/// `base` without trailing slashes.
pub fn trim_base(base: &str) -> &str {
    base.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_leave_their_place() {
        assert_eq!(
            control_path(&[
                "workspaces",
                "acme",
                "keys",
                "9pmVgCgs1w1JGV9bak_J9LV7SISFF4rlN8cDy2jeTVU"
            ]),
            "/workspaces/acme/keys/9pmVgCgs1w1JGV9bak_J9LV7SISFF4rlN8cDy2jeTVU"
        );
        assert_eq!(
            control_path(&["workspaces", "../../../faults"]),
            "/workspaces/..%2F..%2F..%2Ffaults"
        );
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a?b#c d%"), "a%3Fb%23c%20d%25");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn urls_match_bitbucket_shape() {
        let iss = issuer_url("https://api.bitbucket.org/", "acme");
        assert_eq!(
            iss,
            "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"
        );
        assert_eq!(jwks_url(&iss), format!("{iss}/keys.json"));
        assert_eq!(
            DISCOVERY_ROUTE.replace("{slug}", "acme"),
            discovery_url(&issuer_path("acme"))
        );
        assert_eq!(
            JWKS_ROUTE.replace("{slug}", "acme"),
            jwks_url(&issuer_path("acme"))
        );
    }
}
