//! Taking a token apart without verifying it, for people reading tokens (`stepmint decode`,
//! the desktop Inspector). Lenient on purpose: it shows what is there and notes oddities; the
//! validator is where strictness lives.

use serde::Serialize;
use serde_json::Value;

use crate::encoding::b64url_decode;
use crate::error::{Error, Result};

/// The largest token `decode` will look at.
pub const MAX_DECODE_LEN: usize = 4 * 1024 * 1024;

/// A token's parts, decoded but NOT verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedToken {
    /// The protected header.
    pub header: Value,
    /// The payload, parsed as JSON when it is JSON, else as a string.
    pub claims: Value,
    /// Length of the signature in bytes (0 when absent).
    pub signature_len: usize,
    /// How many dot-separated parts the token has.
    pub parts: usize,
    /// Things a careful reader should know (padding, non-JSON payload, extra parts...).
    pub notes: Vec<String>,
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
    let payload_bytes = part(parts[1], "payload", &mut notes)?;
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
    })
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
}
