use serde_json::{Map, Value, json};

use super::*;
use crate::token::{Edit, EncodingEdit};

const WS: &str = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
const OTHER_WS: &str = "{1b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
const REPO: &str = "{22222222-2f3a-4d4b-9a55-1b2c3d4e5f60}";
const OTHER_REPO: &str = "{32222222-2f3a-4d4b-9a55-1b2c3d4e5f60}";
const ENV: &str = "{44444444-2f3a-4d4b-9a55-1b2c3d4e5f60}";
const STEP: &str = "{55555555-2f3a-4d4b-9a55-1b2c3d4e5f60}";
const ISS: &str = "https://localhost:8443/2.0/workspaces/acme/pipelines-config/identity/oidc";
const OTHER_ISS: &str =
    "https://localhost:8443/2.0/workspaces/acme-other/pipelines-config/identity/oidc";
const NOW: i64 = 1_800_000_000;

fn genuine() -> Map<String, Value> {
    json!({
        "iss": ISS,
        "aud": ari(WS),
        "sub": format!("{REPO}:{ENV}:{STEP}"),
        "iat": NOW,
        "exp": NOW + 3600,
        "workspaceUuid": WS,
        "repositoryUuid": REPO,
        "pipelineUuid": "{66666666-2f3a-4d4b-9a55-1b2c3d4e5f60}",
        "stepUuid": STEP,
        "branchName": "main",
        "deploymentEnvironmentUuid": ENV,
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn set(name: &str, value: impl Into<Value>) -> Edit {
    Edit::SetClaim {
        name: name.into(),
        value: value.into(),
    }
}

fn remove(name: &str) -> Edit {
    Edit::RemoveClaim { name: name.into() }
}

fn by(edits: &[Edit]) -> ExploitableBy {
    reach(&genuine(), edits).by
}

use ExploitableBy::*;

#[test]
fn forged_signatures_are_anyones_and_a_genuine_one_under_another_header_nobodys() {
    let sign = |w: &str| Edit::Sign {
        with: w.parse().unwrap(),
    };
    let alg_none = Edit::SetHeader {
        name: "alg".into(),
        value: "none".into(),
    };
    assert_eq!(by(&[sign("none")]), Anyone);
    assert_eq!(by(&[sign("none"), alg_none.clone()]), Anyone);
    assert_eq!(
        by(&[sign("hs256-public-pem"), set("branchName", [1])]),
        Anyone
    );
    assert_eq!(by(&[alg_none]), Nobody);
    assert_eq!(by(&[sign("ps256")]), Nobody);
    assert_eq!(by(&[sign("workspace")]), TokenHolder, "the genuine token");
    let enc = |change| Edit::Encoding { change };
    assert_eq!(by(&[enc(EncodingEdit::DropSignature)]), Anyone);
    assert_eq!(by(&[enc(EncodingEdit::Pad)]), Nobody);
    assert_eq!(by(&[Edit::RemoveHeader { name: "kid".into() }]), Nobody);
}

#[test]
fn a_branch_is_a_pushers_when_git_allows_its_name() {
    let r = reach(&genuine(), &[set("branchName", "main-evil")]);
    assert_eq!(
        (r.by, r.branch.as_deref()),
        (BranchPusher, Some("main-evil"))
    );
    assert!(r.how.contains("\"main-evil\""), "{}", r.how);
    assert_eq!(by(&[set("branchName", "m\u{430}in")]), BranchPusher);
    for bad in ["release/../main", "main\r\n", " main ", "main\u{0}evil"] {
        let r = reach(&genuine(), &[set("branchName", bad)]);
        assert_eq!(r.by, Nobody, "{bad:?}");
        assert!(r.how.contains("git refuses"), "{}", r.how);
    }
    assert_eq!(by(&[set("branchName", json!(["main"]))]), Nobody);
    let tag = reach(&genuine(), &[remove("branchName")]);
    assert_eq!((tag.by, tag.branch), (BranchPusher, None));
}

#[test]
fn another_repository_or_workspace_only_when_every_claim_agrees() {
    let other_repo = [
        set("repositoryUuid", OTHER_REPO),
        set("sub", format!("{OTHER_REPO}:{ENV}:{STEP}")),
    ];
    assert_eq!(by(&other_repo), SameWorkspaceRepo);
    assert_eq!(by(&other_repo[1..]), Nobody, "sub alone disagrees");
    assert_eq!(
        by(&other_repo[..1]),
        Nobody,
        "repositoryUuid alone disagrees"
    );
    let mut other_ws = vec![
        set("iss", OTHER_ISS),
        set("workspaceUuid", OTHER_WS),
        set("aud", ari(OTHER_WS)),
    ];
    other_ws.extend(other_repo.iter().cloned());
    assert_eq!(by(&other_ws), AnyWorkspace);
    let mut asks_for_ours = other_ws.clone();
    asks_for_ours[2] = set("aud", json!([ari(OTHER_WS), "api://deploy"]));
    assert_eq!(by(&asks_for_ours), AnyWorkspace);
    assert_eq!(by(&other_ws[..1]), Nobody, "iss alone");
    assert_eq!(by(&other_ws[2..3]), Nobody, "aud alone");
    assert_eq!(by(&other_ws[..3]), Nobody, "this workspace's repository");
    let upper = set("iss", ISS.replace("acme", "ACME"));
    assert_eq!(by(&[upper]), Nobody);
}

#[test]
fn uuids_are_bitbuckets_only_lower_case_in_braces() {
    let upper = REPO.to_uppercase();
    assert_eq!(
        by(&[
            set("repositoryUuid", upper.clone()),
            set("sub", format!("{upper}:{ENV}:{STEP}"))
        ]),
        Nobody
    );
    let bare = REPO.trim_matches(['{', '}']);
    assert_eq!(by(&[set("repositoryUuid", bare)]), Nobody);
    assert!(canonical_uuid(REPO) && !canonical_uuid(bare) && !canonical_uuid(&upper));
}

#[test]
fn steps_environments_and_audiences_of_the_trusted_branch_are_its_token_holders() {
    let plain = [
        remove("deploymentEnvironmentUuid"),
        set("sub", format!("{REPO}:{STEP}")),
    ];
    assert_eq!(by(&plain), TokenHolder);
    assert_eq!(by(&plain[..1]), Nobody, "sub still names the environment");
    let mut pushed = plain.to_vec();
    pushed.push(set("branchName", "feature/x"));
    assert_eq!(by(&pushed), BranchPusher);
    assert_eq!(
        by(&[set("aud", json!([ari(WS), "api://other"]))]),
        TokenHolder
    );
    let eleven: Vec<String> = (0..11).map(|i| format!("a{i}")).collect();
    let mut aud = vec![ari(WS)];
    aud.extend(eleven);
    assert_eq!(by(&[set("aud", aud)]), Nobody);
    assert_eq!(
        by(&[set("aud", json!([ari(WS)]))]),
        Nobody,
        "a lone ARI is a string"
    );
}

#[test]
fn times_as_bitbucket_signs_them() {
    let time = |name: &str, offset| Edit::SetTime {
        name: name.into(),
        offset,
    };
    assert_eq!(by(&[time("iat", -3720), time("exp", -120)]), TokenHolder);
    assert_eq!(
        by(&[time("exp", -120)]),
        Nobody,
        "expires before it is issued"
    );
    assert_eq!(
        by(&[time("iat", -600), time("exp", 3000)]),
        TokenHolder,
        "older, unexpired"
    );
    assert_eq!(
        by(&[time("iat", -600)]),
        Nobody,
        "a lifetime longer than Bitbucket's"
    );
    assert_eq!(by(&[time("iat", 300), time("exp", 3900)]), Nobody);
    assert_eq!(by(&[time("nbf", 0)]), Nobody);
    assert_eq!(by(&[time("exp", 400 * 86_400)]), Nobody);
    assert_eq!(by(&[remove("exp")]), Nobody);
    assert_eq!(by(&[set("exp", NOW as f64 + 0.5)]), Nobody);
}

#[test]
fn claims_bitbucket_never_writes_are_nobodys() {
    assert_eq!(by(&[set("x-12", true)]), Nobody);
    assert_eq!(by(&[remove("sub")]), Nobody);
    assert_eq!(by(&[remove("workspaceUuid")]), Nobody);
    assert_eq!(by(&[remove("repositoryUuid")]), Nobody);
    let mut custom = genuine();
    custom.insert("team".into(), "blue".into());
    let r = reach(&custom, &[set("team", "red")]);
    assert_eq!(r.by, Nobody);
    assert_eq!(reach(&custom, &[]).by, TokenHolder);
}

#[test]
fn the_issuer_slug_is_read_on_the_same_host_only() {
    assert_eq!(issuer_slug(ISS, OTHER_ISS), Some("acme-other"));
    assert_eq!(issuer_slug(ISS, ISS), Some("acme"));
    let elsewhere = OTHER_ISS.replace("localhost:8443", "evil.example");
    assert_eq!(issuer_slug(ISS, &elsewhere), None);
    assert_eq!(issuer_slug(ISS, &format!("{ISS}/")), None);
    assert_eq!(
        issuer_slug(ISS, &OTHER_ISS.replace("acme-other", "a/b")),
        None
    );
}
