//! Minting: request → claims → header → (genuine signature | forged by `hostile`) → minted.
//! [`MintedToken`] is what every front end gets back; the issuer is also the [`Armory`] that
//! hands `hostile` the material its cases need.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Issuer;
use crate::error::Result;
use crate::hostile::{self, Armory, AttackerKeys, CaseSummary, Forged, Genuine};
use crate::keys::SigningKey;
use crate::token::{self, MintContext, StepRequest};

/// A signed token with the header and claims it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MintedToken {
    /// The token (compact JWS, or whatever shape a crafted case has).
    pub token: String,
    /// The header: a JSON object, or the raw text when it is not one.
    pub header: Value,
    /// The claims: a JSON object, or the raw text when they are not one.
    pub claims: Value,
    /// The catalogue case this token was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseSummary>,
    /// What is deliberately odd about it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl From<Forged> for MintedToken {
    fn from(f: Forged) -> MintedToken {
        MintedToken {
            token: f.token,
            header: f.header,
            claims: f.claims,
            case: f.case,
            notes: f.notes,
        }
    }
}

impl Issuer {
    /// Mints a step token as Bitbucket would for `req`, signed by the workspace's active key;
    /// or, when `req` asks for crafting, the crafted token made from that genuine one.
    pub fn mint(&self, req: &StepRequest) -> Result<MintedToken> {
        req.validate()?;
        let served = self.workspace_or_first(req.workspace.as_deref())?;
        let now = self.clock.now();
        let ctx = MintContext {
            workspace: &served.workspace,
            issuer: &served.issuer,
            now,
            default_lifetime: self.token_lifetime,
            ids: &self.ids,
        };
        let claims = token::build_claims(req, &ctx)?;
        let key = served.workspace.keys.active();
        let header = token::build_header(key, &req.header);
        if req.is_crafted() {
            let genuine = Genuine {
                workspace: &served.workspace,
                issuer: &served.issuer,
                header,
                claims,
                now,
            };
            return Ok(hostile::craft(self, genuine, req)?.into());
        }
        let token = token::sign(&header, &claims, key)?;
        Ok(MintedToken {
            token,
            header: header.into(),
            claims: claims.into(),
            case: None,
            notes: Vec::new(),
        })
    }
}

impl Armory for Issuer {
    fn public_url(&self) -> &str {
        &self.public_url
    }

    fn attacker(&self) -> Result<Arc<AttackerKeys>> {
        Issuer::attacker(self)
    }

    fn staged_key(&self, slug: &str) -> Result<Arc<SigningKey>> {
        self.update_keys(slug, |ring, now| ring.staged_or_new(now))
    }
}
