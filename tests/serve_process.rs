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

const GCP_PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/bitbucket/providers/acme";

/// `serve --gcp-provider NAME=FILE`: the provider is announced (`gcp_providers`, `gcp_sts` in the
/// JSON line) and answered at the emulated GCP STS (a token for its audience on `main` gets an
/// access token, one for another branch `invalid_grant`); a file the engine cannot read stops
/// the server at start with exit 2 and a message naming the file and the line at fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_for_a_gcp_provider_file() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let files = util::data_dir();
    // No issuerUri (the port is not known yet) and no allowedAudiences: the audience must then
    // be the provider's own resource name, as Google requires.
    let good = files.path().join("provider.json");
    std::fs::write(
        &good,
        serde_json::json!({
            "attributeMapping": {"google.subject": "assertion.sub"},
            "attributeCondition": "assertion.branchName == 'main'",
        })
        .to_string(),
    )
    .unwrap();
    let flag = format!("{GCP_PROVIDER}={}", good.display());
    let serve = ServeProcess::start(dir.path(), &["--gcp-provider", &flag]).expect("serve");
    assert_eq!(
        serve.info["gcp_providers"],
        serde_json::json!([GCP_PROVIDER])
    );
    let url = serve.info["gcp_sts"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        format!("{}/_stepmint/gcp/sts/v1/token", serve.listening())
    );
    let ca = std::fs::read(serve.info["ca"].as_str().unwrap()).unwrap();
    let client = util::client(&ca);
    let audience = format!("//iam.googleapis.com/{GCP_PROVIDER}");
    let exchange = |branch: &str| {
        let minted = util::run(&[
            "mint",
            "--data-dir",
            d,
            "--audience",
            &audience,
            "--branch",
            branch,
        ]);
        assert!(minted.status.success(), "{}", util::text(&minted));
        [
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange".to_string(),
            ),
            ("audience", audience.clone()),
            (
                "subject_token",
                String::from_utf8_lossy(&minted.stdout).trim().to_string(),
            ),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:jwt".to_string(),
            ),
        ]
    };
    let v: Value = client
        .post(&url)
        .form(&exchange("main"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("ya29.")),
        "{v}"
    );
    let v: Value = client
        .post(&url)
        .form(&exchange("feature/x"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["error"], "invalid_grant", "{v}");
    assert!(serve.terminate().success());

    // A provider whose condition is not CEL, and one that is not JSON: the file and line named.
    let bad_cel = files.path().join("bad-cel.json");
    std::fs::write(
        &bad_cel,
        "{\n  \"attributeMapping\": {\"google.subject\": \"assertion.sub\"},\n  \"attributeCondition\": \"assertion.sub ==\"\n}\n",
    )
    .unwrap();
    let bad_json = files.path().join("bad-json.json");
    std::fs::write(
        &bad_json,
        "{\n  \"attributeMapping\": {\n    \"google.subject\": \n",
    )
    .unwrap();
    for (file, line) in [(&bad_cel, "line 3"), (&bad_json, "line 4")] {
        let flag = format!("{GCP_PROVIDER}={}", file.display());
        let out = util::run(&[
            "serve",
            "--port",
            "0",
            "--data-dir",
            d,
            "--gcp-provider",
            &flag,
        ]);
        let text = util::text(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(
            text.contains(&file.display().to_string()) && text.contains(line),
            "{text}"
        );
    }
    // A file that is not there, and a flag without `=`.
    let missing = format!(
        "{GCP_PROVIDER}={}",
        files.path().join("nope.json").display()
    );
    for flag in [missing.as_str(), GCP_PROVIDER] {
        let out = util::run(&[
            "serve",
            "--port",
            "0",
            "--data-dir",
            d,
            "--gcp-provider",
            flag,
        ]);
        let text = util::text(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {text}");
        assert!(
            text.contains("--gcp-provider") || text.contains("nope.json"),
            "{text}"
        );
    }
}
