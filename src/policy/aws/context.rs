//! The request context AWS STS builds for `AssumeRoleWithWebIdentity`, from a verified token:
//! exactly the condition keys the IAM documentation lists, and no others.
//!
//! For an identity provider IAM has no tab for (Bitbucket among them) the "Default" mapping
//! applies: `PROVIDER:amr` (from `amr`), `PROVIDER:aud` (from `azp` when the token has one, else
//! from `aud`), `PROVIDER:email`, `PROVIDER:oaud` (from `aud`) and `PROVIDER:sub`, where
//! PROVIDER is the issuer URL without its scheme. GitHub, GitLab.com and CircleCI have tabs of
//! their own listing extra claims (modelled below); every other claim of the token, Bitbucket's
//! `branchName`, `repositoryUuid` and `deploymentEnvironmentUuid` included, is **absent** from
//! the context, so a condition on it never sees the token's value. Besides the token: the
//! global `aws:CurrentTime`, `aws:EpochTime` and `aws:SecureTransport` (always `true`: STS is
//! HTTPS only), `sts:RoleSessionName` and `aws:SourceIp` when
//! the call carries them, and session tags from the `https://aws.amazon.com/tags` claim
//! (`aws:RequestTag/KEY`, `aws:TagKeys`).

use std::collections::HashMap;

use serde_json::{Map, Value};

/// GitHub Actions' extra keys (AWS's GitHub tab, 2026).
const GITHUB_KEYS: [&str; 10] = [
    "actor",
    "actor_id",
    "job_workflow_ref",
    "repository",
    "repository_id",
    "repository_owner_id",
    "workflow",
    "ref",
    "environment",
    "enterprise_id",
];
/// GitLab.com's extra keys (not self-managed instances).
const GITLAB_KEYS: [&str; 9] = [
    "namespace_id",
    "project_id",
    "pipeline_source",
    "ref_protected",
    "runner_environment",
    "user_access_level",
    "user_email",
    "user_id",
    "user_login",
];
/// CircleCI's one extra key.
const CIRCLECI_KEYS: [&str; 1] = ["oidc.circleci.com/project-id"];

/// The condition keys of one request, by lower-cased name (IAM key names are case-insensitive).
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    keys: HashMap<String, (String, Vec<String>)>,
    /// The provider prefix (`api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc`).
    pub provider: String,
}

impl RequestContext {
    /// Builds the context for `claims` at `now`.
    pub fn build(
        claims: &Map<String, Value>,
        now: i64,
        session_name: Option<&str>,
        source_ip: Option<&str>,
    ) -> RequestContext {
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let provider = provider_of(iss).to_string();
        let mut ctx = RequestContext {
            keys: HashMap::new(),
            provider: provider.clone(),
        };
        let key = |claim: &str| format!("{provider}:{claim}");
        let aud_source = if claims.get("azp").is_some_and(|v| !v.is_null()) {
            "azp"
        } else {
            "aud"
        };
        ctx.set(&key("aud"), values(claims.get(aud_source)));
        ctx.set(&key("oaud"), values(claims.get("aud")));
        for claim in ["sub", "amr", "email"] {
            ctx.set(&key(claim), values(claims.get(claim)));
        }
        let extra: &[&str] = if provider == "token.actions.githubusercontent.com"
            || provider.starts_with("token.actions.githubusercontent.com/")
        {
            &GITHUB_KEYS
        } else if provider == "gitlab.com" {
            &GITLAB_KEYS
        } else if provider.starts_with("oidc.circleci.com/org/") {
            &CIRCLECI_KEYS
        } else {
            &[]
        };
        for claim in extra {
            ctx.set(&key(claim), values(claims.get(*claim)));
        }
        if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(now)
            && let Ok(s) = t.format(&time::format_description::well_known::Rfc3339)
        {
            ctx.set("aws:CurrentTime", vec![s]);
        }
        ctx.set("aws:EpochTime", vec![now.to_string()]);
        // STS answers only over HTTPS, and IAM documents this key as always in the context.
        ctx.set("aws:SecureTransport", vec!["true".to_string()]);
        if let Some(name) = session_name {
            ctx.set("sts:RoleSessionName", vec![name.to_string()]);
        }
        if let Some(ip) = source_ip {
            ctx.set("aws:SourceIp", vec![ip.to_string()]);
        }
        if let Some(Value::Object(tags)) = claims.get("https://aws.amazon.com/tags")
            && let Some(Value::Object(principal)) = tags.get("principal_tags")
        {
            let mut keys = Vec::new();
            for (k, v) in principal {
                ctx.set(&format!("aws:RequestTag/{k}"), values(Some(v)));
                keys.push(k.clone());
            }
            ctx.set("aws:TagKeys", keys);
        }
        ctx
    }

    fn set(&mut self, key: &str, values: Vec<String>) {
        if !values.is_empty() {
            self.keys
                .insert(key.to_lowercase(), (key.to_string(), values));
        }
    }

    /// The values of `key` (case-insensitive), `None` when AWS does not set it.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys
            .get(&key.to_lowercase())
            .map(|(_, v)| v.as_slice())
    }

    /// Every key set, with its values, sorted (for traces and `--json`).
    pub fn entries(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<_> = self.keys.values().cloned().collect();
        out.sort();
        out
    }

    /// Whether AWS would ever set `key` for a token of this provider (whatever its claims).
    pub fn key_is_known(provider: &str, key: &str) -> bool {
        let lower = key.to_lowercase();
        let global = [
            "aws:currenttime",
            "aws:epochtime",
            "aws:securetransport",
            "sts:rolesessionname",
            "aws:sourceip",
            "aws:tagkeys",
        ];
        if global.contains(&lower.as_str()) || lower.starts_with("aws:requesttag/") {
            return true;
        }
        let Some(claim) = lower.strip_prefix(&format!("{}:", provider.to_lowercase())) else {
            return false;
        };
        let extra: &[&str] = if provider.starts_with("token.actions.githubusercontent.com") {
            &GITHUB_KEYS
        } else if provider == "gitlab.com" {
            &GITLAB_KEYS
        } else if provider.starts_with("oidc.circleci.com/org/") {
            &CIRCLECI_KEYS
        } else {
            &[]
        };
        ["aud", "oaud", "sub", "amr", "email"].contains(&claim) || extra.contains(&claim)
    }
}

/// The IAM provider name for an issuer URL: the URL without `https://`.
pub fn provider_of(iss: &str) -> &str {
    iss.strip_prefix("https://").unwrap_or(iss)
}

/// A claim's values as IAM sees them: a string, each string of a list, booleans and numbers by
/// their text; objects are not condition values.
fn values(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(items)) => items.iter().flat_map(|i| values(Some(i))).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_mapping_only() {
        let claims = json!({
            "iss": "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc",
            "aud": "ari:cloud:bitbucket::workspace/x", "sub": "{r}:{s}", "branchName": "main"
        });
        let ctx = RequestContext::build(claims.as_object().unwrap(), 0, None, None);
        let p = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
        assert_eq!(ctx.get(&format!("{p}:sub")).unwrap(), ["{r}:{s}"]);
        assert_eq!(
            ctx.get(&format!("{p}:OAUD")).unwrap(),
            ["ari:cloud:bitbucket::workspace/x"]
        );
        assert!(ctx.get(&format!("{p}:branchName")).is_none());
        let claims = json!({"iss": "https://x/", "aud": "a", "azp": "b"});
        let ctx = RequestContext::build(claims.as_object().unwrap(), 0, None, None);
        assert_eq!(ctx.get("x/:aud").unwrap(), ["b"]);
        assert_eq!(ctx.get("x/:oaud").unwrap(), ["a"]);
    }

    #[test]
    fn secure_transport_is_always_set() {
        let claims = json!({"iss": "https://x", "aud": "a", "sub": "s"});
        let ctx = RequestContext::build(claims.as_object().unwrap(), 0, None, None);
        assert_eq!(ctx.get("aws:securetransport").unwrap(), ["true"]);
        assert!(RequestContext::key_is_known("x", "aws:SecureTransport"));
    }
}
