//! Fault injection as relying parties meet it: every fault observed from a real HTTP client, the
//! late-published key judged by the validator, TLS faults seen by a rustls client that trusts our
//! CA, faults in the request log, clearing restores service, the control API is never affected,
//! and the CLI (`fault`, `serve --tls-faults`, `serve --scenario`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stepmint::faults::{EtagMode, Fault, FaultEndpoint};
use stepmint::validate::{self, KeySet};
use stepmint::{Clock, IdSource, Issuer, IssuerOptions, StepRequest, WorkspaceSpec};

use crate::util::{self, ManualClock, ServeProcess};

struct Setup {
    instance: stepmint::Instance,
    client: reqwest::Client,
    jwks: String,
    discovery: String,
    base: String,
}

async fn setup() -> (tempfile::TempDir, Setup) {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let client = util::owner(&instance);
    let ws = instance.workspaces()[0].clone();
    let base = format!("https://localhost:{}", instance.local_addr().port());
    (
        dir,
        Setup {
            client,
            jwks: ws.jwks_uri,
            discovery: ws.discovery,
            base,
            instance,
        },
    )
}

fn set(s: &Setup, endpoint: FaultEndpoint, fault: Fault) {
    s.instance.faults().set("acme", endpoint, fault).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_as_a_client_sees_it() {
    let (_dir, s) = setup().await;
    let healthy = util::get_bytes(&s.client, &s.jwks).await;

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            latency_ms: Some(vec![300]),
            ..Default::default()
        },
    );
    let t = Instant::now();
    assert_eq!(s.client.get(&s.jwks).send().await.unwrap().status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            latency_ms: Some(vec![100, 200]),
            ..Default::default()
        },
    );
    let t = Instant::now();
    s.client.get(&s.jwks).send().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(100));

    for status in [500u16, 503, 404, 429] {
        set(
            &s,
            FaultEndpoint::Jwks,
            Fault {
                status: Some(status),
                retry_after: Some(30),
                ..Default::default()
            },
        );
        let r = s.client.get(&s.jwks).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(r.headers()["retry-after"], "30");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "injected");
    }

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            fail_next: Some(2),
            ..Default::default()
        },
    );
    let statuses: Vec<u16> = futures_seq(&s.client, &s.jwks, 3).await;
    assert_eq!(statuses, [503, 503, 200], "fail the next N, then recover");

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            reset: true,
            ..Default::default()
        },
    );
    let r = s.client.get(&s.jwks).send().await;
    let failed = match r {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a reset connection is an error, not a body");

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            hang: true,
            ..Default::default()
        },
    );
    let err = s
        .client
        .get(&s.jwks)
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            truncate: true,
            ..Default::default()
        },
    );
    let body = util::get_bytes(&s.client, &s.jwks).await;
    assert_eq!(&body[..], &healthy[..healthy.len() / 2]);
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    set(
        &s,
        FaultEndpoint::Discovery,
        Fault {
            non_json: true,
            content_type: Some("text/html".into()),
            ..Default::default()
        },
    );
    let r = s.client.get(&s.discovery).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/html");
    assert!(serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err());

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            cache_control: Some("max-age=31536000".into()),
            etag: Some(EtagMode::NeverChanges),
            ..Default::default()
        },
    );
    let a = s.client.get(&s.jwks).send().await.unwrap();
    assert_eq!(a.headers()["cache-control"], "max-age=31536000");
    let etag_a = a.headers()["etag"].clone();
    s.instance
        .issuer()
        .update_keys("acme", |ring, now| ring.rotate(now, 0))
        .unwrap();
    let b = s.client.get(&s.jwks).send().await.unwrap();
    assert_eq!(
        b.headers()["etag"],
        etag_a,
        "the ETag did not change although the keys did"
    );
    // A conditional request is told its (old) copy is current.
    let cached = s
        .client
        .get(&s.jwks)
        .header("if-none-match", etag_a.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_ne!(b.bytes().await.unwrap(), healthy);

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            cache_control: Some("no-store".into()),
            etag: Some(EtagMode::AlwaysChanges),
            ..Default::default()
        },
    );
    let e1 = s.client.get(&s.jwks).send().await.unwrap().headers()["etag"].clone();
    let e2 = s.client.get(&s.jwks).send().await.unwrap().headers()["etag"].clone();
    assert_ne!(e1, e2);

    // Clearing restores normal service.
    assert_eq!(s.instance.faults().clear(Some("acme"), None), 2);
    let r = s.client.get(&s.jwks).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("etag").is_none() && r.headers().get("cache-control").is_none());
    s.instance.stop().await;
}

async fn futures_seq(client: &reqwest::Client, url: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(client.get(url).send().await.unwrap().status().as_u16());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_faults_empty_and_duplicate_kid_jwks() {
    let (_dir, s) = setup().await;
    let token = s
        .instance
        .issuer()
        .mint(&StepRequest::default())
        .unwrap()
        .token;
    let policy = s
        .instance
        .issuer()
        .workspace("acme")
        .unwrap()
        .default_policy();
    let verdict = |jwks: &[u8]| {
        validate::verify(
            &token,
            &KeySet::from_json(jwks).unwrap(),
            &policy,
            stepmint::SystemClock.now(),
        )
    };

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            empty_jwks: true,
            ..Default::default()
        },
    );
    let body = util::get_bytes(&s.client, &s.jwks).await;
    assert_eq!(&body[..], br#"{"keys":[]}"#);
    assert!(!verdict(&body).accepted);

    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            duplicate_kid: true,
            ..Default::default()
        },
    );
    let body = util::get_bytes(&s.client, &s.jwks).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["keys"][0]["kid"], v["keys"][1]["kid"]);
    let r = verdict(&body);
    assert!(!r.accepted && r.reason.unwrap().contains("share the kid"));
    s.instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_show_in_the_log_and_never_touch_the_control_api() {
    let (_dir, s) = setup().await;
    set(
        &s,
        FaultEndpoint::Jwks,
        Fault {
            status: Some(500),
            ..Default::default()
        },
    );
    set(
        &s,
        FaultEndpoint::Discovery,
        Fault {
            hang: true,
            ..Default::default()
        },
    );
    assert_eq!(s.client.get(&s.jwks).send().await.unwrap().status(), 500);
    for path in [
        "/_stepmint/v1/health",
        "/_stepmint/v1/workspaces",
        "/_stepmint/v1/faults",
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let minted = s
        .client
        .post(format!("{}/_stepmint/v1/tokens", s.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(minted.status(), 200);
    let log = s.instance.log().since(0, 100, false);
    let jwks = log.iter().find(|r| r.path.ends_with("/keys.json")).unwrap();
    assert_eq!(jwks.status, 500);
    assert!(
        jwks.fault.as_deref().unwrap().contains("\"status\":500"),
        "{jwks:?}"
    );
    s.instance.stop().await;
}

static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

#[test]
fn a_key_signing_before_it_is_published_is_refused_then_accepted() {
    let dir = util::data_dir();
    let clock = Arc::new(ManualClock(AtomicI64::new(1_800_000_000)));
    let mut options = IssuerOptions::new(dir.path(), "https://localhost:8443");
    options.workspaces = vec![WorkspaceSpec::parse("acme").unwrap()];
    let issuer = Issuer::open(options, clock.clone(), Arc::new(IdSource::random())).unwrap();
    let key = issuer
        .update_keys("acme", |ring, now| ring.rotate_unpublished(now, 3600, 30))
        .unwrap();
    let token = issuer.mint(&StepRequest::default()).unwrap().token;
    let header = stepmint::decode_unverified(&token).unwrap().header;
    assert_eq!(header["kid"], key.kid(), "the unpublished key signs");
    let verdict = || {
        let ws = issuer.workspace("acme").unwrap();
        validate::verify(
            &token,
            &KeySet::from_json(ws.jwks_json()).unwrap(),
            &ws.default_policy(),
            clock.now(),
        )
    };
    let early = verdict();
    assert!(!early.accepted && early.reason.unwrap().contains("no key with kid"));
    clock.0.store(1_800_000_030, Ordering::SeqCst);
    let late = verdict();
    assert!(late.accepted, "published after 30 s: {:?}", late.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_faults_fail_as_a_rustls_client_expects() {
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &[]);
    config.tls_faults = true;
    let instance = stepmint::Instance::start(
        config,
        Arc::new(stepmint::SystemClock),
        Arc::new(IdSource::random()),
    )
    .await
    .unwrap();
    let urls = instance.tls_fault_urls();
    assert_eq!(
        urls.keys().collect::<Vec<_>>(),
        ["expired", "tls12-only", "untrusted-ca", "wrong-san"]
    );
    let ca = util::ca_pem(&instance);
    let handshake =
        |url: String, versions: &'static [&'static rustls::SupportedProtocolVersion]| {
            let ca = ca.clone();
            async move {
                use rustls_pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(rustls_pki_types::CertificateDer::from_pem_slice(&ca).unwrap())
                    .unwrap();
                let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .with_protocol_versions(versions)
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
                let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
                let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
                tokio_rustls::TlsConnector::from(Arc::new(config))
                    .connect(name, tcp)
                    .await
                    .map(|s| s.get_ref().1.protocol_version())
            }
        };
    let all = rustls::ALL_VERSIONS;
    let kind = |r: std::io::Result<Option<rustls::ProtocolVersion>>| match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!(
            "{:?}",
            e.into_inner()
                .and_then(|i| i.downcast::<rustls::Error>().ok())
                .map(|b| *b)
        ),
    };
    let expired = kind(handshake(urls["expired"].clone(), all).await);
    assert!(expired.contains("Expired"), "{expired}");
    let wrong = kind(handshake(urls["wrong-san"].clone(), all).await);
    assert!(wrong.contains("NotValidForName"), "{wrong}");
    let untrusted = kind(handshake(urls["untrusted-ca"].clone(), all).await);
    assert!(untrusted.contains("UnknownIssuer"), "{untrusted}");
    let only12 = kind(handshake(urls["tls12-only"].clone(), all).await);
    assert_eq!(only12, "ok Some(TLSv1_2)");
    let tls13_client = kind(handshake(urls["tls12-only"].clone(), TLS13_ONLY).await);
    assert!(!tls13_client.starts_with("ok"), "{tls13_client}");
    // The main listener is untouched.
    let main = kind(
        handshake(
            format!("https://localhost:{}", instance.local_addr().port()),
            all,
        )
        .await,
    );
    assert_eq!(main, "ok Some(TLSv1_3)");
    instance.stop().await;
}

#[test]
fn cli_fault_commands_tls_fault_urls_and_scenarios() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // No server: a clear error.
    let none = util::run(&["fault", "list", "--json", "--data-dir", d]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no `stepmint serve` is running"));

    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, "[[step]]\nat = 0\nendpoint = \"discovery\"\nfault = { status = 503, retry_after = 5 }\n\n[[step]]\nat = 3\nclear = true\n").unwrap();
    let serve = ServeProcess::start(
        dir.path(),
        &["--tls-faults", "--scenario", scenario.to_str().unwrap()],
    )
    .expect("serve");
    assert_eq!(serve.info["tls_faults"].as_object().unwrap().len(), 4);
    let ca = serve.info["ca"].as_str().unwrap().to_string();
    let discovery = serve.info["workspaces"][0]["discovery"]
        .as_str()
        .unwrap()
        .to_string();
    let jwks = serve.info["workspaces"][0]["jwks_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let status = |url: &str| -> String {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--cacert",
                &ca,
                url,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The scenario's first step is in force when `serve` says it is ready (so the first answer
    // is a 503 however slow this machine is), and its second clears it 3 s later.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let s = status(&discovery);
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "200" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen, ["503", "200"], "503 from the scenario, then healthy");

    let set = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--status",
        "429",
        "--retry-after",
        "7",
        "--data-dir",
        d,
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert_eq!(status(&jwks), "429");
    let listed: Value =
        serde_json::from_slice(&util::run(&["fault", "list", "--json", "--data-dir", d]).stdout)
            .unwrap();
    assert_eq!(
        listed["faults"][0]["fault"],
        json!({ "status": 429, "retry_after": 7 })
    );
    let bad = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--status",
        "200",
        "--data-dir",
        d,
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = util::run(&["fault", "set", "--endpoint", "token", "--data-dir", d]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        util::run(&["fault", "clear", "--all", "--data-dir", d])
            .status
            .success()
    );
    assert_eq!(status(&jwks), "200");

    // A broken scenario file names itself.
    std::fs::write(&scenario, "[[step]]\nat = 1\n").unwrap();
    let out = util::run(&[
        "serve",
        "--port",
        "0",
        "--scenario",
        scenario.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("scenario.toml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fault_commands_refuse_nonsense_and_speak_plainly() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let out = util::run(&["fault", "set", "--endpoint", "jwks", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    let out = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--reset",
        "--hang",
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    let out = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--status",
        "503",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("stepmint")
            && human.contains("jwks")
            && !human.trim_start().starts_with('{'),
        "{human}"
    );
    let listed = util::json(&util::run(&["fault", "list", "--json", "--data-dir", d]));
    assert_eq!(listed["faults"][0]["fault"]["status"], 503);
    // The README's fault examples are lines to paste, not pipelines.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for line in readme.lines().filter(|l| l.starts_with("stepmint fault")) {
        assert!(!line.contains(" | "), "{line}");
    }
}

#[test]
fn scenario_steps_say_when_they_fire() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[[step]]\nat = 0\nendpoint = \"jwks\"\nfault = { status = 503 }\n",
    )
    .unwrap();
    let serve = ServeProcess::start(dir.path(), &["--scenario", scenario.to_str().unwrap()])
        .expect("serve");
    let line = serve
        .stderr
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a line for the step");
    assert!(
        line.contains("EVENT") && line.contains("scenario at 0 s: fault on Jwks"),
        "{line}"
    );
    let log = util::run(&["log", "--json", "--data-dir", d]);
    assert!(log.status.success(), "{}", util::text(&log));
    let events: Vec<Value> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["method"] == "EVENT")
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    let human = util::run(&["log", "--data-dir", d]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("scenario at 0 s"));
}
