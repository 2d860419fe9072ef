//! The policy engine: each AWS operator and its edge cases (absent and multi-valued keys,
//! IfExists, Null, IgnoreCase, `?` and `*`), Deny winning, principals and actions, the request
//! context AWS really builds for Bitbucket; Vault/OpenBao login rules; GCP and Azure; lints by
//! id; bad input refused with the statement and line; and properties.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use stepmint::policy::{Context, Document, Kind, Severity};

const NOW: i64 = 1_800_000_000;
const PROV: &str = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
const ARI: &str = "ari:cloud:bitbucket::workspace/922e118c-f34f-4226-a897-0e0afbec553d";
const REPO: &str = "{1de489be-ce6a-42a0-a8c8-eadbf1174ac7}";
const ENV: &str = "{bd715740-c970-486b-b68a-b421ec2a1f8b}";
const STEP: &str = "{759de0c6-eaee-4eaa-b7a6-c507eec759a7}";

fn claims(env: bool) -> Map<String, Value> {
    let sub = if env {
        format!("{REPO}:{ENV}:{STEP}")
    } else {
        format!("{REPO}:{STEP}")
    };
    let mut c = json!({
        "iss": format!("https://{PROV}"), "aud": ARI, "sub": sub, "iat": NOW - 10, "exp": NOW + 3600,
        "workspaceUuid": "{922e118c-f34f-4226-a897-0e0afbec553d}", "repositoryUuid": REPO,
        "stepUuid": STEP, "pipelineUuid": "{00000000-0000-4000-8000-000000000001}", "branchName": "main"
    });
    if env {
        c["deploymentEnvironmentUuid"] = ENV.into();
    }
    c.as_object().unwrap().clone()
}

fn statement(effect: &str, condition: Value) -> Value {
    json!({"Effect": effect, "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{PROV}")}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition})
}

fn aws(statements: Vec<Value>) -> Document {
    Document::from_value(
        &json!({"Version": "2012-10-17", "Statement": statements}),
        Some(Kind::Aws),
    )
    .unwrap()
}

fn allows(doc: &Document, claims: &Map<String, Value>) -> bool {
    doc.evaluate(&Context::new(claims.clone(), NOW)).allowed
}

fn one(op: &str, claim: &str, values: Value) -> Document {
    aws(vec![statement(
        "Allow",
        json!({op: {format!("{PROV}:{claim}"): values}}),
    )])
}

#[test]
fn string_operators() {
    let c = claims(true);
    assert!(allows(&one("StringEquals", "aud", json!(ARI)), &c));
    assert!(!allows(
        &one("StringEquals", "aud", json!(ARI.to_uppercase())),
        &c
    ));
    assert!(allows(
        &one("StringEqualsIgnoreCase", "aud", json!(ARI.to_uppercase())),
        &c
    ));
    assert!(!allows(
        &one(
            "StringNotEqualsIgnoreCase",
            "aud",
            json!(ARI.to_uppercase())
        ),
        &c
    ));
    assert!(allows(&one("StringNotEquals", "aud", json!("other")), &c));
    assert!(allows(
        &one("StringLike", "sub", json!(format!("{REPO}:{ENV}:*"))),
        &c
    ));
    assert!(!allows(
        &one("StringLike", "sub", json!(format!("{REPO}:*:x"))),
        &c
    ));
    assert!(allows(&one("StringNotLike", "sub", json!("{other}:*")), &c));
    assert!(
        !allows(&one("StringEquals", "sub", json!(format!("{REPO}:*"))), &c),
        "* is literal in StringEquals"
    );
    // ? is exactly one character.
    let q = format!("{}?{}", &REPO[..5], &REPO[6..]);
    assert!(
        allows(
            &one("StringLike", "sub", json!([format!("{q}:*"), "no"])),
            &c
        ),
        "values are ORed"
    );
    assert!(!allows(
        &one(
            "StringLike",
            "sub",
            json!(format!("{}??{}:*", &REPO[..5], &REPO[6..]))
        ),
        &c
    ));
}

#[test]
fn keys_and_operators_are_anded() {
    let c = claims(true);
    let both = aws(vec![statement(
        "Allow",
        json!({"StringEquals": {format!("{PROV}:aud"): ARI}, "StringLike": {format!("{PROV}:sub"): format!("{REPO}:*")}}),
    )]);
    assert!(allows(&both, &c));
    let one_fails = aws(vec![statement(
        "Allow",
        json!({"StringEquals": {format!("{PROV}:aud"): ARI, format!("{PROV}:sub"): "x"}}),
    )]);
    assert!(!allows(&one_fails, &c));
}

#[test]
fn absent_keys_if_exists_null_and_set_operators() {
    let c = claims(false);
    // branchName is in the token but AWS sets no such key for Bitbucket.
    assert!(
        !allows(&one("StringEquals", "branchName", json!("main")), &c),
        "absent key: false"
    );
    assert!(
        allows(
            &one("StringEqualsIfExists", "branchName", json!("release")),
            &c
        ),
        "IfExists: true when absent"
    );
    assert!(
        allows(&one("StringNotEquals", "branchName", json!("main")), &c),
        "negated: true when absent"
    );
    assert!(
        allows(
            &one("ForAllValues:StringEquals", "branchName", json!("nope")),
            &c
        ),
        "ForAllValues: true when absent"
    );
    assert!(
        !allows(
            &one("ForAnyValue:StringEquals", "branchName", json!("main")),
            &c
        ),
        "ForAnyValue: false when absent"
    );
    assert!(allows(&one("Null", "branchName", json!("true")), &c));
    assert!(allows(&one("Null", "sub", json!("false")), &c));
    assert!(!allows(&one("Null", "sub", json!("true")), &c));
    // email, amr: Default-mapping keys the token lacks are absent too, never invented.
    assert!(allows(&one("Null", "email", json!("true")), &c));
}

#[test]
fn multi_valued_aud_azp_and_oaud() {
    let mut c = claims(false);
    c.insert("aud".into(), json!([ARI, "custom"]));
    assert!(allows(
        &one("ForAnyValue:StringEquals", "aud", json!("custom")),
        &c
    ));
    assert!(!allows(
        &one("ForAllValues:StringEquals", "aud", json!("custom")),
        &c
    ));
    assert!(allows(
        &one("ForAllValues:StringEquals", "aud", json!([ARI, "custom"])),
        &c
    ));
    let mut c = claims(false);
    c.insert("azp".into(), "presenter".into());
    assert!(
        allows(&one("StringEquals", "aud", json!("presenter")), &c),
        "aud key from azp"
    );
    assert!(
        allows(&one("StringEquals", "oaud", json!(ARI)), &c),
        "oaud key from aud"
    );
}

#[test]
fn explicit_deny_wins_and_statement_order_does_not_matter() {
    let c = claims(true);
    let allow = statement(
        "Allow",
        json!({"StringLike": {format!("{PROV}:sub"): format!("{REPO}:*")}}),
    );
    let deny = statement(
        "Deny",
        json!({"StringLike": {format!("{PROV}:sub"): format!("{REPO}:{ENV}:*")}}),
    );
    for doc in [
        aws(vec![allow.clone(), deny.clone()]),
        aws(vec![deny, allow]),
    ] {
        let d = doc.evaluate(&Context::new(c.clone(), NOW));
        assert!(!d.allowed);
        assert!(d.decided_by.contains("Statement"), "{d:?}");
        assert!(d.reason.contains("explicit deny"), "{}", d.reason);
    }
}

#[test]
fn principal_action_and_time() {
    let c = claims(false);
    let other = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]});
    assert!(!allows(&Document::from_value(&other, None).unwrap(), &c));
    let wild_action = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{PROV}")}, "Action": ["sts:Assume*"]}});
    assert!(
        allows(&Document::from_value(&wild_action, None).unwrap(), &c),
        "Statement as an object, Action as a list with a wildcard"
    );
    let not_action = json!({"Statement": {"Effect": "Allow", "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{PROV}")}, "NotAction": "sts:AssumeRole"}});
    assert!(allows(
        &Document::from_value(&not_action, None).unwrap(),
        &c
    ));
    let doc = one("StringEquals", "aud", json!(ARI));
    let mut ctx = Context::new(c.clone(), NOW);
    ctx.aws_account = Some("999999999999".into());
    assert!(!doc.evaluate(&ctx).allowed, "a provider in another account");
    let mut expired = c.clone();
    expired.insert("exp".into(), NOW.into());
    let d = doc.evaluate(&Context::new(expired, NOW));
    assert!(
        !d.allowed && d.reason.contains("ExpiredToken"),
        "{}",
        d.reason
    );
    let mut ctx = Context::new(c, NOW);
    ctx.aws_client_ids = Some(vec!["sts.amazonaws.com".into()]);
    assert!(
        doc.evaluate(&ctx)
            .reason
            .contains("Incorrect token audience")
    );
}

fn ids(doc: &Document) -> Vec<String> {
    doc.findings().into_iter().map(|f| f.id).collect()
}

#[test]
fn lints_name_the_mistake() {
    let sub = format!("{PROV}:sub");
    let aud = format!("{PROV}:aud");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"StringEquals": {&aud: ARI}}), "sub-unconstrained"),
        (
            json!({"StringLike": {&sub: format!("{REPO}:*")}}),
            "aud-unconstrained",
        ),
        (
            json!({"StringEquals": {&aud: ARI, &sub: format!("{REPO}:*")}}),
            "star-in-string-equals",
        ),
        (
            json!({"StringEquals": {&aud: ARI}, "StringLike": {&sub: format!("{REPO}:production:*")}}),
            "environment-name-in-sub",
        ),
        (
            json!({"StringEquals": {&aud: ARI, &sub: format!("{REPO}:{ENV}:{STEP}")}}),
            "full-sub-pinned",
        ),
        (
            json!({"StringEquals": {&aud: ARI}, "StringLikeIfExists": {&sub: format!("{REPO}:*")}}),
            "if-exists",
        ),
        (
            json!({"StringEquals": {&aud: ARI}, "StringLike": {&sub: format!("{REPO}:*")}, "ForAllValues:StringEquals": {format!("{PROV}:deploymentEnvironmentUuid"): ENV}}),
            "for-all-values-missing-key",
        ),
        (
            json!({"StringEquals": {&aud: ARI, format!("{PROV}:branchName"): "main"}, "StringLike": {&sub: format!("{REPO}:*")}}),
            "branch-not-enforceable",
        ),
    ];
    for (cond, id) in cases {
        let doc = aws(vec![statement("Allow", cond.clone())]);
        assert!(
            ids(&doc).contains(&id.to_string()),
            "{id} not found for {cond}: {:?}",
            ids(&doc)
        );
    }
    let good = Document::parse(
        &std::fs::read_to_string("examples/policies/aws-good.json").unwrap(),
        None,
    )
    .unwrap();
    assert!(
        good.findings()
            .iter()
            .all(|f| f.severity < Severity::Warning),
        "{:?}",
        good.findings()
    );
}

#[test]
fn bad_input_is_refused_clearly() {
    let e = Document::parse(
        "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",,}\n  ]\n}",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 3"), "{e}");
    let text = format!(
        "{{\n\"Version\": \"2012-10-17\",\n\"Statement\": [\n {{\"Sid\": \"A\", \"Effect\": \"Allow\", \"Principal\": {{\"Federated\": \"x\"}}, \"Action\": \"sts:AssumeRoleWithWebIdentity\",\n  \"Condition\": {{\n   \"StringEqualz\": {{\"{PROV}:sub\": \"x\"}}}}}}]}}"
    );
    let e = Document::parse(&text, None).unwrap_err().to_string();
    assert!(
        e.contains("Statement[0] (Sid A)") && e.contains("line 6") && e.contains("StringEquals"),
        "{e}"
    );
    let big = format!("{{\"Statement\": \"{}\"}}", "x".repeat(10 << 20));
    assert!(
        Document::parse(&big, None)
            .unwrap_err()
            .to_string()
            .contains("bytes")
    );
    let deep = format!(
        "{{\"Statement\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(
        Document::parse(&deep, None)
            .unwrap_err()
            .to_string()
            .contains("nested deeper")
    );
    assert!(
        Document::parse("Version: 2012-10-17", None)
            .unwrap_err()
            .to_string()
            .contains("not a JSON")
    );
    assert!(
        Document::parse("{\"Hello\": 1}", None)
            .unwrap_err()
            .to_string()
            .contains("--kind")
    );
    let e = Document::parse("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}]}", None).unwrap_err().to_string();
    assert!(e.contains("Resource"), "{e}");
    let e = Document::parse(
        "{\"Statement\": [{\"Effect\": \"allow\", \"Principal\": \"*\", \"Action\": \"*\"}]}",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("Effect"), "{e}");
}

fn vault(role: Value) -> Document {
    Document::from_value(
        &json!({"role": role, "config": {"bound_issuer": format!("https://{PROV}")}}),
        Some(Kind::Vault),
    )
    .unwrap()
}

#[test]
fn vault_login_rules() {
    let base = json!({"role_type": "jwt", "user_claim": "repositoryUuid", "bound_audiences": [ARI], "bound_claims": {"repositoryUuid": REPO}});
    let c = claims(true);
    assert!(allows(&vault(base.clone()), &c));
    let mut no_type = base.clone();
    no_type.as_object_mut().unwrap().remove("role_type");
    let refused = Document::from_value(&json!({"role": no_type}), Some(Kind::Vault))
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("allowed_redirect_uris") && refused.contains("role_type=jwt"),
        "{refused}"
    );
    no_type["allowed_redirect_uris"] = json!(["http://127.0.0.1:8250/oidc/callback"]);
    let d = vault(no_type).evaluate(&Context::new(c.clone(), NOW));
    assert!(
        !d.allowed && d.reason.contains("oidc role_type"),
        "{}",
        d.reason
    );
    // No exp: valid until iat + 150 s expiration leeway, + 60 s clock skew.
    let mut no_exp = c.clone();
    no_exp.remove("exp");
    assert!(allows(&vault(base.clone()), &no_exp));
    let d = vault(base.clone()).evaluate(&Context::new(no_exp.clone(), NOW - 10 + 150 + 61));
    assert!(!d.allowed && d.reason.contains("expired"), "{}", d.reason);
    // Expired 59 s ago passes the 60 s clock skew; 61 s does not.
    assert!(
        vault(base.clone())
            .evaluate(&Context::new(c.clone(), NOW + 3600 + 59))
            .allowed
    );
    assert!(
        !vault(base.clone())
            .evaluate(&Context::new(c.clone(), NOW + 3600 + 61))
            .allowed
    );
    // A list claim matches when any element does.
    let mut list = c.clone();
    list.insert("branchName".into(), json!(["x", "main"]));
    let mut b = base.clone();
    b["bound_claims"]["branchName"] = "main".into();
    assert!(allows(&vault(b.clone()), &list));
    // Glob has only `*`.
    b["bound_claims_type"] = "glob".into();
    b["bound_claims"]["branchName"] = "ma*".into();
    assert!(allows(&vault(b.clone()), &c));
    b["bound_claims"]["branchName"] = "ma?n".into();
    assert!(!allows(&vault(b), &c));
    // Any aud without bound_audiences is refused.
    let d = vault(json!({"role_type": "jwt", "user_claim": "sub", "bound_subject": c["sub"]}))
        .evaluate(&Context::new(c.clone(), NOW));
    assert!(d.reason.contains("no audiences bound"), "{}", d.reason);
    let mut other_iss = c.clone();
    other_iss.insert("iss".into(), "https://evil".into());
    assert!(!allows(&vault(base.clone()), &other_iss));
    let e = Document::from_value(
        &json!({"role_type": "jwt", "bound_audiences": [ARI]}),
        Some(Kind::Vault),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("user claim"), "{e}");
    let e = Document::from_value(
        &json!({"role_type": "jwt", "user_claim": "sub"}),
        Some(Kind::Vault),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("bound constraint"), "{e}");
}

#[test]
fn gcp_and_azure() {
    let mut c = claims(true);
    c.insert(
        "aud".into(),
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x"
            .into(),
    );
    let gcp = |mapping: Value, cond: &str| {
        Document::from_value(&json!({"name": "projects/1/locations/global/workloadIdentityPools/p/providers/x", "attributeMapping": mapping, "attributeCondition": cond, "oidc": {"issuerUri": format!("https://{PROV}")}}), None).unwrap()
    };
    let ok = gcp(
        json!({"google.subject": "assertion.repositoryUuid"}),
        &format!("assertion.deploymentEnvironmentUuid == '{ENV}'"),
    );
    assert_eq!(ok.kind(), Kind::Gcp);
    assert!(allows(&ok, &c));
    let long = gcp(
        json!({"google.subject": "assertion.sub + assertion.sub"}),
        "true",
    );
    assert!(
        long.evaluate(&Context::new(c.clone(), NOW))
            .reason
            .contains("127")
    );
    let err = gcp(
        json!({"google.subject": "assertion.sub"}),
        "assertion.nope == 'x'",
    );
    assert!(!allows(&err, &c), "a CEL error rejects");
    let mut wrong_aud = c.clone();
    wrong_aud.insert("aud".into(), ARI.into());
    assert!(
        !allows(&ok, &wrong_aud),
        "default audience is the provider's name"
    );
    assert!(
        Document::from_value(
            &json!({"attributeMapping": {"google.subject": "assertion.("}}),
            None
        )
        .unwrap_err()
        .to_string()
        .contains("CEL")
    );
    assert!(
        Document::from_value(
            &json!({"attributeMapping": {"attribute.x": "assertion.sub"}}),
            Some(Kind::Gcp)
        )
        .unwrap_err()
        .to_string()
        .contains("google.subject")
    );

    let mut c = claims(true);
    c.insert("aud".into(), "api://AzureADTokenExchange".into());
    let azure = Document::from_value(&json!({"issuer": format!("https://{PROV}"), "subject": c["sub"], "audiences": ["api://AzureADTokenExchange"]}), None).unwrap();
    assert_eq!(azure.kind(), Kind::Azure);
    assert!(allows(&azure, &c), "the run it was copied from");
    let mut next = c.clone();
    next.insert(
        "sub".into(),
        format!("{REPO}:{ENV}:{{00000000-0000-4000-8000-000000000009}}").into(),
    );
    assert!(!allows(&azure, &next), "never the next run");
    assert!(ids(&azure).contains(&"full-sub-pinned".to_string()));
}

proptest! {
    #[test]
    fn deny_always_wins(pattern in "[{}a-f0-9:*?-]{0,12}", deny_first in any::<bool>()) {
        let allow = statement("Allow", json!({"StringLike": {format!("{PROV}:sub"): pattern.clone()}}));
        let deny = statement("Deny", json!({}));
        let doc = if deny_first { aws(vec![deny, allow]) } else { aws(vec![allow, deny]) };
        prop_assert!(!allows(&doc, &claims(true)));
    }

    #[test]
    fn equals_and_not_equals_are_complements(value in "[a-zA-Z0-9:{}*-]{0,10}", aud in "[a-zA-Z0-9:{}*-]{0,10}", ignore_case in any::<bool>()) {
        let mut c = claims(false);
        c.insert("aud".into(), aud.into());
        let (eq, ne) = if ignore_case { ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase") } else { ("StringEquals", "StringNotEquals") };
        prop_assert_ne!(allows(&one(eq, "aud", json!(value)), &c), allows(&one(ne, "aud", json!(value)), &c));
        prop_assert_ne!(allows(&one("StringLike", "aud", json!(value)), &c), allows(&one("StringNotLike", "aud", json!(value)), &c));
    }
}
