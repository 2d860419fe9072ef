//! The generative phase: send seeded, generated tokens, judge each with the reference validator
//! under the declared policy, and shrink every disagreement to the smallest difference from the
//! genuine token that still shows it. Findings with the same minimal difference are reported
//! once, with how often they came up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::report::{Finding, FindingKind, FuzzReport, Severity};
use super::send::Observed;
use super::shared::{Progress, Shared};
use crate::hostile::Edit;
use crate::hostile::fuzz::Mutator;

/// How to fuzz.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuzzOptions {
    /// Generated tokens to send (with `seconds`, whichever ends first).
    pub count: Option<usize>,
    /// Seconds to spend sending them.
    pub seconds: Option<u64>,
    /// The seed: the same seed, the same tokens' edits and the same report.
    pub seed: u64,
}

/// Distinct disagreements shrunk per run; past it, a candidate is only counted against the
/// findings it contains.
const MAX_SHRUNK: usize = 64;

/// One generated token's outcome.
struct Outcome {
    index: usize,
    edits: Vec<Edit>,
    validator_accepts: bool,
    observed: Observed,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    fuzz: &FuzzOptions,
    claims: &Map<String, Value>,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> FuzzReport {
    let mut mutator = Mutator::new(&shared.policy, claims, fuzz.seed);
    let limit = fuzz.count.unwrap_or(if fuzz.seconds.is_some() {
        usize::MAX
    } else {
        0
    });
    let deadline = fuzz
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let mut tasks: JoinSet<Option<Outcome>> = JoinSet::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut errors = 0usize;
    let mut accepted_hostile = 0usize;
    let mut unmade = 0usize;
    let in_flight = shared.concurrency.max(1) * 2;
    let mut next = 0usize;
    let mut done = 0usize;
    loop {
        let out_of_time = deadline.is_some_and(|d| Instant::now() >= d);
        while next < limit && !out_of_time && tasks.len() < in_flight {
            let edits = mutator.generate();
            let shared = shared.clone();
            let index = next;
            tasks.spawn(async move {
                let (token, accepts) = shared.mint_and_judge(edits.clone()).await?;
                let answer = shared.sender.send(&token).await;
                Some(Outcome {
                    index,
                    edits,
                    validator_accepts: accepts,
                    observed: answer.observed,
                })
            });
            next += 1;
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        done += 1;
        match joined {
            Ok(Some(o)) => match o.observed {
                Observed::Timeout | Observed::ConnectionError => errors += 1,
                Observed::Accepted if !o.validator_accepts => {
                    accepted_hostile += 1;
                    outcomes.push(o);
                }
                Observed::Refused if o.validator_accepts => outcomes.push(o),
                _ => {}
            },
            // A token the issuer could not make (a signer that needs a key the ring lacks).
            _ => unmade += 1,
        }
        if done.is_multiple_of(25) || tasks.is_empty() {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            progress(&Progress {
                phase: "fuzz",
                done,
                total: (limit != usize::MAX).then_some(limit),
                findings: accepted_hostile,
                rate: done as f64 / secs,
            });
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let sent = done - unmade;
    // Deterministic order whatever finished first.
    outcomes.sort_by_key(|o| o.index);
    let mut report = FuzzReport {
        seed: fuzz.seed,
        sent,
        seconds,
        rate: if seconds > 0.0 {
            sent as f64 / seconds
        } else {
            0.0
        },
        errors,
        unmade,
        ..FuzzReport::default()
    };
    let mut shrunk = 0usize;
    for o in outcomes {
        let kind = if o.validator_accepts {
            FindingKind::FalseRefusal
        } else {
            FindingKind::Accepted
        };
        let list = match kind {
            FindingKind::Accepted => &mut report.findings,
            FindingKind::FalseRefusal => &mut report.false_refusals,
        };
        // Already known as it stands, or (past the shrinking budget) containing a known one.
        if let Some(f) = list.iter_mut().find(|f| {
            f.edits == o.edits || (shrunk >= MAX_SHRUNK && contains_all(&o.edits, &f.edits))
        }) {
            f.occurrences += 1;
            continue;
        }
        if shrunk >= MAX_SHRUNK {
            continue;
        }
        shrunk += 1;
        progress(&Progress {
            phase: "shrink",
            done: shrunk,
            total: None,
            findings: report.findings.len(),
            rate: 0.0,
        });
        let (edits, sends, last) = shrink(&shared, o.edits, kind).await;
        report.shrink_sends += sends;
        let list = match kind {
            FindingKind::Accepted => &mut report.findings,
            FindingKind::FalseRefusal => &mut report.false_refusals,
        };
        if let Some(f) = list.iter_mut().find(|f| f.edits == edits) {
            f.occurrences += 1;
            continue;
        }
        let id = format!(
            "{}-{}",
            match kind {
                FindingKind::Accepted => "fuzz",
                FindingKind::FalseRefusal => "fuzz-refused",
            },
            list.len() + 1
        );
        let reproduce = shared.reproduce(&edits);
        list.push(Finding {
            id,
            kind,
            severity: Severity::of_edits(&edits),
            difference: edits.iter().map(Edit::describe).collect(),
            edits,
            validator: last.0,
            detail: last.1,
            occurrences: 1,
            first_seen: o.index,
            reproduce,
        });
    }
    report
}

/// Whether `all` holds every edit of `part`.
fn contains_all(all: &[Edit], part: &[Edit]) -> bool {
    part.iter().all(|e| all.contains(e))
}

/// Drops edits one at a time while the disagreement still shows (the validator still decides
/// the same way and the relying party still answers the other way), until no single edit can
/// go. Returns the edits left, the sends it took, and the last validator reason and answer.
async fn shrink(
    shared: &Arc<Shared>,
    mut edits: Vec<Edit>,
    kind: FindingKind,
) -> (Vec<Edit>, usize, (String, String)) {
    let want_validator_accepts = kind == FindingKind::FalseRefusal;
    let want_observed = match kind {
        FindingKind::Accepted => Observed::Accepted,
        FindingKind::FalseRefusal => Observed::Refused,
    };
    let mut sends = 0;
    let mut last = shared.explain(&edits).await;
    loop {
        let mut changed = false;
        let mut i = edits.len();
        while i > 0 {
            i -= 1;
            if edits.len() == 1 {
                break;
            }
            let mut candidate = edits.clone();
            candidate.remove(i);
            let Some((token, accepts)) = shared.mint_and_judge(candidate.clone()).await else {
                continue;
            };
            if accepts != want_validator_accepts {
                continue;
            }
            sends += 1;
            let answer = shared.sender.send(&token).await;
            if answer.observed == want_observed {
                edits = candidate;
                last = (shared.reason(&token).await, answer.detail);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (edits, sends, last)
}
