//! Taking a token apart without verifying it, for people reading tokens (`stepmint decode`,
//! the desktop Inspector). Lenient on purpose: it shows what is there and notes oddities; the
//! validator is where strictness lives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::encoding::b64url_decode;
use crate::error::{Error, Result};

/// The largest token `decode` will look at.
pub const MAX_DECODE_LEN: usize = 4 * 1024 * 1024;

/// A token's parts, decoded but NOT verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct DecodedToken {
    /// The protected header.
    pub header: Value,
    /// The payload, parsed as JSON when it is JSON, else as a string.
    pub claims: Value,
    /// Length of the signature in bytes (0 when absent).
    pub signature_len: usize,
    /// How many dot-separated parts the token has.
    pub parts: usize,
    /// Things a careful reader should know (padding, non-JSON payload, extra parts, a member
    /// given twice...).
    pub notes: Vec<String>,
    /// The header as its raw text (invalid UTF-8 replaced).
    pub raw_header: String,
    /// The payload as its raw text (invalid UTF-8 replaced).
    pub raw_payload: String,
}

/// A token decoded and judged side by side: what the Inspector shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Inspection {
    /// The workspace whose keys and policy judged it.
    pub workspace: String,
    /// The time it was judged at (Unix seconds).
    pub now: i64,
    /// The token as decoded, without verification; `None` when it does not decode.
    pub decoded: Option<DecodedToken>,
    /// Why it does not decode.
    pub decode_error: Option<String>,
    /// The policy applied.
    pub policy: crate::validate::Policy,
    /// The validator's report.
    pub report: crate::validate::Report,
}

/// Decodes `token`'s header and payload without checking the signature.
pub fn decode_unverified(token: &str) -> Result<DecodedToken> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::malformed("empty token"));
    }
    if token.len() > MAX_DECODE_LEN {
        return Err(Error::malformed(format!(
            "{} bytes is more than the {MAX_DECODE_LEN} decode looks at",
            token.len()
        )));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() < 2 {
        return Err(Error::malformed(
            "a JWT has at least two dot-separated parts; this has one",
        ));
    }
    let mut notes = Vec::new();
    if parts.len() != 3 {
        notes.push(format!(
            "{} parts: a signed JWT (JWS compact) has exactly 3",
            parts.len()
        ));
    }
    let header_bytes = part(parts[0], "header", &mut notes)?;
    let header: Value = serde_json::from_slice(&header_bytes)
        .map_err(|e| Error::malformed(format!("header is not JSON: {e}")))?;
    note_duplicates("header", &header_bytes, &mut notes);
    let payload_bytes = part(parts[1], "payload", &mut notes)?;
    note_duplicates("payload", &payload_bytes, &mut notes);
    let claims = match serde_json::from_slice::<Value>(&payload_bytes) {
        Ok(v) => v,
        Err(_) => {
            notes.push("payload is not JSON; shown as text".into());
            Value::String(String::from_utf8_lossy(&payload_bytes).into_owned())
        }
    };
    let signature_len = match parts.get(2) {
        Some(sig) if !sig.is_empty() => part(sig, "signature", &mut notes)?.len(),
        _ => {
            notes.push("no signature".into());
            0
        }
    };
    Ok(DecodedToken {
        header,
        claims,
        signature_len,
        parts: parts.len(),
        notes,
        raw_header: String::from_utf8_lossy(&header_bytes).into_owned(),
        raw_payload: String::from_utf8_lossy(&payload_bytes).into_owned(),
    })
}

/// The members of a JSON object in the order written, duplicates kept.
struct Members(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Notes each member of `part`'s top-level object that appears more than once: parsers differ
/// on which one wins (this decoder, like most, shows the last).
fn note_duplicates(part: &str, bytes: &[u8], notes: &mut Vec<String>) {
    let Ok(Members(members)) = serde_json::from_slice::<Members>(bytes) else {
        return;
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &members {
        if seen.contains(&name.as_str()) {
            continue;
        }
        let values: Vec<String> = members
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
            .collect();
        if values.len() > 1 {
            notes.push(format!(
                "{part} has `{name}` {} times ({}); parsers differ on which wins, this shows the last: see the raw {part} (--raw)",
                values.len(),
                values.join(", ")
            ));
        }
        seen.push(name);
    }
}

fn part(text: &str, name: &str, notes: &mut Vec<String>) -> Result<Vec<u8>> {
    if let Some(bytes) = b64url_decode(text) {
        return Ok(bytes);
    }
    let stripped = text.trim_end_matches('=');
    if let Some(bytes) = b64url_decode(stripped) {
        notes.push(format!("{name} is padded base64url (JOSE forbids padding)"));
        return Ok(bytes);
    }
    Err(Error::malformed(format!("{name} is not base64url")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_notes() {
        let t = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
        let d = decode_unverified(t).unwrap();
        assert_eq!(d.header["alg"], "none");
        assert_eq!(d.claims["sub"], "x");
        assert_eq!(d.signature_len, 0);
        assert!(d.notes.iter().any(|n| n.contains("no signature")));
        assert!(decode_unverified("abc").is_err());
        assert!(decode_unverified("!!.??.x").is_err());
        assert!(decode_unverified("").is_err());
    }

    #[test]
    fn duplicate_members_are_noted_with_every_value() {
        let payload = crate::encoding::b64url(
            br#"{"aud":"https://attacker.invalid","sub":"x","aud":"good"}"#,
        );
        let t = format!("eyJhbGciOiJub25lIn0.{payload}.");
        let d = decode_unverified(&t).unwrap();
        assert_eq!(d.claims["aud"], "good");
        let note = d
            .notes
            .iter()
            .find(|n| n.contains("`aud` 2 times"))
            .expect("noted");
        assert!(
            note.contains("\"https://attacker.invalid\"") && note.contains("\"good\""),
            "{note}"
        );
        assert!(
            d.raw_payload
                .starts_with(r#"{"aud":"https://attacker.invalid""#)
        );
    }
}
