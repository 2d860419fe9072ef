//! Regression tests for the policy engine's semantics where an adversarial review found it
//! disagreeing with the real relying party (or with Bitbucket's pipelines): each test states
//! the documented behaviour it pins.

use serde_json::{Map, Value, json};
use stepmint::policy::{Context, Document, Kind};
use stepmint::policy_check::{CheckOptions, check};

const NOW: i64 = 1_800_000_000;
const PROV: &str = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
const ARI: &str = "ari:cloud:bitbucket::workspace/922e118c-f34f-4226-a897-0e0afbec553d";
const REPO: &str = "{1de489be-ce6a-42a0-a8c8-eadbf1174ac7}";

fn claims() -> Map<String, Value> {
    json!({
        "iss": format!("https://{PROV}"), "aud": ARI,
        "sub": format!("{REPO}:{{759de0c6-eaee-4eaa-b7a6-c507eec759a7}}"),
        "iat": NOW - 10, "exp": NOW + 3600, "repositoryUuid": REPO, "branchName": "main"
    })
    .as_object()
    .unwrap()
    .clone()
}

fn aws(condition: Value) -> Document {
    Document::from_value(
        &json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{PROV}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition
        }]}),
        Some(Kind::Aws),
    )
    .unwrap()
}

/// IAM documents `aws:SecureTransport` as always in the request context, and STS answers only
/// over HTTPS: `"Bool": {"aws:SecureTransport": "true"}` holds for every web identity call.
#[test]
fn aws_secure_transport_is_true() {
    let doc = aws(json!({"Bool": {"aws:SecureTransport": "true"}}));
    let d = doc.evaluate(&Context::new(claims(), NOW));
    assert!(d.allowed, "{}", d.reason);
    let deny_plain = aws(json!({"Bool": {"aws:SecureTransport": "false"}}));
    assert!(!deny_plain.evaluate(&Context::new(claims(), NOW)).allowed);
}

/// A Vault role that binds `branchName` (any value) admits every step that carries the
/// claim; a tag pipeline's step carries none (Bitbucket builds a tag with no branch), so
/// OpenBao refuses it with "claim is missing". Brace patterns mint a branch they match.
#[test]
fn check_tag_steps_have_no_branch_and_braces_expand() {
    let dir = tempfile::tempdir().unwrap();
    let pipelines = dir.path().join("bitbucket-pipelines.yml");
    std::fs::write(
        &pipelines,
        r#"
pipelines:
  branches:
    '{main,release/*}':
      - step: { name: Brace, oidc: true, script: [x] }
  tags:
    'v*':
      - step: { name: Tag, oidc: true, script: [t] }
  custom:
    shared:
      import: other-repo:main:deploy
"#,
    )
    .unwrap();
    let role = json!({
        "role_type": "jwt", "user_claim": "repositoryUuid", "bound_audiences": [ARI],
        "bound_claims_type": "glob",
        "bound_claims": {"branchName": ["main", "release/*"]},
        "config": {"bound_issuer": format!("https://{PROV}")}
    });
    let doc = Document::from_value(&json!({"role": role, "config": role["config"]}), None).unwrap();
    let opts = CheckOptions {
        registration: Context {
            now: NOW,
            ..Context::default()
        },
        ..CheckOptions::default()
    };
    let report = check(&doc, Some(&pipelines), &opts).unwrap();
    let row = |step: &str| {
        report
            .access
            .iter()
            .find(|a| a.step == step)
            .unwrap_or_else(|| panic!("no row for {step}: {:?}", report.access))
    };
    assert!(row("Brace").allowed, "{}", row("Brace").reason);
    assert!(!row("Tag").allowed, "a tag build's token has no branchName");
    assert!(
        row("Tag").reason.contains("branchName"),
        "{}",
        row("Tag").reason
    );
    assert!(
        report.notes.iter().any(|n| n.contains("import")),
        "the imported pipeline is named in the notes: {:?}",
        report.notes
    );
}
