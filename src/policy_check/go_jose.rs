//! A token verified as Vault's and OpenBao's JWT auth verify it before any role rule (go-jose
//! under `cap/jwt`, keys from the discovery document's JWKS), so that `policy eval` of a Vault
//! role gives the login's answer, not the reference validator's. Measured against a real
//! OpenBao (`tests/openbao`), it is laxer than the reference in these ways: the JWS JSON
//! serialization is accepted beside the compact one; base64url with non-canonical trailing
//! bits is decoded; a token without `kid` is tried against every key; a key's own `alg` is not
//! consulted (a PS256 signature made with an RS256-published RSA key verifies); there is no
//! size limit below the request body's and no nesting limit a claim set reaches. `crit` is
//! refused, `alg` must be one the mount accepts.

use std::collections::HashMap;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::Algorithm;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::encoding::b64url;
use crate::validate::{Check, KeySet, Refusal, Report, Status};

/// A token that verified: its merged header and its claims.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Protected and unprotected header members.
    pub header: Map<String, Value>,
    /// The payload's members.
    pub claims: Map<String, Value>,
}

/// Go's `base64.RawURLEncoding`: no padding, trailing bits ignored, CR and LF skipped.
fn go_b64url(part: &str) -> Option<Vec<u8>> {
    let lenient = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    let text: String = part.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    lenient.decode(text).ok()
}

/// The three encoded parts (protected header, payload, signature) and any unprotected header.
fn split(token: &str) -> Result<(String, String, String, Map<String, Value>), String> {
    if token.starts_with('{') {
        let v: Value = serde_json::from_str(token)
            .map_err(|e| format!("JWS JSON serialization is not JSON: {e}"))?;
        let one = match v.get("signatures") {
            Some(Value::Array(sigs)) if sigs.len() == 1 => &sigs[0],
            Some(Value::Array(sigs)) => {
                return Err(format!(
                    "{} signatures; go-jose verifies a token with exactly one",
                    sigs.len()
                ));
            }
            Some(_) => return Err("`signatures` is not a list".into()),
            None => &v,
        };
        let s = |k: &str, from: &Value| from.get(k).and_then(Value::as_str).map(String::from);
        let unprotected = match one.get("header") {
            Some(Value::Object(h)) => h.clone(),
            _ => Map::new(),
        };
        return match (s("protected", one), s("payload", &v), s("signature", one)) {
            (Some(h), Some(p), Some(sig)) => Ok((h, p, sig, unprotected)),
            _ => Err("JWS JSON serialization without protected, payload and signature".into()),
        };
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.as_slice() {
        [h, p, s] => Ok((h.to_string(), p.to_string(), s.to_string(), Map::new())),
        _ => Err(format!(
            "compact JWS format must have three parts ({} given)",
            parts.len()
        )),
    }
}

/// The payload's members. Go's decoder has no nesting limit a token reaches; a member nested
/// deeper than `serde_json` parses is kept as an empty list or object, which no role rule
/// can match either way.
fn claims_of(payload: &[u8]) -> Result<Map<String, Value>, String> {
    let raw: HashMap<String, Box<RawValue>> = serde_json::from_slice(payload)
        .map_err(|e| format!("the payload is not a JSON object: {e}"))?;
    let mut out = Map::new();
    for (k, v) in raw {
        let text = v.get();
        let value = match serde_json::from_str::<Value>(text) {
            Ok(value) => value,
            Err(_) if text.starts_with('[') => Value::Array(Vec::new()),
            Err(_) => Value::Object(Map::new()),
        };
        out.insert(k, value);
    }
    Ok(out)
}

/// Verifies `token` with `keys` for one of `algs`, as the JWT auth method does.
pub fn verify(token: &str, keys: &KeySet, algs: &[&str]) -> Result<Verified, String> {
    let (h64, p64, s64, unprotected) = split(token)?;
    let header_bytes = go_b64url(&h64).ok_or("the protected header is not base64url")?;
    let mut header: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|e| format!("the protected header is not a JSON object: {e}"))?;
    for (k, v) in unprotected {
        header.entry(k).or_insert(v);
    }
    if header.contains_key("crit") {
        return Err("unsupported crit header".into());
    }
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !algs.contains(&alg_name.as_str()) {
        return Err(format!(
            "unexpected signature algorithm {alg_name:?}; expected {algs:?}"
        ));
    }
    let alg = Algorithm::from_str(&alg_name)
        .map_err(|_| format!("signature algorithm {alg_name} is not supported"))?;
    let kid = match header.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) if k.is_empty() => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(other) => return Err(format!("kid {other} is not a string")),
    };
    let signature = go_b64url(&s64).ok_or("the signature is not base64url")?;
    let payload = go_b64url(&p64).ok_or("the payload is not base64url")?;
    let candidates = keys.select_as_go_jose(alg, &alg_name, kid)?;
    let signing_input = format!("{h64}.{p64}");
    let canonical = b64url(&signature);
    let verified = candidates.iter().any(|k| {
        jsonwebtoken::crypto::verify(&canonical, signing_input.as_bytes(), k, alg).unwrap_or(false)
    });
    if !verified {
        return Err("failed to verify id token signature".into());
    }
    Ok(Verified {
        header,
        claims: claims_of(&payload)?,
    })
}

/// The verification as a [`Report`] of one `signature` check.
pub fn report(result: &Result<Verified, String>) -> Report {
    let (status, detail, refusal) = match result {
        Ok(_) => (
            Status::Pass,
            "verified as Vault's and OpenBao's JWT auth verify (go-jose)".to_string(),
            None,
        ),
        Err(why) => (Status::Fail, why.clone(), Some(Refusal::Signature)),
    };
    let accepted = result.is_ok();
    Report {
        accepted,
        verdict: if accepted { "accepted" } else { "refused" }.into(),
        reason: result.as_ref().err().map(|why| format!("signature: {why}")),
        checks: vec![Check {
            name: "signature".into(),
            status,
            detail,
            refusal,
        }],
        header: result
            .as_ref()
            .ok()
            .map(|v| Value::Object(v.header.clone())),
        claims: result
            .as_ref()
            .ok()
            .map(|v| Value::Object(v.claims.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_base64_is_lax_about_trailing_bits_only() {
        assert_eq!(go_b64url("QQ").as_deref(), Some(&b"A"[..]));
        assert_eq!(go_b64url("QR").as_deref(), Some(&b"A"[..]), "trailing bits");
        assert_eq!(
            go_b64url("Q\nQ").as_deref(),
            Some(&b"A"[..]),
            "newlines skipped"
        );
        assert!(go_b64url("QQ==").is_none(), "no padding in RawURLEncoding");
        assert!(go_b64url("Q+").is_none(), "URL alphabet only");
    }

    #[test]
    fn deep_members_do_not_fail_the_payload() {
        let deep = format!(
            "{{\"a\":\"b\",\"n\":{}{}}}",
            "[".repeat(3000),
            "]".repeat(3000)
        );
        let c = claims_of(deep.as_bytes()).unwrap();
        assert_eq!(c["a"], "b");
        assert_eq!(c["n"], Value::Array(Vec::new()));
        assert!(claims_of(b"[1]").is_err());
        assert!(claims_of(b"{\"a\":").is_err());
    }

    #[test]
    fn json_serializations() {
        let flat = r#"{"protected":"h","payload":"p","signature":"s","header":{"kid":"k"}}"#;
        let (h, p, s, u) = split(flat).unwrap();
        assert_eq!((h.as_str(), p.as_str(), s.as_str()), ("h", "p", "s"));
        assert_eq!(u["kid"], "k");
        let general = r#"{"payload":"p","signatures":[{"protected":"h","signature":"s"}]}"#;
        assert!(split(general).is_ok());
        let two = r#"{"payload":"p","signatures":[{"protected":"h","signature":"s"},{"protected":"h","signature":"s"}]}"#;
        assert!(split(two).is_err());
        assert!(split("a.b").is_err());
    }
}
