//! openidconnect, as its docs show for verifying an ID token: a `CoreIdTokenVerifier` for the
//! client id (= the audience) and the issuer with the provider's JWKS, then `CoreIdToken::claims`
//! with no nonce check (a step token has no nonce) (https://docs.rs/openidconnect/4/openidconnect/).
//!
//! DOCS-GAP: `CoreProviderMetadata::discover` refuses Bitbucket's discovery document (it has no
//! `authorization_endpoint`, which OpenID Connect Discovery requires of a full OP), so the JWKS is
//! fetched from the document's `jwks_uri` directly, as a user of this crate has to.
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, IssuerUrl, Nonce};

fn main() {
    let a = stepmint_rp_matrix::args();
    let http = stepmint_rp_matrix::client(&a.ca);
    let discovery = stepmint_rp_matrix::get_json(
        &http,
        &format!("{}/.well-known/openid-configuration", a.issuer),
    );
    assert_eq!(discovery["issuer"], a.issuer.as_str(), "discovery names another issuer");
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri");
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(stepmint_rp_matrix::get_json(&http, jwks_uri)).expect("JWKS");
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(a.audience.clone()),
        IssuerUrl::new(a.issuer.clone()).expect("issuer"),
        jwks,
    );
    stepmint_rp_matrix::serve(a.port, move |token| {
        let id: CoreIdToken = token.parse().map_err(|e: serde_json::Error| e.to_string())?;
        id.claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}
