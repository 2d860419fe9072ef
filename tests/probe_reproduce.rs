//! A probe's findings reproduce: the reproduce line of a failed row and a saved finding
//! (`--save-findings`, then `mint --recipe`) mint a token in the probe's whole declared context
//! (audience, environment, branch...), and the same relying party answers it as it did in the
//! probe. Without that context the same edits are refused for another reason.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use serde_json::Value;
use stepmint::validate::{self, Condition, Policy, RemoteKeys, Test};
use stepmint::{Clock, SystemClock};

use crate::util;

const ENV: &str = "{7e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b}";

/// A deployment relying party: audience `api://deploy` and one environment, checked strictly;
/// the branch checked with the classic bug, `startswith("main")`.
struct BuggyRp {
    keys: RemoteKeys,
    policy: Policy,
}

async fn handle(State(rp): State<Arc<BuggyRp>>, headers: HeaderMap) -> (StatusCode, String) {
    let (token, keys) = util::bearer_and_keys(&rp.keys, &headers).await;
    let Some(keys) = keys else {
        return (StatusCode::UNAUTHORIZED, "no key".into());
    };
    let report = validate::verify(&token, &keys, &rp.policy, SystemClock.now());
    if !report.accepted {
        return (
            StatusCode::UNAUTHORIZED,
            report.reason.unwrap_or(report.verdict),
        );
    }
    let branch = report
        .claims
        .as_ref()
        .and_then(|c| c["branchName"].as_str().map(str::to_string))
        .unwrap_or_default();
    if branch.starts_with("main") {
        (StatusCode::OK, "deploying".into())
    } else {
        (StatusCode::FORBIDDEN, format!("branch {branch}"))
    }
}

async fn buggy_rp(issuer: &str, ca: &[u8]) -> SocketAddr {
    let rp = Arc::new(BuggyRp {
        keys: RemoteKeys::new(issuer, ca).unwrap(),
        policy: Policy {
            issuer: Some(issuer.into()),
            audiences: vec!["api://deploy".into()],
            conditions: vec![Condition {
                claim: "deploymentEnvironmentUuid".into(),
                test: Test::Equals(ENV.into()),
            }],
            ..Policy::default()
        },
    });
    let app = Router::new().fallback(any(handle)).with_state(rp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a printed `stepmint ...` line through sh, with the binary first on PATH and the data
/// directory added, and returns the token it prints.
fn run_line(line: &str, data_dir: &str) -> String {
    assert!(line.starts_with("stepmint mint "), "{line}");
    let bin_dir = util::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} --data-dir \"$D\""))
        .env("D", data_dir)
        .env("PATH", path)
        .env_remove("STEPMINT_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "`{line}`: {}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_finding_minted_again_from_its_reproduce_line_or_recipe_gets_the_same_answer() {
    let util::Served {
        dir: _dir,
        d,
        serve,
        issuer,
        ca,
        runtime,
        ..
    } = util::served();
    let rp = runtime.block_on(buggy_rp(&issuer, &ca));
    let send = |token: &str| -> u16 {
        runtime.block_on(async {
            reqwest::Client::new()
                .get(format!("http://{rp}/"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };

    let saved = tempfile::tempdir().unwrap();
    let out = Command::new(util::bin())
        .args(["probe", "--url", &format!("http://{rp}/")])
        .args(["--audience", "api://deploy", "--env-uuid", ENV])
        .args(["--claim", "branchName=main", "--fuzz", "300", "--seed", "1"])
        .args(["--save-findings", saved.path().to_str().unwrap()])
        .args(["--json", "--data-dir", &d])
        .env_remove("STEPMINT_DATA_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The failed policy-boundary row: its reproduce line mints a token this relying party
    // accepts, as it did in the probe.
    let row = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == "policy-claim-branchName-suffix")
        .unwrap_or_else(|| panic!("no branch suffix row: {report}"));
    assert_eq!(row["verdict"], "fail", "{row}");
    let line = row["reproduce"].as_str().unwrap();
    for part in ["--audience api://deploy", "--env-uuid", "--edits"] {
        assert!(line.contains(part), "{line}");
    }
    let token = run_line(line, &d);
    assert_eq!(send(&token), 200, "`{line}`");
    // Control: the same edits without the probe's context are refused, for the wrong reason.
    let edits = serde_json::to_string(&row["edits"]).unwrap();
    let bare = util::run(&["mint", "--edits", &edits, "--data-dir", &d]);
    assert!(bare.status.success(), "{}", text(&bare));
    assert_eq!(
        send(String::from_utf8_lossy(&bare.stdout).trim()),
        401,
        "context-free mint"
    );
    // The baseline's reproduce line is the genuine token in the same context.
    let token = run_line(report["baseline"]["reproduce"].as_str().unwrap(), &d);
    assert_eq!(send(&token), 200);
    // Naming the policy case to `mint --case` says how to mint it instead.
    let named = util::run(&[
        "mint",
        "--case",
        "policy-claim-branchName-suffix",
        "--data-dir",
        &d,
    ]);
    assert!(!named.status.success());
    assert!(text(&named).contains("reproduce line"), "{}", text(&named));

    // Every saved recipe (the failed rows and the fuzz findings) carries the context and, minted
    // with `mint --recipe`, is accepted by the relying party as in the probe.
    let mut files: Vec<_> = std::fs::read_dir(saved.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("policy-claim-branchName-suffix.toml")),
        "{files:?}"
    );
    let fuzz_findings = report["fuzz"]["findings"].as_array().unwrap();
    assert!(!fuzz_findings.is_empty(), "{report}");
    for f in fuzz_findings {
        let line = f["reproduce"].as_str().unwrap();
        assert_eq!(send(&run_line(line, &d)), 200, "`{line}`");
    }
    for f in &files {
        let recipe = std::fs::read_to_string(f).unwrap();
        assert!(recipe.contains("[step]"), "{recipe}");
        assert!(recipe.contains(ENV), "{recipe}");
        let out = util::run(&["mint", "--recipe", f.to_str().unwrap(), "--data-dir", &d]);
        assert!(out.status.success(), "{}: {}", f.display(), text(&out));
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // A wrongly accepted token is accepted again; a false refusal refused again.
        let accepted_in_probe = recipe.contains("expected = \"refuse\"");
        assert_eq!(
            send(&token) == 200,
            accepted_in_probe,
            "{}:\n{recipe}",
            f.display()
        );
    }
    drop(serve);
}
