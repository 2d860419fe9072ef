//! Token-signing keys: generation, persistence, their public JWK form, and a workspace's ring.
//!
//! Bitbucket signs step tokens with RSA keys under RS256; ES256 (P-256) and EdDSA (Ed25519) keys
//! can be added for the catalogue cases that need them. A key's `kid` is its RFC 7638 thumbprint,
//! so the same key always has the same `kid` and a tampered key file is detected on load.
//! Signing uses aws-lc-rs on a key parsed once and held in memory (jsonwebtoken's `crypto::sign`
//! re-parses the DER on every call). The public JWK type has no private members at all, so none
//! can ever be serialised.

mod ring;
mod signing;

pub use ring::{KeyEntry, KeyRing, KeyState, KeyStatus, KeyView};
pub use signing::{KeyAlg, PublicJwk, RS256, SigningKey, rsa_thumbprint, thumbprint, validate_kid};
