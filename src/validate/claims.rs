//! The claim rules: registered claims type-checked, then issuer, audience, times, subject and
//! the policy's claim conditions.

use serde_json::{Map, Value};

use super::policy::{Policy, string_like};
use super::report::{Builder, Refusal};

/// A claim for people: its JSON text (quoted, control characters escaped), or `absent`.
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".into(), Value::to_string)
}

pub(super) fn check_claims(
    b: &mut Builder,
    claims: &Map<String, Value>,
    policy: &Policy,
    now: i64,
) {
    // Types of the registered claims, wherever they appear.
    let mut type_errors = Vec::new();
    for name in ["exp", "nbf", "iat"] {
        if claims.get(name).is_some_and(|v| !v.is_number()) {
            type_errors.push(format!("`{name}` is not a number"));
        }
    }
    for name in ["iss", "sub", "jti"] {
        if claims.get(name).is_some_and(|v| !v.is_string()) {
            type_errors.push(format!("`{name}` is not a string"));
        }
    }
    if let Some(aud) = claims.get("aud") {
        let ok = aud.is_string()
            || aud
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            type_errors.push("`aud` is neither a string nor an array of strings".into());
        }
    }
    let missing: Vec<&str> = policy
        .required_claims
        .iter()
        .map(String::as_str)
        .filter(|c| !claims.contains_key(*c))
        .collect();
    match (type_errors.is_empty(), missing.is_empty()) {
        (true, true) => b.pass(
            "claims",
            "required claims present, registered claims well-typed",
        ),
        (false, _) => b.fail("claims", Refusal::ClaimType, type_errors.join("; ")),
        (true, false) => b.fail(
            "claims",
            Refusal::MissingClaim,
            format!("missing {}", missing.join(", ")),
        ),
    }

    let leeway = policy.leeway as f64;
    let now_f = now as f64;
    match (&policy.issuer, claims.get("iss").and_then(Value::as_str)) {
        (None, _) => b.skip("iss", "no issuer configured"),
        (Some(want), Some(got)) if got == want => b.pass("iss", "matches exactly"),
        (Some(want), _) => b.fail(
            "iss",
            Refusal::Issuer,
            format!(
                "{} is not {}",
                shown(claims.get("iss")),
                Value::from(want.as_str())
            ),
        ),
    }
    if policy.audiences.is_empty() {
        b.skip("aud", "no audience configured");
    } else {
        let auds: Vec<&str> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        match auds
            .iter()
            .find(|a| policy.audiences.iter().any(|p| p == *a))
        {
            Some(a) => b.pass("aud", format!("{} is accepted", Value::from(*a))),
            None => b.fail(
                "aud",
                Refusal::Audience,
                format!("none of {} is accepted", shown(claims.get("aud"))),
            ),
        }
    }
    match claims.get("exp").and_then(Value::as_f64) {
        None => b.skip("exp", "absent"),
        Some(exp) if now_f < exp + leeway => {
            b.pass("exp", format!("expires in {:.0} s", exp - now_f))
        }
        Some(exp) => b.fail(
            "exp",
            Refusal::Expired,
            format!(
                "expired {:.0} s ago (leeway {} s)",
                now_f - exp,
                policy.leeway
            ),
        ),
    }
    match claims.get("nbf").and_then(Value::as_f64) {
        None => b.skip("nbf", "absent"),
        Some(nbf) if nbf <= now_f + leeway => b.pass("nbf", "already valid"),
        Some(nbf) => b.fail(
            "nbf",
            Refusal::NotYetValid,
            format!(
                "not valid for {:.0} s more (leeway {} s)",
                nbf - now_f,
                policy.leeway
            ),
        ),
    }
    match claims.get("iat").and_then(Value::as_f64) {
        None => b.skip("iat", "absent"),
        Some(iat) if iat > now_f + leeway => b.fail(
            "iat",
            Refusal::IssuedAt,
            format!(
                "issued {:.0} s in the future (leeway {} s)",
                iat - now_f,
                policy.leeway
            ),
        ),
        Some(iat) => match policy.max_age {
            Some(max) if now_f - iat > max as f64 + leeway => b.fail(
                "iat",
                Refusal::IssuedAt,
                format!("issued {:.0} s ago; at most {max} s accepted", now_f - iat),
            ),
            _ => b.pass("iat", format!("issued {:.0} s ago", now_f - iat)),
        },
    }
    if policy.sub_like.is_empty() {
        b.skip("sub", "no sub pattern configured");
    } else {
        match claims.get("sub").and_then(Value::as_str) {
            Some(s) if policy.sub_like.iter().any(|p| string_like(p, s)) => {
                b.pass("sub", "matches a pattern")
            }
            _ => b.fail(
                "sub",
                Refusal::Subject,
                format!(
                    "{} matches none of {}",
                    shown(claims.get("sub")),
                    Value::from(policy.sub_like.clone())
                ),
            ),
        }
    }
    for cond in &policy.conditions {
        let name = format!("condition:{}", cond.claim);
        let value = claims.get(&cond.claim);
        if cond.holds(value) {
            b.pass(
                &name,
                format!("{} holds: it must {}", shown(value), cond.test),
            );
        } else {
            b.fail(
                &name,
                Refusal::Condition,
                format!("{} does not hold: it must {}", shown(value), cond.test),
            );
        }
    }
}
