//! `stepmint policy eval` and `policy check` as a user runs them: exit codes (0 allowed/ok,
//! 1 denied/failed, 2 usage), the JSON contract, SARIF and JUnit files, and bad files refused.

use serde_json::Value;

use crate::util::{data_dir, run, run_with_stdin};

const WS: &str = "922e118c-f34f-4226-a897-0e0afbec553d";

fn setup() -> (tempfile::TempDir, String) {
    let dir = data_dir();
    let d = dir.path().to_str().unwrap().to_string();
    let out = run(&[
        "--data-dir",
        &d,
        "workspaces",
        "add",
        &format!("acme={{{WS}}}"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, d)
}

fn mint(d: &str, extra: &[&str]) -> String {
    let mut args = vec!["--data-dir", d, "mint", "--workspace", "acme"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn claims(token: &str) -> Value {
    let out = run(&["decode", token, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["claims"].clone()
}

/// A trust policy for the local issuer pinning `repo` (and any step).
fn policy(dir: &std::path::Path, name: &str, iss: &str, sub_pattern: &str) -> std::path::PathBuf {
    let prov = iss.trim_start_matches("https://");
    let text = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Deploy",
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{prov}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{prov}:aud"): format!("ari:cloud:bitbucket::workspace/{WS}")},
                "StringLike": {format!("{prov}:sub"): sub_pattern}
            }
        }]
    });
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&text).unwrap()).unwrap();
    path
}

#[test]
fn eval_exit_codes_and_json() {
    let (dir, d) = setup();
    let token = mint(&d, &[]);
    let c = claims(&token);
    let repo = c["repositoryUuid"].as_str().unwrap();
    let iss = c["iss"].as_str().unwrap();
    let allow = policy(dir.path(), "allow.json", iss, &format!("{repo}:*"));
    let p = allow.to_str().unwrap();
    let out = run(&[
        "--data-dir",
        &d,
        "policy",
        "eval",
        p,
        "--token",
        &token,
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["allowed"], true);
    assert_eq!(v["kind"], "aws");
    assert_eq!(v["decided_by"], "Statement[0] (Sid Deploy)");
    assert!(v["reason"].as_str().unwrap().contains("allows"));

    let deny = policy(
        dir.path(),
        "deny.json",
        iss,
        "{00000000-0000-4000-8000-000000000000}:*",
    );
    let out = run_with_stdin(
        &[
            "--data-dir",
            &d,
            "policy",
            "eval",
            deny.to_str().unwrap(),
            "--token",
            "-",
        ],
        &token,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("DENIED"));

    // A token the workspace did not sign is refused before the policy.
    let mut forged = token.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let out = run(&[
        "--data-dir",
        &d,
        "policy",
        "eval",
        p,
        "--token",
        &forged,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decided_by"], "signature");

    let file = dir.path().join("token.jwt");
    std::fs::write(&file, &token).unwrap();
    let out = run(&[
        "--data-dir",
        &d,
        "policy",
        "eval",
        p,
        "--token-file",
        file.to_str().unwrap(),
        "--kind",
        "aws",
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn usage_errors_exit_2() {
    let (dir, d) = setup();
    let token = mint(&d, &[]);
    let bad = dir.path().join("bad.json");
    for (content, needle) in [
        ("{\"Statement\": [", "line"),
        ("not json at all", "not a JSON"),
        (
            "{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Condition\": {\"StringEqual\": {\"a:b\": \"c\"}}}]}",
            "StringEqual",
        ),
    ] {
        std::fs::write(&bad, content).unwrap();
        let out = run(&[
            "--data-dir",
            &d,
            "policy",
            "eval",
            bad.to_str().unwrap(),
            "--token",
            &token,
        ]);
        assert_eq!(out.status.code(), Some(2), "{content}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(&bad, vec![b'{'; 11 << 20]).unwrap();
    let out = run(&["--data-dir", &d, "policy", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[
        "--data-dir",
        &d,
        "policy",
        "check",
        "examples/policies/aws-good.json",
        "--kind",
        "gcpx",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind"));
    let out = run(&["policy", "check", "/nonexistent/policy.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_json_sarif_and_junit() {
    let dir = data_dir();
    let sarif = dir.path().join("out.sarif");
    let junit = dir.path().join("out.xml");
    let out = run(&[
        "policy",
        "check",
        "examples/policies/aws-good.json",
        "--pipelines",
        "examples/policies/bitbucket-pipelines.yml",
        "--env",
        "Production={bd715740-c970-486b-b68a-b421ec2a1f8b}",
        "--env",
        "Staging={5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d}",
        "--json",
        "--sarif",
        sarif.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "aws");
    let allowed: Vec<&str> = v["access"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["allowed"] == true)
        .map(|a| a["step"].as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["Deploy to production", "Hotfix to production"]);
    for a in v["access"].as_array().unwrap() {
        for k in ["step", "branch", "environment", "allowed", "reason"] {
            assert!(a.get(k).is_some(), "access row lacks {k}");
        }
    }
    for b in v["boundary"].as_array().unwrap() {
        for k in ["token", "allowed", "why"] {
            assert!(b.get(k).is_some(), "boundary row lacks {k}");
        }
    }
    let repo = v["boundary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["token"] == "other repository")
        .unwrap();
    assert_eq!(repo["allowed"], false);
    let s: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(x.starts_with("<?xml") && x.contains("policy.boundary"));

    // The branch condition AWS never sees: an error finding, and the other branch gets in.
    let out = run(&[
        "policy",
        "check",
        "examples/policies/aws-mistake-branch.json",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"branch-not-enforceable"), "{ids:?}");
    for f in v["findings"].as_array().unwrap() {
        for k in ["id", "severity", "message", "fix"] {
            assert!(f.get(k).is_some(), "finding lacks {k}");
        }
    }
    let branch = v["boundary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["token"] == "other branch")
        .unwrap();
    assert_eq!(branch["allowed"], true);
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<failure")
    );
}

#[test]
fn every_example_policy_parses_and_the_mistakes_fail() {
    for entry in std::fs::read_dir("examples/policies").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let out = run(&[
            "policy",
            "check",
            path.to_str().unwrap(),
            "--pipelines",
            "examples/policies/bitbucket-pipelines.yml",
            "--env",
            "Production={bd715740-c970-486b-b68a-b421ec2a1f8b}",
        ]);
        let code = out.status.code();
        let expect = if name.contains("mistake") || name.starts_with("azure") {
            1
        } else {
            0
        };
        assert_eq!(
            code,
            Some(expect),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
