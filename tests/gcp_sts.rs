//! The real `google-auth` (the venv in `STEPMINT_PYTHON`) against the emulated GCP STS: an
//! external-account credential whose `credential_source` is the step token's file and whose
//! `token_url` is the server's, refreshed with `google.auth.transport.requests` trusting the
//! server's CA. A token the provider's `attributeCondition` lets in gets an access token; one it
//! keeps out gets the `invalid_grant` google-auth raises; an unknown provider `invalid_target`.

use std::path::Path;

use serde_json::{Value, json};
use stepmint::StepRequest;

use crate::util;

const PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/bitbucket/providers/acme";

/// The venv's Python when it has google-auth and requests; `None` (with the reason) if not.
fn python() -> Option<String> {
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&py)
        .args(["-c", "import google.auth, requests"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: {py} has no google-auth/requests (scripts/test installs them)");
    }
    ok.then_some(py)
}

const REFRESH: &str = r#"
import json, sys
from google.auth import identity_pool, exceptions
from google.auth.transport.requests import Request
info = json.load(open(sys.argv[1]))
creds = identity_pool.Credentials.from_info(info)
try:
    creds.refresh(Request())
    print(json.dumps({"token": creds.token, "valid": creds.valid}))
except exceptions.GoogleAuthError as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e)}))
"#;

/// Refreshes an identity-pool credential for `audience` with `token` as its subject token.
async fn refresh(py: &str, dir: &Path, url: &str, audience: &str, token: &str, ca: &Path) -> Value {
    let token_file = dir.join("token.jwt");
    std::fs::write(&token_file, token).expect("token written");
    let info = json!({
        "type": "external_account",
        "audience": format!("//iam.googleapis.com/{audience}"),
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": url,
        "credential_source": {"file": token_file},
    });
    let file = dir.join("credentials.json");
    std::fs::write(&file, info.to_string()).expect("credentials written");
    let out = tokio::process::Command::new(py)
        .args(["-c", REFRESH])
        .arg(&file)
        .env_clear()
        .env("HOME", dir)
        .env("REQUESTS_CA_BUNDLE", ca)
        .env("NO_PROXY", "*")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "no JSON from python: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_auth_exchanges_a_step_token_offline() {
    let Some(py) = python() else { return };
    let dir = util::data_dir();
    let work = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let provider = json!({
        "name": PROVIDER,
        "attributeMapping": {"google.subject": "assertion.sub", "attribute.branch": "assertion.branchName"},
        "attributeCondition": "assertion.branchName == 'main'",
        "oidc": {"issuerUri": ws.issuer, "allowedAudiences": [ws.workspace.default_audience()]}
    });
    instance
        .exchanges()
        .put_gcp_provider_text(PROVIDER, &provider.to_string())
        .expect("provider");
    let ca = instance.bundle_path().to_path_buf();
    let url = instance.gcp_sts_url();
    let mint = |branch: &str| {
        instance
            .issuer()
            .mint(&StepRequest {
                branch: Some(branch.into()),
                ..Default::default()
            })
            .expect("minted")
            .token
    };

    let v = refresh(&py, work.path(), &url, PROVIDER, &mint("main"), &ca).await;
    assert_eq!(v["valid"], true, "{v}");
    assert!(
        v["token"].as_str().is_some_and(|t| t.starts_with("ya29.")),
        "{v}"
    );

    let v = refresh(&py, work.path(), &url, PROVIDER, &mint("feature/x"), &ca).await;
    assert_eq!(v["error"], "OAuthError", "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("invalid_grant") && message.contains("attributeCondition"),
        "{v}"
    );

    let other = PROVIDER.replace("acme", "other");
    let v = refresh(&py, work.path(), &url, &other, &mint("main"), &ca).await;
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid_target")),
        "{v}"
    );
    instance.stop().await;
}
