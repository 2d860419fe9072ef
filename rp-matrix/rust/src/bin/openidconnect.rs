//! openidconnect, as its docs show for verifying an ID token: provider metadata from discovery
//! (`CoreProviderMetadata::discover`), the JWKS from it, a `CoreIdTokenVerifier` for the client
//! id (= the audience) and issuer, then `CoreIdToken::claims` with no nonce check (a step token
//! has no nonce) (https://docs.rs/openidconnect/4/openidconnect/).
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreProviderMetadata};
use openidconnect::{ClientId, IssuerUrl, Nonce};

fn main() {
    let a = stepmint_rp_matrix::args();
    let http = stepmint_rp_matrix::client(&a.ca);
    let issuer = IssuerUrl::new(a.issuer.clone()).expect("issuer");
    let meta = CoreProviderMetadata::discover(&issuer, &http).expect("discovery");
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(a.audience.clone()),
        issuer,
        meta.jwks().clone(),
    );
    stepmint_rp_matrix::serve(a.port, move |token| {
        let id: CoreIdToken = token.parse().map_err(|e: serde_json::Error| e.to_string())?;
        id.claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}
