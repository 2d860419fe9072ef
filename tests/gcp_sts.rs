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

/// What the server refuses before the token exchange sees the request (a body over the limit, a
/// path too long, a wrong method, an unknown path under the endpoint) and what the exchange
/// refuses itself (a body type it does not read) all come back in Google STS's OAuth shape, so
/// google-auth raises them as the `OAuthError` it raises for Google's own; a JSON body (Google's
/// REST reference) is read as the form is.
#[tokio::test]
async fn refusals_under_the_gcp_endpoint_are_google_shaped() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let provider = json!({
        "name": PROVIDER,
        "attributeMapping": {"google.subject": "assertion.sub"},
        "oidc": {"issuerUri": ws.issuer, "allowedAudiences": [ws.workspace.default_audience()]}
    });
    instance
        .exchanges()
        .put_gcp_provider_text(PROVIDER, &provider.to_string())
        .expect("provider");
    let client = util::client(&util::ca_pem(&instance));
    let url = instance.gcp_sts_url();
    let token = util::mint_for(&instance, &ws.workspace.default_audience()).token;
    let exchange = json!({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "audience": format!("//iam.googleapis.com/{PROVIDER}"),
        "subject_token": token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    });
    let resp = client
        .post(&url)
        .json(&exchange)
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = resp.json().await.expect("JSON");
    assert_eq!(v["token_type"], "Bearer", "{v}");

    let oauth = |status: u16, v: &Value, code: &str, says: &str| {
        assert_eq!(v["error"], code, "{status}: {v}");
        let description = v["error_description"].as_str().unwrap_or_default();
        assert!(description.contains(says), "{status}: {v}");
        assert_eq!(
            v.as_object().map(|o| o.len()),
            Some(2),
            "only error and error_description: {v}"
        );
    };
    async fn answer(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let v = resp.json().await.expect("a JSON body");
        (status, headers, v)
    }

    let big = "x".repeat(200 * 1024);
    let (status, _, v) = answer(
        client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("subject_token={big}"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 413);
    oauth(status, &v, "invalid_request", "KiB");

    let (status, headers, v) = answer(client.get(&url).send().await.expect("sent")).await;
    assert_eq!(status, 405);
    assert!(headers.contains_key("allow"), "{headers:?}");
    oauth(status, &v, "invalid_request", "method");

    let (status, _, v) = answer(
        client
            .post(url.replace("v1/token", "v1/nothing-here"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 404);
    oauth(status, &v, "invalid_request", "nothing-here");

    let (status, _, v) = answer(
        client
            .post(format!("{url}?q={}", "x".repeat(20 * 1024)))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 414);
    oauth(status, &v, "invalid_request", "bytes");

    let (status, _, v) = answer(
        client
            .post(&url)
            .header("content-type", "text/plain")
            .body(exchange.to_string())
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 400);
    oauth(status, &v, "invalid_request", "text/plain");

    // The control plane keeps Stepmint's own error shape.
    let resp = client
        .get(format!(
            "{}/nothing-here",
            stepmint::paths::control_url(instance.base_url(), "")
        ))
        .send()
        .await
        .expect("sent");
    let (_, _, v) = answer(resp).await;
    assert!(
        v.get("message").is_some() && v.get("error_description").is_none(),
        "{v}"
    );
    instance.stop().await;
}

/// GCP providers through the control API, as a script beside a running server adds them: put,
/// list and delete answer the typed list (the STS token URL, each provider with the audience a
/// credential names it by); the control token is required; a document the engine cannot read is
/// refused naming the provider; an unknown provider is a 404 with Stepmint's JSON error; and
/// what the control API added is what the exchange answers for.
#[tokio::test]
async fn gcp_providers_through_the_control_api() {
    use stepmint::http::api::GcpProviderRequest;
    use stepmint::http::calls::{self, NoBody, NoQuery};
    use stepmint::{ControlClient, DataDir};

    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let control = ControlClient::find_running(&DataDir::open(dir.path()).expect("data dir"))
        .await
        .expect("reachable")
        .expect("running");
    let list = control
        .call::<calls::GcpProviders>(&[], &NoQuery {}, &NoBody {})
        .await
        .expect("listed");
    assert_eq!(list.gcp_sts, instance.gcp_sts_url());
    assert!(list.providers.is_empty(), "{list:?}");

    let provider = json!({
        "attributeMapping": {"google.subject": "assertion.sub"},
        "attributeCondition": "assertion.branchName == 'main'",
        "oidc": {"issuerUri": ws.issuer, "allowedAudiences": [ws.workspace.default_audience()]}
    });
    let request = GcpProviderRequest {
        name: PROVIDER.into(),
        provider: provider.clone(),
    };
    let list = control
        .call::<calls::PutGcpProvider>(&[], &NoQuery {}, &request)
        .await
        .expect("added");
    assert_eq!(list.providers.len(), 1, "{list:?}");
    assert_eq!(list.providers[0].name, PROVIDER);
    assert_eq!(
        list.providers[0].audience,
        format!("//iam.googleapis.com/{PROVIDER}")
    );
    assert_eq!(list.providers[0].provider, provider);
    assert_eq!(instance.exchanges().gcp_providers(), [PROVIDER]);

    // The exchange answers for it at once.
    let client = util::client(&util::ca_pem(&instance));
    let exchange = |token: String| {
        json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "audience": format!("//iam.googleapis.com/{PROVIDER}"),
            "subject_token": token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        })
    };
    let token = util::mint_for(&instance, &ws.workspace.default_audience()).token;
    let resp = client
        .post(instance.gcp_sts_url())
        .json(&exchange(token.clone()))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 200);

    // Without the control token: refused, and nothing changes.
    let anonymous = client
        .get(stepmint::paths::control_url(
            instance.base_url(),
            "/gcp/providers",
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status().as_u16(), 401);
    let anonymous = client
        .delete(stepmint::paths::control_url(
            instance.base_url(),
            &format!("/gcp/providers/{}", PROVIDER.replace('/', "%2F")),
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(instance.exchanges().gcp_providers(), [PROVIDER]);

    // A document the engine cannot read, and a name that is not a provider's.
    let bad = GcpProviderRequest {
        name: PROVIDER.replace("acme", "broken"),
        provider: json!({"attributeCondition": "assertion.sub ==", "oidc": {}}),
    };
    let err = control
        .call::<calls::PutGcpProvider>(&[], &NoQuery {}, &bad)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("providers/broken"), "{err}");
    let bad = GcpProviderRequest {
        name: "acme".into(),
        provider,
    };
    let err = control
        .call::<calls::PutGcpProvider>(&[], &NoQuery {}, &bad)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("resource name"), "{err}");

    let list = control
        .call::<calls::DeleteGcpProvider>(&[PROVIDER], &NoQuery {}, &NoBody {})
        .await
        .expect("removed");
    assert!(list.providers.is_empty(), "{list:?}");
    let err = control
        .call::<calls::DeleteGcpProvider>(&[PROVIDER], &NoQuery {}, &NoBody {})
        .await
        .expect_err("already gone");
    assert!(err.to_string().contains("no emulated provider"), "{err}");
    let gone = util::owner(&instance)
        .delete(stepmint::paths::control_url(
            instance.base_url(),
            &format!("/gcp/providers/{}", PROVIDER.replace('/', "%2F")),
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(gone.status().as_u16(), 404);
    let v: Value = gone.json().await.expect("JSON");
    assert_eq!(v["error"], "unknown_provider", "{v}");
    assert_eq!(v["field"], "name", "{v}");

    // And the exchange no longer knows it.
    let resp = client
        .post(instance.gcp_sts_url())
        .json(&exchange(token))
        .send()
        .await
        .expect("sent");
    let v: Value = resp.json().await.expect("JSON");
    assert_eq!(v["error"], "invalid_target", "{v}");
    instance.stop().await;
}

const DEFAULT: &str = r#"
import json, os
import google.auth
from google.auth.transport.requests import Request
info = json.load(open(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]))
token = open(info["credential_source"]["file"]).read()
creds, project = google.auth.default()
creds.refresh(Request())
print(json.dumps({"info": info, "same_token": token == os.environ["BITBUCKET_STEP_OIDC_TOKEN"],
                  "kind": type(creds).__module__, "token": creds.token, "valid": creds.valid}))
"#;

/// `stepmint run -- python -c 'google.auth.default(); refresh'` with nothing but a running
/// server emulating one provider: run writes the external-account credential google-auth reads
/// from `GOOGLE_APPLICATION_CREDENTIALS` (the provider as its audience, the step's token file as
/// its subject token, the emulated STS as its `token_url`) and the step's token is what the
/// provider judges: a step on `main` gets an access token, one on another branch the
/// `invalid_grant` google-auth raises, and run's exit status is the command's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stepmint_run_gives_google_auth_its_credentials() {
    let Some(py) = python() else { return };
    let dir = util::data_dir();
    let home = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.issuer().workspace_or_first(None).expect("ws");
    let provider = json!({
        "attributeMapping": {"google.subject": "assertion.sub"},
        "attributeCondition": "assertion.branchName == 'main'",
        "oidc": {"issuerUri": ws.issuer, "allowedAudiences": [ws.workspace.default_audience()]}
    });
    instance
        .exchanges()
        .put_gcp_provider_text(PROVIDER, &provider.to_string())
        .expect("provider");
    let d = dir.path().to_str().expect("utf-8");
    let run = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(util::bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("NO_PROXY", "*")
            .current_dir(home.path())
            .args(["run", "--data-dir", d])
            .args(args)
            .args(["--", &py, "-c", DEFAULT]);
        cmd.output()
    };

    let out = run(&["--branch", "main"]).await.expect("runs");
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", util::text(&out)));
    assert_eq!(v["valid"], true, "{v}");
    assert!(
        v["token"].as_str().is_some_and(|t| t.starts_with("ya29.")),
        "{v}"
    );
    assert_eq!(v["kind"], "google.auth.identity_pool", "{v}");
    assert_eq!(v["same_token"], true, "{v}");
    let info = &v["info"];
    assert_eq!(info["type"], "external_account");
    assert_eq!(info["audience"], format!("//iam.googleapis.com/{PROVIDER}"));
    assert_eq!(
        info["subject_token_type"],
        "urn:ietf:params:oauth:token-type:jwt"
    );
    assert_eq!(info["token_url"], instance.gcp_sts_url());

    // Another branch: the provider's condition keeps it out; the command's failure is run's.
    let out = run(&["--branch", "feature/x"]).await.expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    assert!(stderr.contains("invalid_grant"), "{stderr}");

    // Naming a provider the server does not emulate: run says so, the STS says invalid_target.
    let other = PROVIDER.replace("acme", "other");
    let out = run(&["--branch", "main", "--gcp-provider", &other])
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("emulates no GCP provider") && stderr.contains("invalid_target"),
        "{stderr}"
    );
    // A name that is no provider's is a usage error before anything runs.
    let out = run(&["--gcp-provider", "acme"]).await.expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    instance.stop().await;
}
