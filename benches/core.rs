//! Criterion benchmarks of the hot paths: minting (signing) a step token, building the
//! discovery and JWKS bodies, and the validator against plain `jsonwebtoken::decode` on the same
//! token and key (the target: our extra checks cost at most 10 %).

use std::collections::HashSet;
use std::sync::Arc;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use stepmint::validate::{self, KeySet};
use stepmint::{
    Clock, FixedClock, IdSource, Issuer, IssuerOptions, ServedWorkspace, StepRequest, SystemClock,
    WorkspaceSpec,
};

fn issuer(dir: &std::path::Path, now: i64) -> Issuer {
    let mut options = IssuerOptions::new(dir, "https://localhost:8443");
    options.workspaces = vec![WorkspaceSpec::parse("bench").expect("slug")];
    Issuer::open(
        options,
        Arc::new(FixedClock(now)),
        Arc::new(IdSource::seeded(1)),
    )
    .expect("issuer")
}

fn benches(c: &mut Criterion) {
    // jsonwebtoken reads the system clock, so tokens are minted at the real now.
    let now = SystemClock.now();
    let dir = tempfile::tempdir().expect("dir");
    let issuer = issuer(dir.path(), now);
    let ws = issuer.workspace("bench").expect("workspace");
    let req = StepRequest {
        audiences: vec!["sts.amazonaws.com".into()],
        ..Default::default()
    };

    c.bench_function("mint_step_token_rs256", |b| {
        b.iter(|| issuer.mint(black_box(&req)).expect("mint"))
    });
    c.bench_function("build_discovery_and_jwks", |b| {
        b.iter(|| {
            ServedWorkspace::build(
                black_box(ws.workspace.clone()),
                "https://localhost:8443",
                now,
            )
            .expect("build")
        })
    });

    let token = issuer.mint(&req).expect("mint").token;
    let keys: KeySet = ws.keyset().clone();
    let policy = ws.default_policy();
    let jwk = ws.workspace.keys.active().public_jwk().clone();
    let key = DecodingKey::from_rsa_components(
        jwk.n.as_deref().expect("n"),
        jwk.e.as_deref().expect("e"),
    )
    .expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[ws.workspace.default_audience()]);
    validation.set_issuer(&[ws.issuer.as_str()]);
    validation.required_spec_claims =
        HashSet::from(["exp", "iat", "sub", "iss", "aud"].map(String::from));
    // Both must accept the token, or the comparison means nothing.
    assert!(validate::verify(&token, &keys, &policy, now).accepted);
    jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation)
        .expect("jsonwebtoken accepts");

    let mut group = c.benchmark_group("verify");
    group.bench_function("stepmint_validate", |b| {
        b.iter(|| validate::verify(black_box(&token), &keys, &policy, now))
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &key, &validation)
                .expect("decode")
        })
    });
    group.finish();
}

/// `StringLike` on the input that made the old matcher quadratic (`*` + a…a + `b*` against
/// a…a, pattern half the text): the time per byte must stay flat as the text doubles.
fn string_like(c: &mut Criterion) {
    let mut group = c.benchmark_group("string_like_adversarial");
    for n in [2_750usize, 5_500, 11_000, 22_000] {
        let text = "a".repeat(n);
        // The piece between stars is searched for, not anchored: the costly case.
        let pattern = format!("*{}b*", "a".repeat(n / 2));
        group.throughput(criterion::Throughput::Bytes(n as u64));
        group.bench_with_input(criterion::BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| validate::string_like(&pattern, &text))
        });
    }
    group.finish();
}

/// `policy eval`'s engine alone: a typical three-condition AWS trust policy (aud pinned, sub
/// pinned to a repository and environment, a Deny for one branch-less key) against a step
/// token's claims. The target: at least 100,000 evaluations per second.
fn policy_eval(c: &mut Criterion) {
    use stepmint::policy::{Context, Document};
    let prov = "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc";
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{prov}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{prov}:aud"): "ari:cloud:bitbucket::workspace/922e118c-f34f-4226-a897-0e0afbec553d"},
                "StringLike": {format!("{prov}:sub"): "{1de489be-ce6a-42a0-a8c8-eadbf1174ac7}:{bd715740-c970-486b-b68a-b421ec2a1f8b}:*"},
                "Null": {format!("{prov}:amr"): "true"}
            }
        }]
    });
    let doc = Document::from_value(&policy, None).expect("policy");
    let claims = serde_json::json!({
        "iss": format!("https://{prov}"),
        "aud": "ari:cloud:bitbucket::workspace/922e118c-f34f-4226-a897-0e0afbec553d",
        "sub": "{1de489be-ce6a-42a0-a8c8-eadbf1174ac7}:{bd715740-c970-486b-b68a-b421ec2a1f8b}:{759de0c6-eaee-4eaa-b7a6-c507eec759a7}",
        "iat": 1_800_000_000, "exp": 1_800_003_600, "branchName": "main",
        "repositoryUuid": "{1de489be-ce6a-42a0-a8c8-eadbf1174ac7}",
        "deploymentEnvironmentUuid": "{bd715740-c970-486b-b68a-b421ec2a1f8b}"
    });
    let ctx = Context::new(claims.as_object().expect("object").clone(), 1_800_000_100);
    assert!(doc.evaluate(&ctx).allowed);
    let mut group = c.benchmark_group("policy_eval");
    group.throughput(criterion::Throughput::Elements(1));
    group.bench_function("aws_3_conditions", |b| {
        b.iter(|| black_box(doc.evaluate(black_box(&ctx))))
    });
    group.finish();
}

criterion_group!(core, benches, string_like, policy_eval);
criterion_main!(core);
