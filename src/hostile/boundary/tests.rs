use serde_json::{Map, Value, json};

use super::values::{lookalike, replace_first};
use super::*;
use crate::token::Edit;
use crate::validate::{Condition, Policy, Test};

fn claims() -> Map<String, Value> {
    json!({
        "iss": "https://i/x",
        "aud": ["ari:ws", "api://deploy"],
        "sub": "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}:{11111111-2f3a-4d4b-9a55-1b2c3d4e5f60}",
        "branchName": "main",
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

#[test]
fn every_declared_value_gets_cases_named_by_slot() {
    let policy = Policy {
        issuer: bitbucket_claims()["iss"].as_str().map(str::to_string),
        audiences: vec!["api://deploy".into(), "api://other".into()],
        sub_like: vec!["{22222222-2f3a-4d4b-9a55-1b2c3d4e5f60}:*".into()],
        conditions: vec![Condition {
            claim: "branchName".into(),
            test: Test::Equals("main".into()),
        }],
        ..Policy::default()
    };
    let cases = boundary_cases(&policy, &bitbucket_claims());
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    for want in [
        "policy-aud-absent",
        "policy-iss-absent",
        "policy-sub-absent",
        "policy-claim-branchName-absent",
        "policy-iss-other-workspace",
        "policy-sub-non-deployment",
        "policy-aud-suffix",
        "policy-aud2-suffix",
        "policy-aud-only-lookalikes",
        "policy-iss-trailing-slash",
        "policy-sub-prefix",
        "policy-sub-star-segment",
        "policy-sub-other-repository",
        "policy-claim-branchName-suffix",
        "policy-claim-branchName-case-upper",
        "policy-claim-branchName-array-alone",
        "policy-time-exp-beyond-leeway",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "names are unique");
    for c in &cases {
        assert!(c.family.starts_with("policy:"), "{}", c.family);
        assert!(!c.edits.is_empty(), "{}", c.name);
        assert!(
            GENERATORS.iter().any(|g| c.name.ends_with(g.name)),
            "{} has a listed generator",
            c.name
        );
    }
}

#[test]
fn variants_differ_from_the_declared_value() {
    for v in ["main", "api://deploy", "é", "1", "x", "MAIN"] {
        let policy = Policy {
            conditions: vec![Condition {
                claim: "branchName".into(),
                test: Test::Equals(v.into()),
            }],
            ..Policy::default()
        };
        let mut c = claims();
        c.insert("branchName".into(), v.into());
        let cases = boundary_cases(&policy, &c);
        let values: Vec<&Value> = cases
            .iter()
            .flat_map(|c| &c.edits)
            .filter_map(|e| match e {
                Edit::SetClaim { name, value } if name == "branchName" => Some(value),
                _ => None,
            })
            .collect();
        assert!(values.len() >= 15, "{v}: {values:?}");
        assert!(!values.contains(&&Value::from(v)), "{v}: {values:?}");
    }
    assert_eq!(
        replace_first("main", lookalike).as_deref(),
        Some("m\u{430}in"),
        "Cyrillic a"
    );
}

#[test]
fn nothing_declared_means_time_cases_only() {
    let cases = boundary_cases(&Policy::default(), &claims());
    assert!(cases.iter().all(|c| c.family == "policy:time"), "{cases:?}");
}

/// A step token as the issuer makes it: a deployment step of workspace `acme`.
fn bitbucket_claims() -> Map<String, Value> {
    let ws = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    let repo = "{22222222-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    let env = "{44444444-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    let step = "{55555555-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    json!({
        "iss": "https://localhost:8443/2.0/workspaces/acme/pipelines-config/identity/oidc",
        "aud": [crate::hostile::reach::ari(ws), "api://deploy"],
        "sub": format!("{repo}:{env}:{step}"),
        "iat": 1_800_000_000,
        "exp": 1_800_003_600,
        "workspaceUuid": ws,
        "repositoryUuid": repo,
        "pipelineUuid": "{66666666-2f3a-4d4b-9a55-1b2c3d4e5f60}",
        "stepUuid": step,
        "branchName": "main",
        "deploymentEnvironmentUuid": env,
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

#[test]
fn declared_slots_get_absent_and_bitbucket_shaped_cases_each_as_exploitable_as_it_is() {
    use crate::hostile::ExploitableBy::*;
    let claims = bitbucket_claims();
    let policy = Policy {
        issuer: claims["iss"].as_str().map(str::to_string),
        audiences: vec!["api://deploy".into()],
        sub_like: vec!["{22222222-2f3a-4d4b-9a55-1b2c3d4e5f60}:*".into()],
        conditions: vec![Condition {
            claim: "branchName".into(),
            test: Test::Equals("main".into()),
        }],
        max_age: Some(600),
        ..Policy::default()
    };
    let cases = boundary_cases(&policy, &claims);
    let reach = |name: &str| {
        let case = cases.iter().find(|c| c.name == name);
        let case = case.unwrap_or_else(|| panic!("{name} missing"));
        crate::hostile::reach(&claims, &case.edits)
    };
    for (name, by) in [
        ("policy-aud-absent", Nobody),
        ("policy-iss-absent", Nobody),
        ("policy-sub-absent", Nobody),
        ("policy-claim-branchName-absent", BranchPusher),
        ("policy-claim-branchName-suffix", BranchPusher),
        ("policy-claim-branchName-lookalike", BranchPusher),
        ("policy-claim-branchName-newline", Nobody),
        ("policy-claim-branchName-array-alone", Nobody),
        ("policy-iss-other-workspace", AnyWorkspace),
        ("policy-iss-other-workspace-audience", AnyWorkspace),
        ("policy-iss-other-workspace-issuer", Nobody),
        ("policy-iss-workspaceUuid-absent", Nobody),
        ("policy-aud-other-workspace-ari", Nobody),
        ("policy-aud-other-service", TokenHolder),
        ("policy-sub-other-repository", SameWorkspaceRepo),
        ("policy-sub-other-environment", TokenHolder),
        ("policy-sub-non-deployment", TokenHolder),
        ("policy-sub-uuid-upper", Nobody),
        ("policy-sub-uuid-unbraced", Nobody),
        ("policy-sub-repositoryUuid-absent", Nobody),
        ("policy-sub-deploymentEnvironmentUuid-absent", Nobody),
        ("policy-time-exp-beyond-leeway", TokenHolder),
        ("policy-time-iat-beyond-max-age", TokenHolder),
        ("policy-time-nbf-beyond-leeway", Nobody),
        ("policy-time-iat-beyond-leeway", Nobody),
    ] {
        assert_eq!(reach(name).by, by, "{name}: {}", reach(name).how);
    }
    assert_eq!(
        reach("policy-claim-branchName-suffix").branch.as_deref(),
        Some("main-evil")
    );
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names are unique");
}
