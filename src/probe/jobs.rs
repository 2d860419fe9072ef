//! Sending the planned cases: each minted just before it goes out, judged (by the catalogue or
//! the reference validator), sent with bounded concurrency, and turned into its row.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use super::plan::{Job, Judge};
use super::report::{ProbeRow, Severity, Verdict};
use super::send::{Answer, Observed};
use super::shared::{Progress, Shared};
use crate::error::{Error, Result};
use crate::hostile::Outcome;
use crate::token::{Crafting, MintRequest};

pub(super) async fn send_jobs(
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
            severity: (verdict == Verdict::Fail).then_some(Severity::of(job.reach.by)),
            verdict,
            observed: answer.observed,
            exploitable_by: Some(job.reach.by),
            exploit: job.reach.how.clone(),
            attacker_branch: job.reach.branch.clone(),
            reference: job.reference.clone(),
            detail: answer.detail,
            ms,
            reproduce: match job.case {
                Some(case) => shared.context.reproduce_case(case),
                None => shared.reproduce(&job.edits),
            },
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
        let req = MintRequest {
            step: me.step.clone(),
            craft: Crafting {
                case: case.map(str::to_string),
                edits,
                ..Crafting::default()
            },
        };
        me.issuer.craft(&req).map(|m| {
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
}
