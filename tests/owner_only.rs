//! The control plane belongs to its owner, on loopback too: every server has a control token;
//! commands run over the API only with `serve --allow-exec`; `stepmint probe`'s own issuer
//! serves the relying-party paths only, on a free port; the token never travels in argv; a
//! wildcard bind is recorded as an address the CLI reaches, and files a live server holds are
//! not edited behind its back; probes over the API are bounded and end with their client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::any;
use serde_json::{Value, json};

use crate::util;

fn control(instance: &stepmint::Instance, rest: &str) -> String {
    stepmint::paths::control_url(
        &format!("https://localhost:{}", instance.local_addr().port()),
        rest,
    )
}

/// A relying party that never answers, counting the requests it holds.
async fn hanging_rp() -> (SocketAddr, Arc<AtomicUsize>) {
    struct Held(Arc<AtomicUsize>);
    impl Drop for Held {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let held = Arc::new(AtomicUsize::new(0));
    let counter = held.clone();
    let app = Router::new().fallback(any(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let _held = Held(counter);
            std::future::pending::<()>().await;
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, held)
}

/// Polls `cond` until it holds or `limit` passes; whether it held.
async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_server_wants_its_token_and_runs_no_command_without_allow_exec() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let token = instance
        .control_token()
        .expect("a token on loopback too")
        .to_string();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("control-token")).unwrap(),
        token,
        "the CLI finds it in the data directory"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("control-token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        instance
            .console_url()
            .unwrap()
            .ends_with(&format!("#token={token}")),
        "the console link carries it"
    );
    let stranger = util::client(&util::ca_pem(&instance));
    let probe = json!({ "exec": "touch /tmp/should-never-exist", "shell": true });
    for (method, path, body) in [
        ("GET", "/health", None),
        ("POST", "/tokens", Some(json!({}))),
        ("POST", "/probe", Some(probe.clone())),
    ] {
        let mut r = stranger.request(method.parse().unwrap(), control(&instance, path));
        if let Some(b) = &body {
            r = r.json(b);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path} without the token");
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "token_required");
    }
    // With the token, a command still needs --allow-exec.
    let owner = util::owner(&instance);
    let r = owner
        .post(control(&instance, "/probe"))
        .json(&probe)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "exec_not_allowed"
    );
    // An HTTP relying party stays allowed with the token.
    let (rp, _) = hanging_rp().await;
    let r = owner
        .post(control(&instance, "/probe"))
        .json(&json!({ "url": format!("http://{rp}/"), "no_catalogue": true, "fuzz": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    let r = owner
        .post(control(&instance, "/probe"))
        .json(&json!({ "url": format!("http://{rp}/"), "fuzz": 100_001 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "fuzz counts are capped");
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_exec_lets_the_owner_run_a_command_probe() {
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &[]);
    config.allow_exec = true;
    let instance = stepmint::Instance::start(
        config,
        Arc::new(stepmint::SystemClock),
        Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    let marker = dir.path().join("ran");
    let r = util::owner(&instance)
        .post(control(&instance, "/probe"))
        .json(&json!({
            "exec": format!("touch {} && false", marker.display()),
            "shell": true,
            "no_catalogue": true,
            "fuzz": 1,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("event: report"), "{body}");
    assert!(marker.exists(), "the owner's command ran");
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_over_the_api_are_capped_and_end_with_their_client() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let (rp, held) = hanging_rp().await;
    let owner = util::owner(&instance);
    let request = json!({ "url": format!("http://{rp}/"), "no_catalogue": true, "fuzz": 50_000 });
    let mut streams = Vec::new();
    for _ in 0..stepmint::http::MAX_CONCURRENT_PROBES {
        let r = owner
            .post(control(&instance, "/probe"))
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    assert!(
        eventually(Duration::from_secs(20), || held.load(Ordering::SeqCst) > 0).await,
        "the probes reached the relying party"
    );
    let r = owner
        .post(control(&instance, "/probe"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "too_many_probes");
    // The clients go away: their probes stop, and what they held at the relying party with them.
    drop(streams);
    assert!(
        eventually(Duration::from_secs(30), || held.load(Ordering::SeqCst) == 0).await,
        "abandoned probes still hold {} requests",
        held.load(Ordering::SeqCst)
    );
    let mut admitted = false;
    let until = Instant::now() + Duration::from_secs(30);
    while !admitted && Instant::now() < until {
        let r = owner
            .post(control(&instance, "/probe"))
            .json(&request)
            .send()
            .await
            .unwrap();
        admitted = r.status() == 200;
        if !admitted {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(admitted, "a new probe runs once the abandoned ones ended");
    instance.stop().await;
}

#[test]
fn the_token_is_never_taken_from_argv_but_from_the_environment_or_a_file() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let out = util::run(&[
        "--data-dir",
        d,
        "serve",
        "--port",
        "0",
        "--control-token",
        "0123456789abcdef0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("STEPMINT_CONTROL_TOKEN") && err.contains("--control-token-file"),
        "{err}"
    );

    let file = dir.path().join("my-token");
    std::fs::write(&file, "from-a-file-0123456789\n").unwrap();
    let serve = util::ServeProcess::start(
        dir.path(),
        &["--control-token-file", file.to_str().unwrap()],
    )
    .unwrap();
    assert!(
        serve.info["console"]
            .as_str()
            .unwrap()
            .ends_with("#token=from-a-file-0123456789"),
        "{}",
        serve.info
    );
    // The CLI reads it from the data directory and drives the server.
    let out = util::run(&["--data-dir", d, "keys", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serve.terminate();

    let child = std::process::Command::new(util::bin())
        .args(["serve", "--json", "--port", "0", "--data-dir", d])
        .env("STEPMINT_CONTROL_TOKEN", "from-the-environment-0123")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    assert!(
        info["console"]
            .as_str()
            .unwrap()
            .ends_with("#token=from-the-environment-0123"),
        "{info}"
    );
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_probes_own_issuer_serves_no_control_plane_and_leaves_8443_alone() {
    // Hold 8443 (or find it held by a user's server): the probe must not need it.
    let _held = std::net::TcpListener::bind("127.0.0.1:8443");
    let dir = util::data_dir();
    let seen = dir.path().join("seen");
    // The relying party: accepts nothing, and writes what the issuer's control API answered
    // (the issuer URL is /2.0/workspaces/SLUG/pipelines-config/identity/oidc).
    let script = format!(
        "base=$(printf %s \"$0\" | sed 's#/2.0/workspaces/.*##'); \
         curl -s -o /dev/null -w '%{{http_code}} ' --cacert \"$1\" \"$base/_stepmint/v1/health\" >> {seen}; \
         printf '%s\\n' \"$base\" >> {seen}; exit 1",
        seen = seen.display()
    );
    let exec = format!("sh -c {} {{issuer}} {{ca}}", stepmint::shell_quote(&script));
    let out = util::run(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "probe",
        "--exec",
        &exec,
        "--cases",
        "expired",
        "--json",
    ]);
    let text = std::fs::read_to_string(&seen).unwrap_or_default();
    let first = text.lines().next().unwrap_or_default().to_string();
    let (status, base) = first.split_once(' ').unwrap_or_default();
    assert_eq!(
        status,
        "404",
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!base.ends_with(":8443"), "{base}");
    assert!(
        !dir.path().join("server.json").exists(),
        "a probe's issuer leaves no record for mint or keys to find"
    );
    // Its baseline was refused: could not test, never "a hostile token was accepted".
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_probe_that_cannot_start_exits_3_with_a_json_error() {
    let dir = util::data_dir();
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = blocker.local_addr().unwrap().port().to_string();
    let out = util::run(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "probe",
        "--url",
        "http://127.0.0.1:9/",
        "--port",
        &port,
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON error on stdout");
    assert_eq!(report["error"]["exit"], 3);
    assert!(
        report["error"]["message"].as_str().unwrap().contains(&port),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_bind_is_recorded_reachably_and_held_files_are_not_edited_behind_it() {
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &[]);
    config.bind = "0.0.0.0".parse().unwrap();
    let instance = stepmint::Instance::start(
        config,
        Arc::new(stepmint::SystemClock),
        Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    let record: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("server.json")).unwrap()).unwrap();
    assert_eq!(
        record["listening"],
        format!("https://127.0.0.1:{}", instance.local_addr().port())
    );
    let d = dir.path().to_str().unwrap().to_string();
    let jwks_url = instance.workspaces()[0].jwks_uri.clone();
    let client = util::client(&util::ca_pem(&instance));
    let before: Value = util::get_json(&client, &jwks_url).await;
    let out = tokio::task::spawn_blocking({
        let d = d.clone();
        move || util::run(&["--data-dir", &d, "keys", "rotate"])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: Value = util::get_json(&client, &jwks_url).await;
    assert_ne!(before, after, "the live server serves the rotation");

    // Without a record the CLI cannot reach it; it must not edit the files it holds.
    std::fs::remove_file(dir.path().join("server.json")).unwrap();
    let out = tokio::task::spawn_blocking(move || util::run(&["--data-dir", &d, "keys", "rotate"]))
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds") && err.contains("cannot be reached"),
        "{err}"
    );
    let unchanged: Value = util::get_json(&client, &jwks_url).await;
    assert_eq!(after, unchanged);
    instance.stop().await;
}
