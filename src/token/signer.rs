//! Who signs a crafted token: one vocabulary for a mint request's `sign_with`, an edit's
//! `sign`, a recipe file, the fuzzer and the CLI's `--sign-with`. It is written as text
//! (`attacker-rs256`, `hs256:SECRET`, `kid:KID`) so recipes stay readable, and parsed here once;
//! `hostile` turns it into key material.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A signer of a crafted token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Signer {
    /// The workspace's active key, with its own algorithm (`workspace`).
    Workspace,
    /// Any key of the workspace's ring by `kid`, staged or retired too (`kid:KID`).
    Kid(String),
    /// The workspace's active RSA key with RSASSA-PSS (`ps256`): only the issuer could make
    /// it, but Bitbucket signs with RS256.
    Ps256,
    /// An RSA-2048 key the issuer never published (`attacker-rs256`).
    AttackerRs256,
    /// A P-256 key the issuer never published (`attacker-es256`).
    AttackerEs256,
    /// An Ed25519 key the issuer never published (`attacker-eddsa`).
    AttackerEddsa,
    /// HMAC-SHA256 with a secret of the attacker's choosing (`hs256:SECRET`).
    Hs256(String),
    /// HMAC-SHA256 keyed with the issuer's public key as PEM text (`hs256-public-pem`): the
    /// algorithm-confusion attack.
    Hs256PublicPem,
    /// HMAC-SHA256 keyed with the issuer's public key as DER (`hs256-public-der`).
    Hs256PublicDer,
    /// No signature at all (`none`).
    None,
}

impl Signer {
    /// Every form [`Signer::from_str`] accepts, for messages and help.
    pub const FORMS: &'static str = "workspace, kid:KID, ps256, attacker-rs256, attacker-es256, attacker-eddsa, hs256:SECRET, hs256-public-pem, hs256-public-der, none";

    /// Whether the signature is made with one of the issuer's own keys, so it is as good as a
    /// genuine one (anything else, anyone can make).
    pub fn is_issuers_key(&self) -> bool {
        matches!(self, Signer::Workspace | Signer::Kid(_) | Signer::Ps256)
    }
}

impl FromStr for Signer {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let signer = match text {
            "workspace" => Signer::Workspace,
            "ps256" => Signer::Ps256,
            "attacker-rs256" => Signer::AttackerRs256,
            "attacker-es256" => Signer::AttackerEs256,
            "attacker-eddsa" => Signer::AttackerEddsa,
            "hs256-public-pem" => Signer::Hs256PublicPem,
            "hs256-public-der" => Signer::Hs256PublicDer,
            "none" => Signer::None,
            _ => match (text.strip_prefix("kid:"), text.strip_prefix("hs256:")) {
                (Some(kid), _) if !kid.is_empty() => Signer::Kid(kid.to_string()),
                (_, Some(secret)) => Signer::Hs256(secret.to_string()),
                _ => {
                    return Err(Error::invalid(
                        "sign_with",
                        format!("`{text}` is not a signer ({})", Signer::FORMS),
                    ));
                }
            },
        };
        Ok(signer)
    }
}

impl TryFrom<String> for Signer {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Error> {
        text.parse()
    }
}

impl From<Signer> for String {
    fn from(signer: Signer) -> String {
        signer.to_string()
    }
}

impl fmt::Display for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Workspace => f.write_str("workspace"),
            Signer::Kid(kid) => write!(f, "kid:{kid}"),
            Signer::Ps256 => f.write_str("ps256"),
            Signer::AttackerRs256 => f.write_str("attacker-rs256"),
            Signer::AttackerEs256 => f.write_str("attacker-es256"),
            Signer::AttackerEddsa => f.write_str("attacker-eddsa"),
            Signer::Hs256(secret) => write!(f, "hs256:{secret}"),
            Signer::Hs256PublicPem => f.write_str("hs256-public-pem"),
            Signer::Hs256PublicDer => f.write_str("hs256-public-der"),
            Signer::None => f.write_str("none"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_back_as_written() {
        for text in Signer::FORMS.split(", ") {
            let text = text.replace("KID", "k1").replace("SECRET", "s3cret");
            let signer: Signer = text.parse().unwrap();
            assert_eq!(signer.to_string(), text);
            let json = serde_json::to_string(&signer).unwrap();
            assert_eq!(serde_json::from_str::<Signer>(&json).unwrap(), signer);
        }
    }

    #[test]
    fn unknown_forms_are_refused_with_the_vocabulary() {
        for bad in ["", "kid:", "attacker-ps256", "HS256:x", "rs256"] {
            let err = bad.parse::<Signer>().unwrap_err().to_string();
            assert!(err.contains("is not a signer"), "{bad}: {err}");
            assert!(err.contains("hs256-public-der"), "{err}");
        }
        assert!(serde_json::from_str::<Signer>("\"nobody\"").is_err());
    }

    #[test]
    fn only_the_issuers_keys_count_as_genuine() {
        assert!(Signer::Kid("k".into()).is_issuers_key());
        assert!(Signer::Ps256.is_issuers_key());
        assert!(!Signer::Hs256PublicPem.is_issuers_key());
        assert!(!Signer::None.is_issuers_key());
    }
}
