//! The built `stepmint` binary as users run it: serve (JSON start-up line, signals, busy port),
//! mint and decode, ca, persistence across processes, corrupt files, and exit codes.

use std::fs;

use serde_json::Value;

use crate::util::{self, ServeProcess};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn serve_json_line_then_serves_and_stops_on_sigterm() {
    let dir = util::data_dir();
    let serve = ServeProcess::start(dir.path(), &["--workspace", "acme"]).expect("serve starts");
    let info = serve.info.clone();
    let listening = serve.listening().to_string();
    assert!(listening.starts_with("https://localhost:"), "{info}");
    assert_eq!(
        info["ca"].as_str().unwrap(),
        dir.path().join("ca/ca.pem").to_str().unwrap()
    );
    let ws = &info["workspaces"][0];
    assert_eq!(ws["slug"], "acme");
    assert_eq!(
        ws["issuer"],
        format!("{listening}/2.0/workspaces/acme/pipelines-config/identity/oidc")
    );
    assert_eq!(
        ws["jwks_uri"],
        format!("{}/keys.json", ws["issuer"].as_str().unwrap())
    );
    assert!(ws["uuid"].as_str().unwrap().starts_with('{'));
    assert!(dir.path().join("server.json").is_file());

    // The discovery document is served with the CA it printed; curl is someone else's client.
    let out = std::process::Command::new("curl")
        .args(["-sS", "--fail", "--cacert", info["ca"].as_str().unwrap()])
        .arg(format!(
            "{}/.well-known/openid-configuration",
            ws["issuer"].as_str().unwrap()
        ))
        .output()
        .expect("curl");
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["issuer"], ws["issuer"]);

    // A mint with no --public-url names the running server's issuer.
    let minted = util::run(&[
        "mint",
        "--json",
        "--workspace",
        "acme",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(minted.status.success(), "{}", stderr(&minted));
    let minted: Value = serde_json::from_slice(&minted.stdout).unwrap();
    assert_eq!(minted["claims"]["iss"], ws["issuer"]);

    let status = serve.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    assert!(!dir.path().join("server.json").exists());
}

#[test]
fn serve_logs_requests_to_stderr() {
    let dir = util::data_dir();
    let serve = ServeProcess::start(dir.path(), &[]).expect("serve starts");
    let jwks = serve.info["workspaces"][0]["jwks_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--fail",
            "-A",
            "log-probe/2",
            "--cacert",
            serve.info["ca"].as_str().unwrap(),
            &jwks,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = serve
        .stderr
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a log line");
    assert!(
        line.contains("GET")
            && line.contains("/keys.json")
            && line.contains(" 200 ")
            && line.contains("log-probe/2"),
        "{line}"
    );
}

#[test]
fn busy_port_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = util::data_dir();
    let out = util::run(&[
        "serve",
        "--port",
        &port,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("in use"),
        "{err}"
    );
}

#[test]
fn restart_reuses_ca_and_kid_across_processes() {
    let dir = util::data_dir();
    let first = ServeProcess::start(dir.path(), &[]).expect("first");
    let ca1 = fs::read(dir.path().join("ca/ca.pem")).unwrap();
    let kid1 = first.info["workspaces"][0]["active_kid"].clone();
    let uuid1 = first.info["workspaces"][0]["uuid"].clone();
    assert!(first.terminate().success());
    let second = ServeProcess::start(dir.path(), &[]).expect("second");
    assert_eq!(ca1, fs::read(dir.path().join("ca/ca.pem")).unwrap());
    assert_eq!(second.info["workspaces"][0]["active_kid"], kid1);
    assert_eq!(second.info["workspaces"][0]["uuid"], uuid1);
}

#[test]
fn corrupt_key_file_is_named_and_left_alone() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(util::run(&["mint", "--data-dir", d]).status.success());
    let keys = dir.path().join("workspaces/stepmint/keys");
    let key = fs::read_dir(&keys).unwrap().next().unwrap().unwrap().path();
    fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out = util::run(&["mint", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(key.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    assert!(
        fs::read_to_string(&key).unwrap().contains("not a key"),
        "never silently replaced"
    );
    // serve refuses too, naming the same file.
    let serve = util::run(&["serve", "--port", "0", "--data-dir", d]);
    assert_eq!(serve.status.code(), Some(1));
    assert!(stderr(&serve).contains(key.to_str().unwrap()));

    // A corrupt workspace.json likewise.
    let dir2 = util::data_dir();
    let d2 = dir2.path().to_str().unwrap();
    assert!(util::run(&["mint", "--data-dir", d2]).status.success());
    let ws = dir2.path().join("workspaces/stepmint/workspace.json");
    fs::write(&ws, "{").unwrap();
    let out = util::run(&["mint", "--data-dir", d2]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("workspace.json"), "{}", stderr(&out));
}

#[test]
fn private_files_are_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(util::run(&["ca", "path", "--data-dir", d]).status.success());
    assert!(util::run(&["mint", "--data-dir", d]).status.success());
    let mut checked = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in fs::read_dir(&p).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "pem") {
                assert_eq!(
                    fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                    0o600,
                    "{}",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "CA cert, CA key and a signing key: {checked}");
}

#[test]
fn mint_flags_deterministic_mode_and_decode() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // No command but `workspaces add` (and `serve`) creates a workspace.
    let added = util::run(&["workspaces", "add", "acme", "--data-dir", d]);
    assert!(added.status.success(), "{}", stderr(&added));
    let args = [
        "mint",
        "--data-dir",
        d,
        "--json",
        "--now",
        "2030-01-01T00:00:00Z",
        "--seed",
        "7",
        "--workspace",
        "acme",
        "--branch",
        "release",
        "--audience",
        "sts.amazonaws.com",
        "--env-uuid",
        "0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60",
        "--claim",
        "team=\"qa\"",
        "--claim",
        "n=3",
        "--unset",
        "pipelineUuid",
        "--header",
        "x5t=\"abc\"",
        "--lifetime",
        "120",
    ];
    let a = util::run(&args);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = util::run(&args);
    assert_eq!(a.stdout, b.stdout, "same inputs, byte-identical token");
    let v: Value = serde_json::from_slice(&a.stdout).unwrap();
    let c = &v["claims"];
    assert_eq!(c["iat"], 1_893_456_000);
    assert_eq!(c["exp"], 1_893_456_120);
    assert_eq!(c["branchName"], "release");
    assert_eq!(c["team"], "qa");
    assert_eq!(c["n"], 3);
    assert!(c.get("pipelineUuid").is_none());
    assert_eq!(
        c["deploymentEnvironmentUuid"],
        "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}"
    );
    assert_eq!(c["aud"][1], "sts.amazonaws.com");
    assert_eq!(v["header"]["x5t"], "abc");
    // Another seed: other generated ids, the same given values.
    let other_seed = util::run(&[&args[..6], &["--seed", "8"], &args[8..]].concat());
    assert!(other_seed.status.success(), "{}", stderr(&other_seed));
    let w: Value = serde_json::from_slice(&other_seed.stdout).unwrap();
    assert_ne!(w["claims"]["stepUuid"], c["stepUuid"]);
    assert!(w["claims"]["stepUuid"].is_string());
    assert_eq!(w["claims"]["branchName"], "release");

    let token = v["token"].as_str().unwrap();
    let decoded = util::run(&["decode", token]);
    assert!(decoded.status.success());
    assert!(stderr(&decoded).contains("NOT VERIFIED"));
    assert!(stdout(&decoded).contains("\"team\": \"qa\""));
    assert!(
        stdout(&decoded).contains("exp: 2030-01-01T00:02:00Z"),
        "{}",
        stdout(&decoded)
    );
    let piped = util::run_with_stdin(&["decode", "--json", "-"], &format!("{token}\n"));
    let pv: Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(pv["claims"], v["claims"]);
    assert_eq!(pv["verified"], false);
}

#[test]
fn usage_errors_exit_2_failures_exit_1() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    for args in [
        vec!["mint", "--data-dir", d, "--claim", "team=qa"],
        vec!["mint", "--data-dir", d, "--claim", "noequals"],
        vec!["mint", "--data-dir", d, "--repo-uuid", "nope"],
        vec!["mint", "--data-dir", d, "--lifetime", "0"],
        vec!["mint", "--data-dir", d, "--now", "yesterday"],
        vec!["mint", "--data-dir", d, "--workspace", "Bad/Slug"],
        vec!["serve", "--data-dir", d, "--port", "99999"],
        vec!["serve", "--data-dir", d, "--san", "bad name"],
        vec!["serve", "--data-dir", d, "--public-url", "ftp://x"],
        vec!["frobnicate"],
    ] {
        let out = util::run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
    let bad = util::run(&["decode", "not-a-token"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("malformed token"));
    let missing = util::run(&[
        "serve",
        "--config",
        "/nonexistent/stepmint.toml",
        "--data-dir",
        d,
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("/nonexistent/stepmint.toml"));
}

#[test]
fn ca_commands_and_help() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let path = util::run(&["ca", "path", "--data-dir", d]);
    assert_eq!(
        stdout(&path).trim(),
        dir.path().join("ca/ca.pem").to_str().unwrap()
    );
    let pem = util::run(&["ca", "pem", "--data-dir", d]);
    assert_eq!(
        stdout(&pem),
        fs::read_to_string(dir.path().join("ca/ca.pem")).unwrap()
    );
    let env = stdout(&util::run(&["ca", "env", "--data-dir", d]));
    for var in [
        "NODE_EXTRA_CA_CERTS",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "CURL_CA_BUNDLE",
    ] {
        assert!(env.contains(&format!("export {var}=")), "{env}");
    }
    let bundle = fs::read_to_string(dir.path().join("ca/bundle.pem")).unwrap();
    assert!(bundle.ends_with(&stdout(&pem)));
    for cmd in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["mint", "--help"],
        vec!["decode", "--help"],
        vec!["ca", "--help"],
    ] {
        let out = util::run(&cmd);
        assert!(out.status.success());
        assert!(stdout(&out).contains("Examples:"), "{cmd:?}");
    }
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
    assert!(out.status.success(), "{}", util::text(&out));

    // Before: DELETE /_stepmint/v1/faults, every fault cleared, exit 0.
    let out = util::run(&["keys", "retire", "../../../faults", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a key id"));
    // Before: the key was retired through `.../keys/KID`.
    let sneaky = format!("../workspaces/stepmint/keys/{kid}");
    let out = util::run(&["fault", "clear", "--workspace", &sneaky, "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));

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
fn decode_shows_members_given_twice_and_the_raw_json() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let token = util::run(&["mint", "--case", "duplicate-aud-good-last", "--data-dir", d]);
    let token = String::from_utf8(token.stdout).unwrap();
    let out = util::run(&["decode", token.trim()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("`aud` 2 times") && stdout.contains("https://attacker.invalid"),
        "{stdout}"
    );
    let raw = util::run(&["decode", "--raw", token.trim()]);
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert!(
        raw.contains(r#"{"aud":"https://attacker.invalid""#),
        "{raw}"
    );
    let as_json = util::json(&util::run(&["decode", "--json", token.trim()]));
    assert!(
        as_json["raw_payload"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"aud":"https://attacker.invalid""#)
    );
}

#[test]
fn data_dir_is_accepted_everywhere_and_before_the_command() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let out = util::run(&["--data-dir", d, "mint", "--json"]);
    assert!(out.status.success(), "{}", util::text(&out));
    let token = util::json(&out)["token"].as_str().unwrap().to_string();
    assert!(
        util::run(&["decode", &token, "--data-dir", d])
            .status
            .success()
    );
    assert!(util::run(&["cases", "--data-dir", d]).status.success());
    let yml = dir.path().join("p.yml");
    std::fs::write(
        &yml,
        "pipelines:\n  default:\n    - step: { name: A, script: [a] }\n",
    )
    .unwrap();
    assert!(
        util::run(&["--data-dir", d, "steps", yml.to_str().unwrap()])
            .status
            .success()
    );
}
