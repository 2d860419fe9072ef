//! The probe: hostile and edge-case tokens against a live relying party, and a report of every
//! one it wrongly accepts.
//!
//! A run sends, in order: a genuine **baseline** (if it is refused, the run stops: the relying
//! party is not configured for this issuer, and every other verdict would be noise); the
//! **catalogue**; the **policy-boundary cases** generated from what the relying party declares
//! (audiences, `sub` patterns, claim conditions, issuer, leeway); any **recipes**; and, when
//! asked, **generated tokens** (`fuzz`), each judged by the reference validator and every
//! disagreement shrunk to a minimal difference. Each token is minted just before it is sent.
//!
//! Modules: [`target`] (where the relying party is, placeholders), [`send`] (one token there
//! and back, bounded), [`report`] (rows, findings, JUnit), `fuzz` (the generative phase).

mod fuzz;
mod options;
pub mod report;
mod screen;
pub mod send;
mod shared;
pub mod target;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

pub use fuzz::FuzzOptions;
pub use options::{BASELINE_REFUSED, MAX_CONCURRENCY, ProbeOptions};
pub use report::{
    Finding, FindingKind, FuzzReport, ProbeReport, ProbeRow, Severity, Summary, Verdict, xml_escape,
};
pub use screen::{
    FuzzFigures, ScreenFinding, ScreenReport, ScreenRequest, ScreenRow, ScreenSummary,
    screen_report,
};
pub use send::{Answer, Observed};
use shared::Shared;
pub use shared::{Progress, expected_outcome, judge};
pub use target::{Target, Vars, fill, fill_template, parse_range, split_command};

use crate::error::{Error, Result};
use crate::hostile::boundary::boundary_cases;
use crate::hostile::{CATALOGUE, Edit, Expected, Outcome};
use crate::issuer::Issuer;
use crate::token::StepRequest;
use crate::validate::{Policy, Test};

/// What decides a case's expected outcome.
#[derive(Debug, Clone, Copy)]
enum Judge {
    Fixed(Outcome),
    Validator,
}

/// One token to send, before it is made.
struct Job {
    name: String,
    family: String,
    kind: &'static str,
    reference: String,
    judge: Judge,
    severity: Severity,
    /// A catalogue case, or edits.
    case: Option<&'static str>,
    edits: Vec<Edit>,
    skipped: bool,
}

fn family_name(f: crate::hostile::Family) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Sets the step values the policy pins and the request leaves open, so the baseline satisfies
/// the declared policy.
fn pin_step(step: &mut StepRequest, policy: &Policy, default_audience: &str) {
    for aud in &policy.audiences {
        if aud != default_audience && !step.audiences.contains(aud) {
            step.audiences.push(aud.clone());
        }
    }
    for cond in &policy.conditions {
        let value = match &cond.test {
            Test::Equals(v) => v.clone(),
            Test::OneOf(vs) => match vs.first() {
                Some(v) => v.clone(),
                None => continue,
            },
            // A pattern: the shortest plain value it takes (`release/*` gives `release/1`).
            Test::Like(p) => Value::from(p.replace(['*', '?'], "1")),
        };
        let text = value.as_str().map(str::to_string);
        match (cond.claim.as_str(), text) {
            ("branchName", Some(t)) if step.branch.is_none() => step.branch = Some(t),
            ("repositoryUuid", Some(t)) if step.repository_uuid.is_none() => {
                step.repository_uuid = Some(t)
            }
            ("deploymentEnvironmentUuid", Some(t))
                if step.deployment_environment_uuid.is_none() =>
            {
                step.deployment_environment_uuid = Some(t)
            }
            ("branchName" | "repositoryUuid" | "deploymentEnvironmentUuid", _) => {}
            (name, _) if !step.claims.contains_key(name) && !is_registered(name) => {
                step.claims.insert(name.to_string(), value);
            }
            _ => {}
        }
    }
    // A `sub` pattern naming the repository (and environment) in braces: `{REPO}:{ENV}:*`.
    if let Some(p) = policy.sub_like.first() {
        let segs: Vec<&str> = p.split(':').collect();
        let uuid = |s: &str| {
            (s.starts_with('{') && s.ends_with('}') && !s.contains(['*', '?']))
                .then(|| s.to_string())
        };
        if step.repository_uuid.is_none()
            && let Some(r) = segs.first().and_then(|s| uuid(s))
        {
            step.repository_uuid = Some(r);
        }
        if segs.len() == 3
            && step.deployment_environment_uuid.is_none()
            && let Some(e) = uuid(segs[1])
        {
            step.deployment_environment_uuid = Some(e);
        }
    }
}

fn is_registered(name: &str) -> bool {
    matches!(
        name,
        "iss"
            | "aud"
            | "sub"
            | "exp"
            | "iat"
            | "nbf"
            | "workspaceUuid"
            | "pipelineUuid"
            | "stepUuid"
    )
}

fn selected(job_name: &str, family: &str, list: &[String]) -> bool {
    list.iter().any(|o| o == job_name || o == family)
}

/// Runs the probe. `progress` is called as tokens are answered.
pub async fn run(
    issuer: Arc<Issuer>,
    options: ProbeOptions,
    progress: impl Fn(&Progress) + Send + Sync + 'static,
) -> Result<ProbeReport> {
    if options.concurrency == 0 || options.concurrency > MAX_CONCURRENCY {
        return Err(Error::invalid(
            "concurrency",
            format!("must be 1-{MAX_CONCURRENCY}"),
        ));
    }
    let ws = issuer.workspace_or_first(options.step.workspace.as_deref())?;
    let slug = ws.workspace.slug.clone();
    let policy = options
        .policy
        .clone()
        .unwrap_or_else(|| ws.default_policy());
    let default_audience = ws.workspace.default_audience();
    let mut step = options.step.clone();
    step.workspace = Some(slug.clone());
    pin_step(&mut step, &policy, &default_audience);
    step.validate()?;

    let data = issuer.data_dir();
    let (ca_path, bundle_path) = (data.ca_cert(), data.ca_bundle());
    let http = match &options.target {
        Target::Http { ca, .. } => {
            let bundle = std::fs::read(&bundle_path)
                .or_else(|_| std::fs::read(&ca_path))
                .unwrap_or_default();
            let mut pems: Vec<&[u8]> = vec![&bundle];
            pems.extend(ca.iter().map(Vec::as_slice));
            Some(crate::client::https_client(&pems, options.timeout)?)
        }
        Target::Exec { .. } => None,
    };
    let audience = policy
        .audiences
        .first()
        .cloned()
        .unwrap_or_else(|| default_audience.clone());
    let mut env: Vec<(String, String)> = vec![
        ("STEPMINT_ISSUER".into(), ws.issuer.clone()),
        ("STEPMINT_AUDIENCE".into(), audience.clone()),
    ];
    env.extend(
        crate::trust::env_vars(&ca_path, &bundle_path)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    let sender = send::Sender {
        target: options.target.clone(),
        http,
        timeout: options.timeout,
        vars: Vars {
            token: String::new(),
            issuer: ws.issuer.clone(),
            audience,
            ca: ca_path.display().to_string(),
        },
        env,
    };
    let shared = Arc::new(Shared {
        issuer: issuer.clone(),
        sender,
        slug,
        policy,
        step,
        concurrency: options.concurrency,
    });

    // The baseline, alone, first.
    let baseline_case =
        crate::hostile::find("valid").ok_or_else(|| Error::invalid("cases", "no baseline case"))?;
    let minted = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || shared.issuer.mint(&shared.step))
            .await
            .map_err(|e| Error::invalid("probe", e.to_string()))??
    };
    // Planned before anything is sent, so a bad case name is a usage error, not a run.
    let claims: Map<String, Value> = minted.claims.as_object().cloned().unwrap_or_default();
    let jobs = plan(&options, &shared.policy, &claims)?;
    let started = Instant::now();
    let answer = shared.sender.send(&minted.token).await;
    let baseline = ProbeRow {
        case: baseline_case.name.into(),
        family: "baseline".into(),
        expected: Outcome::Accept,
        kind: "accept".into(),
        verdict: match answer.observed {
            Observed::Accepted => Verdict::Pass,
            Observed::Refused => Verdict::Strict,
            Observed::Skipped => Verdict::Skip,
            _ => Verdict::Error,
        },
        severity: None,
        observed: answer.observed,
        reference: baseline_case.reference.into(),
        detail: answer.detail,
        ms: started.elapsed().as_millis() as u64,
        edits: Vec::new(),
    };
    if baseline.observed != Observed::Accepted {
        return Ok(ProbeReport {
            baseline,
            rows: Vec::new(),
            fuzz: None,
            summary: Summary::default(),
        });
    }
    let progress: Arc<dyn Fn(&Progress) + Send + Sync> = Arc::new(progress);
    let rows = send_jobs(&shared, jobs, &progress).await?;
    let fuzz = match &options.fuzz {
        Some(f) => Some(fuzz::run(shared.clone(), f, &claims, progress.as_ref()).await),
        None => None,
    };
    let summary = Summary::count(&rows, fuzz.as_ref());
    Ok(ProbeReport {
        baseline,
        rows,
        fuzz,
        summary,
    })
}

/// The fixed cases of a run, in order: catalogue, policy-boundary, recipes.
fn plan(options: &ProbeOptions, policy: &Policy, claims: &Map<String, Value>) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    if options.cases {
        for c in CATALOGUE.iter().filter(|c| c.name != "valid") {
            jobs.push(Job {
                name: c.name.into(),
                family: family_name(c.family),
                kind: c.expected.label(),
                reference: c.reference.into(),
                judge: match c.expected {
                    Expected::Policy { .. } => Judge::Validator,
                    e => Judge::Fixed(e.by_default()),
                },
                severity: Severity::of_family(c.family),
                case: Some(c.name),
                edits: Vec::new(),
                skipped: false,
            });
        }
        for b in boundary_cases(policy, claims) {
            jobs.push(Job {
                name: b.name,
                family: b.family,
                kind: "validator",
                reference: b.description,
                judge: Judge::Validator,
                severity: Severity::Policy,
                case: None,
                edits: b.edits,
                skipped: false,
            });
        }
    }
    for r in &options.recipes {
        jobs.push(Job {
            name: r.name.clone(),
            family: "recipe".into(),
            kind: if r.expected.is_some() {
                "recipe"
            } else {
                "validator"
            },
            reference: r.description.clone().unwrap_or_else(|| "recipe".into()),
            judge: r.expected.map_or(Judge::Validator, Judge::Fixed),
            severity: Severity::of_edits(&r.edits),
            case: None,
            edits: r.edits.clone(),
            skipped: false,
        });
    }
    for name in options.only.iter().chain(&options.skip) {
        let known = jobs.iter().any(|j| &j.name == name || &j.family == name)
            || crate::hostile::find(name).is_some();
        if !known {
            return Err(Error::invalid(
                "cases",
                format!(
                    "no case or family named `{name}` in this run (list them with `stepmint cases`; policy cases exist only for what the relying party declares)"
                ),
            ));
        }
    }
    if !options.only.is_empty() {
        jobs.retain(|j| selected(&j.name, &j.family, &options.only));
    }
    for j in &mut jobs {
        j.skipped = selected(&j.name, &j.family, &options.skip);
    }
    Ok(jobs)
}

async fn send_jobs(
    shared: &Arc<Shared>,
    jobs: Vec<Job>,
    progress: &Arc<dyn Fn(&Progress) + Send + Sync>,
) -> Result<Vec<ProbeRow>> {
    let total = jobs.len();
    let semaphore = Arc::new(Semaphore::new(shared.concurrency));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(total);
    for job in jobs {
        let (shared, semaphore, progress, done) = (
            shared.clone(),
            semaphore.clone(),
            progress.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let row = run_job(&shared, &semaphore, job).await;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            progress(&Progress {
                phase: "cases",
                done: n,
                total: Some(total),
                findings: 0,
                rate: 0.0,
            });
            row
        }));
    }
    let mut rows = Vec::with_capacity(total);
    for t in tasks {
        rows.push(
            t.await
                .map_err(|e| Error::invalid("probe", e.to_string()))?,
        );
    }
    Ok(rows)
}

async fn run_job(shared: &Arc<Shared>, semaphore: &Semaphore, job: Job) -> ProbeRow {
    let fallback = match job.judge {
        Judge::Fixed(o) => o,
        Judge::Validator => Outcome::Refuse,
    };
    let row = |expected: Outcome, answer: Answer, ms: u64| {
        let verdict = verdict(expected, &answer.observed);
        ProbeRow {
            case: job.name.clone(),
            family: job.family.clone(),
            expected,
            kind: job.kind.into(),
            severity: (verdict == Verdict::Fail).then_some(job.severity),
            verdict,
            observed: answer.observed,
            reference: job.reference.clone(),
            detail: answer.detail,
            ms,
            edits: job.edits.clone(),
        }
    };
    if job.skipped {
        return row(
            fallback,
            Answer {
                observed: Observed::Skipped,
                detail: "skipped (--skip)".into(),
            },
            0,
        );
    }
    let _permit = semaphore.acquire().await;
    // Fresh at send time: minted right before it goes out.
    let me = shared.clone();
    let (case, edits) = (job.case, job.edits.clone());
    let minted = tokio::task::spawn_blocking(move || {
        let req = StepRequest {
            case: case.map(str::to_string),
            edits,
            ..me.step.clone()
        };
        me.issuer.mint(&req).map(|m| {
            let accepts = me.judge(&m.token).accepted;
            (m.token, accepts)
        })
    })
    .await;
    match minted {
        Ok(Ok((token, validator_accepts))) => {
            let expected = match job.judge {
                Judge::Fixed(o) => o,
                Judge::Validator if validator_accepts => Outcome::Accept,
                Judge::Validator => Outcome::Refuse,
            };
            let started = Instant::now();
            let answer = shared.sender.send(&token).await;
            row(expected, answer, started.elapsed().as_millis() as u64)
        }
        Ok(Err(e)) => row(
            fallback,
            Answer {
                observed: Observed::Skipped,
                detail: format!("not available: {e}"),
            },
            0,
        ),
        Err(e) => row(
            fallback,
            Answer {
                observed: Observed::Skipped,
                detail: e.to_string(),
            },
            0,
        ),
    }
}

fn verdict(expected: Outcome, observed: &Observed) -> Verdict {
    match (expected, observed) {
        (_, Observed::Skipped) => Verdict::Skip,
        (_, Observed::Timeout | Observed::ConnectionError) => Verdict::Error,
        (Outcome::Refuse, Observed::Accepted) => Verdict::Fail,
        (Outcome::Accept, Observed::Refused) => Verdict::Strict,
        _ => Verdict::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(Outcome::Refuse, &Observed::Accepted), Verdict::Fail);
        assert_eq!(
            verdict(Outcome::Accept, &Observed::Refused),
            Verdict::Strict
        );
        assert_eq!(verdict(Outcome::Refuse, &Observed::Refused), Verdict::Pass);
        assert_eq!(verdict(Outcome::Refuse, &Observed::Timeout), Verdict::Error);
    }

    #[test]
    fn the_step_takes_what_the_policy_pins() {
        let repo = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
        let env = "{11111111-2f3a-4d4b-9a55-1b2c3d4e5f60}";
        let policy = Policy {
            audiences: vec!["ari".into(), "api://x".into()],
            sub_like: vec![format!("{repo}:{env}:*")],
            conditions: vec![
                crate::validate::Condition {
                    claim: "branchName".into(),
                    test: Test::Equals("release".into()),
                },
                crate::validate::Condition {
                    claim: "team".into(),
                    test: Test::Equals("blue".into()),
                },
            ],
            ..Policy::default()
        };
        let mut step = StepRequest::default();
        pin_step(&mut step, &policy, "ari");
        assert_eq!(step.audiences, ["api://x"]);
        let mut wild = StepRequest::default();
        let like = Policy {
            conditions: vec![crate::validate::Condition {
                claim: "branchName".into(),
                test: Test::Like("release/*".into()),
            }],
            ..Policy::default()
        };
        pin_step(&mut wild, &like, "ari");
        assert_eq!(wild.branch.as_deref(), Some("release/1"));
        assert!(like.conditions[0].holds(Some(&Value::from("release/1"))));
        assert_eq!(step.branch.as_deref(), Some("release"));
        assert_eq!(step.repository_uuid.as_deref(), Some(repo));
        assert_eq!(step.deployment_environment_uuid.as_deref(), Some(env));
        assert_eq!(step.claims["team"], "blue");
        // What the caller set wins.
        let mut step = StepRequest {
            branch: Some("main".into()),
            ..StepRequest::default()
        };
        pin_step(&mut step, &policy, "ari");
        assert_eq!(step.branch.as_deref(), Some("main"));
    }
}
