//! The token's structure, header, key and signature: everything before the claims, with the
//! signature itself jsonwebtoken's.

use std::str::FromStr;

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::claims::check_claims;
use super::keyset::KeySet;
use super::policy::Policy;
use super::report::{Builder, Refusal, Report};
use super::strict_json::parse_object;

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
