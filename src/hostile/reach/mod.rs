//! Who could exploit a token: given the genuine claims and the edits that make a token from
//! them, who could get such a token signed by the real issuer ([`ExploitableBy`]), how, and for
//! a branch pusher the branch they would push.
//!
//! A forged signature (none, an attacker's key, HMAC keyed with public material, a signature
//! dropped or flipped) makes a token anyone can make. A genuine signature leaves only what
//! Bitbucket issues: a header or an encoding it never produces is nobody's; otherwise the claims
//! decide, read as Bitbucket assigns them. The workspace (`iss`, `workspaceUuid`, the ARI first
//! in `aud`) belongs to a workspace, the repository (`repositoryUuid`, `sub`'s first segment) to
//! a repository, `branchName` to whoever pushes that branch (or a tag, which has none), the
//! deployment environment and custom audiences to a step's `bitbucket-pipelines.yml`, and the
//! times to when the token was signed. Claims that do not agree with each other (a `sub` naming
//! another repository than `repositoryUuid`) are nobody's: Bitbucket never mixes them.

mod claims;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use super::kinds::ExploitableBy;
use crate::token::{Edit, EncodingEdit, Signer};

pub use claims::{ARI_PREFIX, Reach, ari, canonical_uuid, claims_reach, issuer_slug};

/// Whether `e` makes the signature something anyone can produce: another signer than the
/// issuer's keys, or a signature dropped or flipped.
fn forges(e: &Edit) -> bool {
    match e {
        Edit::Sign { with } => !with.is_issuers_key(),
        Edit::Encoding { change } => matches!(
            change,
            EncodingEdit::DropSignature | EncodingEdit::TwoParts | EncodingEdit::FlipSignature
        ),
        _ => false,
    }
}

/// Who could get the token `edits` make from `genuine` signed by the real issuer.
pub fn reach(genuine: &Map<String, Value>, edits: &[Edit]) -> Reach {
    let mut issuer_keys = true;
    let mut shape: Option<String> = None;
    for e in edits {
        match e {
            Edit::Sign {
                with: Signer::Ps256,
            } => {
                shape.get_or_insert_with(|| {
                    "a PS256 signature by the issuer's RS256 key: only the issuer could make it, and Bitbucket signs with RS256".into()
                });
            }
            e if forges(e) => issuer_keys = false,
            // The issuer's own keys: its signature is as good as the genuine one.
            Edit::Sign { .. } => {}
            Edit::Encoding { .. } => {
                shape.get_or_insert_with(|| {
                    "an encoding Bitbucket never produces, with the issuer's genuine signature"
                        .into()
                });
            }
            Edit::SetHeader { .. } | Edit::RemoveHeader { .. } | Edit::RawHeader { .. } => {
                shape.get_or_insert_with(|| {
                    "a header Bitbucket never sends, with the issuer's genuine signature".into()
                });
            }
            Edit::RawPayload { .. } => {
                shape.get_or_insert_with(|| {
                    "a payload Bitbucket never serialises (the signature is genuine)".into()
                });
            }
            Edit::SetClaim { .. } | Edit::RemoveClaim { .. } | Edit::SetTime { .. } => {}
        }
    }
    if !issuer_keys {
        let forged: Vec<String> = edits
            .iter()
            .filter(|e| forges(e))
            .map(Edit::describe)
            .collect();
        return Reach::new(
            ExploitableBy::Anyone,
            format!(
                "forged ({}): made without the issuer's key",
                forged.join("; ")
            ),
        );
    }
    if let Some(why) = shape {
        return Reach::new(ExploitableBy::Nobody, why);
    }
    let now = genuine.get("iat").and_then(Value::as_i64).unwrap_or(0);
    let claims = super::recipe::edited_claims(genuine.clone(), now, edits);
    claims_reach(genuine, &claims, now)
}
