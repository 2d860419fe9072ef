//! The probe against relying parties written for these tests: a strict one (the reference
//! validator with discovery, as a real service would run it) comes out clean, and each one with
//! a single deliberate flaw is caught by exactly the cases that flaw lets through. Also: a
//! relying party that hangs, a refused baseline, the CLI with JUnit output, and a command RP.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use serde_json::{Value, json};
use stepmint::probe::{self, Observed, ProbeOptions, Target, Verdict};
use stepmint::validate::{self, KeySet, Policy, RemoteKeys, Status};
use stepmint::{Clock, KeyAlg, KeyState, SystemClock};

use crate::util;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Flaw {
    Strict,
    IgnoresAud,
    IgnoresExp,
    AcceptsAlgNone,
    AcceptsHs256PublicKey,
    FollowsJku,
    IgnoresNbf,
    TrustsEmbeddedJwk,
    IssPrefix,
    HangsOnAlgNone,
}

struct Rp {
    flaw: Flaw,
    issuer: String,
    keys: RemoteKeys,
    policy: Policy,
    http: reqwest::Client,
}

impl Rp {
    async fn accepts(&self, token: &str) -> bool {
        let header = stepmint::decode_unverified(token)
            .map(|d| d.header)
            .unwrap_or(Value::Null);
        let alg = header["alg"].as_str().unwrap_or_default().to_string();
        let none = alg.eq_ignore_ascii_case("none");
        match self.flaw {
            Flaw::AcceptsAlgNone if none => return true,
            Flaw::HangsOnAlgNone if none => std::future::pending::<()>().await,
            Flaw::AcceptsHs256PublicKey if alg == "HS256" => {
                return self.hmac_with_public_pem(token).await;
            }
            _ => {}
        }
        let mut policy = self.policy.clone();
        let keys = match self.flaw {
            Flaw::FollowsJku if header["jku"].is_string() => {
                policy.forbidden_headers.retain(|h| h != "jku");
                let jwks: Value = util::get_json(&self.http, header["jku"].as_str().unwrap()).await;
                KeySet::from_value(jwks).unwrap()
            }
            Flaw::TrustsEmbeddedJwk if header["jwk"].is_object() => {
                policy.forbidden_headers.retain(|h| h != "jwk");
                let mut jwk = header["jwk"].clone();
                jwk["kid"] = header["kid"].clone();
                KeySet::from_value(json!({ "keys": [jwk] })).unwrap()
            }
            _ => self.keys.keys_for(header["kid"].as_str()).await.unwrap(),
        };
        let report = validate::verify(token, &keys, &policy, SystemClock.now());
        let claims = report.claims.clone().unwrap_or(Value::Null);
        let forgiven = |name: &str| match (self.flaw, name) {
            (Flaw::IgnoresAud, "aud") | (Flaw::IgnoresExp, "exp") | (Flaw::IgnoresNbf, "nbf") => {
                true
            }
            (Flaw::IssPrefix, "iss") => claims["iss"]
                .as_str()
                .is_some_and(|i| i.starts_with(&self.issuer)),
            _ => false,
        };
        let signed = report
            .check("signature")
            .is_some_and(|c| c.status == Status::Pass);
        signed
            && report
                .checks
                .iter()
                .all(|c| c.status != Status::Fail || forgiven(&c.name))
    }

    async fn hmac_with_public_pem(&self, token: &str) -> bool {
        let jwks: Value = util::get_json(&self.http, format!("{}/keys.json", self.issuer)).await;
        let jwk = &jwks["keys"][0];
        let n = stepmint::b64url_decode(jwk["n"].as_str().unwrap()).unwrap();
        let e = stepmint::b64url_decode(jwk["e"].as_str().unwrap()).unwrap();
        let der = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(
            &aws_lc_rs::rsa::PublicKeyComponents { n: &n, e: &e },
        )
        .unwrap();
        let key = aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            crate::util::pem_public(der.as_ref()).as_bytes(),
        );
        let Some((input, sig)) = token.rsplit_once('.') else {
            return false;
        };
        let Some(sig) = stepmint::b64url_decode(sig) else {
            return false;
        };
        aws_lc_rs::hmac::verify(&key, input.as_bytes(), &sig).is_ok()
    }
}

async fn handle(State(rp): State<Arc<Rp>>, headers: HeaderMap) -> StatusCode {
    if rp.accepts(&util::bearer(&headers)).await {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

async fn start_rp(flaw: Flaw, issuer: &str, audience: &str, ca: &[u8]) -> SocketAddr {
    let http = util::client_builder(ca).build().unwrap();
    let rp = Arc::new(Rp {
        flaw,
        issuer: issuer.to_string(),
        keys: RemoteKeys::new(issuer, ca).unwrap(),
        policy: Policy::for_issuer(issuer, audience),
        http,
    });
    let app = Router::new().fallback(any(handle)).with_state(rp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn options(addr: SocketAddr, timeout: Duration) -> ProbeOptions {
    let mut o = ProbeOptions::new(Target::Http {
        url: format!("http://{addr}/protected"),
        method: "GET".into(),
        headers: vec![("Authorization".into(), "Bearer {token}".into())],
        body: None,
        accept: 200..=299,
        ca: Vec::new(),
    });
    o.timeout = timeout;
    o.concurrency = 8;
    o
}

/// Whether a row is a catalogue case (not generated from the declared policy).
fn catalogue(r: &probe::ProbeRow) -> bool {
    !r.family.starts_with("policy:")
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strict_relying_party_is_clean_and_each_flaw_is_caught_exactly() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    // Publish an EC key so the psychic-signature case is sent, not skipped.
    instance
        .issuer()
        .update_keys("acme", |ring, now| {
            ring.add(KeyAlg::Es256, KeyState::Published, now)
        })
        .unwrap();
    let ws = instance.workspaces()[0].clone();
    let audience = instance
        .issuer()
        .workspace("acme")
        .unwrap()
        .workspace
        .default_audience();
    let ca = util::ca_pem(&instance);
    let expectations: Vec<(Flaw, BTreeSet<String>)> = vec![
        (Flaw::Strict, set(&[])),
        (Flaw::IgnoresAud, set(&["aud-wrong", "aud-empty-string"])),
        (Flaw::IgnoresExp, set(&["expired"])),
        (
            Flaw::AcceptsAlgNone,
            set(&[
                "alg-none",
                "alg-none-capitalized",
                "alg-none-upper",
                "alg-none-mixed",
                "duplicate-alg",
            ]),
        ),
        (Flaw::AcceptsHs256PublicKey, set(&["hs256-public-key-pem"])),
        (Flaw::FollowsJku, set(&["jku-attacker"])),
        (Flaw::IgnoresNbf, set(&["nbf-future"])),
        (Flaw::TrustsEmbeddedJwk, set(&["embedded-jwk"])),
        (
            Flaw::IssPrefix,
            set(&["iss-trailing-slash", "iss-nul-suffix"]),
        ),
    ];
    for (flaw, expected) in expectations {
        let addr = start_rp(flaw, &ws.issuer, &audience, &ca).await;
        let report = probe::run(
            instance.issuer().clone(),
            options(addr, Duration::from_secs(20)),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(
            report.baseline.observed,
            Observed::Accepted,
            "{flaw:?}: {}",
            report.baseline.detail
        );
        let caught: BTreeSet<String> = report
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail && catalogue(r))
            .map(|r| r.case.clone())
            .collect();
        assert_eq!(caught, expected, "{flaw:?}");
        if flaw == Flaw::Strict {
            let policy_fails: Vec<&String> = report
                .rows
                .iter()
                .filter(|r| r.verdict == Verdict::Fail)
                .map(|r| &r.case)
                .collect();
            assert!(policy_fails.is_empty(), "{policy_fails:?}");
        }
        assert_eq!(
            report.summary.errors,
            0,
            "{flaw:?}: {:?}",
            report
                .rows
                .iter()
                .filter(|r| r.verdict == Verdict::Error)
                .collect::<Vec<_>>()
        );
        assert_eq!(
            report.summary.strict,
            0,
            "{flaw:?}: {:?}",
            report
                .rows
                .iter()
                .filter(|r| r.verdict == Verdict::Strict)
                .map(|r| &r.case)
                .collect::<Vec<_>>()
        );
        assert_eq!(
            report.rows.iter().filter(|r| catalogue(r)).count(),
            hostile_count()
        );
        // Each caught case says who could exploit it, as the catalogue does; a run fails only
        // when someone could (a flaw only hygiene shows passes: nobody can get such a token).
        let exploitable = report.rows.iter().any(|r| {
            r.verdict == Verdict::Fail && r.exploitable_by.is_some_and(|b| b.is_exploitable())
        });
        for r in report
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail && catalogue(r))
        {
            let case = stepmint::hostile::find(&r.case).unwrap();
            assert_eq!(r.exploitable_by, Some(case.reach().0), "{}", r.case);
        }
        assert_eq!(report.ok(), !exploitable, "{flaw:?}");
        let hygiene_only = matches!(flaw, Flaw::IgnoresNbf | Flaw::IssPrefix);
        assert_eq!(report.ok(), expected.is_empty() || hygiene_only, "{flaw:?}");
        if flaw == Flaw::FollowsJku {
            // The relying party really fetched the attacker's JWKS from this issuer.
            let fetched = instance
                .log()
                .since(0, usize::MAX, false)
                .iter()
                .any(|r| r.endpoint == stepmint::http::Endpoint::Attacker);
            assert!(fetched, "the jku fetch shows in the request log");
        }
    }
    instance.stop().await;
}

fn hostile_count() -> usize {
    stepmint::hostile::CATALOGUE.len() - 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_relying_party_times_out_per_case() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &[]).await;
    let ws = instance.workspaces()[0].clone();
    let audience = instance
        .issuer()
        .workspace(&ws.slug)
        .unwrap()
        .workspace
        .default_audience();
    let addr = start_rp(
        Flaw::HangsOnAlgNone,
        &ws.issuer,
        &audience,
        &util::ca_pem(&instance),
    )
    .await;
    let mut opts = options(addr, Duration::from_secs(1));
    opts.only = ["alg-none", "alg-none-upper", "expired", "duplicate-alg"]
        .map(String::from)
        .to_vec();
    let report = probe::run(instance.issuer().clone(), opts, |_| {})
        .await
        .unwrap();
    let by: std::collections::HashMap<&str, &Observed> = report
        .rows
        .iter()
        .map(|r| (r.case.as_str(), &r.observed))
        .collect();
    assert_eq!(by["alg-none"], &Observed::Timeout);
    assert_eq!(by["alg-none-upper"], &Observed::Timeout);
    assert_eq!(
        by["duplicate-alg"],
        &Observed::Timeout,
        "last-wins header parsing sees none"
    );
    assert_eq!(by["expired"], &Observed::Refused);
    assert_eq!(report.summary.errors, 3);
    assert!(report.ok(), "timeouts are errors, not acceptances");
    instance.stop().await;
}

#[test]
fn cli_reports_a_refused_baseline_and_writes_junit_for_findings() {
    let util::Served {
        dir,
        d,
        serve: _serve,
        issuer,
        ca,
        aud: audience,
        runtime,
    } = util::served();
    let d = d.as_str();

    // A relying party that expects another audience refuses the baseline: the run stops.
    let wrong = runtime.block_on(start_rp(Flaw::Strict, &issuer, "someone-else", &ca));
    let out = util::run(&[
        "probe",
        "--url",
        &format!("http://{wrong}/"),
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(3), "could not be tested");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not be tested") && err.contains("HTTP 401"),
        "{err}"
    );

    // A flawed one: findings in the table, the exit code, and a JUnit file that parses.
    let flawed = runtime.block_on(start_rp(Flaw::IgnoresExp, &issuer, &audience, &ca));
    let junit = dir.path().join("probe.xml");
    let out = util::run(&[
        "probe",
        "--url",
        &format!("http://{flawed}/"),
        "--junit",
        junit.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("expired") && l.contains("FAIL")),
        "{table}"
    );
    assert!(table.contains("2 hostile accepted"), "{table}");
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let parsed = std::process::Command::new(py)
        .args(["-c", "import sys, json, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot(); print(json.dumps({'tests': int(s.get('tests')), 'failures': int(s.get('failures')), 'failed': [c.get('name') for c in s.iter('testcase') if c.find('failure') is not None]}))", junit.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let v: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let rows = table.lines().filter(|l| l.starts_with("policy-")).count();
    assert!(rows > 0, "policy-boundary cases run by default: {table}");
    assert_eq!(v["tests"], hostile_count() + rows + 1);
    assert_eq!(v["failures"], 2);
    assert_eq!(
        v["failed"],
        json!(["expired", "policy-time-exp-beyond-leeway"]),
        "the catalogue's expired case, and the generated one past the declared leeway"
    );

    // JSON output, and only the chosen cases.
    let out = util::run(&[
        "probe",
        "--url",
        &format!("http://{flawed}/"),
        "--cases",
        "expired,alg-none",
        "--json",
        "--data-dir",
        d,
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rows"].as_array().unwrap().len(), 2);
    assert_eq!(report["summary"]["failed"], 1);
    let bad = util::run(&[
        "probe",
        "--url",
        "http://127.0.0.1:9/",
        "--cases",
        "no-such-case",
        "--data-dir",
        d,
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn cli_probes_a_command_relying_party() {
    let util::Served {
        dir,
        d,
        serve,
        issuer,
        aud: audience,
        ..
    } = util::served();
    let d = d.as_str();
    let ca = serve.info["ca"].as_str().unwrap().to_string();
    let bin = util::bin();
    // Stepmint's own validator as the relying party: strict, so clean.
    let exec = format!(
        "{} verify {{token}} --issuer {issuer} --audience {audience} --ca {ca} --data-dir {d}",
        bin.display()
    );
    let out = util::run(&["probe", "--exec", &exec, "--data-dir", d]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table.contains("0 hostile accepted"), "{table}");

    // PyJWT, as examples/pyjwt/verify.py uses it, with the findings we know it has.
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pyjwt/verify.py");
    let exec = format!("{py} {script} --issuer {issuer} --audience {audience} --ca {ca} {{token}}");
    let junit = dir.path().join("pyjwt.xml");
    let junit_arg = junit.to_str().unwrap();
    let out = util::run(&[
        "probe",
        "--exec",
        &exec,
        "--json",
        "--junit",
        junit_arg,
        "--data-dir",
        d,
    ]);
    // Its gaps are hygiene: nobody can get such a token signed, so the run does not fail.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["exploitable"], 0);
    assert_eq!(report["summary"]["hygiene"], 3);
    assert_eq!(report["summary"]["by_exploitable"]["nobody"], 3);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert_eq!(
        xml.matches("<property name=\"exploitable_by\" value=\"nobody\"/>")
            .count(),
        3
    );
    assert_eq!(xml.matches("hygiene: accepted").count(), 3);
    let failed: BTreeSet<String> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .map(|r| r["case"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        failed,
        set(&["exp-string", "padded-base64url", "duplicate-aud-good-last"]),
        "PyJWT's known gaps"
    );
    for r in report["rows"].as_array().unwrap() {
        if r["verdict"] == "fail" {
            assert_eq!(r["exploitable_by"], "nobody", "{r}");
            assert_eq!(r["severity"], "hygiene", "{r}");
        }
    }
}

/// The process's state letter from /proc, or None once it is gone.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[test]
fn a_command_that_times_out_takes_what_it_started_with_it() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // A wrapper that starts a long-lived child and waits: killing only the wrapper would leave
    // the child running after the probe gives up on it.
    let pid_file = dir.path().join("child.pid");
    let script = dir.path().join("rp.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 300 &\necho $! > {}\nwait\n",
            pid_file.display()
        ),
    )
    .unwrap();
    let exec = format!("sh {} {{token}}", script.display());
    let out = util::run(&["probe", "--exec", &exec, "--timeout", "1", "--data-dir", d]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("no exit within"), "{text}");
    let child: u32 = std::fs::read_to_string(&pid_file)
        .expect("the wrapper ran")
        .trim()
        .parse()
        .unwrap();
    // SIGKILL is delivered at once but the kernel finishes the process asynchronously: wait
    // (bounded) for it to be a zombie or gone; a survivor stays 'S' until the deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut state = process_state(child);
    while matches!(state, Some(s) if s != 'Z') && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        state = process_state(child);
    }
    assert!(
        matches!(state, None | Some('Z')),
        "the wrapper's child {child} outlived the timeout (state {state:?})"
    );
}
