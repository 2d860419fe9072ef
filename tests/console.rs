//! The web console and the control plane it drives: only its owner can drive it (foreign
//! `Host` refused, cross-origin changes refused, a token when one is set), the console's pages
//! and the endpoints its screens use (status, inspect, history, trust, recipes, the live request
//! stream, a probe streamed from the server).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util;

async fn start(
    config: impl FnOnce(&mut stepmint::Config),
) -> (tempfile::TempDir, stepmint::Instance) {
    let dir = util::data_dir();
    let mut c = util::config(dir.path(), &[]);
    config(&mut c);
    let instance = stepmint::Instance::start(
        c,
        Arc::new(stepmint::SystemClock),
        Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    (dir, instance)
}

/// A raw HTTP/1.1 exchange over TLS, for headers a client library would not let us forge.
async fn raw(instance: &stepmint::Instance, request: &str) -> String {
    let ca = util::ca_pem(instance);
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::pem::PemObject::pem_slice_iter(ca.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(instance.local_addr())
        .await
        .unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls_pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    // The owner's token on every request that does not bring its own: these tests are about
    // Host and Origin, which refuse even the owner.
    let request = match (
        request.contains("\r\nAuthorization:"),
        request.split_once("\r\n"),
    ) {
        (false, Some((line, rest))) => format!(
            "{line}\r\nAuthorization: Bearer {}\r\n{rest}",
            instance.control_token().unwrap()
        ),
        _ => request.to_string(),
    };
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).to_string()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn body_of(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_origin_cannot_drive_the_control_plane() {
    let (_dir, instance) = start(|_| {}).await;
    let port = instance.local_addr().port();
    let slug = instance.workspaces()[0].slug.clone();
    let kid = instance.workspaces()[0].active_kid.clone();
    // What a hostile page can send without a preflight: a "simple" cross-origin POST.
    let rotate = format!(
        "POST /_stepmint/v1/workspaces/{slug}/keys/rotate HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{{\"overlap\":0}}  "
    );
    let answer = raw(&instance, &rotate).await;
    assert_eq!(status_of(&answer), 403, "{answer}");
    assert_eq!(body_of(&answer)["error"], "cross_origin", "{answer}");
    assert!(
        !answer
            .to_ascii_lowercase()
            .contains("access-control-allow-origin")
    );
    let mint = format!(
        "POST /_stepmint/v1/tokens HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    assert_eq!(status_of(&raw(&instance, &mint).await), 403);
    assert_eq!(
        instance.workspaces()[0].active_kid,
        kid,
        "the key did not rotate"
    );
    // The server's own origin (the console) may.
    let own = mint.replace("https://evil.example", &format!("https://localhost:{port}"));
    assert_eq!(status_of(&raw(&instance, &own).await), 200);
    // Another port on localhost is another origin.
    let other_port = mint.replace("https://evil.example", "https://localhost:1");
    assert_eq!(status_of(&raw(&instance, &other_port).await), 403);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_host_is_refused_but_relying_party_paths_stay_open() {
    let (_dir, instance) = start(|c| c.sans = vec!["issuer.test".into()]).await;
    let jwks_path = format!(
        "/2.0/workspaces/{}/pipelines-config/identity/oidc/keys.json",
        instance.workspaces()[0].slug
    );
    for (host, control, rp) in [
        ("rebind.evil.example", 403, 200),
        ("localhost", 200, 200),
        ("127.0.0.1", 200, 200),
        ("issuer.test:443", 200, 200),
    ] {
        let get = |path: &str| {
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
        };
        let answer = raw(&instance, &get("/_stepmint/v1/workspaces")).await;
        assert_eq!(status_of(&answer), control, "{host}: {answer}");
        if control == 403 {
            assert_eq!(body_of(&answer)["error"], "foreign_host");
        }
        assert_eq!(
            status_of(&raw(&instance, &get(&jwks_path)).await),
            rp,
            "{host}"
        );
    }
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_token_is_enforced_and_the_cli_uses_it() {
    let token = "a-long-enough-control-token";
    let (dir, instance) = start(|c| c.control_token = Some(token.into())).await;
    let ca = util::ca_pem(&instance);
    let client = util::client(&ca);
    let base = format!(
        "https://localhost:{}/_stepmint/v1",
        instance.local_addr().port()
    );
    let r = client
        .get(format!("{base}/workspaces"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "token_required");
    let r = client
        .get(format!("{base}/workspaces"))
        .bearer_auth("wrong-token-of-some-length")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(format!("{base}/workspaces"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{base}/workspaces"))
        .header(stepmint::http::TOKEN_HEADER, token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Relying parties need no token.
    assert_eq!(
        client
            .get(&instance.workspaces()[0].jwks_uri)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The token is left for the CLI, 0600, and the console link carries it in its fragment.
    let file = dir.path().join("control-token");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), token);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        instance
            .console_url()
            .unwrap()
            .ends_with(&format!("/_stepmint/ui/#token={token}"))
    );
    instance.stop().await;
}

#[test]
fn the_cli_sends_the_servers_token_from_the_data_directory() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let token_file = dir.path().join("token-source");
    std::fs::write(&token_file, "cli-side-token-0123456789").unwrap();
    let serve = util::ServeProcess::start(
        dir.path(),
        &["--control-token-file", token_file.to_str().unwrap()],
    )
    .expect("serve");
    assert!(
        serve.info["console"]
            .as_str()
            .unwrap()
            .contains("#token=cli-side-token-0123456789")
    );
    // The CLI finds the token in the data directory: key changes still go through the server.
    let out = util::run(&["keys", "rotate", "--json", "--data-dir", d]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["via"], "server", "{v}");
    drop(serve);
    // Without one configured, each start makes a new token and replaces the old file.
    let again = util::ServeProcess::start(dir.path(), &[]).expect("serve");
    let fresh = std::fs::read_to_string(dir.path().join("control-token")).unwrap();
    assert_ne!(fresh, "cli-side-token-0123456789");
    assert!(
        again.info["console"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/_stepmint/ui/#token={fresh}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_unless_turned_off() {
    let (_dir, instance) = start(|_| {}).await;
    let client = util::owner(&instance);
    let base = format!("https://localhost:{}", instance.local_addr().port());
    let r = client
        .get(format!("{base}/_stepmint/ui/"))
        .send()
        .await
        .unwrap();
    // `ui/dist` is committed, so every build embeds it (build.rs).
    assert!(stepmint::http::console_built(), "this build has no console");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("screen-issuer"), "the app's page");
    // Its assets are relative, so they load under the prefix.
    let asset = page
        .split('"')
        .find(|s| s.starts_with("./assets/") && s.ends_with(".js"))
        .expect("a script asset");
    let js = client
        .get(format!("{base}/_stepmint/ui/{}", &asset[2..]))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    instance.stop().await;
    let (_dir, off) = start(|c| c.console = false).await;
    let client = util::client(&util::ca_pem(&off));
    let r = client
        .get(format!(
            "https://localhost:{}/_stepmint/ui/",
            off.local_addr().port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(off.console_url().is_none());
    off.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_screens_endpoints_answer_as_the_app_does() {
    let (_dir, instance) = start(|c| c.allow_exec = true).await;
    let client = util::owner(&instance);
    let base = format!(
        "https://localhost:{}/_stepmint/v1",
        instance.local_addr().port()
    );
    let status: Value = call_json(
        &client,
        reqwest::Method::GET,
        format!("{base}/status"),
        None::<&Value>,
    )
    .await;
    assert_eq!(status["running"], true);
    assert_eq!(
        status["server"]["workspaces"][0]["slug"],
        instance.workspaces()[0].slug
    );
    assert!(
        status["server"]["ca_path"]
            .as_str()
            .unwrap()
            .ends_with("ca.pem")
    );

    // A mint kept in the history, inspected, then the history cleared.
    let minted: Value = call_json(
        &client,
        reqwest::Method::POST,
        format!("{base}/tokens?history=true"),
        Some(&json!({ "claims": { "team": "qa" } })),
    )
    .await;
    let history: Value = call_json(
        &client,
        reqwest::Method::GET,
        format!("{base}/history"),
        None::<&Value>,
    )
    .await;
    assert_eq!(history["history"][0]["token"], minted["token"]);
    let inspected: Value = call_json(
        &client,
        reqwest::Method::POST,
        format!("{base}/inspect"),
        Some(&json!({ "token": minted["token"] })),
    )
    .await;
    assert_eq!(inspected["report"]["accepted"], true, "{inspected}");
    assert_eq!(inspected["decoded"]["claims"]["team"], "qa");
    let cleared = client
        .delete(format!("{base}/history"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let trust: Value = call_json(
        &client,
        reqwest::Method::GET,
        format!("{base}/trust"),
        None::<&Value>,
    )
    .await;
    assert!(
        trust["lines"]
            .as_str()
            .unwrap()
            .contains("export SSL_CERT_FILE=")
    );
    let recipe: Value = call_json(
        &client,
        reqwest::Method::POST,
        format!("{base}/recipes"),
        Some(&json!({ "request": { "claims": { "aud": "x" } }, "name": "mine" })),
    )
    .await;
    assert!(
        recipe["toml"].as_str().unwrap().contains("name = \"mine\""),
        "{recipe}"
    );

    // The live request stream carries a relying party's JWKS fetch.
    let mut stream = client
        .get(format!("{base}/requests/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    client
        .get(&instance.workspaces()[0].jwks_uri)
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("keys.json") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("an event within the timeout")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.starts_with("data: {"), "{seen}");

    // A probe run in the server, streamed: progress, then the report.
    let body = client
        .post(format!("{base}/probe"))
        .json(&json!({ "exec": "true", "no_catalogue": true, "fuzz": 40, "seed": 2 }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("event: progress"), "{body}");
    let report = body
        .split("event: report\ndata: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .expect("a report event");
    let report: Value = serde_json::from_str(report).unwrap();
    assert_eq!(report["fuzz"]["sent"], 40);
    assert!(
        !report["findings"].as_array().unwrap().is_empty(),
        "`true` accepts everything"
    );
    // A bad probe is a 400 before any stream.
    let bad = client
        .post(format!("{base}/probe"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    instance.stop().await;
}

/// The JSON answer to one call (the test fails on a transport error or a body that is not JSON).
async fn call_json(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<&Value>,
) -> Value {
    let request = client.request(method, url);
    let request = match body {
        Some(b) => request.json(b),
        None => request,
    };
    request.send().await.unwrap().json().await.unwrap()
}

/// What a browser is told about every answer of the console and the control plane: its own code
/// only, never in a frame, never sniffed, no referrer (the console link carries the control token
/// in its fragment). Refusals and errors carry them too; relying-party documents do not need them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_control_answers_forbid_framing_inline_code_and_sniffing() {
    let (_dir, instance) = start(|_| {}).await;
    let owner = util::owner(&instance);
    let stranger = util::client(&util::ca_pem(&instance));
    let origin = format!("https://localhost:{}", instance.local_addr().port());
    let base = format!("{origin}/_stepmint/ui");
    let mut console = vec![
        format!("{base}/"),
        format!("{base}/no-such-file.js"),
        base.clone(),
    ];
    if stepmint::http::console_built() {
        let page = util::get_text(&owner, format!("{base}/")).await;
        for asset in page.split('"').filter(|s| s.starts_with("./assets/")) {
            console.push(format!("{base}/{}", &asset[2..]));
        }
        // The built page needs nothing the policy forbids: no inline script or style.
        let lower = page.to_ascii_lowercase();
        assert!(!lower.contains(" style="), "an inline style attribute");
        assert!(!lower.contains("<style"), "an inline stylesheet");
        for script in lower.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(tag.contains(" src="), "an inline script: <script{tag}>");
        }
        assert!(
            console.len() >= 5,
            "the page's script and stylesheet: {console:?}"
        );
    }
    let v1 = format!("{origin}/_stepmint/v1");
    let control = [
        (&owner, format!("{v1}/status"), 200),
        (&owner, format!("{v1}/no-such-call"), 404),
        (&stranger, format!("{v1}/status"), 401),
    ];
    let mut answers = Vec::new();
    for url in &console {
        answers.push((
            url.clone(),
            owner.get(url).send().await.unwrap(),
            CONSOLE_DIRECTIVES,
        ));
    }
    for (client, url, status) in control {
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{url}");
        answers.push((url, r, API_DIRECTIVES));
    }
    for (url, r, directives) in &answers {
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{url}: no Content-Security-Policy"))
            .to_str()
            .unwrap();
        for directive in *directives {
            assert!(csp.contains(directive), "{url}: {directive} not in {csp}");
        }
        assert!(!csp.contains("unsafe-"), "{url}: {csp}");
        assert!(!csp.contains('*'), "{url}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{url}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{url}");
    }
    instance.stop().await;
}

const CONSOLE_DIRECTIVES: &[&str] = &[
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
];
const API_DIRECTIVES: &[&str] = &["default-src 'none'", "frame-ancestors 'none'"];
