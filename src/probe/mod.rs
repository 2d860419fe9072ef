//! The probe: hostile and edge-case tokens against a live relying party, and a report of every
//! one it wrongly accepts.
//!
//! A run sends, in order: a genuine **baseline** (if it is refused, the run stops: the relying
//! party is not configured for this issuer, and every other verdict would be noise); the
//! **catalogue**; the **policy-boundary cases** generated from what the relying party declares
//! (audiences, `sub` patterns, claim conditions, issuer, leeway); any **recipes**; and, when
//! asked, **generated tokens** (`fuzz`), each judged by the reference validator and every
//! disagreement shrunk to a minimal difference. Each token is minted just before it is sent.
//! Every wrongly accepted token says who could exploit it (`exploitable_by`): reports sort by
//! it, severities derive from it, and only tokens someone could exploit fail a run.
//!
//! Modules: [`target`] (where the relying party is, placeholders), [`send`] (one token there
//! and back, bounded), `pin` (the baseline's step), `plan` (the fixed cases), `jobs` (sending
//! them), [`report`] (rows, findings, counts), `junit`, `fuzz` (the generative phase),
//! `screen` (the Probe screen's request and reply), `staged` (taking away the keys a run staged).

mod findings;
mod fuzz;
mod jobs;
mod junit;
mod options;
mod pin;
mod plan;
pub mod report;
mod screen;
pub mod send;
mod shared;
mod staged;
pub mod target;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

pub use fuzz::FuzzOptions;
pub use options::{MAX_CONCURRENCY, ProbeOptions};
pub use report::{
    BASELINE_NO_ANSWER, BASELINE_NOT_SENT, BASELINE_REFUSED, BASELINE_UNREACHABLE, Finding,
    FindingKind, FuzzReport, ProbeReport, ProbeRow, Severity, Summary, Verdict,
};
pub use screen::{
    FuzzFigures, ScreenFinding, ScreenReport, ScreenRequest, ScreenRow, ScreenSummary,
    screen_report,
};
pub use send::{Answer, Observed};
use shared::Shared;
pub use shared::{Progress, expected_outcome, judge};
pub use target::{Target, Vars, fill, fill_template, parse_range, split_command};

pub use junit::xml_escape;

use crate::error::{Error, Result};
use crate::hostile::Outcome;
use crate::issuer::Issuer;

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
    // Whatever happens from here on, the keys the run stages leave the ring with it.
    let _staged = staged::StagedCleanup::new(issuer.clone(), &slug);
    let policy = options
        .policy
        .clone()
        .unwrap_or_else(|| ws.default_policy());
    let default_audience = ws.workspace.default_audience();
    let mut step = options.step.clone();
    step.workspace = Some(slug.clone());
    pin::pin_step(&mut step, &policy, &default_audience);
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
            Some(crate::https::https_client(&pems, options.timeout)?)
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
    let context =
        crate::hostile::RecipeStep::of(&step, issuer.token_lifetime(), issuer.clock().fixed());
    let shared = Arc::new(Shared {
        issuer: issuer.clone(),
        sender,
        slug,
        policy,
        step,
        context: context.clone(),
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
    let jobs = plan::plan(&options, &shared.policy, &claims)?;
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
        exploitable_by: None,
        exploit: String::new(),
        attacker_branch: None,
        observed: answer.observed,
        reference: baseline_case.reference.into(),
        detail: answer.detail,
        ms: started.elapsed().as_millis() as u64,
        reproduce: context.reproduce(&[]),
        edits: Vec::new(),
    };
    if baseline.observed != Observed::Accepted {
        return Ok(ProbeReport {
            baseline,
            context,
            rows: Vec::new(),
            fuzz: None,
            summary: Summary::default(),
        });
    }
    let progress: Arc<dyn Fn(&Progress) + Send + Sync> = Arc::new(progress);
    let mut rows = jobs::send_jobs(&shared, jobs, &progress).await?;
    let fuzz = match &options.fuzz {
        Some(f) => Some(fuzz::run(shared.clone(), f, &claims, progress.as_ref()).await),
        None => None,
    };
    report::sort_by_exploitable(&mut rows);
    let summary = Summary::count(&rows, fuzz.as_ref());
    Ok(ProbeReport {
        baseline,
        context,
        rows,
        fuzz,
        summary,
    })
}
