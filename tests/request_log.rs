//! The request log under a client that sends too much: every field a client chose is kept
//! clipped, a read returns a bounded page, and one client's flood pushes out only its own
//! records (the printer's rate limit is tested beside it, in `src/http/reqlog/print.rs`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::Value;
use stepmint::http::{LOG_CAPACITY, MAX_FIELD, MAX_PAGE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::{self, ServeProcess, tls_connect};

/// Every record of the log, read a page at a time in process (a read over the API would be
/// logged itself).
fn whole_log(log: &stepmint::http::RequestLog) -> Vec<stepmint::http::RequestRecord> {
    let mut out: Vec<stepmint::http::RequestRecord> = Vec::new();
    loop {
        let page = log.since(out.last().map_or(0, |r| r.id), usize::MAX, true);
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// `text` is at most `MAX_FIELD` bytes of what was sent and a note of how much was cut.
fn assert_clipped(text: &str, sent: usize) {
    let (kept, note) = text.split_once("... [").expect("a cut note");
    assert!(kept.len() <= MAX_FIELD, "{} bytes kept", kept.len());
    assert_eq!(note, format!("{} bytes cut]", sent - kept.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_request_heads_are_logged_clipped() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let port = instance.local_addr().port();
    let ca = util::ca_pem(&instance);
    let long_path = format!("/{}", "p".repeat(20 * 1024));
    let long_agent = "u".repeat(200 * 1024);
    let heads = [
        // A path too long to serve (414) and a user agent past the header limit (431).
        format!("GET {long_path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        format!(
            "GET /x HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {long_agent}\r\nConnection: close\r\n\r\n"
        ),
    ];
    for (head, status) in heads.iter().zip(["414", "431"]) {
        let mut tls = tls_connect(port, &ca, b"http/1.1").await;
        tls.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{status}"
        );
    }
    // As the control API hands them out.
    let client = util::owner(&instance);
    let url = format!("https://localhost:{port}/_stepmint/v1/requests");
    let page = util::get_bytes(&client, url).await;
    let log: Value = serde_json::from_slice(&page).unwrap();
    let log = log["requests"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["status"], 414);
    assert_clipped(log[0]["path"].as_str().unwrap(), long_path.len());
    assert_eq!(log[1]["status"], 431);
    assert_clipped(log[1]["user_agent"].as_str().unwrap(), long_agent.len());
    assert_eq!(log[1]["path"], "/x");
    // The page is as small as what the log keeps.
    assert!(page.len() < 6 * MAX_FIELD, "{} bytes", page.len());
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_of_the_log_returns_at_most_a_page() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    for n in 0..MAX_PAGE + 500 {
        instance.log().event(None, format!("event {n}"));
    }
    let client = util::owner(&instance);
    let base = format!("https://localhost:{}", instance.local_addr().port());
    let page: Value = util::get_json(
        &client,
        format!("{base}/_stepmint/v1/requests?limit=100000"),
    )
    .await;
    let records = page["requests"].as_array().unwrap();
    assert_eq!(records.len(), MAX_PAGE);
    assert_eq!(records[0]["path"], "event 0");
    // `next` reads on from where the page stopped.
    let next = page["next"].as_u64().unwrap();
    assert_eq!(records.last().unwrap()["id"], next);
    let rest: Value = util::get_json(
        &client,
        format!("{base}/_stepmint/v1/requests?limit=100000&since={next}"),
    )
    .await;
    assert_eq!(rest["requests"].as_array().unwrap().len(), 500);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_client_leaves_another_clients_records_in_the_log() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let port = instance.local_addr().port();
    let ca = util::ca_pem(&instance);
    let jwks = instance.workspaces()[0].jwks_uri.clone();
    let from = |ip: [u8; 4]| {
        util::client_builder(&ca)
            .local_address(IpAddr::from(ip))
            .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
            .build()
            .unwrap()
    };
    // A relying party fetches the JWKS a few times...
    let relying_party = from([127, 0, 0, 2]);
    for _ in 0..3 {
        let r = relying_party.get(&jwks).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    // ...then another client sends more requests than the log holds, sixteen at a time.
    let flooder = from([127, 0, 0, 1]);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (flooder, url) = (flooder.clone(), format!("{jwks}?flood"));
        tasks.spawn(async move {
            for _ in 0..(LOG_CAPACITY + 200) / 16 {
                flooder
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let log = whole_log(instance.log());
    assert_eq!(log.len(), LOG_CAPACITY);
    let from_ip = |ip: [u8; 4]| {
        log.iter()
            .filter(|r| r.peer.map(|p| p.ip()) == Some(IpAddr::from(ip)))
            .count()
    };
    assert_eq!(
        from_ip([127, 0, 0, 2]),
        3,
        "the relying party's requests are still in the log"
    );
    assert_eq!(from_ip([127, 0, 0, 1]), LOG_CAPACITY - 3);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stepmint_log_prints_the_whole_log_a_page_at_a_time() {
    let dir = util::data_dir();
    let serve = util::ServeProcess::start(dir.path(), &[]).expect("serve");
    let ca = std::fs::read(serve.info["ca"].as_str().unwrap()).unwrap();
    let jwks = serve.info["workspaces"][0]["jwks_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let client = util::client(&ca);
    let sent = MAX_PAGE + 200;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url) = (client.clone(), jwks.clone());
        tasks.spawn(async move {
            for _ in 0..sent / 8 {
                client
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let d = dir.path().to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || util::run(&["log", "--json", "--data-dir", &d]))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fetched = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["endpoint"] == "jwks")
        .count();
    assert_eq!(fetched, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_escapes_what_a_client_sends() {
    let dir = util::data_dir();
    let serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let port: u16 = serve.info["bound"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ca = std::fs::read(serve.info["ca"].as_str().unwrap()).unwrap();
    let mut tls = tls_connect(port, &ca, b"http/1.1").await;
    // A raw C1 control (U+009B, CSI) in the path, and a bidi override in the user agent.
    let request = "GET /x\u{9b}2J HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ua\u{202e}txt\r\nConnection: close\r\n\r\n";
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut answer).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let line = serve
            .stderr
            .recv_timeout(Duration::from_secs(10))
            .expect("a request-log line");
        if line.contains("/x") || Instant::now() > deadline {
            break line;
        }
    };
    assert!(util::terminal_safe(&line), "{line:?}");
    assert!(line.contains("/x\\u{9b}2J"), "{line}");
    assert!(line.contains("ua\\u{202e}txt"), "{line}");
}
