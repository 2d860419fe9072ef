//! What an attack pass on the CLI and the server found, each defect with a regression test:
//! path injection through control-API URLs, terminal control characters in human output, panics
//! (`--now` out of range, stdout closed or full, scenario times), slow clients holding every
//! connection, two servers on one data directory, settings never checked, and smaller ones.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::util::{self, ServeProcess, tls_connect};

fn text(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No terminal control: no C0 but newline, no DEL, no C1, no bidi override.
fn terminal_safe(s: &str) -> bool {
    s.chars().all(|c| c == '\n' || !stepmint::is_unprintable(c))
}

#[test]
fn control_api_paths_cannot_be_steered_by_slugs_or_kids() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let kid = serve.info["workspaces"][0]["active_kid"]
        .as_str()
        .unwrap()
        .to_string();
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
    assert!(out.status.success(), "{}", text(&out));

    // Before: DELETE /_stepmint/v1/faults, every fault cleared, exit 0.
    let out = util::run(&["keys", "retire", "../../../faults", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a key id"));
    // Before: the key was retired through `.../keys/KID`.
    let sneaky = format!("../workspaces/stepmint/keys/{kid}");
    let out = util::run(&["fault", "clear", "--workspace", &sneaky, "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let faults = util::run(&["fault", "list", "--json", "--data-dir", d]);
    let faults: Value = serde_json::from_slice(&faults.stdout).unwrap();
    assert_eq!(
        faults["faults"].as_array().map(Vec::len),
        Some(1),
        "{faults}"
    );
    let keys = util::run(&["keys", "list", "--json", "--data-dir", d]);
    let keys: Value = serde_json::from_slice(&keys.stdout).unwrap();
    assert!(
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str()),
        "{keys}"
    );
}

#[test]
fn untrusted_text_never_reaches_the_terminal_raw() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // A kid that forges a line and an alg that retitles the terminal.
    let out = util::run(&[
        "mint",
        "--header",
        r#"kid="x\nACCEPTED\u001b]0;pwned\u0007""#,
        "--header",
        r#"alg="RS256\u001b[2J\u009b31m""#,
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    for args in [
        vec![
            "verify",
            token.as_str(),
            "--workspace",
            "stepmint",
            "--data-dir",
            d,
        ],
        vec!["decode", token.as_str()],
    ] {
        let out = util::run(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            terminal_safe(&stdout) && terminal_safe(&stderr),
            "{args:?}: {stdout:?} {stderr:?}"
        );
        assert!(
            !stdout
                .lines()
                .any(|l| l.trim_start().starts_with("ACCEPTED")),
            "{args:?}: a line was forged: {stdout}"
        );
    }
    // Step names, deployments and audiences from YAML.
    let yml = dir.path().join("bitbucket-pipelines.yml");
    std::fs::write(
        &yml,
        "pipelines:\n  default:\n    - step:\n        name: \"build\\e]0;pwned\\a\\x9b2J\\u202e\"\n        oidc: true\n        deployment: \"prod\\r\\nFAKE\"\n        script: [true]\n",
    )
    .unwrap();
    let out = util::run(&["steps", yml.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(terminal_safe(&stdout), "{stdout:?}");
    assert!(stdout.contains("build\\u{1b}]0;pwned"), "{stdout}");
    // An error message quoting what it was given.
    let out = util::run(&[
        "keys",
        "list",
        "--workspace",
        "bad\u{1b}[2Jslug",
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        terminal_safe(&String::from_utf8_lossy(&out.stderr)),
        "{}",
        text(&out)
    );
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
    assert!(terminal_safe(&line), "{line:?}");
    assert!(line.contains("/x\\u{9b}2J"), "{line}");
    assert!(line.contains("ua\\u{202e}txt"), "{line}");
}

#[test]
fn a_chatty_relying_party_cannot_exhaust_the_probe() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    // `yes` writes without end and never exits: the probe keeps a few KiB and times it out.
    // The probe's peak memory, measured by the kernel for the child, stays small.
    let script = "import resource, subprocess, sys\n\
        r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let out = Command::new(py)
        .args(["-c", script])
        .arg(util::bin())
        .args(["probe", "--exec", "yes", "--timeout", "3", "--data-dir", d])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let mut parts = said.split_whitespace();
    let code: i32 = parts.next().unwrap().parse().unwrap();
    let max_kib: u64 = parts.next().unwrap().parse().unwrap();
    assert_eq!(
        code, 3,
        "a relying party that never answers cannot be tested: {said}"
    );
    assert!(max_kib < 200 * 1024, "peak RSS {max_kib} KiB");
}

#[test]
fn bad_times_closed_outputs_and_scenarios_are_errors_not_panics() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    for now in ["253402300000", "0000-01-01T00:00:00Z", "-1"] {
        let flag = format!("--now={now}");
        let out = util::run(&["run", &flag, "--data-dir", d, "--", "true"]);
        assert_eq!(out.status.code(), Some(2), "--now {now}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--now"));
    }
    // A full disk behind stdout: a message and exit 1, not a panic (101).
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(util::bin())
        .args(["cases"])
        .stdout(full.try_clone().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing to standard output"));
    // `keys rotate > /dev/full`: the rotation is saved, the output error reported.
    let out = Command::new(util::bin())
        .args(["keys", "rotate", "--data-dir", d])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let keys = util::run(&["keys", "list", "--json", "--data-dir", d]);
    let keys: Value = serde_json::from_slice(&keys.stdout).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2, "{keys}");
    // A reader that goes away: a quiet exit.
    let mut child = Command::new(util::bin())
        .args(["cases"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
    // Scenario steps at times no timer can reach.
    for at in ["1e19", "1e300", "9223372036854775807"] {
        let path = dir.path().join("s.toml");
        std::fs::write(&path, format!("[[step]]\nat = {at}\nclear = true\n")).unwrap();
        let out = util::run(&[
            "serve",
            "--port",
            "0",
            "--scenario",
            path.to_str().unwrap(),
            "--data-dir",
            d,
        ]);
        assert_eq!(out.status.code(), Some(2), "at = {at}: {}", text(&out));
    }
}

#[test]
fn serve_cleans_up_when_stderr_is_full() {
    let dir = util::data_dir();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut child = Command::new(util::bin())
        .args(["serve", "--json", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(full)
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let record = dir.path().join("server.json");
    assert!(record.exists());
    // A request makes the log printer write to the full stderr.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "--cacert",
            info["ca"].as_str().unwrap(),
        ])
        .arg(info["workspaces"][0]["jwks_uri"].as_str().unwrap())
        .output();
    let _ = out;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(!record.exists(), "server.json removed on the way out");
}

#[test]
fn one_server_per_data_directory() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let first = ServeProcess::start(dir.path(), &[]).expect("serve");
    let out = util::run(&["serve", "--port", "0", "--data-dir", d]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    let pid = first.info["pid"].as_u64().unwrap().to_string();
    let port = first.info["bound"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&format!(":{port}")) && err.contains(&pid),
        "{err}"
    );
    // The first server's record is intact: key changes still go through it.
    let out = util::run(&["keys", "rotate", "--json", "--data-dir", d]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["via"], "server", "{v}");
}

#[test]
fn settings_are_checked_at_start() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    for (flag, value) in [
        ("--lifetime", "18446744073709551615"),
        ("--lifetime", "0"),
        ("--public-url", "https://x\n\u{1b}[2J"),
    ] {
        let out = util::run(&["serve", "--port", "0", flag, value, "--data-dir", d]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {value:?}: {}",
            text(&out)
        );
        assert!(terminal_safe(&String::from_utf8_lossy(&out.stderr)));
    }
    // An empty data_dir in TOML is refused, and nothing is written where we stand.
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("s.toml"), "data_dir = \"\"\nport = 0\n").unwrap();
    let out = Command::new(util::bin())
        .args(["serve", "--config", "s.toml"])
        .current_dir(work.path())
        .env_remove("STEPMINT_DATA_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let left: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["s.toml"], "nothing written in the working directory");
    // A relative --data-dir gives absolute paths.
    std::fs::create_dir(work.path().join("rel")).unwrap();
    let mut child = Command::new(util::bin())
        .args(["serve", "--json", "--port", "0", "--data-dir", "rel"])
        .current_dir(work.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let info: Value = serde_json::from_str(&line).unwrap();
    assert!(
        std::path::Path::new(info["ca"].as_str().unwrap()).is_absolute(),
        "{info}"
    );
    let _ = d;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_requests_get_json_answers_and_bodies_cannot_stall_a_worker() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let port = instance.local_addr().port();
    let ca = util::ca_pem(&instance);
    let client = util::client(&ca);
    let base = format!("https://localhost:{port}");
    // A path parameter that is not UTF-8.
    let r = client
        .get(format!(
            "{base}/2.0/workspaces/%FF/pipelines-config/identity/oidc/keys.json"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("a JSON error");
    assert!(v["message"].is_string(), "{v}");
    // Long paths are answered (414), not dropped: past 64 KiB by the HTTP layer itself, above
    // 16 KiB by us, with a JSON body.
    for (len, json) in [(200 * 1024, false), (20 * 1024, true)] {
        let mut tls = tls_connect(port, &ca, b"http/1.1").await;
        let long = format!(
            "GET /{} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "a".repeat(len)
        );
        tls.write_all(long.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        let head = &answer[..answer.len().min(300)];
        assert!(answer.starts_with("HTTP/1.1 414"), "{len}: {head}");
        assert_eq!(answer.contains("\"uri_too_long\""), json, "{len}: {head}");
    }
    // A declared length of a terabyte: refused at once, before any body byte.
    let mut tls = tls_connect(port, &ca, b"http/1.1").await;
    let token = instance.control_token().unwrap();
    tls.write_all(format!("POST /_stepmint/v1/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = vec![0u8; 512];
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut tls, &mut head),
    )
    .await
    .expect("answered without waiting for the body")
    .unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
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

#[test]
fn junit_is_xml_whatever_the_relying_party_says_and_the_exit_status_decides() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let junit = dir.path().join("j.xml");
    // Accepts everything and says something XML cannot hold.
    let out = util::run(&[
        "probe",
        "--shell",
        "--exec",
        "printf 'ok \\357\\277\\276 \\001 <&>' >&2; exit 0",
        "--cases",
        "alg-none,expired",
        "--junit",
        junit.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let parsed = Command::new(py)
        .args(["-c", "import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot(); print(s.get('failures'))", junit.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{}", text(&parsed));
    assert_eq!(String::from_utf8_lossy(&parsed.stdout).trim(), "2");
    // Exits 0 at once, leaving a child that holds its output open: accepted, not a timeout.
    let out = util::run(&[
        "probe",
        "--shell",
        "--exec",
        "sleep 30 & exit 0",
        "--cases",
        "alg-none",
        "--timeout",
        "20",
        "--json",
        "--data-dir",
        d,
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["baseline"]["observed"], "accepted", "{report}");
    assert_eq!(report["rows"][0]["observed"], "accepted", "{report}");
}

#[test]
fn leftovers_are_cleaned_and_huge_pipelines_files_refused() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(util::run(&["mint", "--data-dir", d]).status.success());
    // What a kill -9 mid-write leaves: a temporary file of a process long gone.
    let ws = dir.path().join("workspaces/stepmint");
    let stale = [
        ws.join(".keys.json.4000000.3.tmp"),
        ws.join("keys/.abc.pem.4000001.1.tmp"),
    ];
    for s in &stale {
        std::fs::write(s, "partial").unwrap();
    }
    let keep = ws.join("notes.tmp");
    std::fs::write(&keep, "mine").unwrap();
    assert!(util::run(&["mint", "--data-dir", d]).status.success());
    for s in &stale {
        assert!(!s.exists(), "{} left behind", s.display());
    }
    assert!(keep.exists(), "only Stepmint's own temporary files go");

    let big = dir.path().join("big.yml");
    let mut f = std::fs::File::create(&big).unwrap();
    let line = format!("# {}\n", "x".repeat(1000));
    for _ in 0..5_000 {
        f.write_all(line.as_bytes()).unwrap();
    }
    drop(f);
    let out = util::run(&["steps", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 4 MiB"));
}
