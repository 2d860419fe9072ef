//! The reference validator: what correct validation of a Bitbucket step token is.
//!
//! [`verify`] takes a token, a [`KeySet`] and a [`Policy`] and returns a [`Report`]: every check
//! (structure, header, key, signature, then each claim rule) with its status and reason, and the
//! verdict. The signature itself is jsonwebtoken's; everything around it is here, because that
//! is where libraries differ: exactly three parts, strict unpadded canonical base64url, JSON
//! objects without duplicate members and with bounded depth, no `crit`/`b64`/`zip`/`jku`/`x5u`/
//! `jwk`/`x5c`, `alg` allowed and matching the key, registered claims type-checked, and `iat` not
//! in the future. It never panics, whatever the input.

mod keyset;
mod policy;
mod remote;
mod strict_json;

use std::str::FromStr;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use keyset::KeySet;
pub use policy::{Condition, FORBIDDEN_HEADERS, Policy, Test, string_like};
pub use remote::RemoteKeys;
pub use strict_json::parse_object;

/// Why a check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Refusal {
    /// Too long, wrong number of parts, or not base64url.
    Structure,
    /// The header is not an acceptable JSON object or has forbidden members.
    Header,
    /// `alg` is not allowed.
    Algorithm,
    /// No usable key.
    Key,
    /// The signature does not verify.
    Signature,
    /// The payload is not an acceptable JSON object.
    Payload,
    /// A registered claim has the wrong type.
    ClaimType,
    /// A required claim is missing.
    MissingClaim,
    /// `iss` is not the expected issuer.
    Issuer,
    /// `aud` holds no accepted audience.
    Audience,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future, or too old.
    IssuedAt,
    /// `sub` matches no pattern.
    Subject,
    /// A claim condition does not hold.
    Condition,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "CheckStatus")]
pub enum Status {
    /// Passed.
    Pass,
    /// Failed: the token is refused.
    Fail,
    /// Not applicable, or not reached.
    Skip,
}

/// One check in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Check {
    /// `structure`, `header`, `key`, `signature`, `iss`, `aud`, `exp`, `nbf`, `iat`, `sub`,
    /// `claims`, or `condition:NAME`.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// Why.
    pub detail: String,
    /// For failures, the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
}

/// The result of validating one token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Report {
    /// True when every check passed or was skipped, and the signature verified.
    pub accepted: bool,
    /// `accepted` or `refused`.
    pub verdict: String,
    /// The first failure's detail, when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The header, when it parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Value>,
    /// The claims, when they parsed (not trusted unless accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
}

impl Report {
    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

struct Builder {
    checks: Vec<Check>,
}

impl Builder {
    fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            refusal: None,
        });
    }

    fn fail(&mut self, name: &str, refusal: Refusal, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status: Status::Fail,
            detail: detail.into(),
            refusal: Some(refusal),
        });
    }

    fn skip(&mut self, name: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            status: Status::Skip,
            detail: detail.into(),
            refusal: None,
        });
    }

    fn finish(self, header: Option<Value>, claims: Option<Value>) -> Report {
        let failure = self.checks.iter().find(|c| c.status == Status::Fail);
        let signed = self
            .checks
            .iter()
            .any(|c| c.name == "signature" && c.status == Status::Pass);
        let accepted = failure.is_none() && signed;
        Report {
            accepted,
            verdict: if accepted { "accepted" } else { "refused" }.into(),
            reason: failure.map(|c| format!("{}: {}", c.name, c.detail)),
            checks: self.checks,
            header,
            claims,
        }
    }
}

/// Decodes strict base64url: the URL-safe alphabet only, no padding, canonical trailing bits.
pub fn strict_b64url(part: &str) -> Option<Vec<u8>> {
    if !part
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    // The engine refuses padding and non-zero trailing bits.
    crate::encoding::b64url_decode(part)
}

/// Validates `token` against `keys` and `policy` at `now` (Unix seconds).
pub fn verify(token: &str, keys: &KeySet, policy: &Policy, now: i64) -> Report {
    let mut b = Builder { checks: Vec::new() };
    let skip_rest = |mut b: Builder, from: &str| {
        for name in ["structure", "header", "key", "signature", "claims"]
            .iter()
            .skip_while(|n| **n != from)
            .skip(1)
        {
            b.skip(name, "not reached");
        }
        b.finish(None, None)
    };

    // Structure.
    if token.len() > policy.max_token_len {
        b.fail(
            "structure",
            Refusal::Structure,
            format!(
                "{} bytes; at most {} accepted",
                token.len(),
                policy.max_token_len
            ),
        );
        return skip_rest(b, "structure");
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        b.fail(
            "structure",
            Refusal::Structure,
            format!(
                "{} dot-separated parts; a compact JWS has exactly 3",
                parts.len()
            ),
        );
        return skip_rest(b, "structure");
    }
    let decoded: Vec<Option<Vec<u8>>> = parts.iter().map(|p| strict_b64url(p)).collect();
    if let Some(i) = decoded.iter().position(Option::is_none) {
        let which = ["header", "payload", "signature"][i];
        b.fail(
            "structure",
            Refusal::Structure,
            format!(
                "the {which} is not strict base64url (URL-safe alphabet, no padding, canonical)"
            ),
        );
        return skip_rest(b, "structure");
    }
    let [Some(header_bytes), Some(payload_bytes), Some(signature)] =
        [&decoded[0], &decoded[1], &decoded[2]]
    else {
        return skip_rest(b, "structure");
    };
    if signature.is_empty() {
        b.fail("structure", Refusal::Structure, "the signature is empty");
        return skip_rest(b, "structure");
    }
    b.pass("structure", "three strict base64url parts");

    // Header.
    let header = match parse_object(header_bytes, policy.max_depth) {
        Ok(h) => h,
        Err(e) => {
            b.fail(
                "header",
                Refusal::Header,
                format!("not an acceptable JSON object: {e}"),
            );
            return skip_rest(b, "header");
        }
    };
    let header_value = Value::Object(header.clone());
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let kid = header.get("kid").and_then(Value::as_str);
    let forbidden: Vec<&str> = policy
        .forbidden_headers
        .iter()
        .map(String::as_str)
        .filter(|h| header.contains_key(*h))
        .collect();
    let alg = Algorithm::from_str(&alg_name).ok();
    let header_ok = if !header.get("alg").is_some_and(Value::is_string) {
        b.fail(
            "header",
            Refusal::Header,
            "`alg` is missing or not a string",
        );
        false
    } else if !forbidden.is_empty() {
        b.fail(
            "header",
            Refusal::Header,
            format!("forbidden header member {}", forbidden.join(", ")),
        );
        false
    } else if header.get("kid").is_some_and(|k| !k.is_string()) {
        b.fail("header", Refusal::Header, "`kid` is not a string");
        false
    } else if kid.is_none() && policy.require_kid {
        b.fail(
            "header",
            Refusal::Header,
            "no `kid` (required by the policy)",
        );
        false
    } else if !policy.algorithms.contains(&alg_name) || alg_name.eq_ignore_ascii_case("none") {
        b.fail(
            "header",
            Refusal::Algorithm,
            format!(
                "alg `{alg_name}` is not allowed (allowed: {})",
                policy.algorithms.join(", ")
            ),
        );
        false
    } else if alg.is_none() {
        b.fail(
            "header",
            Refusal::Algorithm,
            format!("alg `{alg_name}` is not supported"),
        );
        false
    } else {
        b.pass(
            "header",
            format!(
                "alg {alg_name}{}",
                kid.map(|k| format!(", kid {k}")).unwrap_or_default()
            ),
        );
        true
    };

    // Key and signature.
    let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
    match (header_ok, alg) {
        (true, Some(alg)) => match keys.select(alg, &alg_name, kid) {
            Ok(candidates) => {
                b.pass("key", format!("{} usable key(s)", candidates.len()));
                let verified = candidates.iter().any(|k| {
                    jsonwebtoken::crypto::verify(parts[2], signing_input.as_bytes(), k, alg)
                        .unwrap_or(false)
                });
                if verified {
                    b.pass("signature", format!("{alg_name} signature verifies"));
                } else {
                    b.fail(
                        "signature",
                        Refusal::Signature,
                        format!("the {alg_name} signature does not verify"),
                    );
                }
            }
            Err(why) => {
                b.fail("key", Refusal::Key, why);
                b.skip("signature", "no usable key");
            }
        },
        _ => {
            b.skip("key", "header refused");
            b.skip("signature", "header refused");
        }
    }

    if !policy.check_claims {
        b.skip("claims", "the policy checks structure and signature only");
        return b.finish(Some(header_value), None);
    }
    let claims = match parse_object(payload_bytes, policy.max_depth) {
        Ok(c) => c,
        Err(e) => {
            b.fail(
                "claims",
                Refusal::Payload,
                format!("the payload is not an acceptable JSON object: {e}"),
            );
            return b.finish(Some(header_value), None);
        }
    };
    check_claims(&mut b, &claims, policy, now);
    b.finish(Some(header_value), Some(Value::Object(claims)))
}

/// A claim for people: its JSON text (quoted, control characters escaped), or `absent`.
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".into(), Value::to_string)
}

fn check_claims(b: &mut Builder, claims: &Map<String, Value>, policy: &Policy, now: i64) {
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
