//! How many generated tokens fuzzing alone (`--no-catalogue --fuzz 2000 --seed 1`) takes to
//! reach each structure-aware family: a relying party with one flaw per family, and the index of
//! the first generated token whose shrunk finding is that family's, as exploitable as that flaw
//! lets it be. The README states the figures this prints; each must stay within the 2,000-token
//! budget.

use serde_json::Value;
use stepmint::hostile::{Edit, ExploitableBy};
use stepmint::probe::{self, Finding};
use stepmint::validate::{Condition, Test};

use crate::probe_reach::{options, start_rp};
use crate::util;

fn sets(f: &Finding, claim: &str, test: impl Fn(&Value) -> bool) -> bool {
    f.edits.iter().any(|e| match e {
        Edit::SetClaim { name, value } => name == claim && test(value),
        _ => false,
    })
}

/// A UUID as Bitbucket writes it: braced, lower-case.
fn canonical(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|u| u.starts_with('{') && u == u.to_lowercase())
}

fn removes(f: &Finding, claim: &str) -> bool {
    f.edits
        .iter()
        .any(|e| matches!(e, Edit::RemoveClaim { name } if name == claim))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_structure_family_is_reached_within_the_budget() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.issuer().workspace("acme").unwrap();
    let ca = util::ca_pem(&instance);
    let repo = stepmint::braced(&ws.workspace.default_repository_uuid);
    let env = "{44444444-2f3a-4d4b-9a55-1b2c3d4e5f60}".to_string();

    // A deployment step to `env` of the default repository, on main.
    let mut deploy = ws.default_policy();
    deploy.sub_like = vec![format!("{repo}:{env}:*")];
    let mut repo_pinned = ws.default_policy();
    repo_pinned.conditions = vec![Condition {
        claim: "repositoryUuid".into(),
        test: Test::Equals(repo.clone().into()),
    }];
    let mut sub_pinned = ws.default_policy();
    sub_pinned.sub_like = vec![format!("{repo}:*")];

    type Check = Box<dyn Fn(&Value) -> bool + Send + Sync>;
    type Family = Box<dyn Fn(&Finding) -> bool>;
    let r = repo.clone();
    let families: Vec<(
        &str,
        stepmint::validate::Policy,
        Check,
        ExploitableBy,
        Family,
    )> = vec![
        (
            "another repository (sub and repositoryUuid)",
            sub_pinned.clone(),
            Box::new(|_| true),
            ExploitableBy::SameWorkspaceRepo,
            Box::new(|f| sets(f, "repositoryUuid", canonical)),
        ),
        (
            "another deployment environment",
            deploy.clone(),
            Box::new(move |c| c["repositoryUuid"] == r.as_str()),
            // Nothing pins the branch: a pusher's own deployment step gets in.
            ExploitableBy::BranchPusher,
            Box::new(|f| sets(f, "deploymentEnvironmentUuid", canonical)),
        ),
        (
            "a step that is no deployment",
            deploy.clone(),
            Box::new({
                let r = repo.clone();
                move |c| c["repositoryUuid"] == r.as_str()
            }),
            ExploitableBy::BranchPusher,
            Box::new(|f| removes(f, "deploymentEnvironmentUuid")),
        ),
        (
            "a UUID upper-cased",
            repo_pinned.clone(),
            Box::new({
                let r = repo.clone();
                move |c| {
                    c["repositoryUuid"]
                        .as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(&r))
                }
            }),
            ExploitableBy::Nobody,
            Box::new(|f| {
                sets(f, "repositoryUuid", |v| {
                    v.as_str().is_some_and(|u| u != u.to_lowercase())
                })
            }),
        ),
        (
            "a UUID without braces",
            repo_pinned.clone(),
            Box::new({
                let r = repo.clone();
                move |c| {
                    c["repositoryUuid"]
                        .as_str()
                        .is_some_and(|u| u.trim_matches(['{', '}']) == r.trim_matches(['{', '}']))
                }
            }),
            ExploitableBy::Nobody,
            Box::new(|f| {
                sets(f, "repositoryUuid", |v| {
                    v.as_str().is_some_and(|u| !u.starts_with('{'))
                })
            }),
        ),
    ];
    for (what, policy, check, by, family) in families {
        // The relying party checks the declared policy but for `sub` and conditions, which it
        // replaces with its own (flawed) check.
        let mut relaxed = policy.clone();
        relaxed.sub_like.clear();
        relaxed.conditions.clear();
        let addr = start_rp(&ws.issuer, &ca, relaxed, move |c| check(c)).await;
        let report = probe::run(
            instance.issuer().clone(),
            options(addr, &policy, Some(2000)),
            |_| {},
        )
        .await
        .unwrap();
        let f = report.fuzz.as_ref().unwrap();
        let first = f
            .findings
            .iter()
            .filter(|x| family(x))
            .map(|x| (x.exploitable_by, x.first_seen))
            .min();
        let Some((found_by, first)) = first else {
            panic!("{what}: not found in 2000 tokens: {:#?}", f.findings);
        };
        // `scripts/bench --families` reads these lines.
        eprintln!(
            "family: {what}: first at generated token {first} ({})",
            found_by.as_str()
        );
        assert!(first < 2000);
        assert_eq!(found_by, by, "{what}");
    }
    instance.stop().await;
}
