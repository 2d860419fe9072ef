//! Key rotation as relying parties see it (old tokens verify during the overlap, not after),
//! the `keys` and `verify` commands, and the control API's key and verify calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};
use stepmint::validate::{self, KeySet};
use stepmint::{Clock, IdSource, Issuer, IssuerOptions, StepRequest, WorkspaceSpec};

use crate::util::{self, ManualClock, ServeProcess};

#[test]
fn rotation_keeps_old_tokens_verifiable_during_the_overlap_only() {
    let dir = util::data_dir();
    let clock = Arc::new(ManualClock(AtomicI64::new(1_800_000_000)));
    let mut options = IssuerOptions::new(dir.path(), "https://localhost:8443");
    options.workspaces = vec![WorkspaceSpec::parse("acme").unwrap()];
    let issuer = Issuer::open(options, clock.clone(), Arc::new(IdSource::random())).unwrap();
    let old = issuer.mint(&StepRequest::default()).unwrap();
    let old_kid = old.header["kid"].as_str().unwrap().to_string();

    let new_key = issuer
        .update_keys("acme", |ring, now| ring.rotate(now, 600))
        .unwrap();
    assert_ne!(new_key.kid(), old_kid);
    let fresh = issuer.mint(&StepRequest::default()).unwrap();
    assert_eq!(fresh.header["kid"], new_key.kid(), "signing switched");

    let verdict = |token: &str| {
        let ws = issuer.workspace("acme").unwrap();
        // What a relying party fetching keys.json now would hold.
        let keys = KeySet::from_json(ws.jwks_json()).unwrap();
        validate::verify(token, &keys, &ws.default_policy(), clock.now()).accepted
    };
    clock.0.store(1_800_000_599, Ordering::SeqCst);
    assert!(verdict(&old.token), "old token verifies during the overlap");
    assert!(verdict(&fresh.token));
    clock.0.store(1_800_000_600, Ordering::SeqCst);
    assert!(
        !verdict(&old.token),
        "old key left the JWKS after the overlap"
    );
    assert!(verdict(&fresh.token));
    let jwks: Value =
        serde_json::from_slice(issuer.workspace("acme").unwrap().jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);

    // The rotation persisted: a new process sees the new signing key and the schedule.
    let reopened = Issuer::open(
        IssuerOptions::new(dir.path(), "https://localhost:8443"),
        clock.clone(),
        Arc::new(IdSource::random()),
    )
    .unwrap();
    assert_eq!(
        reopened
            .workspace("acme")
            .unwrap()
            .workspace
            .keys
            .active()
            .kid(),
        new_key.kid()
    );
}

#[test]
fn keys_command_works_on_files_and_through_a_running_server() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let list = |args: &[&str]| -> Value {
        let out = util::run(&[&["keys"], args, &["--json", "--data-dir", d]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = list(&["list"]);
    assert_eq!(v["via"], "files");
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    let first = v["keys"][0]["kid"].as_str().unwrap().to_string();
    let v = list(&["add", "--alg", "ES256"]);
    assert_eq!(v["alg"], "ES256");

    let serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let jwks_url = serve.info["workspaces"][0]["jwks_uri"]
        .as_str()
        .unwrap()
        .to_string();
    // The kids a relying party sees now, fetched with curl.
    let live_kids = || -> Vec<String> {
        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "--fail",
                "--cacert",
                serve.info["ca"].as_str().unwrap(),
                &jwks_url,
            ])
            .output()
            .unwrap();
        let jwks: Value = serde_json::from_slice(&out.stdout).unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(live_kids().len(), 2, "RS256 + ES256 published");
    let v = list(&["rotate", "--overlap", "0"]);
    assert_eq!(v["via"], "server");
    let kids = live_kids();
    assert!(
        !kids.contains(&first),
        "no overlap: the old key is gone from the live JWKS at once"
    );
    assert!(kids.contains(&v["active_kid"].as_str().unwrap().to_string()));
    let bad = util::run(&[
        "keys",
        "retire",
        v["active_kid"].as_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "retiring the signing key is refused: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("rotate first"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let bad_alg = util::run(&["keys", "add", "--alg", "RS1", "--data-dir", d]);
    assert_eq!(bad_alg.status.code(), Some(2));

    // An issuer that publishes late, through the server: the new key signs at once and is
    // missing from the live JWKS while the one it replaced is still there.
    let before = v["active_kid"].as_str().unwrap().to_string();
    let late = list(&["rotate", "--unpublished-for", "600"]);
    assert_eq!(late["via"], "server");
    let hidden = late["active_kid"].as_str().unwrap().to_string();
    let kids = live_kids();
    assert!(
        !kids.contains(&hidden),
        "{hidden} is published early: {kids:?}"
    );
    assert!(kids.contains(&before), "{kids:?}");
    let token = String::from_utf8(util::run(&["mint", "--data-dir", d]).stdout).unwrap();
    let header = stepmint::decode_unverified(token.trim()).unwrap().header;
    assert_eq!(header["kid"], hidden.as_str());
}

#[test]
fn verify_command_accepts_and_refuses_with_exit_codes() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let mint = |extra: &[&str]| -> String {
        let out = util::run(&[&["mint", "--data-dir", d], extra].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let good = mint(&["--branch", "main"]);

    // A mistyped workspace is an error naming it, and nothing is created for it.
    for args in [
        vec!["verify", good.as_str(), "--workspace", "stepmnt"],
        vec!["keys", "list", "--workspace", "stepmnt"],
    ] {
        let out = util::run(&[args.as_slice(), &["--data-dir", d]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no workspace `stepmnt`") && stderr.contains("known: stepmint"),
            "{stderr}"
        );
        assert!(!dir.path().join("workspaces/stepmnt").exists(), "{args:?}");
    }
    let ok = util::run(&["verify", &good, "--workspace", "stepmint", "--data-dir", d]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ACCEPTED"));

    let wrong_branch = util::run(&[
        "verify",
        &good,
        "--workspace",
        "stepmint",
        "--claim",
        "branchName=release/*",
        "--json",
        "--data-dir",
        d,
    ]);
    assert_eq!(wrong_branch.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&wrong_branch.stdout).unwrap();
    assert_eq!(report["report"]["verdict"], "refused");
    assert!(
        report["report"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "condition:branchName" && c["status"] == "fail")
    );

    let none = mint(&["--case", "alg-none"]);
    assert_eq!(
        util::run(&["verify", &none, "--workspace", "stepmint", "--data-dir", d])
            .status
            .code(),
        Some(1)
    );
    // Stdin, and the usage errors.
    assert_eq!(
        util::run_with_stdin(
            &["verify", "-", "--workspace", "stepmint", "--data-dir", d],
            &good
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        util::run(&["verify", &good, "--data-dir", d]).status.code(),
        Some(2),
        "no key source"
    );
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, r#"{"keys":[]}"#).unwrap();
    assert_eq!(
        util::run(&[
            "verify",
            &good,
            "--jwks",
            jwks.to_str().unwrap(),
            "--data-dir",
            d
        ])
        .status
        .code(),
        Some(2),
        "no audience"
    );
}

#[tokio::test]
async fn verify_over_discovery_and_the_control_api() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.workspaces()[0].clone();
    let token = util::mint_for(&instance, "my-api").token;

    // The remote key source: discovery over TLS, issuer checked, JWKS fetched.
    let remote = validate::RemoteKeys::new(&ws.issuer, &util::ca_pem(&instance)).unwrap();
    let keys = remote.keys_for(Some(&ws.active_kid)).await.unwrap();
    let policy = validate::Policy::for_issuer(ws.issuer.clone(), "my-api");
    assert!(validate::verify(&token, &keys, &policy, stepmint::SystemClock.now()).accepted);
    let wrong_issuer =
        validate::RemoteKeys::new(&format!("{}/", ws.issuer), &util::ca_pem(&instance)).unwrap();
    assert!(
        wrong_issuer.keys_for(None).await.is_err(),
        "a discovery document for another issuer is refused"
    );

    let client = util::owner(&instance);
    let url = format!(
        "https://localhost:{}/_stepmint/v1/verify",
        instance.local_addr().port()
    );
    let v: Value = client
        .post(&url)
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["report"]["verdict"], "accepted", "{v}");
    let v: Value = client
        .post(&url)
        .json(&json!({"token": token, "policy": {"audiences": ["other"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["report"]["verdict"], "refused");
    assert_eq!(
        v["report"]["reason"]
            .as_str()
            .map(|r| r.starts_with("aud:")),
        Some(true),
        "{v}"
    );
    let resp = client
        .post(&url)
        .json(&json!({"token": token, "policy": {"leeway": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["field"], "policy.leeway");
    instance.stop().await;
}

#[test]
fn the_staged_key_reads_as_published_once_its_time_has_come() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let out = util::run(&[
        "keys",
        "add",
        "--alg",
        "ES256",
        "--publish-in",
        "60",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    let now = util::json(&util::run(&["keys", "list", "--json", "--data-dir", d]));
    let staged = now["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256")
        .unwrap()
        .clone();
    assert_eq!(staged["state"], "staged");
    // The same ring read after its publish time.
    let keys_json = dir.path().join("workspaces/stepmint/keys.json");
    let mut ring: Value = serde_json::from_slice(&std::fs::read(&keys_json).unwrap()).unwrap();
    for k in ring["keys"].as_array_mut().unwrap() {
        if k["state"] == "staged" {
            k["publish_at"] = 1_000.into();
        }
    }
    stepmint::write_atomic(&keys_json, ring.to_string().as_bytes()).unwrap();
    let then = util::json(&util::run(&["keys", "list", "--json", "--data-dir", d]));
    let published = then["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256")
        .unwrap()
        .clone();
    assert_eq!(published["state"], "published", "{then}");
    assert_eq!(published["published"], true);
}
