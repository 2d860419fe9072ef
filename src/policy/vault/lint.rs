//! Lints for Vault/OpenBao JWT roles bound to Bitbucket step tokens.

use serde_json::Value;

use super::VaultRole;
use crate::policy::types::{Finding, Severity};

/// The findings for `role`.
pub fn lint(role: &VaultRole) -> Vec<Finding> {
    let mut out = Vec::new();
    if role.role_type != "jwt" {
        out.push(Finding::new("role-type-oidc", Severity::Error, "the role is an oidc role (role_type is not jwt; Vault's default is oidc): every JWT login is refused", "set role_type=jwt").at("role_type", None));
    }
    let constrains_repo = role.bound_subject.is_some()
        || role.bound_claims.iter().any(|(k, v)| {
            let k = k.trim_start_matches('/');
            (k == "repositoryUuid" || k == "sub") && !matches!(v, Value::String(s) if s == "*")
        });
    if !constrains_repo {
        out.push(Finding::new("sub-unconstrained", Severity::Error, "nothing binds the repository: any repository of the workspace can log in with this role", "add bound_claims {\"repositoryUuid\": \"{REPOSITORY-UUID}\"}").at("bound_claims", None));
    }
    if role.bound_audiences.is_empty() {
        out.push(Finding::new("aud-unconstrained", Severity::Error, "bound_audiences is empty: Vault refuses every token with an aud (Bitbucket tokens always have one)", "set bound_audiences to the workspace ARI (ari:cloud:bitbucket::workspace/UUID) or the pipeline's custom audience").at("bound_audiences", None));
    }
    if role.bound_subject.is_some() {
        out.push(Finding::new("full-sub-pinned", Severity::Error, "bound_subject compares the whole sub, which ends in the step UUID that changes every run: only one run can ever log in", "bind repositoryUuid (and deploymentEnvironmentUuid) in bound_claims instead").at("bound_subject", None));
    }
    if role.user_claim == "sub" || role.user_claim == "stepUuid" {
        out.push(
            Finding::new(
                "volatile-user-claim",
                Severity::Warning,
                format!(
                    "user_claim {} changes every run: each run creates a new identity entity alias",
                    role.user_claim
                ),
                "use user_claim repositoryUuid",
            )
            .at("user_claim", None),
        );
    }
    for (k, v) in &role.bound_claims {
        let vals: Vec<&str> = match v {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        };
        for s in vals {
            if !role.glob && s.contains('*') {
                out.push(Finding::new("star-in-string-equals", Severity::Error, format!("bound_claims.{k} {s:?} contains `*`, but bound_claims_type is string: the `*` is literal"), "set bound_claims_type=glob, or remove the wildcard").at(format!("bound_claims.{k}"), None));
            }
            if role.glob && s.contains('?') {
                out.push(Finding::new("question-mark-in-glob", Severity::Warning, format!("bound_claims.{k} {s:?} contains `?`, which Vault's glob treats as a literal character"), "use `*`, or list the values").at(format!("bound_claims.{k}"), None));
            }
            if k.trim_start_matches('/') == "sub" {
                let parts: Vec<&str> = s.split(':').collect();
                if parts.len() == 3 && !parts[1].starts_with('{') && parts[1] != "*" {
                    out.push(Finding::new("environment-name-in-sub", Severity::Error, format!("bound_claims.sub {s:?} has an environment name where Bitbucket puts the environment UUID"), "use {REPO}:{ENV-UUID}:* or bind deploymentEnvironmentUuid").at("bound_claims.sub", None));
                }
            }
            if k.trim_start_matches('/') == "deploymentEnvironment" {
                out.push(Finding::new("environment-name-in-sub", Severity::Error, "Bitbucket step tokens carry deploymentEnvironmentUuid, not the environment's name: this binding never matches", "bind deploymentEnvironmentUuid to the environment's UUID").at(format!("bound_claims.{k}"), None));
            }
        }
    }
    if role.bound_issuer.is_none() {
        out.push(Finding::new("issuer-not-bound", Severity::Info, "the document has no mount config with bound_issuer; the issuer is only as safe as the mount's discovery URL or keys", "include {\"config\": {\"bound_issuer\": ...}} to have it checked").at("config", None));
    }
    out
}
