//! What a case builder works from: plain data, gathered before crafting. The genuine claims and
//! header, the workspace (its slug and keys), the issuer URL, and whatever material the case
//! declared it [needs](super::Needs) (the attacker's keys, a staged key).

use serde_json::{Map, Value};

use super::attacker::AttackerKeys;
use super::forge::{Forged, Sig, signed};
use crate::error::{Error, Result};
use crate::keys::SigningKey;
use crate::workspace::Workspace;

/// Everything a builder may use.
pub(crate) struct Ctx<'a> {
    /// The workspace the token is for.
    pub workspace: &'a Workspace,
    /// Its issuer URL (`iss`).
    pub issuer: &'a str,
    /// The public base URL, under which the attacker's documents are served.
    pub public_url: &'a str,
    pub now: i64,
    /// The genuine claims for the request.
    pub claims: Map<String, Value>,
    /// The genuine header (`alg`, `kid`, `typ`, plus the request's overrides).
    pub header: Map<String, Value>,
    /// The attacker's keys, for cases that need them.
    pub attacker: Option<&'a AttackerKeys>,
    /// A staged key of the workspace, for cases that need one.
    pub staged: Option<&'a SigningKey>,
}

impl Ctx<'_> {
    pub fn active(&self) -> &SigningKey {
        self.workspace.keys.active()
    }

    pub fn genuine(&self) -> Sig<'_> {
        Sig::Key(self.active())
    }

    pub fn attacker(&self) -> Result<&AttackerKeys> {
        self.attacker
            .ok_or_else(|| missing("the attacker's keys (declare `Needs::Attacker`)"))
    }

    pub fn staged(&self) -> Result<&SigningKey> {
        self.staged
            .ok_or_else(|| missing("a staged key (declare `Needs::StagedKey`)"))
    }

    pub fn trusted_kid(&self) -> String {
        self.active().kid().to_string()
    }

    /// The genuine token with its claims changed.
    pub fn with_claims(&self, change: impl FnOnce(&mut Map<String, Value>, i64)) -> Result<Forged> {
        let mut claims = self.claims.clone();
        change(&mut claims, self.now);
        signed(&self.header, &claims, &self.genuine())
    }

    /// The issuer URL with `f` applied to it, signed genuinely. When `f` changes nothing (an
    /// `http://` issuer, a slug without letters) the case does not apply.
    pub fn with_iss(&self, f: impl FnOnce(&str) -> String) -> Result<Forged> {
        let iss = f(self.issuer);
        if iss == self.issuer {
            return Err(Error::invalid(
                "case",
                "not applicable: the change leaves this issuer URL as it is",
            ));
        }
        self.with_claims(|c, _| {
            c.insert("iss".into(), iss.into());
        })
    }
}

fn missing(what: &str) -> Error {
    Error::invalid("case", format!("this case was built without {what}"))
}
