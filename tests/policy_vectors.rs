//! The CC0 subvectors corpus (tests/vectors/subvectors) as golden tests of the policy engine:
//! each vector's `condition` becomes the real document its consumer reads (an IAM trust policy
//! for `aws-*`, a workload identity provider for `gcp-cel`, a federated credential for
//! `azure-fic-*`), its subject and claims a token of its issuer, and the decision must equal
//! `expect`. Every vector of every suite runs; none is skipped.

use std::path::Path;

use serde_json::{Map, Value, json};
use stepmint::policy::{Context, Document, Kind};

const NOW: i64 = 1_800_000_000;

fn provider(issuer: &str, subject: &str) -> String {
    match issuer {
        "github" => "token.actions.githubusercontent.com".into(),
        "gitlab" => "gitlab.com".into(),
        "terraform-cloud" => "app.terraform.io".into(),
        "bitbucket" => {
            "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc".into()
        }
        "circleci" => {
            let org = subject
                .strip_prefix("org/")
                .and_then(|r| r.split('/').next())
                .unwrap_or("unknown");
            format!("oidc.circleci.com/org/{org}")
        }
        other => panic!("unknown issuer {other}"),
    }
}

fn aws_document(cond: &Value, prov: &str) -> Value {
    let leaves: Vec<&Value> = match cond["consumer"].as_str() {
        Some("aws-all") => cond["of"].as_array().unwrap().iter().collect(),
        _ => vec![cond],
    };
    let mut block = Map::new();
    for leaf in leaves {
        let op = match leaf["consumer"].as_str().unwrap() {
            "aws-stringequals" => "StringEquals",
            "aws-stringlike" => "StringLike",
            other => panic!("unexpected {other}"),
        };
        let claim = leaf["claim"].as_str().unwrap_or("sub");
        let entry = block.entry(op).or_insert_with(|| json!({}));
        let key = format!("{prov}:{claim}");
        assert!(entry.get(&key).is_none(), "a vector with two {op} on {key}");
        entry[key] = leaf["pattern"].clone();
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{prov}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": block
        }]
    })
}

/// The decision for one vector.
fn decide(v: &Value) -> (bool, String) {
    let subject = v["subject"].as_str().unwrap();
    let issuer = v["issuer"].as_str().unwrap();
    let prov = provider(issuer, subject);
    let iss = format!("https://{prov}");
    let cond = &v["condition"];
    let mut claims: Map<String, Value> = v["claims"].as_object().cloned().unwrap_or_default();
    claims.entry("sub").or_insert_with(|| subject.into());
    claims.insert("iss".into(), iss.clone().into());
    claims.insert("iat".into(), (NOW - 60).into());
    claims.insert("exp".into(), (NOW + 600).into());
    let consumer = cond["consumer"].as_str().unwrap();
    let (doc, kind) = match consumer {
        "aws-all" | "aws-stringequals" | "aws-stringlike" => (aws_document(cond, &prov), Kind::Aws),
        "gcp-cel" => {
            claims.entry("aud").or_insert_with(|| "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x".into());
            (
                json!({
                    "name": "projects/1/locations/global/workloadIdentityPools/p/providers/x",
                    "attributeMapping": {"google.subject": "assertion.sub"},
                    "attributeCondition": cond["pattern"],
                    "oidc": {"issuerUri": iss}
                }),
                Kind::Gcp,
            )
        }
        "azure-fic-exact" => {
            assert_eq!(cond["claim"].as_str().unwrap_or("sub"), "sub");
            claims
                .entry("aud")
                .or_insert_with(|| "api://AzureADTokenExchange".into());
            (
                json!({"issuer": iss, "subject": cond["pattern"], "audiences": ["api://AzureADTokenExchange"]}),
                Kind::Azure,
            )
        }
        "azure-fic-flexible" => {
            claims
                .entry("aud")
                .or_insert_with(|| "api://AzureADTokenExchange".into());
            (
                json!({"issuer": iss, "claimsMatchingExpression": {"value": cond["pattern"], "languageVersion": 1}, "audiences": ["api://AzureADTokenExchange"]}),
                Kind::Azure,
            )
        }
        other => panic!("unknown consumer {other}"),
    };
    let document =
        Document::from_value(&doc, Some(kind)).unwrap_or_else(|e| panic!("{}: {e}", v["id"]));
    let d = document.evaluate(&Context::new(claims, NOW));
    (d.allowed, d.reason)
}

#[test]
fn every_subvector_decides_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/subvectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 14, "the 14 suites");
    let (mut ran, mut wrong) = (0, Vec::new());
    for f in files {
        let suite: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        for v in suite["vectors"].as_array().unwrap() {
            let want = v["expect"] == "match";
            let (got, why) = decide(v);
            ran += 1;
            if got != want {
                wrong.push(format!(
                    "{}: expected {}, got {} ({why})",
                    v["id"],
                    v["expect"],
                    if got { "match" } else { "no-match" }
                ));
            }
        }
    }
    assert_eq!(ran, 133, "every vector runs");
    assert!(
        wrong.is_empty(),
        "{} of {ran} vectors disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
