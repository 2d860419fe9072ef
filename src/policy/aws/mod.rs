//! AWS IAM role trust policies, judged as STS judges `AssumeRoleWithWebIdentity`: the token's
//! `exp` (STS documents no grace period), the provider's client IDs when known, then every
//! statement whose principal names the caller's provider and whose action covers
//! `sts:AssumeRoleWithWebIdentity`, with its conditions ANDed against the request context AWS
//! builds ([`RequestContext`]). An explicit `Deny` that applies wins; otherwise an applying
//! `Allow` grants; otherwise the request is implicitly denied.

mod conditions;
mod context;
mod lint;
mod parse;

use serde_json::Value;

pub use conditions::{Base, Operator, SetQualifier};
pub use context::{RequestContext, provider_of};
pub use parse::{Clause, Effect, Principal, Statement, TrustPolicy, parse};

pub(crate) use lint::lint;

use crate::policy::types::{Context, Decision, Kind, TimeRules, TraceStep};
use crate::validate::string_like;

/// STS refuses a token without `exp` and documents no leeway.
pub const TIME_RULES: TimeRules = TimeRules {
    exp_required: true,
    leeway: 0,
};

/// The action a web-identity role assumption asks for.
pub const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// Whether one statement applies, and if not, the first part that did not.
struct Applies {
    ok: bool,
    why: String,
}

/// Judges `ctx` against `policy`.
pub fn evaluate(policy: &TrustPolicy, ctx: &Context) -> Decision {
    let mut trace = Vec::new();
    let deny = |by: &str, reason: String, trace: Vec<TraceStep>| {
        Decision::new(Kind::Aws, false, by, reason, trace)
    };
    let Some(iss) = ctx.claims.get("iss").and_then(Value::as_str) else {
        return deny(
            "iss",
            "InvalidIdentityToken: the token has no iss, so STS finds no OIDC provider for it"
                .into(),
            trace,
        );
    };
    match ctx.claims.get("exp").and_then(Value::as_i64) {
        None => {
            return deny(
                "exp",
                "InvalidIdentityToken: the token has no numeric exp; STS refuses it".into(),
                trace,
            );
        }
        Some(exp) if ctx.now >= exp => {
            return deny(
                "exp",
                format!(
                    "ExpiredTokenException: the token expired at {exp}, {} s before now ({}); STS allows no leeway",
                    ctx.now - exp,
                    ctx.now
                ),
                trace,
            );
        }
        Some(exp) => trace.push(step(
            "exp",
            true,
            format!("expires at {exp}, {} s from now", exp - ctx.now),
        )),
    }
    if let Some(ids) = &ctx.aws_client_ids {
        let aud = audiences(ctx.claims.get("aud"));
        if !aud.iter().any(|a| ids.contains(a)) {
            return deny(
                "aud",
                format!(
                    "InvalidIdentityToken: Incorrect token audience: {aud:?} is not in the OIDC provider's client ID list {ids:?}"
                ),
                trace,
            );
        }
        trace.push(step(
            "client IDs",
            true,
            "the token's aud is a registered client ID".into(),
        ));
    }
    let rc = RequestContext::build(
        &ctx.claims,
        ctx.now,
        ctx.role_session_name.as_deref(),
        ctx.source_ip.as_deref(),
    );
    let provider = provider_of(iss);
    let mut allowed_by: Option<&Statement> = None;
    let mut closest: Option<(&Statement, String)> = None;
    for s in &policy.statements {
        let a = applies(s, provider, ctx.aws_account.as_deref(), &rc, &mut trace);
        if !a.ok {
            if s.effect == parse::Effect::Allow
                && a.why.starts_with("condition")
                && closest.is_none()
            {
                closest = Some((s, a.why));
            }
            continue;
        }
        if s.effect == parse::Effect::Deny {
            return Decision::new(
                Kind::Aws,
                false,
                s.label(),
                format!(
                    "explicit deny: {} applies to this token (a Deny wins over every Allow)",
                    s.label()
                ),
                trace,
            );
        }
        allowed_by.get_or_insert(s);
    }
    match (allowed_by, closest) {
        (Some(s), _) => Decision::new(
            Kind::Aws,
            true,
            s.label(),
            format!(
                "{} allows {ACTION} for {provider}: its principal, action and every condition hold",
                s.label()
            ),
            trace,
        ),
        (None, Some((s, why))) => Decision::new(
            Kind::Aws,
            false,
            s.label(),
            format!("implicit deny: {}'s {why}", s.label()),
            trace,
        ),
        (None, None) => Decision::new(
            Kind::Aws,
            false,
            "Statement",
            format!(
                "implicit deny: no Allow statement names the provider arn:aws:iam::{}:oidc-provider/{provider} with {ACTION}",
                ctx.aws_account.as_deref().unwrap_or("ACCOUNT")
            ),
            trace,
        ),
    }
}

fn step(at: &str, passed: bool, detail: String) -> TraceStep {
    TraceStep {
        at: at.into(),
        passed,
        detail,
    }
}

fn audiences(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a `Federated` principal value names `provider` (in `account`, when known).
pub fn principal_names(p: &Principal, provider: &str, account: Option<&str>) -> bool {
    match p.kind.as_str() {
        "*" => true,
        "AWS" => p.value == "*",
        "Federated" => {
            let Some(rest) = p.value.strip_prefix("arn:") else {
                return p.value == provider;
            };
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_partition, service, _region, acct, resource] = parts.as_slice() else {
                return false;
            };
            *service == "iam"
                && account.is_none_or(|a| a == *acct)
                && resource
                    .strip_prefix("oidc-provider/")
                    .is_some_and(|r| r == provider)
        }
        _ => false,
    }
}

fn applies(
    s: &Statement,
    provider: &str,
    account: Option<&str>,
    rc: &RequestContext,
    trace: &mut Vec<TraceStep>,
) -> Applies {
    let label = s.label();
    let named = s
        .principals
        .iter()
        .any(|p| principal_names(p, provider, account));
    let principal_ok = named != s.not_principal;
    trace.push(step(
        &format!("{label} principal"),
        principal_ok,
        if named {
            format!("names oidc-provider/{provider}")
        } else {
            format!("does not name oidc-provider/{provider}")
        },
    ));
    if !principal_ok {
        return Applies {
            ok: false,
            why: "principal does not name this provider".into(),
        };
    }
    let lower = ACTION.to_lowercase();
    let listed = s
        .actions
        .iter()
        .any(|a| string_like(&a.to_lowercase(), &lower));
    let action_ok = listed != s.not_action;
    trace.push(step(
        &format!("{label} action"),
        action_ok,
        format!(
            "{} {ACTION}",
            if action_ok {
                "covers"
            } else {
                "does not cover"
            }
        ),
    ));
    if !action_ok {
        return Applies {
            ok: false,
            why: format!("action does not cover {ACTION}"),
        };
    }
    for c in &s.clauses {
        let request = rc.get(&c.key);
        let ok = c.op.holds(request, &c.values);
        let seen = match request {
            Some(v) if v.len() == 1 => format!("{:?}", v[0]),
            Some(v) => format!("{v:?}"),
            None => "absent (AWS does not set this key)".into(),
        };
        let detail = format!(
            "{} {} {:?}: request value {seen}",
            c.op.name, c.key, c.values
        );
        trace.push(step(&format!("{label} condition"), ok, detail.clone()));
        if !ok {
            return Applies {
                ok: false,
                why: format!("condition {detail} does not hold"),
            };
        }
    }
    Applies {
        ok: true,
        why: String::new(),
    }
}

/// The issuer URLs the policy's `Federated` principals name (`https://` + the provider).
pub fn trusted_issuers(policy: &TrustPolicy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &policy.statements {
        for p in s.principals.iter().filter(|p| p.kind == "Federated") {
            let provider = p
                .value
                .split_once(":oidc-provider/")
                .map(|(_, r)| r)
                .unwrap_or(&p.value);
            let url = format!("https://{provider}");
            if !out.contains(&url) {
                out.push(url);
            }
        }
    }
    out
}
