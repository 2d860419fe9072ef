//! `POST /_stepmint/v1/policies/check` over real TLS, as the console's Policies screen calls it:
//! the owner's token is required; a pasted policy and pipelines text give the same access
//! table, boundary tokens and findings as `stepmint policy check`; every bad input is a 4xx
//! JSON error naming the field and, for a policy, the statement and line.

use serde_json::{Value, json};

use crate::util;

const POLICY: &str = "examples/policies/aws-build-steps-only.json";
const PIPELINES: &str = "examples/policies/bitbucket-pipelines.yml";

fn url(instance: &stepmint::Instance) -> String {
    stepmint::paths::control_url(
        &format!("https://localhost:{}", instance.local_addr().port()),
        "/policies/check",
    )
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let resp = client.post(url).json(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(ct.as_deref(), Some("application/json"), "{bytes:?}");
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The access row of `step`.
fn row<'a>(report: &'a Value, step: &str) -> &'a Value {
    report["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["step"] == step)
        .unwrap_or_else(|| panic!("no step {step}: {report}"))
}

#[tokio::test]
async fn the_check_wants_the_owners_token() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let body = json!({ "policy": read(POLICY) });
    let (status, err) = post(
        &util::client(&util::ca_pem(&instance)),
        &url(&instance),
        &body,
    )
    .await;
    assert_eq!(status, 401, "{err}");
    assert!(err.get("access").is_none(), "{err}");
    let (status, report) = post(&util::owner(&instance), &url(&instance), &body).await;
    assert_eq!(status, 200, "{report}");
    instance.stop().await;
}

#[tokio::test]
async fn a_pasted_policy_and_pipelines_give_the_access_table_boundary_and_findings() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let body = json!({ "policy": read(POLICY), "pipelines": read(PIPELINES) });
    let (status, report) = post(&util::owner(&instance), &url(&instance), &body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["kind"], "aws", "detected from the document");
    let build = row(&report, "Build and test");
    assert_eq!(build["allowed"], true, "{build}");
    let deploy = row(&report, "Deploy to production");
    assert_eq!(deploy["allowed"], false, "{deploy}");
    assert_eq!(deploy["environment"], "Production");
    assert!(
        deploy["reason"]
            .as_str()
            .unwrap()
            .contains("Statement[1] (Sid NoDeploymentSteps)"),
        "{deploy}"
    );
    assert_eq!(report["access"].as_array().unwrap().len(), 5, "{report}");
    let boundary = report["boundary"].as_array().unwrap();
    let other_repo = boundary
        .iter()
        .find(|b| b["token"] == "other repository")
        .unwrap();
    assert_eq!(other_repo["allowed"], false, "{other_repo}");
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "aud-needs-for-any-value")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(finding["line"], 10, "{finding}");
    assert!(!finding["fix"].as_str().unwrap().is_empty());
    assert_eq!(report["failed"], false);

    // The same answer as `stepmint policy check --json` on the same files.
    let out = util::run(&[
        "policy",
        "check",
        POLICY,
        "--pipelines",
        PIPELINES,
        "--json",
    ]);
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["access"], report["access"]);
    assert_eq!(cli["findings"], report["findings"]);
    instance.stop().await;
}

#[tokio::test]
async fn a_served_workspace_fills_what_the_policy_does_not_pin() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let acme = instance.issuer().workspace("acme").unwrap();
    // A Vault role that pins only the branch: the issuer and UUIDs come from the workspace.
    let role = json!({ "role": {
        "role_type": "jwt", "user_claim": "sub",
        "bound_audiences": [format!("ari:cloud:bitbucket::workspace/{}", acme.workspace.uuid)],
        "bound_claims": { "branchName": "main" }
    }});
    let body = json!({
        "policy": role.to_string(), "kind": "vault", "pipelines": read(PIPELINES), "workspace": "acme"
    });
    let (status, report) = post(&util::owner(&instance), &url(&instance), &body).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        row(&report, "Deploy to staging")["allowed"],
        true,
        "{report}"
    );
    assert_eq!(row(&report, "Check a pull request")["allowed"], false);

    let body = json!({ "policy": role.to_string(), "workspace": "nobody-serves-this" });
    let (status, err) = post(&util::owner(&instance), &url(&instance), &body).await;
    assert_eq!(status, 404, "{err}");
    assert_eq!(err["error"], "unknown_workspace");
    instance.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_json_4xx_naming_the_problem() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let owner = util::owner(&instance);
    let url = url(&instance);

    // Not JSON: the line of the syntax error.
    let (status, err) = post(&owner, &url, &json!({ "policy": "{\n  \"Version\": \n}" })).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"], "invalid_input");
    assert!(
        err["field"].as_str().unwrap().starts_with("policy"),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("line 3"), "{err}");

    // A statement the engine cannot judge: its index and line.
    let bad = read(POLICY).replace("\"StringLike\": { \"api", "\"StringLikeTypo\": { \"api");
    let (status, err) = post(&owner, &url, &json!({ "policy": bad })).await;
    assert_eq!(status, 400, "{err}");
    let text = format!("{}: {}", err["field"], err["message"]);
    assert!(text.contains("Statement[0]"), "{text}");
    assert!(text.contains("StringLikeTypo"), "{text}");
    assert!(text.contains("line 11"), "{text}");
    assert_eq!(err["field"], "policy", "named once: {err}");

    let (status, err) = post(
        &owner,
        &url,
        &json!({ "policy": read(POLICY), "kind": "ldap" }),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["field"], "kind", "{err}");

    let pipelines = "pipelines:\n  default:\n    - step: [unclosed\n";
    let body = json!({ "policy": read(POLICY), "pipelines": pipelines });
    let (status, err) = post(&owner, &url, &body).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["field"], "pipelines", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("bitbucket-pipelines.yml"),
        "{err}"
    );

    let (status, err) = post(&owner, &url, &json!({ "policy": "  " })).await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = post(&owner, &url, &json!({ "policy": "{}", "extra": 1 })).await;
    assert_eq!(status, 400, "an unknown member is refused: {err}");
    instance.stop().await;
}
