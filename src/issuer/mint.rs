//! Minting: step → claims → header → genuine signature (`mint`), or forged from that genuine
//! token by `hostile` (`craft`) → minted.
//! The issuer is also the [`Armory`] that hands `hostile` the material its cases need.

use std::sync::Arc;

use super::Issuer;
use super::minted::MintedToken;
use crate::error::Result;
use crate::hostile::{self, Armory, AttackerKeys, Genuine};
use crate::keys::SigningKey;
use crate::token::{self, MintContext, MintRequest, StepRequest};

impl Issuer {
    /// Mints a genuine step token as Bitbucket would for `req`, signed by the workspace's
    /// active key.
    pub fn mint(&self, req: &StepRequest) -> Result<MintedToken> {
        self.with_genuine(req, |genuine, key| {
            let token = token::sign(&genuine.header, &genuine.claims, key)?;
            Ok(MintedToken {
                token,
                header: genuine.header.into(),
                claims: genuine.claims.into(),
                case: None,
                notes: Vec::new(),
                warning: None,
            })
        })
    }

    /// Mints what `req` asks for: the crafted token made from the genuine one, or the genuine
    /// token itself when it asks for no crafting.
    pub fn craft(&self, req: &MintRequest) -> Result<MintedToken> {
        if !req.is_crafted() {
            return self.mint(&req.step);
        }
        self.with_genuine(&req.step, |genuine, _| {
            Ok(hostile::craft(self, genuine, req)?.into())
        })
    }

    /// Runs `then` on the genuine header and claims for `req` and the key that would sign them.
    fn with_genuine<T>(
        &self,
        req: &StepRequest,
        then: impl FnOnce(Genuine<'_>, &SigningKey) -> Result<T>,
    ) -> Result<T> {
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
        let genuine = Genuine {
            workspace: &served.workspace,
            issuer: &served.issuer,
            header,
            claims,
            now,
        };
        then(genuine, key)
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
