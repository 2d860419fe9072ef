//! Token-signing keys: generation, persistence, and their public JWK form.
//!
//! Bitbucket signs step tokens with RSA keys under RS256, so each workspace has a key ring of
//! RSA-2048 keys. A key's `kid` is its RFC 7638 thumbprint, so the same key always has the same
//! `kid` and a tampered key file is detected on load. Signing uses aws-lc-rs on a parsed key held
//! in memory (jsonwebtoken's `crypto::sign` re-parses the DER on every call, which would cost a
//! visible share of each mint); the JWK exposes only `n` and `e`: private members have no field
//! to be serialised from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

use crate::encoding::{b64url, pem_encode};
use crate::error::{Error, Result};
use crate::store;

/// The signature algorithm Bitbucket uses for step tokens.
pub const RS256: &str = "RS256";

/// The public half of a signing key, as published in `keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// Always `RSA`.
    pub kty: String,
    /// The RFC 7638 thumbprint of the key.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Always `RS256`.
    pub alg: String,
    /// The modulus, base64url.
    pub n: String,
    /// The public exponent, base64url.
    pub e: String,
}

/// An RSA signing key with its thumbprint `kid`.
pub struct SigningKey {
    pair: RsaKeyPair,
    jwk: PublicJwk,
    created: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh RSA-2048 key.
    pub fn generate(created: i64) -> Result<SigningKey> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(Error::crypto)?;
        Ok(Self::from_pair(pair, created))
    }

    /// Parses a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(pem: &[u8], created: i64) -> Result<SigningKey> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem).map_err(Error::crypto)?;
        let pair = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(Error::crypto)?;
        Ok(Self::from_pair(pair, created))
    }

    fn from_pair(pair: RsaKeyPair, created: i64) -> SigningKey {
        let public = pair.public_key();
        let n = b64url(public.modulus().big_endian_without_leading_zero());
        let e = b64url(public.exponent().big_endian_without_leading_zero());
        let kid = rsa_thumbprint(&n, &e);
        SigningKey {
            pair,
            jwk: PublicJwk {
                kty: "RSA".into(),
                kid,
                use_: "sig".into(),
                alg: RS256.into(),
                n,
                e,
            },
            created,
        }
    }

    /// The PKCS#8 PEM encoding of the private key (for the data directory only).
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        let der = self.pair.as_der().map_err(Error::crypto)?;
        Ok(pem_encode("PRIVATE KEY", der.as_ref()))
    }

    /// The key id (RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// When the key was created (Unix seconds).
    pub fn created(&self) -> i64 {
        self.created
    }

    /// The public JWK.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// An RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
            .map_err(Error::crypto)?;
        Ok(sig)
    }
}

/// The RFC 7638 SHA-256 thumbprint of an RSA key given its base64url `n` and `e`.
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    // Members in lexicographic order, no whitespace: the canonical form RFC 7638 hashes.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyRingFile {
    active: String,
    keys: Vec<KeyRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyRecord {
    kid: String,
    alg: String,
    created: i64,
}

/// A workspace's signing keys, the active one first among equals.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<Arc<SigningKey>>,
    active: usize,
}

impl KeyRing {
    /// Loads the ring kept in `dir` (a workspace directory), creating a first key if there is none.
    pub fn load_or_create(dir: &Path, now: i64) -> Result<KeyRing> {
        let ring_path = dir.join("keys.json");
        let Some(file) = store::read_json::<KeyRingFile>(&ring_path)? else {
            let key = SigningKey::generate(now)?;
            store::write_atomic(&key_path(dir, key.kid()), key.to_pkcs8_pem()?.as_bytes())?;
            let ring = KeyRing {
                keys: vec![Arc::new(key)],
                active: 0,
            };
            ring.save(dir)?;
            return Ok(ring);
        };
        let mut keys = Vec::with_capacity(file.keys.len());
        for record in &file.keys {
            let path = key_path(dir, &record.kid);
            if record.alg != RS256 {
                return Err(Error::corrupt(
                    &ring_path,
                    format!("key {} has unsupported alg {}", record.kid, record.alg),
                ));
            }
            let pem = store::read_optional(&path)?.ok_or_else(|| {
                Error::corrupt(
                    &ring_path,
                    format!("lists key {} but {} is missing", record.kid, path.display()),
                )
            })?;
            let key = SigningKey::from_pkcs8_pem(&pem, record.created)
                .map_err(|e| Error::corrupt(&path, format!("not a usable RSA private key: {e}")))?;
            if key.kid() != record.kid {
                return Err(Error::corrupt(
                    &path,
                    format!(
                        "its thumbprint is {}, not the kid {} it is filed under",
                        key.kid(),
                        record.kid
                    ),
                ));
            }
            keys.push(Arc::new(key));
        }
        let active = keys
            .iter()
            .position(|k| k.kid() == file.active)
            .ok_or_else(|| {
                Error::corrupt(
                    &ring_path,
                    format!("active key {} is not in the ring", file.active),
                )
            })?;
        Ok(KeyRing { keys, active })
    }

    fn save(&self, dir: &Path) -> Result<()> {
        let file = KeyRingFile {
            active: self.active().kid().to_string(),
            keys: self
                .keys
                .iter()
                .map(|k| KeyRecord {
                    kid: k.kid().to_string(),
                    alg: RS256.to_string(),
                    created: k.created(),
                })
                .collect(),
        };
        store::write_json(&dir.join("keys.json"), &file)
    }

    /// The key new tokens are signed with.
    pub fn active(&self) -> &Arc<SigningKey> {
        &self.keys[self.active]
    }

    /// Every key in the ring.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }

    /// The keys published in the JWKS.
    pub fn published(&self) -> impl Iterator<Item = &PublicJwk> {
        self.keys.iter().map(|k| k.public_jwk())
    }
}

fn key_path(dir: &Path, kid: &str) -> PathBuf {
    dir.join("keys").join(format!("{kid}.pem"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // RFC 7638 section 3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            rsa_thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ring_persists_and_detects_tampering() {
        let tmp = tempfile::tempdir().unwrap();
        let ring = KeyRing::load_or_create(tmp.path(), 100).unwrap();
        let again = KeyRing::load_or_create(tmp.path(), 200).unwrap();
        assert_eq!(ring.active().kid(), again.active().kid());
        assert_eq!(again.active().created(), 100);

        // Swap the key file for another valid key: the kid no longer matches.
        let other = SigningKey::generate(0).unwrap();
        std::fs::write(
            key_path(tmp.path(), ring.active().kid()),
            other.to_pkcs8_pem().unwrap(),
        )
        .unwrap();
        let err = KeyRing::load_or_create(tmp.path(), 0).unwrap_err();
        assert!(err.to_string().contains(".pem"), "{err}");
    }

    #[test]
    fn jwk_has_no_private_members() {
        let key = SigningKey::generate(0).unwrap();
        let json = serde_json::to_value(key.public_jwk()).unwrap();
        let names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(names, ["kty", "kid", "use", "alg", "n", "e"]);
    }
}
