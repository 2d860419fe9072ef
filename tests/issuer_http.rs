//! The issuer over a real TLS socket: discovery and JWKS as Bitbucket shapes them, HTTP/1.1 and
//! HTTP/2, the CA chain, persistence across restarts, and no private key material anywhere.

use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::util::{self, tls_connect};

#[tokio::test]
async fn discovery_and_jwks_match_bitbucket() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let client = util::owner(&instance);
    let ws = &instance.workspaces()[0];
    let base = format!("https://localhost:{}", instance.local_addr().port());
    let issuer = format!("{base}/2.0/workspaces/acme/pipelines-config/identity/oidc");
    assert_eq!(ws.issuer, issuer);

    let resp = client
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(
        doc,
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/keys.json"),
            "response_types_supported": ["id_token"],
            "scopes_supported": ["openid"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub","iss","aud","exp","iat","branchName","compliant",
                "deploymentEnvironmentUuid","pipelineUuid","repositoryUuid","stepUuid","workspaceUuid"],
        })
    );

    let jwks: Value = util::get_json(&client, format!("{issuer}/keys.json")).await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    let mut members: Vec<&str> = key.keys().map(String::as_str).collect();
    members.sort();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    // 2048-bit modulus: 256 bytes, 342 base64url characters.
    assert_eq!(key["n"].as_str().unwrap().len(), 342);
    // The kid is the RFC 7638 thumbprint, as computed by jsonwebtoken, not by us.
    let jwk: Jwk = serde_json::from_value(keys[0].clone()).unwrap();
    assert_eq!(
        key["kid"].as_str().unwrap(),
        jwk.thumbprint(ThumbprintHash::SHA256).unwrap()
    );
    assert_eq!(ws.active_kid, key["kid"].as_str().unwrap());
    instance.stop().await;
}

#[tokio::test]
async fn serves_http1_and_http2_and_only_with_our_ca() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ca = util::ca_pem(&instance);
    let url = instance.workspaces()[0].jwks_uri.clone();

    let h2 = util::client(&ca).get(&url).send().await.unwrap();
    assert_eq!(h2.version(), reqwest::Version::HTTP_2);
    let h1_client = util::client_builder(&ca).http1_only().build().unwrap();
    let h1 = h1_client.get(&url).send().await.unwrap();
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    assert_eq!(h1.bytes().await.unwrap(), h2.bytes().await.unwrap());

    // By IP literal too: the leaf covers 127.0.0.1.
    let by_ip = url.replace("localhost", "127.0.0.1");
    assert_eq!(
        util::client(&ca).get(&by_ip).send().await.unwrap().status(),
        200
    );

    // A client that does not trust our CA refuses the connection.
    let stranger = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let err = stranger.get(&url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    instance.stop().await;
}

#[tokio::test]
async fn restart_reuses_ca_keys_and_identity() {
    let dir = util::data_dir();
    let first = util::start(dir.path(), &["acme", "beta"]).await;
    let ca1 = util::ca_pem(&first);
    let ws1 = first.workspaces();
    first.stop().await;

    let second = util::start(dir.path(), &["acme", "beta"]).await;
    assert_eq!(ca1, util::ca_pem(&second));
    let ws2 = second.workspaces();
    for (a, b) in ws1.iter().zip(&ws2) {
        assert_eq!(a.uuid, b.uuid);
        assert_eq!(a.active_kid, b.active_kid);
    }
    assert_ne!(
        ws2[0].active_kid, ws2[1].active_kid,
        "each workspace has its own key"
    );
    // The old CA still verifies the new server.
    let resp = util::client(&ca1)
        .get(&ws2[1].discovery)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    second.stop().await;

    // With no workspace flags, every persisted workspace is served.
    let third = util::start(dir.path(), &[]).await;
    let slugs: Vec<_> = third.workspaces().into_iter().map(|w| w.slug).collect();
    assert_eq!(slugs, ["acme", "beta"]);
    third.stop().await;
}

#[tokio::test]
async fn real_issuer_url_works_with_hosts_entry_and_san() {
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &["acme"]);
    config.sans = vec!["api.bitbucket.org".into()];
    config.public_url = Some("https://api.bitbucket.org".into());
    let instance = stepmint::Instance::start(
        config,
        std::sync::Arc::new(stepmint::SystemClock),
        std::sync::Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    // What a hosts-file entry does, done in the client so the test stays offline.
    let client = util::client_builder(&util::ca_pem(&instance))
        .resolve("api.bitbucket.org", instance.local_addr())
        .build()
        .unwrap();
    let issuer = "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
    let port = instance.local_addr().port();
    let doc: Value = util::get_json(&client, format!("https://api.bitbucket.org:{port}/2.0/workspaces/acme/pipelines-config/identity/oidc/.well-known/openid-configuration")).await;
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["jwks_uri"], format!("{issuer}/keys.json"));
    instance.stop().await;
}

#[tokio::test]
async fn no_response_contains_private_key_material() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let client = util::owner(&instance);
    let ws = &instance.workspaces()[0];
    let control = format!(
        "https://localhost:{}/_stepmint/v1",
        instance.local_addr().port()
    );
    let mut bodies = Vec::new();
    for url in [
        ws.discovery.clone(),
        ws.jwks_uri.clone(),
        format!("{control}/health"),
        format!("{control}/workspaces"),
        format!("{control}/workspaces/acme"),
        format!("{control}/requests?all=true"),
        format!("{control}/nope"),
    ] {
        bodies.push((url.clone(), util::get_text(&client, &url).await));
    }
    let minted = client
        .post(format!("{control}/tokens"))
        .body("{}")
        .send()
        .await
        .unwrap();
    bodies.push(("mint".into(), minted.text().await.unwrap()));
    let pem = util::get_text(&client, format!("{control}/ca.pem")).await;
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && !pem.contains("PRIVATE"));
    for (url, body) in bodies {
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"));
        util::assert_no_private_members(&v, &url);
        assert!(!body.contains("PRIVATE KEY"), "{url}");
    }
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_requests_get_json_answers_and_bodies_cannot_stall_a_worker() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let port = instance.local_addr().port();
    let ca = util::ca_pem(&instance);
    let client = util::client(&ca);
    let base = format!("https://localhost:{port}");
    // A path parameter that is not UTF-8.
    let r = client
        .get(format!(
            "{base}/2.0/workspaces/%FF/pipelines-config/identity/oidc/keys.json"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("a JSON error");
    assert!(v["message"].is_string(), "{v}");
    // Long paths are answered (414), not dropped: past 64 KiB by the HTTP layer itself, above
    // 16 KiB by us, with a JSON body.
    for (len, json) in [(200 * 1024, false), (20 * 1024, true)] {
        let mut tls = tls_connect(port, &ca, b"http/1.1").await;
        let long = format!(
            "GET /{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "a".repeat(len)
        );
        tls.write_all(long.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        let head = &answer[..answer.len().min(300)];
        assert!(answer.starts_with("HTTP/1.1 414"), "{len}: {head}");
        assert_eq!(answer.contains("\"uri_too_long\""), json, "{len}: {head}");
    }
    // A declared length of a terabyte: refused at once, before any body byte.
    let mut tls = tls_connect(port, &ca, b"http/1.1").await;
    let token = instance.control_token().unwrap();
    tls.write_all(format!("POST /_stepmint/v1/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = vec![0u8; 512];
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut tls, &mut head),
    )
    .await
    .expect("answered without waiting for the body")
    .unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    instance.stop().await;
}
