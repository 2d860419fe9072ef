//! Endurance: load with zero errors, `kill -9` mid-rotation and mid-mint with nothing lost or
//! corrupted, slow clients that do not block others, and oversized requests refused while the
//! server keeps serving. (Throughput and latency goals live in `scripts/bench`, not here.)

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use stepmint::http::calls;

use crate::util::{self, ServeProcess};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_requests_at_256_connections_without_an_error() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ca = util::ca_pem(&instance);
    let ws = instance.workspaces()[0].clone();
    let clients: Vec<reqwest::Client> = (0..256)
        .map(|_| {
            // One client per connection: 256 real TLS connections, each with keep-alive.
            util::client_builder(&ca)
                .http1_only()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap()
        })
        .collect();
    let body = util::get_bytes(&util::client(&ca), &ws.jwks_uri).await;
    let errors = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let (errors, ok, body) = (errors.clone(), ok.clone(), body.clone());
        let urls = [ws.jwks_uri.clone(), ws.discovery.clone()];
        tasks.push(tokio::spawn(async move {
            // 10,000 requests over 256 connections: 39 or 40 each.
            let n = 10_000 / 256 + usize::from(i < 10_000 % 256);
            for j in 0..n {
                let url = &urls[j % 2];
                match client.get(url).send().await {
                    Ok(r) if r.status() == 200 => match r.bytes().await {
                        Ok(b) if j % 2 == 1 || b == body => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert_eq!(ok.load(Ordering::Relaxed), 10_000);
    instance.stop().await;
}

#[test]
fn kill_9_during_rotation_and_minting_loses_nothing() {
    let dir = util::data_dir();
    let ca_before;
    let mut rotated: BTreeSet<String> = BTreeSet::new();
    let minted_kids: Arc<std::sync::Mutex<BTreeSet<String>>> = Arc::default();
    {
        let mut serve = ServeProcess::start(dir.path(), &[]).expect("serve");
        ca_before = std::fs::read(dir.path().join("ca/ca.pem")).unwrap();
        let base = serve.listening().to_string();
        let slug = serve.info["workspaces"][0]["slug"]
            .as_str()
            .unwrap()
            .to_string();
        let token = std::fs::read_to_string(dir.path().join("control-token")).unwrap();
        let client = stepmint::ControlClient::new(&base, &ca_before)
            .unwrap()
            .with_token(token);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rotated.insert(
            serve.info["workspaces"][0]["active_kid"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        runtime.block_on(async {
            // Minting in the background while rotations run one after another.
            let minter = {
                let (client, kids) = (client.clone(), minted_kids.clone());
                tokio::spawn(async move {
                    while let Ok(v) = client
                        .call::<calls::Mint>(&[], &Default::default(), &Default::default())
                        .await
                    {
                        kids.lock()
                            .unwrap()
                            .insert(v.header["kid"].as_str().unwrap_or_default().to_string());
                    }
                })
            };
            // Rotations back to back, each confirmed kid recorded; the kill lands while they
            // are still being sent (a rotation generates an RSA key: most of the time one is
            // under way when the process dies).
            let confirmed: Arc<std::sync::Mutex<BTreeSet<String>>> = Arc::default();
            let rotator = {
                let (client, slug, confirmed) = (client.clone(), slug.clone(), confirmed.clone());
                tokio::spawn(async move {
                    let request = stepmint::api::RotateRequest {
                        overlap: Some(3600),
                        unpublished_for: None,
                    };
                    while let Ok(v) = client
                        .call::<calls::RotateKey>(&[slug.as_str()], &Default::default(), &request)
                        .await
                    {
                        confirmed.lock().unwrap().insert(v.active_kid);
                    }
                })
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while confirmed.lock().unwrap().len() < 6 {
                assert!(std::time::Instant::now() < deadline, "rotations stalled");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            serve.child.kill().unwrap();
            let _ = rotator.await;
            rotated.extend(confirmed.lock().unwrap().iter().cloned());
            let _ = minter.await;
        });
        serve.child.wait().unwrap();
    }
    // Restart: it comes up (no corrupt file), with the same CA and every key it announced.
    let serve = ServeProcess::start(dir.path(), &[]).expect("restart after kill -9");
    assert_eq!(
        std::fs::read(dir.path().join("ca/ca.pem")).unwrap(),
        ca_before
    );
    let ring: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("workspaces/stepmint/keys.json")).unwrap(),
    )
    .unwrap();
    let on_disk: BTreeSet<String> = ring["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    for kid in &rotated {
        assert!(
            on_disk.contains(kid),
            "key {kid} announced before the kill is on disk"
        );
        assert!(
            dir.path()
                .join(format!("workspaces/stepmint/keys/{kid}.pem"))
                .is_file()
        );
    }
    for kid in minted_kids.lock().unwrap().iter().filter(|k| !k.is_empty()) {
        assert!(
            on_disk.contains(kid),
            "a key that signed tokens ({kid}) is still in the ring"
        );
    }
    assert!(serve.info["workspaces"][0]["active_kid"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_block_others() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let addr = instance.local_addr();
    // 64 connections that start a TLS handshake and then say nothing more, and 16 that finish
    // TCP but send a partial byte stream: the slowloris pattern.
    let mut idle = Vec::new();
    for i in 0..80 {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        if i % 5 == 0 {
            s.write_all(&[0x16, 0x03, 0x01]).unwrap();
        }
        idle.push(s);
    }
    let client = util::owner(&instance);
    let url = instance.workspaces()[0].jwks_uri.clone();
    for _ in 0..20 {
        let resp = tokio::time::timeout(Duration::from_secs(10), client.get(&url).send()).await;
        assert_eq!(
            resp.expect("served while slow clients hold connections")
                .unwrap()
                .status(),
            200
        );
    }
    drop(idle);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_and_bodies_are_refused_and_serving_goes_on() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let client = util::owner(&instance);
    let base = format!("https://localhost:{}", instance.local_addr().port());
    let url = instance.workspaces()[0].jwks_uri.clone();

    let huge_header = "x".repeat(100 * 1024);
    let h1 = util::client_builder(&util::ca_pem(&instance))
        .http1_only()
        .build()
        .unwrap();
    match h1.get(&url).header("x-big", &huge_header).send().await {
        Ok(r) => assert_eq!(r.status(), 431, "HTTP/1.1 header limit"),
        Err(e) => panic!("the server should answer 431, not drop: {e}"),
    }
    // HTTP/2 refuses the header block at the protocol level; either way nothing is served.
    if let Ok(r) = client.get(&url).header("x-big", &huge_header).send().await {
        assert!(r.status().is_client_error(), "{}", r.status());
    }

    let body = format!(
        "{{\"claims\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = client
        .post(format!("{base}/_stepmint/v1/tokens"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "body_too_large");

    for _ in 0..5 {
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    }
    assert_eq!(h1.get(&url).send().await.unwrap().status(), 200);
    instance.stop().await;
}
