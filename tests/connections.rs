//! Connection-level fairness and answers: one client address cannot take every connection
//! slot, and a refusal sent before a request's body arrives reaches an HTTP/2 client whole.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{self, tls_connect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_holding_its_share_of_connections_cannot_keep_another_out() {
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &[]);
    config.max_connections = 20;
    let instance = stepmint::Instance::start(
        config,
        Arc::new(stepmint::SystemClock),
        Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    let port = instance.local_addr().port();
    let ca = util::ca_pem(&instance);
    // One client tries to take every slot, each with a request whose body it never finishes:
    // `100 Continue` says the server is reading that body, so the connection is busy.
    let mut held = Vec::new();
    for _ in 0..20 {
        let Ok(mut tls) =
            util::try_tls_connect([127, 0, 0, 1].into(), port, &ca, b"http/1.1").await
        else {
            continue;
        };
        let head = format!(
            "POST /_stepmint/v1/tokens HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\
             Expect: 100-continue\r\n\r\n",
            instance.control_token().unwrap()
        );
        if tls.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        let mut answer = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut answer)).await;
        if let Ok(Ok(n)) = read
            && answer[..n].starts_with(b"HTTP/1.1 100")
        {
            tls.write_all(b"{").await.unwrap();
            held.push(tls);
        }
    }
    // Its share, a quarter of the cap by default, is all it holds.
    assert_eq!(held.len(), 5, "connections one client holds busy");
    // A second client (another loopback address) is served while those are held.
    let other = util::client_builder(&ca)
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let r = other
        .get(&instance.workspaces()[0].jwks_uri)
        .send()
        .await
        .expect("the second client is served");
    assert_eq!(r.status(), 200);
    drop(held);
    instance.stop().await;
}

/// `curl --http2 -d @- URL EXTRA...` with `body`: the status, the HTTP version and the body
/// curl shows, or its error.
async fn curl_post(ca: &std::path::Path, url: &str, extra: &[&str], body: &str) -> String {
    let mut child = tokio::process::Command::new("curl")
        .args(["--http2", "-sS", "--max-time", "20", "--cacert"])
        .arg(ca)
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
        ])
        .args(["-w", "\n%{http_code} %{http_version}"])
        .args(extra)
        .arg(url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("curl");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "curl failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_before_the_body_reach_an_http2_client_whole() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let url = format!(
        "https://localhost:{}/_stepmint/v1/tokens",
        instance.local_addr().port()
    );
    let body = |len: usize| format!(r#"{{"claims":{{"x":"{}"}}}}"#, "a".repeat(len));
    let (big, small) = (body(100 * 1024), body(60 * 1024));
    let cases: [(&[&str], &str, &str, &str); 2] = [
        // A declared length over the limit: refused before any of it is read.
        (&[], big.as_str(), "413 2", "body_too_large"),
        // A page of another origin: refused by the owner checks, body unread (large enough
        // that it is still coming when the answer is ready).
        (
            &["-H", "Origin: https://evil.example"],
            small.as_str(),
            "403 2",
            "cross_origin",
        ),
    ];
    for (extra, body, status, code) in cases {
        let auth = format!(
            "Authorization: Bearer {}",
            instance.control_token().unwrap()
        );
        let extra: Vec<&str> = ["-H", auth.as_str()]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let shown = curl_post(instance.ca_path(), &url, &extra, body).await;
        let (json, last) = shown.rsplit_once('\n').unwrap();
        assert_eq!(last, status, "{shown}");
        let json: Value = serde_json::from_str(json).expect("a JSON body");
        assert_eq!(json["error"], code, "{json}");
    }
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_and_trickling_connections_do_not_keep_a_new_client_out() {
    // Room for both ends of every connection in this one process.
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let held = 5_000usize.min((files.saturating_sub(600) / 2) as usize);
    let dir = util::data_dir();
    let mut config = util::config(dir.path(), &[]);
    // Below what is held, so the server must shed to let anyone new in.
    config.max_connections = held * 4 / 5;
    let instance = stepmint::Instance::start(
        config,
        Arc::new(stepmint::SystemClock),
        Arc::new(stepmint::IdSource::random()),
    )
    .await
    .unwrap();
    let port = instance.local_addr().port();
    let ca = util::ca_pem(&instance);
    let mut hold: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    for i in 0..held {
        match i % 4 {
            // Connected, silent.
            0 => hold.push(Box::new(
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap(),
            )),
            // A TLS handshake begun and never finished.
            1 => {
                let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                let _ = s.write_all(&[0x16, 0x03, 0x01, 0x02]).await;
                hold.push(Box::new(s));
            }
            // HTTP/1.1, a request head trickled and never finished.
            2 if i % 40 == 2 => {
                let mut t = tls_connect(port, &ca, b"http/1.1").await;
                let _ = t.write_all(b"GET /2.0/works").await;
                hold.push(Box::new(t));
            }
            // HTTP/2, the preface sent, then nothing.
            3 if i % 40 == 3 => {
                let mut t = tls_connect(port, &ca, b"h2").await;
                let _ = t
                    .write_all(
                        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
                    )
                    .await;
                hold.push(Box::new(t));
            }
            _ => hold.push(Box::new(
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap(),
            )),
        }
    }
    let client = util::client(&ca);
    let url = instance.workspaces()[0].jwks_uri.clone();
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(10), client.get(&url).send())
        .await
        .expect("a new client is served while thousands of connections are held")
        .unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    println!(
        "held {held} connections (cap {}); a new client got the JWKS in {took:?}",
        held * 4 / 5
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    drop(hold);
    instance.stop().await;
}
