//! The key material a [`Signer`] names, fetched once from the workspace's ring or the armory:
//! raw surgery and recipes both sign through here, so the two cannot disagree on what a signer
//! means (they once parsed it separately, with different vocabularies).

use std::sync::Arc;

use super::armory::Armory;
use super::attacker::AttackerKeys;
use super::forge::Sig;
use crate::encoding::pem_encode;
use crate::error::{Error, Result};
use crate::keys::SigningKey;
use crate::token::Signer;
use crate::workspace::Workspace;

/// What signs: owned, so a caller can borrow a [`Sig`] from it for as long as it needs.
pub(crate) enum Material {
    /// A key with its own algorithm.
    Key(Arc<SigningKey>),
    /// One of the attacker's keys.
    Attacker(Arc<AttackerKeys>, fn(&AttackerKeys) -> &SigningKey),
    /// RSASSA-PSS with an RSA key.
    Ps256(Arc<SigningKey>),
    /// HMAC-SHA256 with these key bytes.
    Hmac(Vec<u8>),
    /// No signature.
    Empty,
}

impl Material {
    /// The material `signer` names. `field` is the request field an error names.
    pub(crate) fn of(
        signer: &Signer,
        armory: &dyn Armory,
        workspace: &Workspace,
        field: &str,
    ) -> Result<Material> {
        let active = || workspace.keys.active().clone();
        Ok(match signer {
            Signer::Workspace => Material::Key(active()),
            Signer::Ps256 => Material::Ps256(active()),
            Signer::None => Material::Empty,
            Signer::Hs256(secret) => Material::Hmac(secret.as_bytes().to_vec()),
            Signer::Hs256PublicPem => Material::Hmac(
                pem_encode("PUBLIC KEY", &workspace.keys.active().public_spki_der()?).into_bytes(),
            ),
            Signer::Hs256PublicDer => Material::Hmac(workspace.keys.active().public_spki_der()?),
            Signer::AttackerRs256 => Material::Attacker(armory.attacker()?, |a| &a.rs256),
            Signer::AttackerEs256 => Material::Attacker(armory.attacker()?, |a| &a.es256),
            Signer::AttackerEddsa => Material::Attacker(armory.attacker()?, |a| &a.eddsa),
            Signer::Kid(kid) => {
                let entry = workspace.keys.find(kid).ok_or_else(|| {
                    Error::invalid(
                        field,
                        format!("no key `{kid}` in workspace `{}`", workspace.slug),
                    )
                })?;
                Material::Key(entry.key.clone())
            }
        })
    }

    /// The signature maker borrowed from this material.
    pub(crate) fn sig(&self) -> Sig<'_> {
        match self {
            Material::Key(k) => Sig::Key(k),
            Material::Attacker(keys, pick) => Sig::Key(pick(keys)),
            Material::Ps256(k) => Sig::Ps256(k),
            Material::Hmac(secret) => Sig::Hmac(secret.clone()),
            Material::Empty => Sig::Empty,
        }
    }

    /// The `alg` and `kid` a header honestly declares for this material.
    pub(crate) fn declared(&self) -> (&'static str, Option<String>) {
        match self {
            Material::Key(k) => (k.alg().as_str(), Some(k.kid().to_string())),
            Material::Attacker(keys, pick) => {
                let k = pick(keys);
                (k.alg().as_str(), Some(k.kid().to_string()))
            }
            Material::Ps256(k) => ("PS256", Some(k.kid().to_string())),
            Material::Hmac(_) => ("HS256", None),
            Material::Empty => ("none", None),
        }
    }
}
