//! The attacker's keys, and the documents a relying party that follows `jku`/`x5u` would fetch.
//!
//! Persisted in the data directory's `attacker/` so crafted tokens are repeatable; served by the
//! issuer itself under `/_stepmint/v1/attacker/{slug}/`, so a relying party that follows the
//! header visibly fetches them (the request log shows it) and accepts.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::keys::{KeyAlg, SigningKey};
use crate::store::{self, DataDir};

/// The attacker's keys.
#[derive(Debug)]
pub struct AttackerKeys {
    /// An RSA-2048 key the issuer never published.
    pub rs256: SigningKey,
    /// A P-256 key the issuer never published.
    pub es256: SigningKey,
    /// An Ed25519 key the issuer never published.
    pub eddsa: SigningKey,
    /// The certificate for `rs256`, made on first use (every `x5u` fetch serves it).
    cert: std::sync::OnceLock<String>,
}

impl AttackerKeys {
    /// Loads the attacker's keys from `data`, creating them once. Hold the directory lock.
    pub fn load_or_create(data: &DataDir, now: i64) -> Result<AttackerKeys> {
        let load = |alg: KeyAlg| -> Result<SigningKey> {
            let path = data.attacker_key(&alg.as_str().to_ascii_lowercase());
            match store::read_optional(&path)? {
                Some(pem) => {
                    SigningKey::from_pkcs8_pem(alg, &pem, 0).map_err(|e| Error::corrupt(&path, e))
                }
                None => {
                    let key = SigningKey::generate(alg, now)?;
                    store::write_atomic(&path, key.to_pkcs8_pem()?.as_bytes())?;
                    Ok(key)
                }
            }
        };
        Ok(AttackerKeys {
            rs256: load(KeyAlg::Rs256)?,
            es256: load(KeyAlg::Es256)?,
            eddsa: load(KeyAlg::EdDsa)?,
            cert: std::sync::OnceLock::new(),
        })
    }

    /// A JWKS holding the attacker's RSA key filed under `kid` (the trusted key's id).
    pub fn jwks_as(&self, kid: &str) -> Value {
        let mut jwk = self.rs256.public_jwk().clone();
        jwk.kid = kid.to_string();
        json!({ "keys": [jwk] })
    }

    /// A self-signed certificate (PEM) for the attacker's RSA key, for `x5u`.
    pub fn cert_pem(&self) -> Result<String> {
        if let Some(pem) = self.cert.get() {
            return Ok(pem.clone());
        }
        let pem = self.rs256.to_pkcs8_pem()?;
        let key =
            KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &PKCS_RSA_SHA256).map_err(Error::crypto)?;
        let mut params =
            CertificateParams::new(vec!["attacker.invalid".to_string()]).map_err(Error::crypto)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "attacker.invalid");
        params.distinguished_name = dn;
        let made = params.self_signed(&key).map_err(Error::crypto)?.pem();
        Ok(self.cert.get_or_init(|| made).clone())
    }
}
