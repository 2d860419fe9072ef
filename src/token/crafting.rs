//! Crafting on top of a genuine step: a catalogue case, or raw surgery (the header or payload
//! as raw JSON text, another signer, no signature), or edits; and [`MintRequest`], the genuine
//! step and its crafting as one request (what the control API, the app and the Crafter send).
//!
//! The raw fields are shorthand for edits: [`Crafting::edits`] turns them into the one
//! [`Edit`] list that `hostile::recipe` applies and that a saved recipe carries.

use serde::{Deserialize, Serialize};

use super::edit::{Edit, EncodingEdit};
use super::request::StepRequest;
use super::signer::Signer;
use crate::error::{Error, Result};

/// What to break in the genuine token. Empty (the default): nothing, a genuine token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct Crafting {
    /// A catalogue case by name (`stepmint cases`). Excludes the raw fields below.
    pub case: Option<String>,
    /// The header as raw JSON text, used byte for byte (duplicate keys, invalid JSON).
    pub header_json: Option<String>,
    /// The payload as raw JSON text, used byte for byte.
    pub payload_json: Option<String>,
    /// Who signs (a [`Signer`]: `workspace` by default, `kid:KID`, `ps256`,
    /// `attacker-rs256`, `attacker-es256`, `attacker-eddsa`, `hs256:SECRET`,
    /// `hs256-public-pem`, `hs256-public-der` or `none`); the header declares its `alg` and `kid`.
    #[ts(as = "Option<String>")]
    pub sign_with: Option<Signer>,
    /// Send no signature (`header.payload.`).
    pub drop_signature: bool,
    /// Edits applied to the genuine token, in order (a recipe's `edits`). Excludes `case` and
    /// the raw fields above.
    pub edits: Vec<Edit>,
}

impl Crafting {
    /// Whether this asks for nothing: the genuine token.
    pub fn is_empty(&self) -> bool {
        self.case.is_none() && !self.has_raw() && self.edits.is_empty()
    }

    fn has_raw(&self) -> bool {
        self.header_json.is_some()
            || self.payload_json.is_some()
            || self.sign_with.is_some()
            || self.drop_signature
    }

    /// Checks that the fields do not exclude each other: a case stands alone, and an edit list
    /// does not mix with the raw fields (they are edits of their own).
    pub fn check(&self) -> Result<()> {
        if self.case.is_some() && (self.has_raw() || !self.edits.is_empty()) {
            return Err(Error::invalid(
                "case",
                "a case cannot be combined with header_json, payload_json, sign_with, drop_signature or edits",
            ));
        }
        if !self.edits.is_empty() && self.has_raw() {
            return Err(Error::invalid(
                "edits",
                "edits cannot be combined with header_json, payload_json, sign_with or drop_signature (they have edits of their own)",
            ));
        }
        Ok(())
    }

    /// The raw fields as edits (raw header, raw payload, signer, dropped signature, in that
    /// order), then `edits`. A case is made by code, not edits, and is not among them.
    pub fn edits(&self) -> Vec<Edit> {
        let mut edits = Vec::new();
        if let Some(json) = &self.header_json {
            edits.push(Edit::RawHeader { json: json.clone() });
        }
        if let Some(json) = &self.payload_json {
            edits.push(Edit::RawPayload { json: json.clone() });
        }
        if let Some(with) = &self.sign_with {
            edits.push(Edit::Sign { with: with.clone() });
        }
        if self.drop_signature {
            edits.push(Edit::Encoding {
                change: EncodingEdit::DropSignature,
            });
        }
        edits.extend(self.edits.iter().cloned());
        edits
    }
}

/// A mint request: the genuine step, and what to craft from its token. On the wire both are one
/// flat JSON object (`{"branch": "dev", "sign_with": "none"}`), as they always were.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The genuine step.
    #[serde(flatten)]
    pub step: StepRequest,
    /// What to break in its token.
    #[serde(flatten)]
    pub craft: Crafting,
}

impl MintRequest {
    /// Whether this asks for a crafted (possibly broken) token rather than a genuine one.
    pub fn is_crafted(&self) -> bool {
        !self.craft.is_empty()
    }
}

impl From<StepRequest> for MintRequest {
    fn from(step: StepRequest) -> MintRequest {
        MintRequest {
            step,
            craft: Crafting::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_flat_object_on_the_wire() {
        let req: MintRequest = serde_json::from_str(
            r#"{"repositoryUuid":"{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}","branchName":"dev","env_uuid":"{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f61}","lifetime":60,"sign_with":"none","drop_signature":true}"#,
        )
        .unwrap();
        assert_eq!(req.step.branch.as_deref(), Some("dev"));
        assert_eq!(req.step.lifetime, Some(60));
        assert!(req.step.deployment_environment_uuid.is_some());
        assert_eq!(req.craft.sign_with, Some(Signer::None));
        assert!(req.craft.drop_signature && req.is_crafted());
        let back = serde_json::to_value(&req).unwrap();
        assert_eq!(back["branch"], "dev");
        assert_eq!(back["sign_with"], "none");
        assert_eq!(serde_json::from_value::<MintRequest>(back).unwrap(), req);
        for bad in [r#"{"branchname":"dev"}"#, r#"{"signWith":"none"}"#] {
            let err = serde_json::from_str::<MintRequest>(bad).unwrap_err();
            assert!(err.to_string().contains("unknown field"), "{err}");
        }
        assert!(
            !serde_json::from_str::<MintRequest>("{}")
                .unwrap()
                .is_crafted()
        );
    }

    #[test]
    fn raw_fields_are_edits_and_exclude_a_case() {
        let craft = Crafting {
            payload_json: Some("{".into()),
            sign_with: Some(Signer::None),
            drop_signature: true,
            ..Crafting::default()
        };
        let members: Vec<String> = craft.edits().iter().map(Edit::member).collect();
        assert_eq!(members, ["claims", "signature", "encoding.drop-signature"]);
        craft.check().unwrap();
        let with_case = Crafting {
            case: Some("alg-none".into()),
            ..craft.clone()
        };
        assert!(with_case.check().is_err());
        let with_edits = Crafting {
            edits: vec![Edit::RemoveClaim { name: "aud".into() }],
            ..craft
        };
        assert!(with_edits.check().is_err());
    }
}
