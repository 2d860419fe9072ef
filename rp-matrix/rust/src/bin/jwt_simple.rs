//! jwt-simple, as its README shows: the issuer's RSA public key as an `RS256PublicKey`
//! (from the JWK's modulus and exponent), `verify_token` with `VerificationOptions` naming the
//! allowed issuer and audience and a 30 s time tolerance (https://docs.rs/jwt-simple), and,
//! as recommended for this job, a `max_validity` of an hour (a step token's lifetime).
//! With `RP_CONFIG=default`, the README's basic options: allowed issuer and audience only, so
//! jwt-simple's default time tolerance (15 minutes) and no maximum validity.
use std::collections::HashSet;

use jwt_simple::prelude::*;

fn b64(s: &str) -> Vec<u8> {
    use jwt_simple::reexports::ct_codecs::{Base64UrlSafeNoPadding, Decoder};
    Base64UrlSafeNoPadding::decode_to_vec(s, None).unwrap_or_default()
}

fn main() {
    let a = stepmint_rp_matrix::args();
    let http = stepmint_rp_matrix::client(&a.ca);
    let jwks = stepmint_rp_matrix::get_json(&http, &format!("{}/keys.json", a.issuer));
    let keys: Vec<(String, RS256PublicKey)> = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|k| k["kty"] == "RSA")
        .filter_map(|k| {
            let key = RS256PublicKey::from_components(
                &b64(k["n"].as_str()?),
                &b64(k["e"].as_str()?),
            )
            .ok()?;
            Some((k["kid"].as_str()?.to_string(), key))
        })
        .collect();
    let mut options = VerificationOptions {
        allowed_issuers: Some(HashSet::from_strings(&[&a.issuer])),
        allowed_audiences: Some(HashSet::from_strings(&[&a.audience])),
        ..Default::default()
    };
    if std::env::var("RP_CONFIG").as_deref() != Ok("default") {
        options.time_tolerance = Some(Duration::from_secs(30));
        options.max_validity = Some(Duration::from_secs(3600));
    }
    stepmint_rp_matrix::serve(a.port, move |token| {
        let meta = Token::decode_metadata(token).map_err(|e| e.to_string())?;
        let kid = meta.key_id().ok_or("no kid")?;
        let key = keys.iter().find(|(k, _)| k == kid).map(|(_, k)| k).ok_or("unknown kid")?;
        key.verify_token::<NoCustomClaims>(token, Some(options.clone()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}
