//! Minting: request → claims → header → (genuine signature | forged by `hostile`) → minted.
//! The issuer is also the [`Armory`] that hands `hostile` the material its cases need.

use std::sync::Arc;

use super::Issuer;
use super::minted::MintedToken;
use crate::error::Result;
use crate::hostile::{self, Armory, AttackerKeys, Genuine};
use crate::keys::SigningKey;
use crate::token::{self, MintContext, StepRequest};

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
            warning: None,
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
