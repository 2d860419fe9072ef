//! Lints for IAM trust policies that trust Bitbucket (or any OIDC provider): what IAM accepts
//! but cannot mean what its author meant. Each finding names the statement and the line.

use super::context::RequestContext;
use super::parse::{Clause, Effect, Statement, TrustPolicy};
use super::{ACTION, Base, SetQualifier};
use crate::policy::source::Source;
use crate::policy::types::{Finding, Severity};
use crate::validate::string_like;

/// IAM's default quota for a role trust policy, in characters without whitespace.
pub const TRUST_POLICY_QUOTA: usize = 2048;

fn is_uuid_segment(s: &str) -> bool {
    let inner = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(s);
    inner.len() == 36 && uuid::Uuid::parse_str(inner).is_ok()
}

fn wild(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

/// The provider prefix of a `Federated` principal.
fn provider(s: &Statement) -> Option<String> {
    s.principals
        .iter()
        .find(|p| p.kind == "Federated")
        .map(|p| {
            p.value
                .split_once(":oidc-provider/")
                .map_or(p.value.clone(), |(_, r)| r.to_string())
        })
}

fn at(s: &Statement, c: Option<&Clause>) -> (String, Option<usize>) {
    match c {
        Some(c) => (
            format!("{} {} {}", s.label(), c.op.name, c.key),
            c.line.or(s.line),
        ),
        None => (s.label(), s.line),
    }
}

/// The findings for `policy`.
pub fn lint(policy: &TrustPolicy, _src: &Source) -> Vec<Finding> {
    let mut out = Vec::new();
    let allows: Vec<&Statement> = policy
        .statements
        .iter()
        .filter(|s| {
            s.effect == Effect::Allow
                && !s.not_action
                && s.actions
                    .iter()
                    .any(|a| string_like(&a.to_lowercase(), &ACTION.to_lowercase()))
        })
        .collect();
    if allows.is_empty() {
        out.push(Finding::new("no-allow", Severity::Error, format!("no Allow statement covers {ACTION}: nobody can assume this role with a web identity token"), format!("add a statement with \"Effect\": \"Allow\", \"Action\": \"{ACTION}\" and the Federated provider")));
    }
    if policy.version.is_none() {
        out.push(Finding::new(
            "version-missing",
            Severity::Info,
            "no Version: IAM takes the old 2008-10-17 language, which has no policy variables",
            "add \"Version\": \"2012-10-17\"",
        ));
    }
    if policy.size > TRUST_POLICY_QUOTA {
        out.push(Finding::new("policy-too-long", Severity::Warning, format!("the policy is {} characters without whitespace; IAM's default quota for a trust policy is {TRUST_POLICY_QUOTA}", policy.size), "shorten it or raise the role trust policy length quota"));
    }
    let mut push = |f: Finding, (a, l): (String, Option<usize>)| out.push(f.at(a, l));
    for s in &policy.statements {
        if s.effect == Effect::Allow && s.principals.iter().any(|p| p.kind == "*" || p.value == "*")
        {
            push(
                Finding::new(
                    "principal-wildcard",
                    Severity::Error,
                    format!("{} allows any principal (\"*\")", s.label()),
                    "name the provider: {\"Federated\": \"arn:aws:iam::ACCOUNT:oidc-provider/...\"}",
                ),
                at(s, None),
            );
        }
        if s.effect == Effect::Allow
            && (s.not_action
                || s.actions
                    .iter()
                    .any(|a| a == "*" || a.eq_ignore_ascii_case("sts:*")))
        {
            push(
                Finding::new(
                    "action-wildcard",
                    Severity::Warning,
                    format!("{} allows more actions than {ACTION}", s.label()),
                    format!("use \"Action\": \"{ACTION}\""),
                ),
                at(s, None),
            );
        }
        let Some(prov) = provider(s) else { continue };
        let key_is =
            |c: &Clause, claim: &str| c.key.eq_ignore_ascii_case(&format!("{prov}:{claim}"));
        for c in &s.clauses {
            let known = RequestContext::key_is_known(&prov, &c.key);
            if c.op.is_exact_string() && c.values.iter().any(|v| wild(v)) {
                push(
                    Finding::new(
                        "star-in-string-equals",
                        Severity::Error,
                        format!(
                            "{} {} {}: {:?} has a wildcard, but {} compares exactly: `*` and `?` are literal characters here",
                            s.label(),
                            c.op.name,
                            c.key,
                            c.values,
                            c.op.name
                        ),
                        "use StringLike for patterns",
                    ),
                    at(s, Some(c)),
                );
            }
            if c.op.if_exists && s.effect == Effect::Allow {
                push(
                    Finding::new(
                        "if-exists",
                        Severity::Warning,
                        format!(
                            "{} {}: ...IfExists passes when {} is absent from the request",
                            s.label(),
                            c.op.name,
                            c.key
                        ),
                        format!("drop IfExists: use {}", c.op.name.replace("IfExists", "")),
                    ),
                    at(s, Some(c)),
                );
            }
            if c.op.qualifier == Some(SetQualifier::ForAllValues) && s.effect == Effect::Allow {
                let sev = if known {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                push(
                    Finding::new(
                        "for-all-values-missing-key",
                        sev,
                        format!(
                            "{} {} {}: ForAllValues is true when the key is absent{}",
                            s.label(),
                            c.op.name,
                            c.key,
                            if known {
                                ""
                            } else {
                                ", and AWS never sets this key for this provider: the condition always holds"
                            }
                        ),
                        "use ForAnyValue: (or the plain operator for a single-valued key)",
                    ),
                    at(s, Some(c)),
                );
            }
            if !known
                && c.key.contains(':')
                && !c.key.to_lowercase().starts_with("aws:")
                && !c.key.to_lowercase().starts_with("sts:")
            {
                let claim = c.key.rsplit_once(':').map(|(_, k)| k).unwrap_or(&c.key);
                let id = if claim.to_lowercase().contains("branch") {
                    "branch-not-enforceable"
                } else {
                    "key-never-set"
                };
                let effect = if c.op.negated()
                    || c.op.if_exists
                    || c.op.qualifier == Some(SetQualifier::ForAllValues)
                    || c.op.base == Base::Null
                {
                    "so the condition always holds and restricts nothing"
                } else {
                    "so the condition never holds and the statement never applies"
                };
                push(
                    Finding::new(
                        id,
                        Severity::Error,
                        format!(
                            "{} conditions on {}, but AWS puts no `{claim}` key in the request context for {prov} (only amr, aud, email, oaud and sub for a provider IAM has no tab for), {effect}",
                            s.label(),
                            c.key
                        ),
                        if id == "branch-not-enforceable" {
                            "an AWS role cannot be restricted by Bitbucket branch; restrict by deployment environment instead (pin {REPO}:{ENV-UUID}:* in sub) and protect the environment's branches in Bitbucket".to_string()
                        } else {
                            format!("condition only on {prov}:sub and {prov}:aud")
                        },
                    ),
                    at(s, Some(c)),
                );
            }
            if key_is(c, "aud")
                && c.op.qualifier.is_none()
                && !c.op.negated()
                && c.op.base != Base::Null
            {
                push(
                    Finding::new(
                        "aud-needs-for-any-value",
                        Severity::Info,
                        format!(
                            "{} {} {}: when a pipeline sets oidc.audiences, Bitbucket's aud becomes a list and the key has several values",
                            s.label(),
                            c.op.name,
                            c.key
                        ),
                        format!("ForAnyValue:{} states the intent unambiguously", c.op.name),
                    ),
                    at(s, Some(c)),
                );
            }
            if key_is(c, "sub") && !c.op.negated() {
                for v in &c.values {
                    let parts: Vec<&str> = v.split(':').collect();
                    if parts.len() == 3 && !is_uuid_segment(parts[1]) && !wild(parts[1]) {
                        push(
                            Finding::new(
                                "environment-name-in-sub",
                                Severity::Error,
                                format!(
                                    "{} {}: {v:?} has `{}` where Bitbucket's sub carries the deployment environment's UUID, not its name: it never matches",
                                    s.label(),
                                    c.key,
                                    parts[1]
                                ),
                                "use {REPO-UUID}:{ENV-UUID}:* (the environment's UUID is in Repository settings > Deployments)",
                            ),
                            at(s, Some(c)),
                        );
                    }
                    let last = parts.last().copied().unwrap_or("");
                    if parts.len() >= 2 && is_uuid_segment(last) && !wild(v) {
                        push(
                            Finding::new(
                                "full-sub-pinned",
                                Severity::Error,
                                format!(
                                    "{} {}: {v:?} ends with a step UUID, which Bitbucket generates anew on every run: it matches one past run and no future one",
                                    s.label(),
                                    c.key
                                ),
                                "wildcard the step: {REPO-UUID}:* or {REPO-UUID}:{ENV-UUID}:*",
                            ),
                            at(s, Some(c)),
                        );
                    }
                }
            }
        }
        if s.effect == Effect::Allow {
            let constrains = |claim: &str| {
                s.clauses.iter().any(|c| {
                    key_is(c, claim)
                        && !c.op.negated()
                        && !c.op.if_exists
                        && c.op.qualifier != Some(SetQualifier::ForAllValues)
                        && c.values.iter().all(|v| {
                            !(v == "*"
                                || (c.op.base == Base::StringLike
                                    && v.chars().all(|ch| ch == '*' || ch == '?' || ch == ':')))
                        })
                })
            };
            if !constrains("sub") {
                push(
                    Finding::new(
                        "sub-unconstrained",
                        Severity::Error,
                        format!(
                            "{} does not constrain {prov}:sub: every repository of the workspace (every token the provider issues) can assume the role",
                            s.label()
                        ),
                        format!(
                            "add \"StringLike\": {{\"{prov}:sub\": \"{{REPO-UUID}}:*\"}} (or {{REPO-UUID}}:{{ENV-UUID}}:* for one deployment environment)"
                        ),
                    ),
                    at(s, None),
                );
            }
            if !constrains("aud") {
                push(
                    Finding::new(
                        "aud-unconstrained",
                        Severity::Warning,
                        format!("{} does not constrain {prov}:aud", s.label()),
                        format!(
                            "add \"StringEquals\": {{\"{prov}:aud\": \"ari:cloud:bitbucket::workspace/WORKSPACE-UUID\"}}"
                        ),
                    ),
                    at(s, None),
                );
            }
        }
    }
    out
}
