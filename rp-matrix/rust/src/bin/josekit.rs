//! josekit, as its README shows for RS256 with a JWK: `JwkSet` from the issuer's JWKS, the
//! verifier from the JWK matching the header's `kid` (`RS256.verifier_from_jwk`),
//! `jwt::decode_with_verifier`, then the claims checked with a `JwtPayloadValidator` for issuer,
//! audience and the time (https://docs.rs/josekit).
use josekit::jwk::JwkSet;
use josekit::jws::RS256;
use josekit::jwt::{self, JwtPayloadValidator};

fn main() {
    let a = stepmint_rp_matrix::args();
    let http = stepmint_rp_matrix::client(&a.ca);
    let text = stepmint_rp_matrix::get_json(&http, &format!("{}/keys.json", a.issuer)).to_string();
    let jwks = JwkSet::from_bytes(text.as_bytes()).expect("JWKS");
    let (issuer, audience) = (a.issuer.clone(), a.audience.clone());
    stepmint_rp_matrix::serve(a.port, move |token| {
        let header = jwt::decode_header(token).map_err(|e| e.to_string())?;
        let kid = header.claim("kid").and_then(|k| k.as_str()).ok_or("no kid")?;
        let jwk = jwks.get(kid).into_iter().next().ok_or("unknown kid")?;
        let verifier = RS256.verifier_from_jwk(jwk).map_err(|e| e.to_string())?;
        let (payload, _) = jwt::decode_with_verifier(token, &verifier).map_err(|e| e.to_string())?;
        // DOCS-GAP: josekit checks nothing about the claims unless asked: the validator below
        // is what its README tells users to add.
        let mut v = JwtPayloadValidator::new();
        v.set_issuer(&issuer);
        v.set_audience(&audience);
        v.set_base_time(std::time::SystemTime::now());
        v.set_min_issued_time(std::time::SystemTime::UNIX_EPOCH);
        if payload.expires_at().is_none() {
            return Err("no exp".into());
        }
        v.validate(&payload).map_err(|e| e.to_string())
    });
}
