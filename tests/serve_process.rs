//! `stepmint serve` as a process: one server per data directory, settings checked at start, a
//! full stderr, and CLI tokens that follow the running server's settings.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{self, ServeProcess};

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
            util::text(&out)
        );
        assert!(util::terminal_safe(&String::from_utf8_lossy(&out.stderr)));
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
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
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

#[test]
fn cli_tokens_follow_the_running_servers_lifetime() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &["--lifetime", "900"]).expect("serve");
    let minted = util::json(&util::run(&["mint", "--json", "--data-dir", d]));
    let c = &minted["claims"];
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    let out = util::run(&[
        "run",
        "--data-dir",
        d,
        "--",
        "sh",
        "-c",
        "printf %s \"$BITBUCKET_STEP_OIDC_TOKEN\"",
    ]);
    let claims = stepmint::decode_unverified(&String::from_utf8_lossy(&out.stdout))
        .unwrap()
        .claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
}
