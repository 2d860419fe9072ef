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

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stepmint_log_shows_the_newest_records_and_says_what_it_cut() {
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
    // The freshest request, marked.
    let marked = util::client_builder(&ca)
        .user_agent("fresh-mark")
        .build()
        .unwrap();
    marked.get(&jwks).send().await.unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let run = move |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["--json".into(), "--data-dir".into(), d.clone()]);
        tokio::task::spawn_blocking(move || {
            util::run(&all.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    // By default: the newest 50, the marked one last, and a note of what was cut.
    let out = run(&["log"]).await.unwrap();
    assert!(out.status.success(), "{}", util::text(&out));
    let records = json_lines(&out);
    assert_eq!(records.len(), 50);
    assert_eq!(records.last().unwrap()["user_agent"], "fresh-mark");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("showing the newest 50 of") && stderr.contains("-n N for more"),
        "{stderr}"
    );
    // `-n` shows more, still ending with the newest; the log's own reads are not shown.
    let out = run(&["log", "-n", "1000"]).await.unwrap();
    let records = json_lines(&out);
    assert_eq!(records.len(), 1000);
    assert_eq!(records.last().unwrap()["user_agent"], "fresh-mark");
    assert!(records.iter().all(|r| r["endpoint"] != "control"));
    // `--all` shows the control traffic (the reads just made).
    let out = run(&["log", "--all"]).await.unwrap();
    assert!(
        json_lines(&out).iter().any(|r| r["endpoint"] == "control"),
        "{}",
        util::text(&out)
    );
    // Nothing cut, nothing said.
    let small = util::data_dir();
    let _serve2 = util::ServeProcess::start(small.path(), &[]).expect("serve");
    let sd = small.path().to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || util::run(&["log", "--data-dir", &sd]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", util::text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("showing"),
        "{}",
        util::text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stepmint_log_follow_prints_no_control_traffic_of_its_own() {
    use std::io::BufRead;
    let dir = util::data_dir();
    let serve = util::ServeProcess::start(dir.path(), &[]).expect("serve");
    let ca = std::fs::read(serve.info["ca"].as_str().unwrap()).unwrap();
    let jwks = serve.info["workspaces"][0]["jwks_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let mut child = std::process::Command::new(util::bin())
        .args(["log", "--follow", "--json", "--data-dir"])
        .env_remove("STEPMINT_DATA_DIR")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    // Reads until the record marked `mark`, returning what came before it.
    let until = |mark: &str| -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let r = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{mark}` record; seen {seen:?}"));
            if r["user_agent"] == mark {
                return seen;
            }
            seen.push(r);
        }
    };
    for mark in ["mark-1", "mark-2", "mark-3"] {
        let client = util::client_builder(&ca).user_agent(mark).build().unwrap();
        client.get(&jwks).send().await.unwrap();
        let before = until(mark);
        // Between two marks the command polled at least once: none of it is printed.
        assert!(
            before.iter().all(|r| r["endpoint"] != "control"),
            "{before:?}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
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
