//! The verification side of keys: a JWKS taken apart member by member, each key checked for
//! what it may verify, and the set checked for ambiguity.
//!
//! Raw members are inspected before any conversion, because the rules that matter are about
//! what the JWK *says*: `use`, `key_ops`, `alg`, `crv`, key size, exponent, and whether the set
//! mixes secret and public keys or files two keys under one `kid` (both ambiguous: refused).

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::encoding::b64url_decode;
use crate::error::{Error, Result};

/// A JSON Web Key Set ready for verification. Each key's material is decoded and checked once,
/// when the set is parsed (RSA size, exponent and the ROCA test are not per-token work).
#[derive(Clone)]
pub struct KeySet {
    keys: Vec<Prepared>,
    ambiguity: Option<String>,
}

#[derive(Clone)]
struct Prepared {
    jwk: Map<String, Value>,
    material: Result<Material, String>,
}

#[derive(Clone)]
enum Material {
    Rsa(DecodingKey),
    Ec { crv: String, key: DecodingKey },
    Ed(DecodingKey),
    Oct { len: usize, key: DecodingKey },
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("keys", &self.keys.len())
            .field("ambiguity", &self.ambiguity)
            .finish()
    }
}

impl KeySet {
    /// Parses a JWKS (`{"keys": [...]}`) or a single JWK.
    pub fn from_json(bytes: &[u8]) -> Result<KeySet> {
        let value =
            super::strict_json::parse_object(bytes, 8).map_err(|e| Error::invalid("jwks", e))?;
        Self::from_value(Value::Object(value))
    }

    /// As [`KeySet::from_json`], from parsed JSON.
    pub fn from_value(value: Value) -> Result<KeySet> {
        let keys = match value {
            Value::Object(mut o) if o.contains_key("keys") => match o.remove("keys") {
                Some(Value::Array(a)) => a,
                _ => return Err(Error::invalid("jwks", "`keys` is not an array")),
            },
            Value::Object(o) if o.contains_key("kty") => vec![Value::Object(o)],
            _ => return Err(Error::invalid("jwks", "neither a JWK Set nor a JWK")),
        };
        let keys: Vec<Map<String, Value>> = keys
            .into_iter()
            .map(|k| match k {
                Value::Object(o) => Ok(o),
                _ => Err(Error::invalid("jwks", "a key that is not a JSON object")),
            })
            .collect::<Result<_>>()?;
        let symmetric = keys
            .iter()
            .filter(|k| k.get("kty").and_then(Value::as_str) == Some("oct"))
            .count();
        let mut ambiguity = None;
        if symmetric > 0 && symmetric < keys.len() {
            ambiguity = Some("the key set mixes secret (oct) and public keys".to_string());
        }
        let mut kids: Vec<&str> = keys
            .iter()
            .filter_map(|k| k.get("kid").and_then(Value::as_str))
            .collect();
        kids.sort_unstable();
        if let Some(w) = kids.windows(2).find(|w| w[0] == w[1]) {
            ambiguity = Some(format!("two keys share the kid `{}`", w[0]));
        }
        let keys = keys
            .into_iter()
            .map(|jwk| Prepared {
                material: material(&jwk),
                jwk,
            })
            .collect();
        Ok(KeySet { keys, ambiguity })
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key with `kid` is in the set.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.jwk.get("kid").and_then(Value::as_str) == Some(kid))
    }

    /// The keys that may verify a token with `alg` and `kid`, or why none may.
    pub(crate) fn select(
        &self,
        alg: Algorithm,
        alg_name: &str,
        kid: Option<&str>,
    ) -> std::result::Result<Vec<&DecodingKey>, String> {
        self.select_with(alg, alg_name, kid, true)
    }

    /// The keys that could verify an `alg` signature as go-jose picks them (Vault's and
    /// OpenBao's JWT auth): by `kid` when the token has one, else every key; a key's own
    /// `alg`, `use` and `key_ops` are not consulted, only whether its type fits `alg`.
    pub fn select_as_go_jose(
        &self,
        alg: Algorithm,
        alg_name: &str,
        kid: Option<&str>,
    ) -> std::result::Result<Vec<&DecodingKey>, String> {
        self.select_with(alg, alg_name, kid, false)
    }

    fn select_with(
        &self,
        alg: Algorithm,
        alg_name: &str,
        kid: Option<&str>,
        strict: bool,
    ) -> std::result::Result<Vec<&DecodingKey>, String> {
        if let Some(why) = self.ambiguity.as_ref().filter(|_| strict) {
            return Err(why.clone());
        }
        let candidates: Vec<&Prepared> = match kid {
            Some(kid) => self
                .keys
                .iter()
                .filter(|k| k.jwk.get("kid").and_then(Value::as_str) == Some(kid))
                .collect(),
            None => self.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(match kid {
                Some(kid) => format!("no key with kid `{kid}` in the key set"),
                None => "the key set is empty".into(),
            });
        }
        let mut usable = Vec::new();
        let mut last_reason = String::new();
        for key in candidates {
            match usable_key(key, alg, alg_name, strict) {
                Ok(k) => usable.push(k),
                Err(why) => last_reason = why,
            }
        }
        if usable.is_empty() {
            Err(last_reason)
        } else {
            Ok(usable)
        }
    }
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn bytes_of(jwk: &Map<String, Value>, name: &str) -> std::result::Result<Vec<u8>, String> {
    member(jwk, name)
        .and_then(b64url_decode)
        .ok_or_else(|| format!("the key's `{name}` is missing or not base64url"))
}

/// Decodes and checks a key's material once: what kind of key it is and whether it is sound.
fn material(jwk: &Map<String, Value>) -> std::result::Result<Material, String> {
    match member(jwk, "kty").unwrap_or_default() {
        "oct" => {
            let k = bytes_of(jwk, "k")?;
            Ok(Material::Oct {
                len: k.len(),
                key: DecodingKey::from_secret(&k),
            })
        }
        "RSA" => {
            let n = bytes_of(jwk, "n")?;
            let e = bytes_of(jwk, "e")?;
            let bits = modulus_bits(&n);
            if bits < 2048 {
                return Err(format!(
                    "the RSA key has {bits} bits; at least 2048 are required"
                ));
            }
            let e_value = if e.len() <= 8 {
                e.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b))
            } else {
                0
            };
            if e_value < 3 || e_value % 2 == 0 {
                return Err("the RSA public exponent is not an odd number of at least 3".into());
            }
            if roca_fingerprint(&n) {
                return Err("the RSA key has the ROCA fingerprint (CVE-2017-15361)".into());
            }
            DecodingKey::from_rsa_components(
                member(jwk, "n").unwrap_or_default(),
                member(jwk, "e").unwrap_or_default(),
            )
            .map(Material::Rsa)
            .map_err(|e| format!("unusable RSA key: {e}"))
        }
        "EC" => {
            let crv = member(jwk, "crv").unwrap_or_default().to_string();
            let size = match crv.as_str() {
                "P-256" => 32,
                "P-384" => 48,
                other => return Err(format!("unsupported curve {other:?}")),
            };
            if bytes_of(jwk, "x")?.len() != size || bytes_of(jwk, "y")?.len() != size {
                return Err(format!("the {crv} point coordinates are not {size} bytes"));
            }
            DecodingKey::from_ec_components(
                member(jwk, "x").unwrap_or_default(),
                member(jwk, "y").unwrap_or_default(),
            )
            .map(|key| Material::Ec { crv, key })
            .map_err(|e| format!("unusable EC key: {e}"))
        }
        "OKP" => {
            if member(jwk, "crv") != Some("Ed25519") || bytes_of(jwk, "x")?.len() != 32 {
                return Err("only Ed25519 OKP keys of 32 bytes are supported".into());
            }
            DecodingKey::from_ed_components(member(jwk, "x").unwrap_or_default())
                .map(Material::Ed)
                .map_err(|e| format!("unusable Ed25519 key: {e}"))
        }
        other => Err(format!("unsupported key type {other:?}")),
    }
}

/// Checks that a key may verify `alg` (use, key_ops, alg, type, curve, secret length).
fn usable_key<'a>(
    key: &'a Prepared,
    alg: Algorithm,
    alg_name: &str,
    strict: bool,
) -> std::result::Result<&'a DecodingKey, String> {
    let jwk = &key.jwk;
    if !strict {
        return material_for(jwk, key, alg, alg_name);
    }
    if let Some(u) = jwk.get("use")
        && u.as_str() != Some("sig")
    {
        return Err(format!("the key's use is {u}, not \"sig\""));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")));
        if !verifies {
            return Err(format!("the key's key_ops {ops} do not include \"verify\""));
        }
    }
    if let Some(a) = jwk.get("alg")
        && a.as_str() != Some(alg_name)
    {
        return Err(format!("the key is for alg {a}, the token says {alg_name}"));
    }
    material_for(jwk, key, alg, alg_name)
}

/// `key`'s material when its type (and curve) fits `alg`.
fn material_for<'a>(
    jwk: &Map<String, Value>,
    key: &'a Prepared,
    alg: Algorithm,
    alg_name: &str,
) -> std::result::Result<&'a DecodingKey, String> {
    let material = key.material.as_ref().map_err(Clone::clone)?;
    use Algorithm::*;
    match (alg, material) {
        (HS256 | HS384 | HS512, Material::Oct { len, key }) => {
            let min = match alg {
                HS256 => 32,
                HS384 => 48,
                _ => 64,
            };
            if *len < min {
                return Err(format!(
                    "{alg_name} needs a key of at least {min} bytes; this one has {len}"
                ));
            }
            Ok(key)
        }
        (RS256 | RS384 | RS512 | PS256 | PS384 | PS512, Material::Rsa(key)) => Ok(key),
        (ES256, Material::Ec { crv, key }) if crv == "P-256" => Ok(key),
        (ES384, Material::Ec { crv, key }) if crv == "P-384" => Ok(key),
        (ES256 | ES384, Material::Ec { crv, .. }) => {
            Err(format!("{alg_name} cannot use a key on curve {crv}"))
        }
        (EdDSA, Material::Ed(key)) => Ok(key),
        (
            HS256 | HS384 | HS512 | RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384
            | EdDSA,
            _,
        ) => Err(format!(
            "{alg_name} cannot use a {} key",
            member(jwk, "kty").unwrap_or("untyped")
        )),
        _ => Err(format!("{alg_name} is not supported")),
    }
}

fn modulus_bits(n: &[u8]) -> usize {
    let n = match n.iter().position(|&b| b != 0) {
        Some(i) => &n[i..],
        None => return 0,
    };
    n.len() * 8 - n[0].leading_zeros() as usize
}

/// The ROCA test (Nemec et al., CCS 2017): moduli from the flawed Infineon generator have, for
/// every small prime p below, a residue mod p inside the subgroup generated by 65537. Random
/// moduli fail that for some p with overwhelming probability.
pub(crate) fn roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let residue = n.iter().fold(0u32, |r, &b| (r * 256 + u32::from(b)) % p);
        let g = 65537 % p;
        let mut x = 1u32;
        loop {
            if x == residue {
                break true;
            }
            x = x * g % p;
            if x == 1 {
                break false;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_with_mixed_or_duplicate_keys_are_ambiguous() {
        let mixed = KeySet::from_json(
            br#"{"keys":[{"kty":"oct","k":"AA","kid":"a"},{"kty":"EC","kid":"b"}]}"#,
        )
        .unwrap();
        assert!(
            mixed
                .select(Algorithm::HS256, "HS256", Some("a"))
                .unwrap_err()
                .contains("mixes")
        );
        let dup = KeySet::from_json(
            br#"{"keys":[{"kty":"oct","k":"AA","kid":"a"},{"kty":"oct","k":"AB","kid":"a"}]}"#,
        )
        .unwrap();
        assert!(
            dup.select(Algorithm::HS256, "HS256", Some("a"))
                .unwrap_err()
                .contains("share")
        );
        assert!(KeySet::from_json(b"[]").is_err());
        assert!(KeySet::from_json(br#"{"keys":{}}"#).is_err());
    }

    #[test]
    fn roca_on_a_random_key_is_false() {
        let key = crate::keys::SigningKey::generate(crate::keys::KeyAlg::Rs256, 0).unwrap();
        let n = b64url_decode(key.public_jwk().n.as_deref().unwrap()).unwrap();
        assert!(!roca_fingerprint(&n));
        assert_eq!(modulus_bits(&n), 2048);
    }
}
