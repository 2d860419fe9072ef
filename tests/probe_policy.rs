//! The probe against relying parties that compare what they declare loosely: by prefix,
//! substring, list membership, case-insensitively, with an unanchored pattern, or with type
//! coercion, on `aud`, `sub`, a claim condition and `iss`. Each must be caught by the default
//! run (its policy-boundary cases) and by generated tokens alone (`--fuzz 2000 --no-catalogue
//! --seed 1`), every shrunk finding one member away from the genuine token; a strict relying
//! party raises no alarm in either mode.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use serde_json::Value;
use stepmint::hostile::ExploitableBy;
use stepmint::probe::{self, FindingKind, FuzzOptions, ProbeOptions, Target, Verdict};
use stepmint::validate::{self, Condition, Policy, RemoteKeys, Test, string_like};
use stepmint::{Clock, SystemClock};

use crate::util;

const AUDIENCE: &str = "api://deploy";
const BRANCH: &str = "main";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Aud,
    Sub,
    Branch,
    Iss,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    Strict,
    Prefix,
    Substring,
    Membership,
    CaseInsensitive,
    Unanchored,
    Coercion,
}

struct Rp {
    slot: Slot,
    compare: Compare,
    keys: RemoteKeys,
    /// The full declared policy, minus the slot this relying party compares itself.
    relaxed: Policy,
    /// The declared value of the slot (a pattern for `sub`).
    declared: String,
}

/// JavaScript's `String(v)`, as loose `==` compares.
fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(js_string).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

impl Rp {
    /// The comparison on one value (`aud` compares each element of an array).
    fn matches(&self, v: &Value) -> bool {
        let d = self.declared.as_str();
        let exact = |s: &str| match self.slot {
            Slot::Sub => string_like(d, s),
            _ => s == d,
        };
        // What a loose comparison holds on to: the pattern's literal start for `sub`.
        let lit = match self.slot {
            Slot::Sub => d.split(['*', '?']).next().unwrap_or(d),
            _ => d,
        };
        match (self.compare, v) {
            (Compare::Strict, Value::String(s)) => exact(s),
            (Compare::Prefix, Value::String(s)) => match self.slot {
                // `sub.startswith(repository)`: the pattern's first segment.
                Slot::Sub => s.starts_with(d.split(':').next().unwrap_or(d)),
                _ => s.starts_with(d),
            },
            (Compare::Substring, Value::String(s)) => s.contains(lit),
            // Python's `declared in value`: a substring of a string, an element of a list.
            (Compare::Membership, Value::String(s)) => s.contains(lit),
            (Compare::Membership, Value::Array(a)) => {
                a.iter().any(|e| e.as_str().is_some_and(exact))
            }
            (Compare::CaseInsensitive, Value::String(s)) => match self.slot {
                Slot::Sub => string_like(&d.to_lowercase(), &s.to_lowercase()),
                _ => s.to_lowercase() == d.to_lowercase(),
            },
            (Compare::Unanchored, Value::String(s)) => string_like(&format!("*{d}*"), s),
            (Compare::Coercion, v) => exact(&js_string(v)),
            _ => false,
        }
    }

    async fn accepts(&self, token: &str) -> bool {
        let kid = stepmint::decode_unverified(token)
            .ok()
            .and_then(|d| d.header["kid"].as_str().map(str::to_string));
        let Ok(keys) = self.keys.keys_for(kid.as_deref()).await else {
            return false;
        };
        let report = validate::verify(token, &keys, &self.relaxed, SystemClock.now());
        // A coercing relying party does not type-check the claim it coerces (JavaScript's `==`
        // on `iss` or `sub`): the validator's type error for that claim alone is forgiven.
        let coerced = match self.slot {
            Slot::Sub => "`sub` is not a string",
            Slot::Iss => "`iss` is not a string",
            _ => "",
        };
        let forgiven = |c: &validate::Check| {
            self.compare == Compare::Coercion && c.name == "claims" && c.detail == coerced
        };
        let signed = report
            .check("signature")
            .is_some_and(|c| c.status == validate::Status::Pass);
        if !signed
            || report
                .checks
                .iter()
                .any(|c| c.status == validate::Status::Fail && !forgiven(c))
        {
            return false;
        }
        let claims = report.claims.unwrap_or(Value::Null);
        let v = &claims[match self.slot {
            Slot::Aud => "aud",
            Slot::Sub => "sub",
            Slot::Branch => "branchName",
            Slot::Iss => "iss",
        }];
        match (self.slot, v) {
            (Slot::Aud, Value::Array(a)) if self.compare != Compare::Coercion => {
                a.iter().any(|e| self.matches(e))
            }
            (Slot::Aud, Value::Array(a)) => self.matches(v) || a.iter().any(|e| self.matches(e)),
            _ => self.matches(v),
        }
    }
}

async fn handle(State(rp): State<Arc<Rp>>, headers: HeaderMap) -> StatusCode {
    if rp.accepts(&util::bearer(&headers)).await {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// The policy every relying party here declares.
fn declared(issuer: &str, repo: &str) -> Policy {
    Policy {
        issuer: Some(issuer.into()),
        audiences: vec![AUDIENCE.into()],
        sub_like: vec![format!("{repo}:*")],
        conditions: vec![Condition {
            claim: "branchName".into(),
            test: Test::Like(BRANCH.into()),
        }],
        ..Policy::default()
    }
}

async fn start_rp(slot: Slot, compare: Compare, policy: &Policy, ca: &[u8]) -> SocketAddr {
    let issuer = policy.issuer.clone().unwrap_or_default();
    let mut relaxed = policy.clone();
    let declared = match slot {
        Slot::Aud => {
            relaxed.audiences.clear();
            AUDIENCE.to_string()
        }
        Slot::Sub => {
            relaxed.sub_like.clear();
            policy.sub_like[0].clone()
        }
        Slot::Branch => {
            relaxed.conditions.clear();
            BRANCH.to_string()
        }
        Slot::Iss => {
            relaxed.issuer = None;
            issuer.clone()
        }
    };
    let rp = Arc::new(Rp {
        slot,
        compare,
        keys: RemoteKeys::new(&issuer, ca).unwrap(),
        relaxed,
        declared,
    });
    let app = Router::new().fallback(any(handle)).with_state(rp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn options(addr: SocketAddr, policy: &Policy) -> ProbeOptions {
    let mut o = ProbeOptions::new(
        Target::http(
            format!("http://{addr}/check"),
            "GET",
            &[],
            None,
            200..=299,
            Vec::new(),
        )
        .unwrap(),
    );
    o.policy = Some(policy.clone());
    o.timeout = Duration::from_secs(20);
    o.concurrency = 8;
    o
}

/// Every (slot, comparison) pair that differs from the strict comparison on some value.
fn flaws() -> Vec<(Slot, Compare)> {
    let mut out = Vec::new();
    for slot in [Slot::Aud, Slot::Sub, Slot::Branch, Slot::Iss] {
        for compare in [
            Compare::Prefix,
            Compare::Substring,
            Compare::Membership,
            Compare::CaseInsensitive,
            Compare::Unanchored,
            Compare::Coercion,
        ] {
            // `aud == expected || aud.includes(expected)` is exact on strings and arrays.
            if (slot, compare) != (Slot::Aud, Compare::Coercion) {
                out.push((slot, compare));
            }
        }
    }
    out
}

fn family(slot: Slot) -> &'static str {
    match slot {
        Slot::Aud => "policy:aud",
        Slot::Sub => "policy:sub",
        Slot::Branch => "policy:claim:branchName",
        Slot::Iss => "policy:iss",
    }
}

/// Who could exploit the loosest token a flawed comparison takes: a branch name is anyone's who
/// can push one (unless only an array passes); a custom audience is the trusted pipeline's to ask
/// for; an issuer or `sub` that only resembles the declared one is a shape Bitbucket never
/// issues.
fn reach(slot: Slot, compare: Compare) -> ExploitableBy {
    match (slot, compare) {
        (Slot::Branch, Compare::Coercion) => ExploitableBy::Nobody,
        (Slot::Branch, _) => ExploitableBy::BranchPusher,
        (Slot::Aud, _) => ExploitableBy::TokenHolder,
        (Slot::Iss | Slot::Sub, _) => ExploitableBy::Nobody,
    }
}

fn member(slot: Slot) -> &'static str {
    match slot {
        Slot::Aud => "claims.aud",
        Slot::Sub => "claims.sub",
        Slot::Branch => "claims.branchName",
        Slot::Iss => "claims.iss",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn loose_comparisons_are_caught_by_policy_cases_and_by_fuzzing() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.issuer().workspace("acme").unwrap();
    let repo = stepmint::braced(&ws.workspace.default_repository_uuid);
    let policy = declared(&ws.issuer, &repo);
    let ca = util::ca_pem(&instance);

    let mut missed = Vec::new();
    for (slot, compare) in std::iter::once((Slot::Aud, Compare::Strict)).chain(flaws()) {
        let addr = start_rp(slot, compare, &policy, &ca).await;
        let strict = compare == Compare::Strict;

        // The default run: catalogue, then policy-boundary cases.
        let report = probe::run(instance.issuer().clone(), options(addr, &policy), |_| {})
            .await
            .unwrap();
        assert!(
            report.tested(),
            "{slot:?}/{compare:?}: {}",
            report.baseline.detail
        );
        let failed: Vec<&probe::ProbeRow> = report
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect();
        assert_eq!(report.summary.errors, 0, "{slot:?}/{compare:?}");
        assert_eq!(report.summary.strict, 0, "{slot:?}/{compare:?}");
        if strict {
            assert!(
                failed.is_empty(),
                "strict: {:?}",
                failed.iter().map(|r| &r.case).collect::<Vec<_>>()
            );
        } else {
            // Only this slot's loose comparison lets tokens through, and its family says so.
            let caught: Vec<&&probe::ProbeRow> =
                failed.iter().filter(|r| r.family == family(slot)).collect();
            if caught.is_empty() {
                missed.push(format!("{slot:?}/{compare:?}: no policy case caught it"));
            }
            let worst = caught.iter().filter_map(|r| r.exploitable_by).min();
            if !caught.is_empty() {
                assert_eq!(
                    worst,
                    Some(reach(slot, compare)),
                    "{slot:?}/{compare:?}: {:?}",
                    caught
                        .iter()
                        .map(|r| (&r.case, r.exploitable_by))
                        .collect::<Vec<_>>()
                );
            }
            for r in &failed {
                assert!(
                    r.family == family(slot) || !r.family.starts_with("policy:"),
                    "{slot:?}/{compare:?}: {} ({})",
                    r.case,
                    r.family
                );
            }
        }

        // Generated tokens alone.
        let mut fuzz = options(addr, &policy);
        fuzz.cases = false;
        fuzz.fuzz = Some(FuzzOptions {
            count: Some(2000),
            seconds: None,
            seed: 1,
        });
        let report = probe::run(instance.issuer().clone(), fuzz, |_| {})
            .await
            .unwrap();
        let f = report.fuzz.as_ref().unwrap();
        assert_eq!(f.sent, 2000);
        assert!(report.rows.is_empty());
        assert!(
            f.false_refusals.is_empty(),
            "{slot:?}/{compare:?}: {:?}",
            f.false_refusals
        );
        if strict {
            assert!(f.findings.is_empty(), "strict: {:?}", f.findings);
            assert!(report.ok());
            continue;
        }
        if f.findings.is_empty() {
            missed.push(format!("{slot:?}/{compare:?}: no fuzz finding"));
            continue;
        }
        let exploitable = f.findings.iter().any(|x| x.exploitable_by.is_exploitable());
        assert_eq!(report.ok(), !exploitable, "{slot:?}/{compare:?}");
        let worst = f.findings.iter().map(|x| x.exploitable_by).min();
        assert_eq!(
            worst,
            Some(reach(slot, compare)),
            "{slot:?}/{compare:?}: fuzz findings {:#?}",
            f.findings
        );
        for finding in &f.findings {
            assert_eq!(finding.kind, FindingKind::Accepted);
            let members: Vec<String> = finding.edits.iter().map(|e| e.member()).collect();
            assert_eq!(
                members,
                [member(slot)],
                "{slot:?}/{compare:?}: {} shrinks to one member: {:?}",
                finding.id,
                finding.difference
            );
            assert_eq!(
                finding.severity,
                probe::Severity::of(finding.exploitable_by)
            );
            // The probe's whole step context, then the edits (a reproduce line re-sent to
            // the same relying party gets the same answer: tests/probe_reproduce.rs).
            assert!(
                finding
                    .reproduce
                    .starts_with("stepmint mint --workspace acme ")
                    && finding.reproduce.contains(" --edits "),
                "{}",
                finding.reproduce
            );
        }
        // Findings with the same minimal difference are reported once.
        let mut diffs: Vec<String> = f
            .findings
            .iter()
            .map(|x| serde_json::to_string(&x.edits).unwrap())
            .collect();
        diffs.sort();
        diffs.dedup();
        assert_eq!(
            diffs.len(),
            f.findings.len(),
            "{slot:?}/{compare:?}: {:#?}",
            f.findings
        );
    }
    assert!(missed.is_empty(), "{missed:#?}");
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_seed_gives_the_same_report() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let ws = instance.issuer().workspace("acme").unwrap();
    let policy = declared(
        &ws.issuer,
        &stepmint::braced(&ws.workspace.default_repository_uuid),
    );
    let addr = start_rp(
        Slot::Branch,
        Compare::Prefix,
        &policy,
        &util::ca_pem(&instance),
    )
    .await;
    let run = |seed| {
        let mut o = options(addr, &policy);
        o.cases = false;
        o.fuzz = Some(FuzzOptions {
            count: Some(300),
            seconds: None,
            seed,
        });
        probe::run(instance.issuer().clone(), o, |_| {})
    };
    let summary = |r: &probe::ProbeReport| {
        r.fuzz
            .as_ref()
            .unwrap()
            .findings
            .iter()
            .map(|f| (f.difference.clone(), f.occurrences, f.first_seen))
            .collect::<Vec<_>>()
    };
    let a = summary(&run(7).await.unwrap());
    let b = summary(&run(7).await.unwrap());
    assert!(!a.is_empty());
    assert_eq!(a, b);
    instance.stop().await;
}
