//! Forging primitives: put arbitrary header and payload bytes together and sign them (or not)
//! with any key, any scheme, or none.

use aws_lc_rs::hmac;
use serde_json::{Map, Value};

use crate::encoding::b64url;
use crate::error::{Error, Result};
use crate::keys::SigningKey;

/// How the signature part is made.
pub(crate) enum Sig<'a> {
    /// The key's own algorithm.
    Key(&'a SigningKey),
    /// RSASSA-PSS SHA-256 with an RSA key.
    Ps256(&'a SigningKey),
    /// HMAC-SHA256 with these key bytes.
    Hmac(Vec<u8>),
    /// These bytes, as they are.
    Raw(Vec<u8>),
    /// An empty signature part (`h.p.`).
    Empty,
}

impl Sig<'_> {
    pub(crate) fn make(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        match self {
            Sig::Key(k) => k.sign(signing_input),
            Sig::Ps256(k) => k.sign_ps256(signing_input),
            Sig::Hmac(secret) => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
                Ok(hmac::sign(&key, signing_input).as_ref().to_vec())
            }
            Sig::Raw(bytes) => Ok(bytes.clone()),
            Sig::Empty => Ok(Vec::new()),
        }
    }
}

/// A crafted token and how to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Forged {
    /// The token (whatever shape the case has).
    pub token: String,
    /// The header: a JSON object, or the raw text when it is not one.
    pub header: Value,
    /// The claims: a JSON object, or the raw text when they are not one.
    pub claims: Value,
    /// What is deliberately odd about it.
    pub notes: Vec<String>,
    /// The catalogue case it was made for.
    pub case: Option<super::kinds::CaseSummary>,
}

impl Forged {
    pub(crate) fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// JSON text of a map (keys in insertion order).
pub(crate) fn json(map: &Map<String, Value>) -> Result<Vec<u8>> {
    serde_json::to_vec(map).map_err(|e| Error::invalid("json", e.to_string()))
}

/// `b64(header).b64(payload).b64(sig)` where the signature covers the first two parts.
pub(crate) fn compact(header: &[u8], payload: &[u8], sig: &Sig<'_>) -> Result<String> {
    let input = format!("{}.{}", b64url(header), b64url(payload));
    let signature = sig.make(input.as_bytes())?;
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// A token from maps, signed.
pub(crate) fn signed(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    sig: &Sig<'_>,
) -> Result<Forged> {
    Ok(Forged {
        token: compact(&json(header)?, &json(claims)?, sig)?,
        header: Value::Object(header.clone()),
        claims: Value::Object(claims.clone()),
        notes: Vec::new(),
        case: None,
    })
}

/// Shows raw JSON text as a value when it parses to one, else as the text itself.
pub(crate) fn shown(raw: &[u8]) -> Value {
    serde_json::from_slice(raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
}

/// A token from raw header and payload text, signed over exactly those bytes.
pub(crate) fn raw(header: &[u8], payload: &[u8], sig: &Sig<'_>) -> Result<Forged> {
    Ok(Forged {
        token: compact(header, payload, sig)?,
        header: shown(header),
        claims: shown(payload),
        notes: Vec::new(),
        case: None,
    })
}
