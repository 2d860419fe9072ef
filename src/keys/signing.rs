//! One signing key: generation, PKCS#8 persistence form, signing, and its public JWK with an
//! RFC 7638 thumbprint `kid`.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RSA_PSS_SHA256, RsaKeyPair,
};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

use crate::encoding::{b64url, pem_encode};
use crate::error::{Error, Result};

/// The signature algorithm Bitbucket uses for step tokens.
pub const RS256: &str = "RS256";

/// The algorithm a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum KeyAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA-2048 (Bitbucket's).
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl KeyAlg {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Es256 => "ES256",
            KeyAlg::EdDsa => "EdDSA",
        }
    }

    /// Parses a JOSE name (`RS256`, `ES256`, `EdDSA`).
    pub fn parse(text: &str) -> Result<KeyAlg> {
        // Any case: `es256` is what people type.
        match text.to_ascii_uppercase().as_str() {
            "RS256" => Ok(KeyAlg::Rs256),
            "ES256" => Ok(KeyAlg::Es256),
            "EDDSA" => Ok(KeyAlg::EdDsa),
            other => Err(Error::invalid(
                "alg",
                format!("`{other}` is not a key algorithm (RS256, ES256, EdDSA)"),
            )),
        }
    }
}

impl std::fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The public half of a key, as published in `keys.json`. Members absent for a key type are
/// omitted. There is deliberately no field for any private member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// `RSA`, `EC` or `OKP`.
    pub kty: String,
    /// The RFC 7638 thumbprint of the key.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Curve (`P-256`, `Ed25519`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Curve point x, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Curve point y, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private signing key with its thumbprint `kid`.
pub struct SigningKey {
    alg: KeyAlg,
    material: Material,
    jwk: PublicJwk,
    created: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key (RSA keys are 2048-bit).
    pub fn generate(alg: KeyAlg, created: i64) -> Result<SigningKey> {
        let material = match alg {
            KeyAlg::Rs256 => {
                Material::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).map_err(Error::crypto)?)
            }
            KeyAlg::Es256 => Material::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(Error::crypto)?,
            ),
            KeyAlg::EdDsa => Material::Ed(Ed25519KeyPair::generate().map_err(Error::crypto)?),
        };
        Ok(Self::from_material(alg, material, created))
    }

    /// Parses a PKCS#8 PEM private key of the given algorithm.
    pub fn from_pkcs8_pem(alg: KeyAlg, pem: &[u8], created: i64) -> Result<SigningKey> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem).map_err(Error::crypto)?;
        let der = der.secret_pkcs8_der();
        let material = match alg {
            KeyAlg::Rs256 => Material::Rsa(RsaKeyPair::from_pkcs8(der).map_err(Error::crypto)?),
            KeyAlg::Es256 => Material::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(Error::crypto)?,
            ),
            KeyAlg::EdDsa => Material::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(Error::crypto)?),
        };
        Ok(Self::from_material(alg, material, created))
    }

    fn from_material(alg: KeyAlg, material: Material, created: i64) -> SigningKey {
        let mut jwk = PublicJwk {
            kty: String::new(),
            kid: String::new(),
            use_: "sig".into(),
            alg: alg.as_str().into(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        };
        match &material {
            Material::Rsa(pair) => {
                let public = pair.public_key();
                jwk.kty = "RSA".into();
                jwk.n = Some(b64url(public.modulus().big_endian_without_leading_zero()));
                jwk.e = Some(b64url(public.exponent().big_endian_without_leading_zero()));
            }
            Material::Ec(pair) => {
                // Uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                jwk.kty = "EC".into();
                jwk.crv = Some("P-256".into());
                jwk.x = point.get(1..33).map(b64url);
                jwk.y = point.get(33..65).map(b64url);
            }
            Material::Ed(pair) => {
                jwk.kty = "OKP".into();
                jwk.crv = Some("Ed25519".into());
                jwk.x = Some(b64url(pair.public_key().as_ref()));
            }
        }
        jwk.kid = thumbprint(&jwk);
        SigningKey {
            alg,
            material,
            jwk,
            created,
        }
    }

    /// The PKCS#8 PEM encoding of the private key (for the data directory only).
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        let der: Vec<u8> = match &self.material {
            Material::Rsa(p) => p.as_der().map_err(Error::crypto)?.as_ref().to_vec(),
            Material::Ec(p) => p.to_pkcs8v1().map_err(Error::crypto)?.as_ref().to_vec(),
            Material::Ed(p) => AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(p)
                .map_err(Error::crypto)?
                .as_ref()
                .to_vec(),
        };
        Ok(pem_encode("PRIVATE KEY", &der))
    }

    /// The key's algorithm.
    pub fn alg(&self) -> KeyAlg {
        self.alg
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

    /// The public key as an X.509 SubjectPublicKeyInfo, DER (for PEM/DER key-confusion cases).
    pub fn public_spki_der(&self) -> Result<Vec<u8>> {
        fn der(key: &impl AsDer<PublicKeyX509Der<'static>>) -> Result<Vec<u8>> {
            Ok(key.as_der().map_err(Error::crypto)?.as_ref().to_vec())
        }
        match &self.material {
            Material::Rsa(p) => der(p.public_key()),
            Material::Ec(p) => der(p.public_key()),
            Material::Ed(p) => der(p.public_key()),
        }
    }

    /// A signature over `message` with the key's own algorithm, in JWS form.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.material {
            Material::Rsa(pair) => rsa_sign(pair, &RSA_PKCS1_SHA256, message),
            Material::Ec(pair) => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                Ok(pair
                    .sign(&rng, message)
                    .map_err(Error::crypto)?
                    .as_ref()
                    .to_vec())
            }
            Material::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    /// An RSASSA-PSS SHA-256 signature (PS256) with an RSA key: a signature of the wrong scheme
    /// for an RS256 key, used only by the hostile catalogue.
    pub(crate) fn sign_ps256(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.material {
            Material::Rsa(pair) => rsa_sign(pair, &RSA_PSS_SHA256, message),
            _ => Err(Error::crypto("PS256 needs an RSA key")),
        }
    }
}

fn rsa_sign(
    pair: &RsaKeyPair,
    padding: &'static dyn aws_lc_rs::signature::RsaEncoding,
    message: &[u8],
) -> Result<Vec<u8>> {
    let mut sig = vec![0u8; pair.public_modulus_len()];
    let rng = aws_lc_rs::rand::SystemRandom::new();
    pair.sign(padding, &rng, message, &mut sig)
        .map_err(Error::crypto)?;
    Ok(sig)
}

/// The RFC 7638 (and RFC 8037 for OKP) SHA-256 thumbprint of a public JWK.
pub fn thumbprint(jwk: &PublicJwk) -> String {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    // Required members only, in lexicographic order, no whitespace.
    let canonical = match jwk.kty.as_str() {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s(&jwk.e), s(&jwk.n)),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s(&jwk.crv),
            s(&jwk.x),
            s(&jwk.y)
        ),
        _ => format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#,
            s(&jwk.crv),
            jwk.kty,
            s(&jwk.x)
        ),
    };
    b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

/// The RFC 7638 thumbprint of an RSA key given its base64url `n` and `e`.
pub fn rsa_thumbprint(n: &str, e: &str) -> String {
    thumbprint(&PublicJwk {
        kty: "RSA".into(),
        kid: String::new(),
        use_: String::new(),
        alg: String::new(),
        n: Some(n.into()),
        e: Some(e.into()),
        crv: None,
        x: None,
        y: None,
    })
}

/// Checks that `kid` looks like a key id Stepmint makes (an RFC 7638 thumbprint: 1-128
/// base64url characters), so a name typed on the command line cannot be a path.
pub fn validate_kid(kid: &str) -> Result<()> {
    if !kid.is_empty()
        && kid.len() <= 128
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "kid",
            format!(
                "`{}` is not a key id (1-128 of A-Z a-z 0-9 - _; `stepmint keys list` shows them)",
                crate::encoding::printable(kid)
            ),
        ))
    }
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
    fn okp_thumbprint_matches_rfc8037_example() {
        // RFC 8037 appendix A.3.
        let jwk = PublicJwk {
            kty: "OKP".into(),
            kid: String::new(),
            use_: String::new(),
            alg: String::new(),
            n: None,
            e: None,
            crv: Some("Ed25519".into()),
            x: Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into()),
            y: None,
        };
        assert_eq!(
            thumbprint(&jwk),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn every_alg_round_trips_through_pem_and_has_no_private_members() {
        for alg in [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::EdDsa] {
            let key = SigningKey::generate(alg, 5).unwrap();
            let again =
                SigningKey::from_pkcs8_pem(alg, key.to_pkcs8_pem().unwrap().as_bytes(), 5).unwrap();
            assert_eq!(key.public_jwk(), again.public_jwk());
            let json = serde_json::to_value(key.public_jwk()).unwrap();
            for m in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(json.get(m).is_none(), "{alg}: {json}");
            }
            assert_eq!(json["alg"], alg.as_str());
            let sig = key.sign(b"msg").unwrap();
            let expected_len = match alg {
                KeyAlg::Rs256 => 256,
                _ => 64,
            };
            assert_eq!(sig.len(), expected_len);
        }
    }
}
