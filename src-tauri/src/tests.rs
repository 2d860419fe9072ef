//! The commands through Tauri's mock runtime: real IPC requests from the app's own origin,
//! the real core behind them.

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;

use crate::{Desktop, builder};

fn call(w: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // App commands are allowed only from the app's own origin.
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().expect("json"))
}

fn app(dir: &std::path::Path) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    let desktop = Desktop::new(dir.to_path_buf()).expect("desktop");
    let app = builder(mock_builder(), desktop)
        .build(mock_context(noop_assets()))
        .expect("app");
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    (app, w)
}

#[test]
fn issuer_lifecycle_mint_inspect_and_history() {
    let dir = tempfile::tempdir().expect("dir");
    let (_app, w) = app(dir.path());
    let stopped = call(&w, "status", json!({})).expect("status");
    assert_eq!(stopped["running"], false);
    let err = call(&w, "mint", json!({ "request": {} })).expect_err("not running");
    assert!(err.as_str().unwrap().contains("not running"), "{err}");

    let status = call(&w, "start", json!({ "bind": "127.0.0.1", "port": 0 })).expect("start");
    assert_eq!(status["running"], true, "{status}");
    let ws = &status["server"]["workspaces"][0];
    assert_eq!(ws["slug"], "stepmint");
    assert!(
        ws["issuer"]
            .as_str()
            .unwrap()
            .starts_with("https://localhost:")
    );
    assert_eq!(ws["keys"].as_array().unwrap().len(), 1);

    let minted = call(
        &w,
        "mint",
        json!({ "request": { "claims": { "team": "qa" }, "audiences": ["my-api"] } }),
    )
    .expect("mint");
    assert_eq!(minted["claims"]["team"], "qa");
    let token = minted["token"].as_str().unwrap().to_string();
    let inspected = call(&w, "inspect", json!({ "token": token })).expect("inspect");
    assert_eq!(inspected["report"]["verdict"], "accepted", "{inspected}");
    assert_eq!(inspected["decoded"]["claims"]["team"], "qa");
    let narrowed = call(
        &w,
        "inspect",
        json!({ "token": token, "policy": { "audiences": ["other"] } }),
    )
    .expect("inspect");
    assert_eq!(narrowed["report"]["verdict"], "refused");
    let bad_policy = call(
        &w,
        "inspect",
        json!({ "token": token, "policy": { "leeway": "x" } }),
    )
    .expect_err("bad policy");
    assert!(
        bad_policy.as_str().unwrap().starts_with("policy.leeway"),
        "{bad_policy}"
    );

    let none = call(&w, "mint", json!({ "request": { "case": "alg-none" } })).expect("case");
    let refused = call(&w, "inspect", json!({ "token": none["token"] })).expect("inspect");
    assert_eq!(refused["report"]["verdict"], "refused");

    let history = call(&w, "history", json!({})).expect("history");
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["case"], "alg-none");
    assert_eq!(history[1]["token"], token);

    let cases = call(&w, "cases", json!({})).expect("cases");
    assert!(
        cases
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "jku-attacker")
    );
    let lines = call(&w, "trust_lines", json!({})).expect("trust");
    assert!(
        lines
            .as_str()
            .unwrap()
            .contains("export NODE_EXTRA_CA_CERTS=")
    );
    let saved = call(
        &w,
        "save_ca",
        json!({ "path": dir.path().join("copy.pem").to_str().unwrap() }),
    )
    .expect("save");
    assert!(
        std::fs::read_to_string(saved.as_str().unwrap())
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );

    let rotated = call(
        &w,
        "rotate_key",
        json!({ "workspace": "stepmint", "overlap": 60 }),
    )
    .expect("rotate");
    assert_eq!(rotated.as_array().unwrap().len(), 2);
    let added = call(&w, "add_workspace", json!({ "workspace": "beta" })).expect("add");
    let slugs: Vec<&str> = added["server"]["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["stepmint", "beta"]);
    let dup = call(&w, "add_workspace", json!({ "workspace": "beta" })).expect_err("duplicate");
    assert!(dup.as_str().unwrap().contains("already served"));
    let bad = call(&w, "add_workspace", json!({ "workspace": "Bad/Slug" })).expect_err("bad slug");
    assert!(bad.as_str().unwrap().starts_with("workspace:"));
    let removed = call(&w, "remove_workspace", json!({ "slug": "beta" })).expect("remove");
    assert_eq!(removed["server"]["workspaces"].as_array().unwrap().len(), 1);

    let requests = call(&w, "requests", json!({ "since": 0 })).expect("requests");
    assert!(requests["requests"].is_array());
    let stopped = call(&w, "stop", json!({})).expect("stop");
    assert_eq!(stopped["running"], false);
}

#[test]
fn a_busy_port_falls_back_and_says_so() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("dir");
    let (_app, w) = app(dir.path());
    let status = call(&w, "start", json!({ "port": port })).expect("start");
    assert_eq!(status["running"], true);
    assert!(
        status["note"].as_str().unwrap().contains("in use"),
        "{status}"
    );
    assert_ne!(
        status["server"]["bound"].as_str().unwrap(),
        format!("127.0.0.1:{port}")
    );
    let bad = call(&w, "restart", json!({ "bind": "not-an-ip" })).expect_err("bad bind");
    assert!(bad.as_str().unwrap().starts_with("bind:"));
}

#[test]
fn probe_runs_from_the_app_and_reports_a_refused_baseline() {
    let dir = tempfile::tempdir().expect("dir");
    let (_app, w) = app(dir.path());
    call(&w, "start", json!({ "port": 0 })).expect("start");
    // `false` refuses every token: the run stops at the baseline, and says why.
    let report = call(&w, "probe", json!({ "options": { "exec": "false" } })).expect("probe");
    assert!(
        report["baseline"]
            .as_str()
            .unwrap()
            .starts_with(stepmint::probe::BASELINE_REFUSED),
        "{report}"
    );
    assert_eq!(
        report["rows"].as_array().unwrap().len(),
        1,
        "only the baseline row"
    );
    assert!(
        report["junit"]
            .as_str()
            .unwrap()
            .contains("<failure message=\"baseline refused\"")
    );
    // `true` accepts everything: every hostile case is a finding.
    let report = call(&w, "probe", json!({ "options": { "exec": "true" } })).expect("probe");
    let failed = report["summary"]["failed"].as_u64().unwrap();
    assert!(failed > 40, "{failed}");
    let bad = call(&w, "probe", json!({ "options": {} })).expect_err("no target");
    assert!(bad.as_str().unwrap().contains("URL or a command"));
}
