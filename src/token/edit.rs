//! Edits: a token described as changes to a genuine one (members set or removed, times
//! relative to the minting time, the signer, raw JSON, encoding). Plain data that a mint
//! request, a recipe file or a fuzz finding carries; `hostile::recipe` is what applies them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Signer;

/// One change to a genuine token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// Sets (adds or replaces) a claim.
    SetClaim {
        /// The claim.
        name: String,
        /// Its new value (any JSON; see [`nullable`] for how `null` is written in TOML).
        #[serde(with = "nullable")]
        #[ts(as = "Value")]
        value: Value,
    },
    /// Removes a claim.
    RemoveClaim {
        /// The claim.
        name: String,
    },
    /// Sets a time claim to the minting time plus `offset` seconds.
    SetTime {
        /// The claim (`exp`, `nbf`, `iat`, or any other).
        name: String,
        /// Seconds from the minting time (negative: in the past).
        offset: i64,
    },
    /// Sets (adds or replaces) a header member.
    SetHeader {
        /// The member.
        name: String,
        /// Its new value.
        #[serde(with = "nullable")]
        #[ts(as = "Value")]
        value: Value,
    },
    /// Removes a header member.
    RemoveHeader {
        /// The member.
        name: String,
    },
    /// Signs with another signer (see [`Signer`]); the header is not changed.
    Sign {
        /// Who signs, written as text (`attacker-rs256`, `hs256:SECRET`, `kid:KID`...).
        #[ts(as = "String")]
        with: Signer,
    },
    /// The header as this raw text, byte for byte (later header edits are ignored).
    RawHeader {
        /// JSON text, or anything.
        json: String,
    },
    /// The payload as this raw text, byte for byte (later claim edits are ignored).
    RawPayload {
        /// JSON text, or anything.
        json: String,
    },
    /// A change to the compact serialisation.
    Encoding {
        /// What changes.
        change: EncodingEdit,
    },
}

/// Changes to the compact serialisation itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingEdit {
    /// `=` padding on every part, inside the signed text.
    Pad,
    /// The signature part emptied (`h.p.`).
    DropSignature,
    /// No signature part at all (`h.p`).
    TwoParts,
    /// A fourth part appended.
    ExtraPart,
    /// One bit of the signature flipped.
    FlipSignature,
    /// The signature's last character changed in bits base64url decoding ignores.
    NonCanonical,
    /// A space after the token.
    TrailingSpace,
}

impl EncodingEdit {
    /// The encoding edits generators draw from. Not `TrailingSpace`: HTTP strips whitespace
    /// around a header value, so over HTTP it is the genuine token and would be a false alarm.
    pub const GENERATED: [EncodingEdit; 6] = [
        EncodingEdit::Pad,
        EncodingEdit::DropSignature,
        EncodingEdit::TwoParts,
        EncodingEdit::ExtraPart,
        EncodingEdit::FlipSignature,
        EncodingEdit::NonCanonical,
    ];

    /// Every encoding edit.
    pub const ALL: [EncodingEdit; 7] = [
        EncodingEdit::Pad,
        EncodingEdit::DropSignature,
        EncodingEdit::TwoParts,
        EncodingEdit::ExtraPart,
        EncodingEdit::FlipSignature,
        EncodingEdit::NonCanonical,
        EncodingEdit::TrailingSpace,
    ];
}

impl Edit {
    /// The header or claim member this edit touches (`claims.aud`, `header.alg`), or what else
    /// it changes (`signature`, `encoding.pad`): how reports name a minimal difference.
    pub fn member(&self) -> String {
        match self {
            Edit::SetClaim { name, .. }
            | Edit::RemoveClaim { name }
            | Edit::SetTime { name, .. } => {
                format!("claims.{name}")
            }
            Edit::SetHeader { name, .. } | Edit::RemoveHeader { name } => format!("header.{name}"),
            Edit::Sign { .. } => "signature".into(),
            Edit::RawHeader { .. } => "header".into(),
            Edit::RawPayload { .. } => "claims".into(),
            Edit::Encoding { change } => format!(
                "encoding.{}",
                serde_json::to_value(change)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
        }
    }

    /// One line for people: `claims.aud = "x"`, `- header.kid`, `signature by none`.
    pub fn describe(&self) -> String {
        let short = |v: &Value| {
            let text = v.to_string();
            if text.chars().count() > 160 {
                format!("{}…", text.chars().take(160).collect::<String>())
            } else {
                text
            }
        };
        match self {
            Edit::SetClaim { name, value } => format!("claims.{name} = {}", short(value)),
            Edit::RemoveClaim { name } => format!("- claims.{name}"),
            Edit::SetTime { name, offset } => format!("claims.{name} = now {offset:+} s"),
            Edit::SetHeader { name, value } => format!("header.{name} = {}", short(value)),
            Edit::RemoveHeader { name } => format!("- header.{name}"),
            Edit::Sign { with } => format!("signature by {with}"),
            Edit::RawHeader { json } => {
                format!("header = raw {}", short(&Value::from(json.as_str())))
            }
            Edit::RawPayload { json } => {
                format!("claims = raw {}", short(&Value::from(json.as_str())))
            }
            Edit::Encoding { .. } => self.member(),
        }
    }

    /// Whether the edit changes how the token is signed or which key it names (a `bypass` when
    /// a relying party accepts it).
    pub fn touches_key_or_signature(&self) -> bool {
        match self {
            Edit::Sign { .. } | Edit::RawHeader { .. } => true,
            Edit::SetHeader { .. } | Edit::RemoveHeader { .. } => true,
            Edit::Encoding { change } => matches!(
                change,
                EncodingEdit::DropSignature | EncodingEdit::TwoParts | EncodingEdit::FlipSignature
            ),
            _ => false,
        }
    }
}

/// Values in a form every format can hold. TOML has no `null`, so a value that contains one
/// is written as a table holding its JSON text, `{ json = "null" }`, which reads back as the
/// value; every other value is written as itself. (An object whose only member is a `json`
/// string that parses as JSON is read as that JSON: write such an object in the `json` form.)
pub mod nullable {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    fn has_null(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(a) => a.iter().any(has_null),
            Value::Object(o) => o.values().any(has_null),
            _ => false,
        }
    }

    /// Writes `value`, as JSON text in a `json` table when it holds a `null`.
    pub fn serialize<S: Serializer>(value: &Value, s: S) -> Result<S::Ok, S::Error> {
        if has_null(value) {
            let mut m = serde_json::Map::new();
            m.insert("json".into(), Value::String(value.to_string()));
            Value::Object(m).serialize(s)
        } else {
            value.serialize(s)
        }
    }

    /// Reads a value, unwrapping the `json` table form.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        let v = Value::deserialize(d)?;
        if let Value::Object(m) = &v
            && m.len() == 1
            && let Some(Value::String(text)) = m.get("json")
            && let Ok(inner) = serde_json::from_str::<Value>(text)
        {
            return Ok(inner);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_name_what_changed() {
        assert_eq!(
            Edit::RemoveHeader { name: "kid".into() }.member(),
            "header.kid"
        );
        assert_eq!(
            Edit::Encoding {
                change: EncodingEdit::TwoParts
            }
            .member(),
            "encoding.two-parts"
        );
    }
}
