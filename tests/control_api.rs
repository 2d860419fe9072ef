//! The control API, exercised in process with `oneshot`: minting, validation errors as JSON
//! 4xx bodies, the body limit, workspaces, and the request log.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stepmint::http::{AppState, router};
use stepmint::{FixedClock, IdSource, Issuer, IssuerOptions, WorkspaceSpec};
use tower::ServiceExt;

const NOW: i64 = 1_800_000_000;

fn app(dir: &std::path::Path) -> (axum::Router, AppState) {
    let mut options = IssuerOptions::new(dir, "https://localhost:8443");
    options.workspaces = vec![
        WorkspaceSpec::parse("acme").unwrap(),
        WorkspaceSpec::parse("beta").unwrap(),
    ];
    let issuer = Issuer::open(
        options,
        Arc::new(FixedClock(NOW)),
        Arc::new(IdSource::seeded(1)),
    )
    .unwrap();
    let state = AppState::new(Arc::new(issuer), None);
    (router(state.clone()), state)
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(body.into())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(ct.as_deref(), Some("application/json"), "{uri}: {bytes:?}");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{uri}: {e}: {bytes:?}")),
    )
}

#[tokio::test]
async fn mint_defaults_and_overrides() {
    let dir = util_dir();
    let (app, state) = app(dir.path());
    let (status, body) = call(&app, "POST", "/_stepmint/v1/tokens", "").await;
    assert_eq!(status, 200, "{body}");
    let claims = &body["claims"];
    let acme = state.issuer.workspace("acme").unwrap();
    assert_eq!(claims["iss"], acme.issuer);
    assert_eq!(
        claims["aud"],
        format!("ari:cloud:bitbucket::workspace/{}", acme.workspace.uuid)
    );
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 3600);
    assert_eq!(claims["branchName"], "main");
    assert!(claims.get("deploymentEnvironmentUuid").is_none());
    let sub = claims["sub"].as_str().unwrap();
    assert_eq!(
        sub,
        format!(
            "{}:{}",
            claims["repositoryUuid"].as_str().unwrap(),
            claims["stepUuid"].as_str().unwrap()
        )
    );
    for c in [
        "workspaceUuid",
        "repositoryUuid",
        "pipelineUuid",
        "stepUuid",
    ] {
        let v = claims[c].as_str().unwrap();
        assert!(
            v.starts_with('{') && v.ends_with('}') && v.len() == 38,
            "{c}: {v}"
        );
    }
    assert_eq!(
        body["header"],
        json!({"alg": "RS256", "kid": acme.workspace.keys.active().kid(), "typ": "JWT"})
    );
    // The token carries exactly the returned header and claims.
    let decoded = stepmint::decode_unverified(body["token"].as_str().unwrap()).unwrap();
    assert_eq!(decoded.header, body["header"]);
    assert_eq!(&decoded.claims, claims);

    let req = json!({
        "workspace": "beta",
        "repository_uuid": "0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60",
        "stepUuid": "{11111111-2222-4333-8444-555555555555}",
        "deploymentEnvironmentUuid": "22222222-2222-4333-8444-555555555555",
        "branch": "feature/x",
        "audiences": ["a", "b"],
        "lifetime": 60,
        "claims": {"branchName": null, "custom": {"n": 1}},
        "header": {"typ": null, "x-test": true}
    });
    let (status, body) = call(&app, "POST", "/_stepmint/v1/tokens", req.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let c = &body["claims"];
    assert_eq!(
        c["repositoryUuid"],
        "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}"
    );
    assert_eq!(
        c["sub"],
        "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}:{22222222-2222-4333-8444-555555555555}:{11111111-2222-4333-8444-555555555555}"
    );
    let beta = state.issuer.workspace("beta").unwrap();
    assert_eq!(
        c["aud"],
        json!([beta.workspace.default_audience(), "a", "b"])
    );
    assert_eq!(c["exp"], NOW + 60);
    assert!(c.get("branchName").is_none());
    assert_eq!(c["custom"], json!({"n": 1}));
    assert_eq!(
        body["header"],
        json!({"alg": "RS256", "kid": beta.workspace.keys.active().kid(), "x-test": true})
    );

    // The per-workspace route agrees with the body, or refuses.
    let (status, body) = call(&app, "POST", "/_stepmint/v1/workspaces/beta/tokens", "{}").await;
    assert_eq!(status, 200);
    assert_eq!(body["claims"]["iss"], beta.issuer);
    let (status, body) = call(
        &app,
        "POST",
        "/_stepmint/v1/workspaces/beta/tokens",
        r#"{"workspace":"acme"}"#,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("workspace"))
    );
}

fn util_dir() -> tempfile::TempDir {
    crate::util::data_dir()
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_naming_the_field() {
    let dir = util_dir();
    let (app, _) = app(dir.path());
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        (
            json!({"repository_uuid": "nope"}).to_string(),
            400,
            "invalid_input",
            Some("repository_uuid"),
        ),
        (
            json!({"step_uuid": "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f6}"}).to_string(),
            400,
            "invalid_input",
            Some("step_uuid"),
        ),
        (
            json!({"pipeline_uuid": 7}).to_string(),
            400,
            "invalid_input",
            Some("pipeline_uuid"),
        ),
        (
            json!({"deploymentEnvironmentUuid": "x"}).to_string(),
            400,
            "invalid_input",
            Some("deployment_environment_uuid"),
        ),
        (
            json!({"audiences": vec!["a"; 11]}).to_string(),
            400,
            "invalid_input",
            Some("audiences"),
        ),
        (
            json!({"audiences": ["ok", "x".repeat(151)]}).to_string(),
            400,
            "invalid_input",
            Some("audiences[1]"),
        ),
        (
            json!({"lifetime": 0}).to_string(),
            400,
            "invalid_input",
            Some("lifetime"),
        ),
        (
            json!({"lifetime": -5}).to_string(),
            400,
            "invalid_input",
            Some("lifetime"),
        ),
        (
            json!({"claims": []}).to_string(),
            400,
            "invalid_input",
            Some("claims"),
        ),
        (
            json!({"colour": "red"}).to_string(),
            400,
            "invalid_input",
            Some("colour"),
        ),
        (
            json!({"workspace": "nope"}).to_string(),
            404,
            "unknown_workspace",
            Some("workspace"),
        ),
        (
            "{\"audiences\": [".to_string(),
            400,
            "invalid_json",
            Some("audiences"),
        ),
        ("{} trailing".to_string(), 400, "invalid_json", None),
        ("[1,2]".to_string(), 400, "invalid_json", None),
        ("\"x\"".to_string(), 400, "invalid_json", None),
    ];
    for (body, status, code, field) in cases {
        let (s, v) = call(&app, "POST", "/_stepmint/v1/tokens", body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body} -> {v}");
        assert_eq!(v["error"], code, "{body} -> {v}");
        assert_eq!(v["field"].as_str(), field, "{body} -> {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Exactly at the audience limits is fine.
    let limit = json!({"audiences": vec!["x".repeat(150); 10]}).to_string();
    assert_eq!(
        call(&app, "POST", "/_stepmint/v1/tokens", limit).await.0,
        200
    );
}

#[tokio::test]
async fn oversized_bodies_get_413_json() {
    let dir = util_dir();
    let (app, _) = app(dir.path());
    let big = format!(r#"{{"claims":{{"pad":"{}"}}}}"#, "x".repeat(64 * 1024));
    let (status, body) = call(&app, "POST", "/_stepmint/v1/tokens", big).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"], "body_too_large");
    // Just under the limit is accepted.
    let fits = format!(r#"{{"claims":{{"pad":"{}"}}}}"#, "x".repeat(60 * 1024));
    assert_eq!(
        call(&app, "POST", "/_stepmint/v1/tokens", fits).await.0,
        200
    );
}

#[tokio::test]
async fn unknown_paths_workspaces_and_methods_are_json() {
    let dir = util_dir();
    let (app, _) = app(dir.path());
    let (s, v) = call(
        &app,
        "GET",
        "/2.0/workspaces/ghost/pipelines-config/identity/oidc/keys.json",
        Body::empty(),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (404, Some("unknown_workspace"))
    );
    let (s, v) = call(
        &app,
        "GET",
        "/2.0/workspaces/ghost/pipelines-config/identity/oidc/.well-known/openid-configuration",
        Body::empty(),
    )
    .await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (404, Some("unknown_workspace"))
    );
    let (s, v) = call(&app, "GET", "/nothing/here", Body::empty()).await;
    assert_eq!((s.as_u16(), v["error"].as_str()), (404, Some("not_found")));
    let (s, v) = call(&app, "DELETE", "/_stepmint/v1/tokens", Body::empty()).await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let (s, v) = call(
        &app,
        "GET",
        "/_stepmint/v1/requests?since=abc",
        Body::empty(),
    )
    .await;
    assert_eq!((s.as_u16(), v["field"].as_str()), (400, Some("since")));
    let (s, _) = call(&app, "GET", "/_stepmint/v1/ca.pem", Body::empty()).await;
    assert_eq!(s, 404, "no CA in a TLS-less in-process router");
}

#[tokio::test]
async fn workspaces_health_and_request_log() {
    let dir = util_dir();
    let (app, _) = app(dir.path());
    let (_, ws) = call(&app, "GET", "/_stepmint/v1/workspaces", Body::empty()).await;
    let list = ws["workspaces"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["slug"], "acme");
    assert_eq!(
        list[0]["issuer"],
        "https://localhost:8443/2.0/workspaces/acme/pipelines-config/identity/oidc"
    );
    assert_eq!(
        list[1]["jwks_uri"],
        "https://localhost:8443/2.0/workspaces/beta/pipelines-config/identity/oidc/keys.json"
    );
    let (_, h) = call(&app, "GET", "/_stepmint/v1/health", Body::empty()).await;
    assert_eq!(h["status"], "ok");

    for slug in ["acme", "beta"] {
        let _ = app
            .clone()
            .oneshot(
                Request::get(format!(
                    "/2.0/workspaces/{slug}/pipelines-config/identity/oidc/keys.json"
                ))
                .header("user-agent", "rp-test/1.0")
                .body(Body::empty())
                .unwrap(),
            )
            .await
            .unwrap();
    }
    let (_, log) = call(&app, "GET", "/_stepmint/v1/requests", Body::empty()).await;
    let reqs = log["requests"].as_array().unwrap();
    assert_eq!(
        reqs.len(),
        2,
        "control calls are not relying-party traffic: {log}"
    );
    assert_eq!(reqs[0]["workspace"], "acme");
    assert_eq!(reqs[1]["endpoint"], "jwks");
    assert_eq!(reqs[1]["status"], 200);
    assert_eq!(reqs[1]["method"], "GET");
    assert_eq!(reqs[1]["user_agent"], "rp-test/1.0");
    assert!(reqs[1]["time"].as_str().unwrap().ends_with('Z'));
    let next = log["next"].as_u64().unwrap();
    let (_, later) = call(
        &app,
        "GET",
        &format!("/_stepmint/v1/requests?since={next}"),
        Body::empty(),
    )
    .await;
    assert_eq!(later["requests"].as_array().unwrap().len(), 0);
    let (_, all) = call(
        &app,
        "GET",
        "/_stepmint/v1/requests?all=true",
        Body::empty(),
    )
    .await;
    assert!(all["requests"].as_array().unwrap().len() > 2);
}

/// The raw reply to one call.
async fn raw(app: &axum::Router, method: &str, uri: &str, body: &str) -> (StatusCode, Vec<u8>) {
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

/// Reads a reply as its `api` type and writes it back: the bytes must not change, so the type
/// names every field the server sends, in the order it sends them.
fn same_bytes<T: serde::de::DeserializeOwned + serde::Serialize>(what: &str, bytes: &[u8]) -> T {
    let typed: T = serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{what}: not a {}: {e}", std::any::type_name::<T>()));
    assert_eq!(
        String::from_utf8_lossy(&serde_json::to_vec(&typed).unwrap()),
        String::from_utf8_lossy(bytes),
        "{what}"
    );
    typed
}

#[tokio::test]
async fn every_reply_is_its_api_type_byte_for_byte() {
    use stepmint::api;
    let dir = util_dir();
    let (app, _state) = app(dir.path());
    let v1 = "/_stepmint/v1";
    // Keys in every state: a rotation leaves a retiring key, an add a published and a staged one.
    let (s, b) = raw(
        &app,
        "POST",
        &format!("{v1}/workspaces/acme/keys/rotate"),
        r#"{"overlap":60}"#,
    )
    .await;
    assert_eq!(s, 200);
    let rotation: api::Rotation = same_bytes("rotate", &b);
    let (s, b) = raw(
        &app,
        "POST",
        &format!("{v1}/workspaces/acme/keys"),
        r#"{"alg":"ES256"}"#,
    )
    .await;
    assert_eq!(s, 200);
    let added: api::KeyAdded = same_bytes("add", &b);
    let (s, b) = raw(
        &app,
        "POST",
        &format!("{v1}/workspaces/acme/keys"),
        r#"{"alg":"EdDSA","staged":true,"publish_in":300}"#,
    )
    .await;
    assert_eq!(s, 200);
    let staged: api::KeyAdded = same_bytes("add staged", &b);
    let (_, b) = raw(&app, "GET", &format!("{v1}/workspaces/acme/keys"), "").await;
    let keys: api::KeyList = same_bytes("keys", &b);
    let states: Vec<_> = keys
        .keys
        .iter()
        .map(|k| (k.kid.clone(), k.status))
        .collect();
    assert!(
        states.contains(&(rotation.active_kid.clone(), api::KeyStatus::Active)),
        "{states:?}"
    );
    assert!(
        states
            .iter()
            .any(|(_, s)| matches!(s, api::KeyStatus::Retiring { .. })),
        "{states:?}"
    );
    assert!(states.contains(&(added.kid, api::KeyStatus::Published { published_at: None })));
    assert!(states.iter().any(|(k, s)| *k == staged.kid
        && matches!(
            s,
            api::KeyStatus::Staged {
                publish_at: Some(_)
            }
        )));
    let (_, b) = raw(&app, "GET", &format!("{v1}/workspaces/acme"), "").await;
    let details: api::WorkspaceDetails = same_bytes("workspace", &b);
    assert_eq!(details.info.slug, "acme");
    let (_, b) = raw(&app, "GET", &format!("{v1}/workspaces"), "").await;
    let list: api::WorkspaceList = same_bytes("workspaces", &b);
    assert_eq!(list.default_slug(), Some("acme"));
    let (_, b) = raw(&app, "GET", &format!("{v1}/health"), "").await;
    let health: api::Health = same_bytes("health", &b);
    assert_eq!(health.workspaces, 2);
    let (_, b) = raw(&app, "POST", &format!("{v1}/tokens"), "").await;
    let minted: api::MintedToken = serde_json::from_slice(&b).unwrap();
    let body = serde_json::json!({ "token": minted.token }).to_string();
    let (s, b) = raw(&app, "POST", &format!("{v1}/verify"), &body).await;
    assert_eq!(s, 200);
    let verification: api::Verification = same_bytes("verify", &b);
    assert!(verification.report.accepted, "{verification:?}");
    let (_, b) = raw(&app, "GET", &format!("{v1}/cases"), "").await;
    let cases: api::CaseList = same_bytes("cases", &b);
    assert!(cases.cases.len() > 20);
    let fault = r#"{"status":503,"fail_next":2}"#;
    let (s, b) = raw(&app, "PUT", &format!("{v1}/faults/acme/jwks"), fault).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let set: api::FaultList = same_bytes("fault set", &b);
    assert_eq!(set.faults.len(), 1);
    let (_, b) = raw(&app, "GET", &format!("{v1}/faults"), "").await;
    same_bytes::<api::FaultList>("faults", &b);
    let (_, b) = raw(&app, "DELETE", &format!("{v1}/faults"), "").await;
    let cleared: api::FaultsCleared = same_bytes("faults cleared", &b);
    assert_eq!((cleared.cleared, cleared.faults.len()), (1, 0));
    let (_, b) = raw(&app, "GET", &format!("{v1}/requests?all=true"), "").await;
    let page: api::RequestsPage = same_bytes("requests", &b);
    assert_eq!(page.next, page.requests.last().map_or(0, |r| r.id));
    let (_, b) = raw(
        &app,
        "DELETE",
        &format!("{v1}/workspaces/acme/keys/{}", staged.kid),
        "",
    )
    .await;
    let retired: api::KeyRetired = same_bytes("retire", &b);
    assert_eq!(retired.retired, staged.kid);
}
