//! `stepmint probe` as a CI job reads who could exploit what it finds: a real HTTP relying party
//! that checks `branchName` only when it is present, and then only by prefix, fails the run
//! (exit 1) on the default cases alone; the JSON and JUnit say `branch_pusher` with the branch
//! an attacker would push (checked against git's ref-name rules), those rows sorted before
//! hygiene, and the text output names the branch too.

use serde_json::Value;
use stepmint::validate::Policy;

use crate::probe_reach::start_rp;
use crate::util;

#[test]
fn a_branch_checked_only_when_present_fails_the_run_and_names_the_branch_to_push() {
    let util::Served {
        dir,
        d,
        serve: _serve,
        issuer,
        ca,
        aud,
        runtime,
    } = util::served();
    let d = d.as_str();
    let relaxed = Policy {
        issuer: Some(issuer.clone()),
        audiences: vec![aud],
        ..Policy::default()
    };
    // `if "branchName" in claims and not claims["branchName"].startswith("main"): refuse`.
    let addr = runtime.block_on(start_rp(&issuer, &ca, relaxed, |c| {
        c.get("branchName")
            .is_none_or(|b| b.as_str().is_some_and(|b| b.starts_with("main")))
    }));
    let junit = dir.path().join("probe.xml");
    let url = format!("http://{addr}/");
    let args = ["probe", "--url", &url, "--claim", "branchName=main"];
    let out = util::run(
        &[
            &args[..],
            &[
                "--json",
                "--junit",
                junit.to_str().unwrap(),
                "--data-dir",
                d,
            ],
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a branch pusher could: {stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fails: Vec<&Value> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .collect();
    let pushers: Vec<&Value> = fails
        .iter()
        .copied()
        .filter(|r| r["exploitable_by"] == "branch_pusher")
        .collect();
    let names: Vec<&str> = pushers
        .iter()
        .map(|r| r["case"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"policy-claim-branchName-absent"),
        "caught without fuzzing: {names:?}"
    );
    // A tag's pipeline has no `branchName`; a prefix is passed by a branch the attacker names.
    let absent = pushers
        .iter()
        .find(|r| r["case"] == "policy-claim-branchName-absent")
        .unwrap();
    assert!(
        absent["exploit"].as_str().unwrap().contains("tag"),
        "{absent}"
    );
    let branches: Vec<&str> = pushers
        .iter()
        .filter_map(|r| r["attacker_branch"].as_str())
        .collect();
    assert!(!branches.is_empty(), "{names:?}");
    for b in &branches {
        assert!(b.starts_with("main") && *b != "main", "{b}");
        assert!(stepmint::refname::is_branch_name(b), "{b}");
    }
    for r in &pushers {
        assert_eq!(r["severity"], "policy", "{r}");
    }
    // Sorted: everyone someone could exploit before hygiene, the most people first.
    let order = [
        "anyone",
        "any_workspace",
        "same_workspace_repo",
        "branch_pusher",
        "token_holder",
        "nobody",
    ];
    let ranks: Vec<usize> = fails
        .iter()
        .map(|r| {
            order
                .iter()
                .position(|o| r["exploitable_by"] == *o)
                .unwrap()
        })
        .collect();
    assert!(ranks.is_sorted(), "{ranks:?}");
    let exploitable = fails
        .iter()
        .filter(|r| r["exploitable_by"] != "nobody")
        .count();
    assert_eq!(report["summary"]["exploitable"], exploitable);
    assert_eq!(
        report["summary"]["by_exploitable"]["branch_pusher"],
        pushers.len()
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!("failures=\"{exploitable}\"")),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<property name=\"exploitable_by\" value=\"branch_pusher\"/>")
            .count(),
        pushers.len()
    );
    for b in &branches {
        assert!(
            xml.contains(&format!(
                "<property name=\"attacker_branch\" value=\"{b}\"/>"
            )),
            "{b}: {xml}"
        );
    }

    // The text report names the branch as well.
    let out = util::run(&[&args[..], &["--data-dir", d]].concat());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("branch_pusher"), "{text}");
    assert!(text.contains(branches[0]), "{}: {text}", branches[0]);
}
