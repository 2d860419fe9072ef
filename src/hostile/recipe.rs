//! Recipes: a token described as edits to a genuine one. Header and claim members set or
//! removed, time claims set relative to the minting time (so a replay is fresh), the signer, raw
//! JSON, and encoding changes. Policy-boundary cases, fuzz findings and QA's hand-written files
//! all use this one model, so any of them can be saved, replayed (`stepmint mint --recipe`) and
//! run as a regression suite (`stepmint probe --recipes DIR`).
//!
//! ```toml
//! name = "aud-suffix"
//! description = "the declared audience with something appended"
//! expected = "refuse"          # optional: by default the reference validator decides
//!
//! [[edits]]
//! op = "set_claim"
//! name = "aud"
//! value = "api://deploy-evil"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::armory::{Armory, Genuine};
use super::forge::{self, Forged};
use super::kinds::Outcome;
pub use super::recipe_step::RecipeStep;
use super::signing::Material;
use crate::encoding::b64url;
use crate::error::{Error, Result};
use crate::token::{Edit, EncodingEdit, MintRequest, Signer};

/// A saved token recipe: edits to a genuine token, and what a strict relying party does with
/// the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// A name for reports (kebab-case by convention).
    pub name: String,
    /// What the token is, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `refuse` or `accept`; absent: the reference validator decides under the declared
    /// policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Outcome>,
    /// The step the token describes (what the probe that found it declared): `stepmint mint
    /// --recipe` mints in it, so the relying party answers as it did in the probe.
    #[serde(default, skip_serializing_if = "RecipeStep::is_empty")]
    pub step: RecipeStep,
    /// The edits, applied in order.
    #[serde(default)]
    pub edits: Vec<Edit>,
}

impl Recipe {
    /// Parses recipe TOML; errors name the file, the line and the column, and never quote the
    /// text: a file that is not a recipe (a secret a link led to) is not shown to anyone. Only
    /// a TOML table with a `name` or `edits` is read as a recipe.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Recipe> {
        let at = |e: &toml::de::Error| match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("{}:{line}:{column}", origin.display())
            }
            None => origin.display().to_string(),
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            Error::invalid(
                "recipe",
                format!("{}: not TOML: {}", at(&e), e.message().trim_end()),
            )
        })?;
        if !table.contains_key("name") && !table.contains_key("edits") {
            return Err(Error::invalid(
                "recipe",
                format!(
                    "{}: not a recipe (it has neither `name` nor `edits`)",
                    origin.display()
                ),
            ));
        }
        let recipe: Recipe = toml::from_str(text).map_err(|e| {
            Error::invalid("recipe", format!("{}: {}", at(&e), e.message().trim_end()))
        })?;
        if recipe.name.trim().is_empty() || recipe.name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "recipe",
                format!("{}: `name` must be a non-empty line", origin.display()),
            ));
        }
        Ok(recipe)
    }

    /// The recipe as TOML text.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::invalid("recipe", e.to_string()))
    }
}

/// The edits that make what `req` asks for, as a recipe named `name`: claim and header
/// overrides, the signer, a dropped signature, raw header or payload, and any edits it carries.
/// A catalogue case is built by code, not edits: save its token, or pick the case by name.
pub fn from_request(req: &MintRequest, name: &str) -> Result<Recipe> {
    if let Some(case) = &req.craft.case {
        return Err(Error::invalid(
            "case",
            format!(
                "`{case}` is a catalogue case, made by code rather than edits: probe it by name (`--cases {case}`)"
            ),
        ));
    }
    let mut edits = Vec::new();
    for (name, value) in &req.step.claims {
        edits.push(if value.is_null() {
            Edit::RemoveClaim { name: name.clone() }
        } else {
            Edit::SetClaim {
                name: name.clone(),
                value: value.clone(),
            }
        });
    }
    for (name, value) in &req.step.header {
        edits.push(if value.is_null() {
            Edit::RemoveHeader { name: name.clone() }
        } else {
            Edit::SetHeader {
                name: name.clone(),
                value: value.clone(),
            }
        });
    }
    edits.extend(req.craft.edits());
    let mut step = RecipeStep::of(&req.step, 0, None);
    step.lifetime = req.step.lifetime;
    // Claims became edits above.
    step.claims.clear();
    Ok(Recipe {
        name: name.to_string(),
        description: None,
        expected: None,
        step,
        edits,
    })
}

/// The token `edits` make of the genuine one.
pub fn apply(armory: &dyn Armory, genuine: Genuine<'_>, edits: &[Edit]) -> Result<Forged> {
    let mut header = genuine.header;
    let claims = edited_claims(genuine.claims, genuine.now, edits);
    let mut raw_header: Option<String> = None;
    let mut raw_payload: Option<String> = None;
    let mut signer = &Signer::Workspace;
    let mut encodings = Vec::new();
    for edit in edits {
        match edit {
            // Applied above: claim edits touch only the claims.
            Edit::SetClaim { .. } | Edit::RemoveClaim { .. } | Edit::SetTime { .. } => {}
            Edit::SetHeader { name, value } => {
                header.insert(name.clone(), value.clone());
            }
            Edit::RemoveHeader { name } => {
                header.shift_remove(name);
            }
            Edit::Sign { with } => signer = with,
            Edit::RawHeader { json } => raw_header = Some(json.clone()),
            Edit::RawPayload { json } => raw_payload = Some(json.clone()),
            Edit::Encoding { change } => encodings.push(*change),
        }
    }
    let header_bytes = match raw_header {
        Some(text) => text.into_bytes(),
        None => forge::json(&header)?,
    };
    let payload_bytes = match raw_payload {
        Some(text) => text.into_bytes(),
        None => forge::json(&claims)?,
    };
    let material = Material::of(signer, armory, genuine.workspace, "edits")?;
    let sig = material.sig();
    let pad = encodings.contains(&EncodingEdit::Pad);
    let part = |bytes: &[u8]| {
        let s = b64url(bytes);
        if pad {
            let n = (4 - s.len() % 4) % 4;
            format!("{s}{}", "=".repeat(n))
        } else {
            s
        }
    };
    let input = format!("{}.{}", part(&header_bytes), part(&payload_bytes));
    let mut signature = sig.make(input.as_bytes())?;
    if encodings.contains(&EncodingEdit::FlipSignature) {
        match signature.last_mut() {
            Some(last) => *last ^= 0x01,
            None => signature.push(0x01),
        }
    }
    let mut sig_text = part(&signature);
    if encodings.contains(&EncodingEdit::NonCanonical) {
        sig_text = non_canonical(&sig_text);
    }
    let mut token = if encodings.contains(&EncodingEdit::TwoParts) {
        input
    } else if encodings.contains(&EncodingEdit::DropSignature) {
        format!("{input}.")
    } else {
        format!("{input}.{sig_text}")
    };
    if encodings.contains(&EncodingEdit::ExtraPart) {
        token.push_str(".e30");
    }
    if encodings.contains(&EncodingEdit::TrailingSpace) {
        token.push(' ');
    }
    Ok(Forged {
        token,
        header: forge::shown(&header_bytes),
        claims: forge::shown(&payload_bytes),
        notes: edits.iter().map(Edit::describe).collect(),
        case: None,
    })
}

/// The same base64url text with the last character changed only in bits a decoder drops; when
/// the last character carries no spare bits, the text is returned as it is.
fn non_canonical(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let spare = match text.trim_end_matches('=').len() % 4 {
        2 => 4,
        3 => 2,
        _ => 0,
    };
    let Some(last) = text.trim_end_matches('=').bytes().last() else {
        return text.to_string();
    };
    let Some(i) = ALPHABET.iter().position(|&c| c == last) else {
        return text.to_string();
    };
    if spare == 0 {
        return text.to_string();
    }
    let changed = ALPHABET[i ^ 1] as char;
    let keep = text.trim_end_matches('=');
    let pads = &text[keep.len()..];
    let mut out = keep[..keep.len() - 1].to_string();
    out.push(changed);
    out.push_str(pads);
    out
}

/// The genuine claims with `edits` applied, as far as they are claim edits: what a validator
/// would compare, for reports.
pub fn edited_claims(
    mut claims: Map<String, Value>,
    now: i64,
    edits: &[Edit],
) -> Map<String, Value> {
    for edit in edits {
        match edit {
            Edit::SetClaim { name, value } => {
                claims.insert(name.clone(), value.clone());
            }
            Edit::RemoveClaim { name } => {
                claims.shift_remove(name);
            }
            Edit::SetTime { name, offset } => {
                claims.insert(name.clone(), now.saturating_add(*offset).into());
            }
            _ => {}
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_round_trip_through_toml() {
        let r = Recipe {
            name: "aud-suffix".into(),
            description: Some("x".into()),
            expected: Some(Outcome::Refuse),
            step: RecipeStep {
                audiences: vec!["api://deploy".into()],
                deployment_environment_uuid: Some("{e}".into()),
                ..RecipeStep::default()
            },
            edits: vec![
                Edit::SetClaim {
                    name: "aud".into(),
                    value: Value::from("a-evil"),
                },
                Edit::SetTime {
                    name: "exp".into(),
                    offset: -120,
                },
                Edit::SetClaim {
                    name: "nbf".into(),
                    value: serde_json::json!([1, null, {"a": null}]),
                },
                Edit::SetHeader {
                    name: "kid".into(),
                    value: Value::Null,
                },
                Edit::Sign {
                    with: crate::token::Signer::None,
                },
                Edit::Encoding {
                    change: EncodingEdit::Pad,
                },
            ],
        };
        let text = r.to_toml().unwrap();
        assert_eq!(Recipe::from_toml(&text, Path::new("x.toml")).unwrap(), r);
        let err = Recipe::from_toml(
            "name = \"a\"\n[[edits]]\nop = \"nope\"\n",
            Path::new("f.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("f.toml") && err.contains("nope"), "{err}");
    }

    #[test]
    fn a_crafter_request_becomes_edits() {
        let req: MintRequest = serde_json::from_str(
            r#"{"claims":{"aud":"x","branchName":null},"header":{"kid":"k"},"sign_with":"none","drop_signature":true}"#,
        )
        .unwrap();
        let r = from_request(&req, "mine").unwrap();
        let members: Vec<String> = r.edits.iter().map(Edit::member).collect();
        assert_eq!(
            members,
            [
                "claims.aud",
                "claims.branchName",
                "header.kid",
                "signature",
                "encoding.drop-signature"
            ]
        );
        assert!(matches!(r.edits[1], Edit::RemoveClaim { .. }));
        let case = MintRequest {
            craft: crate::token::Crafting {
                case: Some("alg-none".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(from_request(&case, "x").is_err());
    }

    #[test]
    fn non_canonical_changes_text_not_bytes() {
        use base64::Engine as _;
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            base64::engine::GeneralPurposeConfig::new()
                .with_encode_padding(false)
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        for len in [1usize, 2, 32, 64, 256] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8 ^ 0xa5).collect();
            let text = b64url(&bytes);
            let changed = non_canonical(&text);
            assert_eq!(lenient.decode(&changed).unwrap(), bytes, "{len}");
            if len % 3 != 0 {
                assert_ne!(changed, text, "{len}");
                // The strict decoder the validator uses refuses it.
                assert_eq!(crate::encoding::b64url_decode(&changed), None, "{len}");
            }
        }
    }
}
