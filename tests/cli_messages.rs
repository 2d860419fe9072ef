//! What the CLI prints and how it fails: untrusted text never reaches the terminal raw, bad times
//! and closed outputs are errors rather than panics, and messages say things once, plainly, with
//! examples that paste.

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util;

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
    assert!(out.status.success(), "{}", util::text(&out));
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
            util::terminal_safe(&stdout) && util::terminal_safe(&stderr),
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
    assert!(out.status.success(), "{}", util::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(util::terminal_safe(&stdout), "{stdout:?}");
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
        util::terminal_safe(&String::from_utf8_lossy(&out.stderr)),
        "{}",
        util::text(&out)
    );
}

#[test]
fn bad_times_closed_outputs_and_scenarios_are_errors_not_panics() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    for now in ["253402300000", "0000-01-01T00:00:00Z", "-1"] {
        let flag = format!("--now={now}");
        let out = util::run(&["run", &flag, "--data-dir", d, "--", "true"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "--now {now}: {}",
            util::text(&out)
        );
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
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing to standard output"));
    // `keys rotate > /dev/full`: the rotation is saved, the output error reported.
    let out = Command::new(util::bin())
        .args(["keys", "rotate", "--data-dir", d])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
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
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out));
    assert!(out.stderr.is_empty(), "{}", util::text(&out));
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
        assert_eq!(
            out.status.code(),
            Some(2),
            "at = {at}: {}",
            util::text(&out)
        );
    }
}

#[test]
fn messages_say_things_once_plainly_and_examples_paste() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // The validator's details are JSON values, not Rust debug text.
    let token = String::from_utf8(util::run(&["mint", "--data-dir", d]).stdout).unwrap();
    let wrong = util::run(&[
        "verify",
        token.trim(),
        "--workspace",
        "stepmint",
        "--audience",
        "someone-else",
        "--data-dir",
        d,
    ]);
    let shown = String::from_utf8_lossy(&wrong.stdout);
    assert!(
        !shown.contains("Some(") && !shown.contains("String("),
        "{shown}"
    );
    assert!(shown.contains("none of"), "{shown}");
    // An OS error is said once.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let out = util::run(&["serve", "--port", &port, "--data-dir", d]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("Address already in use").count(), 1, "{err}");
    // Help: defaults said once, examples one pasteable line each.
    for cmd in [
        "mint",
        "verify",
        "run",
        "probe",
        "serve",
        "keys",
        "fault",
        "workspaces",
    ] {
        let help = String::from_utf8(util::run(&[cmd, "--help"]).stdout).unwrap();
        assert!(!help.contains("[default: GET] [default: GET]"), "{cmd}");
        let examples = help.split("Examples:").nth(1).unwrap_or_default();
        for line in examples.lines().take_while(|l| !l.trim().is_empty()) {
            let line = line.trim();
            assert!(
                line.starts_with("stepmint ")
                    || line.starts_with("eval ")
                    || line.starts_with("stepmint"),
                "{cmd}: a wrapped example: {line:?}"
            );
            stepmint::probe::split_command(line.split(" # ").next().unwrap_or(line))
                .unwrap_or_else(|e| panic!("{cmd}: {line:?}: {e}"));
        }
    }
    // Keys: times as RFC 3339; a staged key whose time has come reads as published; any case.
    let out = util::run(&[
        "keys",
        "add",
        "--alg",
        "es256",
        "--publish-in",
        "1",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    let listing =
        String::from_utf8_lossy(&util::run(&["keys", "list", "--data-dir", d]).stdout).to_string();
    assert!(listing.contains("publish at 20"), "{listing}");
    assert!(
        !listing
            .split_whitespace()
            .any(|w| w.len() == 10 && w.bytes().all(|b| b.is_ascii_digit())),
        "{listing}"
    );
}

#[test]
fn newcomer_slips_are_usage_errors_that_say_what_to_do() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // A missing --jwks file is a usage error (2) that says how to get one.
    let token = util::run(&["mint", "--data-dir", d]);
    assert!(token.status.success(), "{}", util::text(&token));
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    let out = util::run(&[
        "verify",
        &token,
        "--jwks",
        "no-such-keys.json",
        "--issuer",
        "https://localhost:8443/x",
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keys.json -o no-such-keys.json"), "{err}");
    // A hang that would answer with a status is refused, not half-applied.
    let serve = util::ServeProcess::start(dir.path(), &[]).expect("serve");
    let out = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--hang",
        "--status",
        "500",
        "--data-dir",
        d,
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", util::text(&out));
    assert!(
        util::text(&out).contains("hang never answers"),
        "{}",
        util::text(&out)
    );
    let list = util::run(&["fault", "list", "--json", "--data-dir", d]);
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("\"hang\":true"),
        "{}",
        util::text(&list)
    );
    // `--cases baseline`, a family `cases` lists, is accepted.
    let out = util::run(&[
        "probe",
        "--exec",
        "true",
        "--cases",
        "baseline",
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out));
    drop(serve);
}
