//! What the console's screens read from a running server (issue #25, round 2): every mint in
//! the history with where it came from (console, app, CLI, control API), a faulted request's
//! log record saying which fault, and a probe that reached nothing told apart from a relying
//! party that refused its baseline.

use serde_json::{Value, json};

use crate::util;

fn base(instance: &stepmint::Instance) -> String {
    format!(
        "https://localhost:{}/_stepmint/v1",
        instance.local_addr().port()
    )
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let r = client.post(url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mint_is_in_the_history_with_its_origin() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let client = util::owner(&instance);
    let base = base(&instance);
    let api = post(
        &client,
        format!("{base}/tokens"),
        json!({ "claims": { "sub": "from-api" } }),
    )
    .await;
    let console = post(
        &client,
        format!("{base}/tokens?history=true"),
        json!({ "claims": { "sub": "from-console" } }),
    )
    .await;
    let by_path = post(
        &client,
        format!("{base}/workspaces/acme/tokens"),
        json!({ "claims": { "sub": "from-api-path" } }),
    )
    .await;
    post(
        &client,
        format!("{base}/tokens?history=false"),
        json!({ "claims": { "sub": "not-kept" } }),
    )
    .await;
    // The CLI mints offline into the same data directory, the server still running.
    let d = dir.path().to_str().unwrap();
    let out = util::run(&["mint", "--data-dir", d, "--claim", "sub=\"from-cli\""]);
    assert!(out.status.success(), "{}", util::text(&out));
    let cli_token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let history: Value = client
        .get(format!("{base}/history"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seen: Vec<(String, String)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["token"].as_str().unwrap().to_string(),
                e["origin"].as_str().unwrap_or("none").to_string(),
            )
        })
        .collect();
    let origin_of = |token: &Value| {
        seen.iter()
            .find(|(t, _)| t == token.as_str().unwrap())
            .map(|(_, o)| o.as_str())
    };
    assert_eq!(origin_of(&api["token"]), Some("api"), "{history}");
    assert_eq!(origin_of(&by_path["token"]), Some("api"), "{history}");
    assert_eq!(origin_of(&console["token"]), Some("console"), "{history}");
    assert_eq!(origin_of(&json!(cli_token)), Some("cli"), "{history}");
    assert_eq!(seen.len(), 4, "history=false is not kept: {history}");
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulted_request_says_which_fault_in_the_log() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let client = util::owner(&instance);
    let base = base(&instance);
    let set = client
        .put(format!("{base}/faults/acme/jwks"))
        .json(&json!({ "status": 500 }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200, "{}", set.text().await.unwrap());
    let jwks = client
        .get(&instance.workspaces()[0].jwks_uri)
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 500);
    let page: Value = client
        .get(format!("{base}/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let faulted = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/keys.json"))
        .expect("the JWKS fetch is logged");
    assert_eq!(faulted["fault_summary"], "status 500", "{faulted}");
    instance.stop().await;
}

/// The report a probe streamed from the server ends with.
async fn probe(client: &reqwest::Client, base: &str, options: Value) -> Value {
    let body = client
        .post(format!("{base}/probe"))
        .json(&options)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let report = body
        .split("event: report\ndata: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .unwrap_or_else(|| panic!("a report event: {body}"));
    serde_json::from_str(report).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relying_party_that_cannot_be_reached_is_not_said_to_refuse_its_baseline() {
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &[]);
    config.allow_exec = true;
    let instance = stepmint::Instance::start(
        config,
        std::sync::Arc::new(stepmint::SystemClock),
        std::sync::Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    let client = util::owner(&instance);
    let base = base(&instance);
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = probe(
        &client,
        &base,
        json!({ "url": format!("http://127.0.0.1:{port}/"), "no_catalogue": true }),
    )
    .await;
    let line = unreachable["baseline"].as_str().unwrap();
    assert!(
        line.starts_with(stepmint::probe::BASELINE_UNREACHABLE),
        "{line}"
    );
    assert!(!line.contains("refused:"), "{line}");
    assert!(
        unreachable["junit"]
            .as_str()
            .unwrap()
            .contains("<failure message=\"relying party unreachable\""),
        "{unreachable}"
    );
    // `false` answers, and refuses: that is a refused baseline.
    let refused = probe(
        &client,
        &base,
        json!({ "exec": "false", "no_catalogue": true }),
    )
    .await;
    assert!(
        refused["baseline"]
            .as_str()
            .unwrap()
            .starts_with(stepmint::probe::BASELINE_REFUSED),
        "{refused}"
    );
    instance.stop().await;
}
