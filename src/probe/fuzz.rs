//! The generative phase: send seeded, generated tokens, judge each with the reference validator
//! under the declared policy, and shrink every disagreement to the smallest difference from the
//! genuine token that still shows it, and that anyone it could be exploited by still could
//! (an `alg: none` token shrinks no further than its unsigned form). Findings with the same
//! minimal difference are reported once, with how often they came up, those the most people
//! could exploit first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::report::{Finding, FindingKind, FuzzReport, Severity};
use super::send::Observed;
use super::shared::{Progress, Shared};
use crate::hostile::fuzz::Mutator;
use crate::hostile::{Edit, ExploitableBy, reach};

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
        let (edits, sends, last) = shrink(&shared, claims, o.edits, kind).await;
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
        let reach = reach(claims, &edits);
        let finding = Finding {
            id,
            kind,
            severity: Severity::Hygiene,
            exploitable_by: ExploitableBy::Nobody,
            exploit: String::new(),
            attacker_branch: None,
            difference: edits.iter().map(Edit::describe).collect(),
            edits,
            validator: last.0,
            detail: last.1,
            occurrences: 1,
            first_seen: o.index,
            reproduce,
        };
        list.push(finding.with_reach(reach));
    }
    for (list, prefix) in [
        (&mut report.findings, "fuzz"),
        (&mut report.false_refusals, "fuzz-refused"),
    ] {
        // Those the most people could exploit first; ids follow the order they are read in.
        list.sort_by_key(|f| (f.exploitable_by, f.first_seen));
        for (i, f) in list.iter_mut().enumerate() {
            f.id = format!("{prefix}-{}", i + 1);
        }
    }
    report
}

/// Whether `all` holds every edit of `part`.
fn contains_all(all: &[Edit], part: &[Edit]) -> bool {
    part.iter().all(|e| all.contains(e))
}

/// Shrinks a disagreement to the smallest difference from the genuine token that still shows
/// it (the validator still decides the same way and the relying party still answers the other
/// way) and that stays exploitable by at least as many people (judged against the genuine
/// `claims`). Edits are dropped one at a time; when none can go alone, the smallest subsets of
/// one or two edits are tried on their own, since Bitbucket-shaped identities are several edits
/// that only make sense together (dropping half of one makes it nobody's). Returns the edits
/// left, the sends it took, and the last validator reason and answer.
async fn shrink(
    shared: &Arc<Shared>,
    claims: &Map<String, Value>,
    mut edits: Vec<Edit>,
    kind: FindingKind,
) -> (Vec<Edit>, usize, (String, String)) {
    let mut probe = Probe {
        shared,
        claims,
        kind,
        sends: 0,
    };
    let mut last = shared.explain(&edits).await;
    loop {
        let mut changed = false;
        let mut i = edits.len();
        while i > 0 && edits.len() > 1 {
            i -= 1;
            let mut candidate = edits.clone();
            candidate.remove(i);
            if let Some(answer) = probe.shows(&edits, &candidate).await {
                edits = candidate;
                last = answer;
                changed = true;
            }
        }
        if !changed && edits.len() > 2 {
            'subsets: for size in 1..=2 {
                for keep in subsets(edits.len(), size) {
                    let candidate: Vec<Edit> = keep.iter().map(|&k| edits[k].clone()).collect();
                    if let Some(answer) = probe.shows(&edits, &candidate).await {
                        edits = candidate;
                        last = answer;
                        changed = true;
                        break 'subsets;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    (edits, probe.sends, last)
}

/// The indices of every `size`-element subset of `0..n`, in order.
fn subsets(n: usize, size: usize) -> Vec<Vec<usize>> {
    match size {
        1 => (0..n).map(|i| vec![i]).collect(),
        _ => (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| vec![i, j]))
            .collect(),
    }
}

/// What shrinking a disagreement checks a candidate against.
struct Probe<'a> {
    shared: &'a Arc<Shared>,
    claims: &'a Map<String, Value>,
    kind: FindingKind,
    sends: usize,
}

impl Probe<'_> {
    /// The validator's reason and the answer when `candidate` still shows the disagreement
    /// `current` does, and (for an accepted token) is exploitable by at least as many people.
    async fn shows(&mut self, current: &[Edit], candidate: &[Edit]) -> Option<(String, String)> {
        if self.kind == FindingKind::Accepted
            && reach(self.claims, candidate).by > reach(self.claims, current).by
        {
            return None;
        }
        let (token, accepts) = self.shared.mint_and_judge(candidate.to_vec()).await?;
        if accepts != (self.kind == FindingKind::FalseRefusal) {
            return None;
        }
        self.sends += 1;
        let answer = self.shared.sender.send(&token).await;
        let want = match self.kind {
            FindingKind::Accepted => Observed::Accepted,
            FindingKind::FalseRefusal => Observed::Refused,
        };
        (answer.observed == want).then_some((self.shared.reason(&token).await, answer.detail))
    }
}
