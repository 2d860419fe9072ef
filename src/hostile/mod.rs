//! Deliberately broken and edge-case tokens. Nothing outside this module makes them.
//!
//! Two ways in, both reached through [`crate::Issuer::mint`] when a request asks for crafting:
//! a named case of the [catalogue](CATALOGUE) (`"case": "alg-none"`), or raw surgery (the header
//! or payload as raw JSON text, any signer, the signature kept or dropped). Tokens are made at
//! request time with the workspace's real keys, so a relying party sees exactly what it would
//! see from a compromised or buggy issuer, or from an attacker who holds only public material.

mod attacker;
mod cases;
mod cases_crypto;
mod forge;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use attacker::AttackerKeys;
pub use cases::{CATALOGUE, Case, Expected, Family, Outcome, find};

use crate::error::{Error, Result};
use crate::issuer::{Issuer, ServedWorkspace};
use crate::keys::SigningKey;
use crate::token::{self, MintedToken, StepRequest};
use forge::Sig;

/// A catalogue case as data (for listings, the control API and reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// Stable kebab-case name.
    pub name: String,
    /// Family.
    pub family: Family,
    /// One line on what the token is.
    pub description: String,
    /// `refuse`, `accept` or `policy`.
    pub expected: String,
    /// For `policy` cases, the rule that decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The outcome under the validator's default policy.
    pub default_outcome: Outcome,
    /// CVE, RFC section, or Bitbucket behaviour.
    pub reference: String,
}

impl Case {
    /// This case as data.
    pub fn summary(&self) -> CaseSummary {
        CaseSummary {
            name: self.name.into(),
            family: self.family,
            description: self.description.into(),
            expected: self.expected.label().into(),
            rule: match self.expected {
                Expected::Policy { rule, .. } => Some(rule.into()),
                _ => None,
            },
            default_outcome: self.expected.by_default(),
            reference: self.reference.into(),
        }
    }
}

/// Every case as data, in catalogue order.
pub fn summaries() -> Vec<CaseSummary> {
    CATALOGUE.iter().map(Case::summary).collect()
}

/// The catalogue as a Markdown table (what `docs/cases.md` holds).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Case | Family | Token | Strict relying party | Reference |\n| --- | --- | --- | --- | --- |\n",
    );
    for c in CATALOGUE {
        let expected = match c.expected {
            Expected::Policy { rule, .. } => format!("policy: {rule}"),
            e => e.label().to_string(),
        };
        let family = serde_json::to_value(c.family)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | {family} | {} | {expected} | {} |\n",
            c.name,
            c.description.replace('|', "\\|"),
            c.reference
        ));
    }
    out
}

/// Makes a crafted token for `req` (already validated; `claims` are its genuine claims).
pub(crate) fn craft(
    issuer: &Issuer,
    served: &ServedWorkspace,
    req: &StepRequest,
    claims: Map<String, Value>,
    now: i64,
) -> Result<MintedToken> {
    if let Some(name) = &req.case {
        if req.header_json.is_some()
            || req.payload_json.is_some()
            || req.sign_with.is_some()
            || req.drop_signature
        {
            return Err(Error::invalid(
                "case",
                "a case cannot be combined with header_json, payload_json, sign_with or drop_signature",
            ));
        }
        let case = find(name).ok_or_else(|| {
            Error::invalid(
                "case",
                format!("no case named `{name}` (list them with `stepmint cases`)"),
            )
        })?;
        let header = token::build_header(served.workspace.keys.active(), &req.header);
        let ctx = cases::Ctx {
            issuer,
            served,
            now,
            claims,
            header,
        };
        let mut minted = (case.build)(&ctx)?.into_minted();
        minted.case = Some(case.summary());
        return Ok(minted);
    }

    let attacker;
    let staged;
    let (signer, alg, kid): (Sig<'_>, &str, Option<String>) =
        match req.sign_with.as_deref().unwrap_or("workspace") {
            "workspace" => {
                let k = served.workspace.keys.active();
                (Sig::Key(k), k.alg().as_str(), Some(k.kid().to_string()))
            }
            "none" => (Sig::Empty, "none", None),
            s if s.starts_with("attacker-") => {
                attacker = issuer.attacker()?;
                let k: &SigningKey = match s {
                    "attacker-rs256" => &attacker.rs256,
                    "attacker-es256" => &attacker.es256,
                    "attacker-eddsa" => &attacker.eddsa,
                    other => return Err(bad_signer(other)),
                };
                (Sig::Key(k), k.alg().as_str(), Some(k.kid().to_string()))
            }
            s if s.starts_with("hs256:") => (
                Sig::Hmac(s.as_bytes()["hs256:".len()..].to_vec()),
                "HS256",
                None,
            ),
            s if s.starts_with("kid:") => {
                let kid = &s["kid:".len()..];
                staged = served
                    .workspace
                    .keys
                    .find(kid)
                    .map(|e| e.key.clone())
                    .ok_or_else(|| {
                        Error::invalid(
                            "sign_with",
                            format!("no key `{kid}` in workspace `{}`", served.workspace.slug),
                        )
                    })?;
                (
                    Sig::Key(&staged),
                    staged.alg().as_str(),
                    Some(kid.to_string()),
                )
            }
            other => return Err(bad_signer(other)),
        };
    let mut header = Map::new();
    header.insert("alg".into(), alg.into());
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    header.insert("typ".into(), "JWT".into());
    token::merge(&mut header, &req.header);
    let header_bytes = match &req.header_json {
        Some(text) => text.as_bytes().to_vec(),
        None => forge::json(&header)?,
    };
    let payload_bytes = match &req.payload_json {
        Some(text) => text.as_bytes().to_vec(),
        None => forge::json(&claims)?,
    };
    let sig = if req.drop_signature {
        Sig::Empty
    } else {
        signer
    };
    Ok(forge::raw(&header_bytes, &payload_bytes, &sig)?.into_minted())
}

fn bad_signer(text: &str) -> Error {
    Error::invalid(
        "sign_with",
        format!(
            "`{text}` is not a signer (workspace, kid:KID, attacker-rs256, attacker-es256, attacker-eddsa, hs256:SECRET, none)"
        ),
    )
}
