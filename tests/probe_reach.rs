//! Who could exploit what the probe finds. Relying parties with one planted flaw each: a check
//! that runs only when its claim is present (caught by the policy-boundary cases alone, and
//! said to be exploitable by whoever pushes a tag, or by nobody, as Bitbucket issues the claim
//! or not), an environment pinned only when present, and relying parties that trust any
//! workspace by issuer or by its ARI audience (found by fuzzing alone, as the other workspace's
//! token Bitbucket would issue). Hygiene findings, which nobody could exploit, never fail a run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use serde_json::Value;
use stepmint::hostile::ExploitableBy;
use stepmint::probe::{self, FuzzOptions, ProbeOptions, ProbeReport, Target, Verdict};
use stepmint::validate::{self, Condition, Policy, RemoteKeys, Status, Test};
use stepmint::{Clock, SystemClock};

use crate::util;

/// A relying party: the reference validator under `relaxed`, then its own check on the claims.
struct Rp {
    keys: RemoteKeys,
    relaxed: Policy,
    check: Box<dyn Fn(&Value) -> bool + Send + Sync>,
}

async fn handle(State(rp): State<Arc<Rp>>, headers: HeaderMap) -> StatusCode {
    let (token, keys) = util::bearer_and_keys(&rp.keys, &headers).await;
    let Some(keys) = keys else {
        return StatusCode::UNAUTHORIZED;
    };
    let report = validate::verify(&token, &keys, &rp.relaxed, SystemClock.now());
    let clean = report.checks.iter().all(|c| c.status != Status::Fail);
    if clean && (rp.check)(report.claims.as_ref().unwrap_or(&Value::Null)) {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

pub(crate) async fn start_rp(
    issuer: &str,
    ca: &[u8],
    relaxed: Policy,
    check: impl Fn(&Value) -> bool + Send + Sync + 'static,
) -> SocketAddr {
    let rp = Arc::new(Rp {
        keys: RemoteKeys::new(issuer, ca).unwrap(),
        relaxed,
        check: Box::new(check),
    });
    let app = Router::new().fallback(any(handle)).with_state(rp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

pub(crate) fn options(addr: SocketAddr, policy: &Policy, fuzz: Option<usize>) -> ProbeOptions {
    let target = Target::http(
        format!("http://{addr}/"),
        "GET",
        &[],
        None,
        200..=299,
        Vec::new(),
    );
    let mut o = ProbeOptions::new(target.unwrap());
    o.policy = Some(policy.clone());
    o.timeout = Duration::from_secs(20);
    o.concurrency = 8;
    if let Some(count) = fuzz {
        o.cases = false;
        o.fuzz = Some(FuzzOptions {
            count: Some(count),
            seconds: None,
            seed: 1,
        });
    }
    o
}

fn failed(report: &ProbeReport) -> Vec<&probe::ProbeRow> {
    report
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .collect()
}

fn branch(test: &str) -> Condition {
    Condition {
        claim: "branchName".into(),
        test: Test::Equals(test.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_that_runs_only_on_present_claims_is_caught_by_the_policy_cases_alone() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.issuer().workspace("acme").unwrap();
    let ca = util::ca_pem(&instance);
    let mut policy = ws.default_policy();
    policy.conditions = vec![branch("main")];
    let mut relaxed = policy.clone();
    relaxed.conditions.clear();

    // `if "branchName" in claims and claims["branchName"] != "main": refuse`.
    let addr = start_rp(&ws.issuer, &ca, relaxed.clone(), |c| {
        c.get("branchName").is_none_or(|b| *b == "main")
    })
    .await;
    let report = probe::run(
        instance.issuer().clone(),
        options(addr, &policy, None),
        |_| {},
    )
    .await
    .unwrap();
    assert!(report.tested(), "{}", report.baseline.detail);
    let fails = failed(&report);
    let names: Vec<&str> = fails.iter().map(|r| r.case.as_str()).collect();
    assert_eq!(names, ["policy-claim-branchName-absent"], "{names:?}");
    assert_eq!(fails[0].exploitable_by, Some(ExploitableBy::BranchPusher));
    assert!(fails[0].exploit.contains("tag"), "{}", fails[0].exploit);
    assert!(!report.ok(), "a tag pusher could exploit it");
    assert_eq!(report.summary.exploitable, 1);

    // The same flaw on `sub`: Bitbucket always sends one, so nobody could exploit it.
    let mut sub_policy = ws.default_policy();
    let repo = stepmint::braced(&ws.workspace.default_repository_uuid);
    sub_policy.sub_like = vec![format!("{repo}:*")];
    let mut sub_relaxed = sub_policy.clone();
    sub_relaxed.sub_like.clear();
    sub_relaxed.required_claims.retain(|c| c != "sub");
    let pattern = format!("{repo}:*");
    let addr = start_rp(&ws.issuer, &ca, sub_relaxed, move |c| {
        c.get("sub").is_none_or(|s| {
            s.as_str()
                .is_some_and(|s| validate::string_like(&pattern, s))
        })
    })
    .await;
    let report = probe::run(
        instance.issuer().clone(),
        options(addr, &sub_policy, None),
        |_| {},
    )
    .await
    .unwrap();
    let fails = failed(&report);
    let names: Vec<&str> = fails.iter().map(|r| r.case.as_str()).collect();
    assert!(names.contains(&"policy-sub-absent"), "{names:?}");
    assert!(
        fails
            .iter()
            .all(|r| r.exploitable_by == Some(ExploitableBy::Nobody)),
        "{names:?}"
    );
    assert!(report.ok(), "hygiene only: nothing anyone could exploit");
    assert_eq!(report.summary.exploitable, 0);
    assert_eq!(report.summary.hygiene, fails.len());
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_environment_pinned_only_when_present_takes_the_branchs_other_steps() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.issuer().workspace("acme").unwrap();
    let ca = util::ca_pem(&instance);
    let repo = stepmint::braced(&ws.workspace.default_repository_uuid);
    let env = "{44444444-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    // Only production deployments of `main`.
    let mut policy = ws.default_policy();
    policy.sub_like = vec![format!("{repo}:{env}:*")];
    policy.conditions = vec![branch("main")];
    let mut relaxed = policy.clone();
    relaxed.sub_like.clear();
    let (r, e) = (repo.clone(), env.to_string());
    let addr = start_rp(&ws.issuer, &ca, relaxed, move |c| {
        c["repositoryUuid"] == r.as_str()
            && c.get("deploymentEnvironmentUuid")
                .is_none_or(|v| *v == e.as_str())
    })
    .await;
    let report = probe::run(
        instance.issuer().clone(),
        options(addr, &policy, None),
        |_| {},
    )
    .await
    .unwrap();
    let fails = failed(&report);
    let row = fails.iter().find(|r| r.case == "policy-sub-non-deployment");
    let row =
        row.unwrap_or_else(|| panic!("{:?}", fails.iter().map(|r| &r.case).collect::<Vec<_>>()));
    // The branch is pinned, so a pusher's own step is refused: only main's other steps get in.
    assert_eq!(
        row.exploitable_by,
        Some(ExploitableBy::TokenHolder),
        "{}",
        row.exploit
    );
    assert!(
        fails
            .iter()
            .all(|r| r.exploitable_by != Some(ExploitableBy::BranchPusher))
    );
    instance.stop().await;
}

/// Whether `iss` is any workspace's issuer on `base`'s host.
fn any_workspace_issuer(own: &str, iss: &str) -> bool {
    let base = &own[..own.find("/2.0/workspaces/").unwrap()];
    iss.strip_prefix(base)
        .and_then(|r| r.strip_prefix("/2.0/workspaces/"))
        .and_then(|r| r.strip_suffix("/pipelines-config/identity/oidc"))
        .is_some_and(|slug| !slug.is_empty() && !slug.contains('/'))
}

fn auds(c: &Value) -> Vec<String> {
    match &c["aud"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A fuzz-only run's findings someone could exploit as another workspace, and the first.
async fn any_workspace_findings(
    instance: &stepmint::Instance,
    addr: SocketAddr,
    policy: &Policy,
) -> (ProbeReport, Option<usize>) {
    let report = probe::run(
        instance.issuer().clone(),
        options(addr, policy, Some(2000)),
        |_| {},
    )
    .await
    .unwrap();
    let f = report.fuzz.as_ref().unwrap();
    assert_eq!(f.sent, 2000);
    let first = f
        .findings
        .iter()
        .filter(|x| x.exploitable_by == ExploitableBy::AnyWorkspace)
        .map(|x| x.first_seen)
        .min();
    (report, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fuzzing_alone_finds_relying_parties_that_trust_any_workspace() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.issuer().workspace("acme").unwrap();
    let ca = util::ca_pem(&instance);
    let own = ws.issuer.clone();

    // Any workspace by issuer, with a custom audience any workspace can ask for.
    let mut custom = ws.default_policy();
    custom.audiences = vec!["api://deploy".into()];
    let mut relaxed = custom.clone();
    relaxed.issuer = None;
    let iss = own.clone();
    let addr = start_rp(&ws.issuer, &ca, relaxed, move |c| {
        any_workspace_issuer(&iss, c["iss"].as_str().unwrap_or_default())
    })
    .await;
    let (report, first) = any_workspace_findings(&instance, addr, &custom).await;
    let first = first.unwrap_or_else(|| panic!("{:#?}", report.fuzz));
    // `scripts/bench --families` reads these lines.
    eprintln!(
        "family: another workspace's token trusted by its issuer (custom audience): first at generated token {first} (any_workspace)"
    );
    assert!(!report.ok());

    // Any workspace's ARI as the audience (with any workspace's issuer): multi-tenant.
    let default = ws.default_policy();
    let mut relaxed = default.clone();
    relaxed.issuer = None;
    relaxed.audiences.clear();
    let iss = own.clone();
    let addr = start_rp(&ws.issuer, &ca, relaxed.clone(), move |c| {
        any_workspace_issuer(&iss, c["iss"].as_str().unwrap_or_default())
            && auds(c)
                .iter()
                .any(|a| a.starts_with("ari:cloud:bitbucket::workspace/"))
    })
    .await;
    let (report, first) = any_workspace_findings(&instance, addr, &default).await;
    let first = first.unwrap_or_else(|| panic!("{:#?}", report.fuzz));
    eprintln!(
        "family: another workspace's ARI audience (and issuer) trusted: first at generated token {first} (any_workspace)"
    );
    let f = report.fuzz.as_ref().unwrap();
    let worst = &f.findings[0];
    assert_eq!(
        worst.exploitable_by,
        ExploitableBy::AnyWorkspace,
        "sorted first"
    );
    assert!(
        worst
            .difference
            .iter()
            .any(|d| d.contains("workspaces/acme-other"))
    );

    // Any ARI, but this workspace's issuer exactly: no other workspace's token passes, so what
    // it takes is nobody's (hygiene), and the run does not fail.
    let mut relaxed = default.clone();
    relaxed.audiences.clear();
    let addr = start_rp(&ws.issuer, &ca, relaxed, |c| {
        auds(c)
            .iter()
            .any(|a| a.starts_with("ari:cloud:bitbucket::workspace/"))
    })
    .await;
    let (report, first) = any_workspace_findings(&instance, addr, &default).await;
    assert_eq!(first, None);
    let f = report.fuzz.as_ref().unwrap();
    assert!(!f.findings.is_empty(), "another workspace's ARI is caught");
    assert!(
        f.findings
            .iter()
            .all(|x| x.exploitable_by == ExploitableBy::Nobody),
        "{:#?}",
        f.findings
    );
    assert!(report.ok());
    instance.stop().await;
}
