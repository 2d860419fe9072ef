//! jsonwebtoken (the current major), as its README and docs.rs recommend for a JWKS: fetch the
//! JWKS, pick the JWK by the header's `kid` (`JwkSet::find`), `DecodingKey::from_jwk`, and
//! `decode` with a `Validation` for RS256 that sets the issuer and audience and requires
//! `exp`, `iss`, `aud`, `sub`, with `validate_nbf` on
//! (https://docs.rs/jsonwebtoken/12/jsonwebtoken/struct.Validation.html).
//! With `RP_CONFIG=default`, the docs' basic `Validation`: issuer and audience set, only `exp`
//! required (its default).
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

fn main() {
    let a = stepmint_rp_matrix::args();
    let http = stepmint_rp_matrix::client(&a.ca);
    let jwks_uri = format!("{}/keys.json", a.issuer);
    let jwks: JwkSet = serde_json::from_value(stepmint_rp_matrix::get_json(&http, &jwks_uri)).expect("JWKS");
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[&a.issuer]);
    v.set_audience(&[&a.audience]);
    if std::env::var("RP_CONFIG").as_deref() != Ok("default") {
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Off by default ("Defaults to false"); checked only when the token has `nbf`.
        v.validate_nbf = true;
    }
    v.leeway = 30;
    stepmint_rp_matrix::serve(a.port, move |token| {
        let header = decode_header(token).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("no kid")?;
        let jwk = jwks.find(&kid).ok_or("unknown kid")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        decode::<serde_json::Value>(token, &key, &v).map(|_| ()).map_err(|e| e.to_string())
    });
}
