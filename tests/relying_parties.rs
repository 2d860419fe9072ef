//! Minted tokens checked by relying-party code nobody here wrote: the `openidconnect` crate's
//! ID-token verifier, jsonwebtoken with the fetched JWKS, and Python's PyJWT with PyJWKClient.

use std::collections::HashSet;
use std::process::Command;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{AdditionalClaims, ClientId, IdToken, IssuerUrl, JsonWebKeySetUrl, Nonce};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepmint::StepRequest;

use crate::util;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BitbucketClaims {
    workspace_uuid: String,
    repository_uuid: String,
    pipeline_uuid: String,
    step_uuid: String,
    branch_name: String,
    #[serde(default)]
    deployment_environment_uuid: Option<String>,
}
impl AdditionalClaims for BitbucketClaims {}

type BitbucketIdToken = IdToken<
    BitbucketClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

fn oidc_http_client(ca: &[u8]) -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(openidconnect::reqwest::Certificate::from_pem(ca).unwrap())
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn openidconnect_verifier_accepts_minted_tokens() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme", "other"]).await;
    let http = oidc_http_client(&util::ca_pem(&instance));
    let ws = instance.workspaces();
    let acme = &ws[0];

    let jwks = CoreJsonWebKeySet::fetch_async(
        &JsonWebKeySetUrl::new(acme.jwks_uri.clone()).unwrap(),
        &http,
    )
    .await
    .unwrap();
    let default_aud = format!(
        "ari:cloud:bitbucket::workspace/{}",
        acme.uuid.trim_matches(['{', '}'])
    );
    let verifier = openidconnect::IdTokenVerifier::new_public_client(
        ClientId::new(default_aud.clone()),
        IssuerUrl::new(acme.issuer.clone()).unwrap(),
        jwks.clone(),
    );
    let no_nonce = |_: Option<&Nonce>| Ok(());

    let env = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    let minted = instance
        .issuer()
        .mint(&StepRequest {
            workspace: Some("acme".into()),
            deployment_environment_uuid: Some(env.into()),
            branch: Some("release/1.0".into()),
            ..Default::default()
        })
        .unwrap();
    let token: BitbucketIdToken = minted.token.parse().unwrap();
    let claims = token
        .claims(&verifier, no_nonce)
        .expect("openidconnect accepts the token");
    assert_eq!(claims.issuer().as_str(), acme.issuer);
    assert_eq!(claims.additional_claims().branch_name, "release/1.0");
    assert_eq!(
        claims
            .additional_claims()
            .deployment_environment_uuid
            .as_deref(),
        Some(env)
    );
    assert_eq!(claims.additional_claims().workspace_uuid, acme.uuid);
    let sub = claims.subject().as_str();
    let parts: Vec<&str> = sub.split(':').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], claims.additional_claims().repository_uuid);
    assert_eq!(parts[1], env);
    assert_eq!(parts[2], claims.additional_claims().step_uuid);

    // Custom audiences make `aud` an array; a relying party that trusts them accepts it.
    let multi = instance
        .issuer()
        .mint(&StepRequest {
            workspace: Some("acme".into()),
            audiences: vec!["sts.amazonaws.com".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(multi.claims["aud"].is_array());
    let multi_token: BitbucketIdToken = multi.token.parse().unwrap();
    assert!(
        multi_token.claims(&verifier, no_nonce).is_err(),
        "untrusted extra audience refused by default"
    );
    let lenient = openidconnect::IdTokenVerifier::new_public_client(
        ClientId::new(default_aud),
        IssuerUrl::new(acme.issuer.clone()).unwrap(),
        jwks,
    )
    .set_other_audience_verifier_fn(|aud| aud.as_str() == "sts.amazonaws.com");
    multi_token
        .claims(&lenient, no_nonce)
        .expect("accepted with the extra audience trusted");

    // A token of the other workspace (other key, other issuer) is refused.
    let foreign = instance
        .issuer()
        .mint(&StepRequest {
            workspace: Some("other".into()),
            ..Default::default()
        })
        .unwrap();
    let foreign: BitbucketIdToken = foreign.token.parse().unwrap();
    assert!(foreign.claims(&verifier, no_nonce).is_err());
    instance.stop().await;
}

#[tokio::test]
async fn jsonwebtoken_with_fetched_jwks_accepts_and_refuses() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let client = util::owner(&instance);
    let ws = &instance.workspaces()[0];
    let discovery: Value = util::get_json(&client, &ws.discovery).await;
    let jwks: JwkSet = util::get_json(&client, discovery["jwks_uri"].as_str().unwrap()).await;

    let minted = util::mint_for(&instance, "my-api");
    let header = jsonwebtoken::decode_header(&minted.token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["my-api"]);
    validation.set_issuer(&[ws.issuer.as_str()]);
    validation.required_spec_claims =
        HashSet::from(["exp", "iat", "sub", "iss", "aud"].map(String::from));
    let data = jsonwebtoken::decode::<Value>(&minted.token, &key, &validation).expect("accepted");
    assert_eq!(
        data.claims["exp"].as_i64().unwrap() - data.claims["iat"].as_i64().unwrap(),
        3600
    );

    validation.set_audience(&["someone-else"]);
    assert!(jsonwebtoken::decode::<Value>(&minted.token, &key, &validation).is_err());
    instance.stop().await;
}

#[tokio::test]
async fn pyjwt_with_pyjwkclient_accepts_minted_token() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.workspaces()[0].clone();
    let minted = util::mint_for(&instance, "my-api");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rp/pyjwt_verify.py");
    let ca = instance.ca_path().clone();
    let run = |token: String, audience: &'static str| {
        let issuer = ws.issuer.clone();
        let ca = ca.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into()))
                .args([script, &issuer, &token])
                .arg(&ca)
                .arg(audience)
                .output()
                .expect("python3 runs (scripts/test installs PyJWT)")
        })
    };
    let ok = run(minted.token.clone(), "my-api").await.unwrap();
    assert!(
        ok.status.success(),
        "PyJWT refused: {}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let claims: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(claims["sub"], minted.claims["sub"]);

    let wrong_aud = run(minted.token.clone(), "not-my-api").await.unwrap();
    assert!(!wrong_aud.status.success());
    assert!(
        String::from_utf8_lossy(&wrong_aud.stderr).contains("Audience"),
        "{}",
        String::from_utf8_lossy(&wrong_aud.stderr)
    );
    instance.stop().await;
}
