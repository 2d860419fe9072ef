//! What a probe found: one row per case, the fuzz findings, counts, and the report's forms
//! (JUnit XML that any XML parser reads, and a text table whose cells are safe on a terminal).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::send::Observed;
use crate::hostile::{Edit, ExploitableBy, Outcome, Reach, RecipeStep};

/// The verdict on one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The relying party did what a strict one must.
    Pass,
    /// It accepted a token a strict relying party must refuse.
    Fail,
    /// It refused a token a strict relying party accepts (too strict, not unsafe).
    Strict,
    /// No answer (timeout or connection error).
    Error,
    /// Not sent.
    Skip,
}

/// How bad a wrongly accepted token is: who could exploit it, in three grades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Anyone can make such a token: signature, algorithm or key checks are bypassed.
    Bypass,
    /// A genuine token meant for someone else, or out of its time, is taken: another
    /// workspace's, repository's, branch's or step's, or an expired one.
    Policy,
    /// Nobody can get such a token signed (Bitbucket never issues its shape): lax parsing or
    /// checking, not exploitable alone.
    Hygiene,
}

impl Severity {
    /// The severity of a token exploitable by `by`.
    pub fn of(by: ExploitableBy) -> Severity {
        match by {
            ExploitableBy::Anyone => Severity::Bypass,
            ExploitableBy::Nobody => Severity::Hygiene,
            _ => Severity::Policy,
        }
    }
}

/// One case's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRow {
    /// Case name.
    pub case: String,
    /// `time`, `identity`, ... for catalogue cases; `policy:aud`, `policy:sub`, ... for
    /// policy-boundary cases; `recipe` for recipes.
    #[serde(default)]
    pub family: String,
    /// `refuse` or `accept` (what a strict relying party does here).
    pub expected: Outcome,
    /// The catalogue's label (`refuse`, `accept`, `policy`), or `validator` where the reference
    /// validator decided under the declared policy.
    pub kind: String,
    /// What happened.
    pub observed: Observed,
    /// The verdict.
    pub verdict: Verdict,
    /// For a wrongly accepted token, how bad it is (derived from `exploitable_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Who could exploit a relying party that accepts this token (none for the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploitable_by: Option<ExploitableBy>,
    /// How such a token is obtained, or why nobody can obtain one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exploit: String,
    /// For a branch pusher: the branch they would push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker_branch: Option<String>,
    /// CVE, RFC section or Bitbucket behaviour; for generated cases, what the token is.
    pub reference: String,
    /// What the relying party answered (status and body, exit and stderr), or why it was not
    /// sent.
    pub detail: String,
    /// Milliseconds to the answer.
    pub ms: u64,
    /// For policy-boundary cases and recipes: the edits to the genuine token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    /// A command that mints this token again in the run's step context (`stepmint mint
    /// --case NAME` or `--edits JSON`, with the run's audiences, environment, branch...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reproduce: String,
}

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The relying party accepted a token the reference validator refuses.
    Accepted,
    /// The relying party refused a token the reference validator accepts.
    FalseRefusal,
}

/// A generated token the relying party and the reference validator disagree on, shrunk to the
/// smallest difference from the genuine token that still shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// `fuzz-1`, `fuzz-2`, ...
    pub id: String,
    /// Accepted hostile token, or false refusal.
    pub kind: FindingKind,
    /// How bad it is (for accepted tokens; derived from `exploitable_by`).
    pub severity: Severity,
    /// Who could exploit a relying party that accepts this token.
    pub exploitable_by: ExploitableBy,
    /// How such a token is obtained, or why nobody can obtain one.
    pub exploit: String,
    /// For a branch pusher: the branch they would push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker_branch: Option<String>,
    /// The minimal difference, as edits (what `--save-findings` writes as a recipe).
    pub edits: Vec<Edit>,
    /// The same, one line per edit.
    pub difference: Vec<String>,
    /// Why the reference validator decides otherwise.
    pub validator: String,
    /// What the relying party answered.
    pub detail: String,
    /// How many generated tokens shrank to this difference.
    pub occurrences: usize,
    /// The index of the first generated token that showed it.
    pub first_seen: usize,
    /// A command that mints the token again (fresh times, current keys).
    pub reproduce: String,
}

/// The generative part of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FuzzReport {
    /// The seed.
    pub seed: u64,
    /// Generated tokens sent (shrinking excluded).
    pub sent: usize,
    /// Tokens sent while shrinking.
    pub shrink_sends: usize,
    /// Wall seconds of the generation phase.
    pub seconds: f64,
    /// Generated tokens per second.
    pub rate: f64,
    /// Tokens the relying party accepted and the validator refuses.
    pub findings: Vec<Finding>,
    /// Tokens the validator accepts and the relying party refused.
    pub false_refusals: Vec<Finding>,
    /// Sends that got no answer.
    pub errors: usize,
    /// Generated edit lists the issuer could not make into a token (not sent).
    #[serde(default)]
    pub unmade: usize,
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The baseline's row.
    pub baseline: ProbeRow,
    /// The step every token of the run was minted in (what a saved recipe carries).
    #[serde(default)]
    pub context: RecipeStep,
    /// Catalogue, policy-boundary and recipe cases (empty when the baseline was refused).
    pub rows: Vec<ProbeRow>,
    /// The generative part, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuzz: Option<FuzzReport>,
    /// Counts.
    pub summary: Summary,
}

/// Counts by verdict.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Rows, baseline excluded.
    pub total: usize,
    /// As a strict relying party would.
    pub passed: usize,
    /// Hostile tokens accepted.
    pub failed: usize,
    /// Acceptable tokens refused.
    pub strict: usize,
    /// Timeouts and connection errors.
    pub errors: usize,
    /// Not sent.
    pub skipped: usize,
    /// Fuzz findings (accepted tokens the validator refuses).
    #[serde(default)]
    pub findings: usize,
    /// Fuzz false refusals.
    #[serde(default)]
    pub false_refusals: usize,
    /// Wrongly accepted cases and fuzz findings someone could exploit (what fails a run).
    #[serde(default)]
    pub exploitable: usize,
    /// Wrongly accepted cases and fuzz findings nobody could exploit (hygiene: reported, not
    /// failing the run).
    #[serde(default)]
    pub hygiene: usize,
    /// Wrongly accepted cases and fuzz findings by who could exploit them.
    #[serde(default)]
    pub by_exploitable: BTreeMap<ExploitableBy, usize>,
}

impl Summary {
    pub(crate) fn count(rows: &[ProbeRow], fuzz: Option<&FuzzReport>) -> Summary {
        let mut s = Summary {
            total: rows.len(),
            ..Summary::default()
        };
        let mut tally = |by: ExploitableBy| {
            *s.by_exploitable.entry(by).or_default() += 1;
            if by.is_exploitable() {
                s.exploitable += 1;
            } else {
                s.hygiene += 1;
            }
        };
        for r in rows.iter().filter(|r| r.verdict == Verdict::Fail) {
            tally(r.exploitable_by.unwrap_or(ExploitableBy::Anyone));
        }
        for f in fuzz.iter().flat_map(|f| &f.findings) {
            tally(f.exploitable_by);
        }
        for r in rows {
            match r.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail => s.failed += 1,
                Verdict::Strict => s.strict += 1,
                Verdict::Error => s.errors += 1,
                Verdict::Skip => s.skipped += 1,
            }
        }
        if let Some(f) = fuzz {
            s.findings = f.findings.len();
            s.false_refusals = f.false_refusals.len();
        }
        s
    }
}

impl Finding {
    /// Sets who could exploit it, and its severity from that.
    pub fn with_reach(mut self, reach: Reach) -> Finding {
        self.severity = Severity::of(reach.by);
        self.exploitable_by = reach.by;
        self.exploit = reach.how;
        self.attacker_branch = reach.branch;
        self
    }
}

/// How a report orders wrongly accepted tokens: by who could exploit them, the most people
/// first; nothing else moves.
pub fn sort_by_exploitable(rows: &mut [ProbeRow]) {
    rows.sort_by_key(|r| match r.verdict {
        Verdict::Fail => (0, r.exploitable_by),
        _ => (1, None),
    });
}

/// How a refused baseline is reported: the start of the message, before the relying party's
/// answer.
pub const BASELINE_REFUSED: &str = "baseline refused: the relying party could not be tested";
/// How a baseline that reached nothing is reported: the relying party never judged a token
/// (nothing listening, a TLS failure, a command that could not run), which says nothing of
/// what it accepts.
pub const BASELINE_UNREACHABLE: &str = "relying party unreachable: it could not be tested";
/// How a baseline that got no answer in time is reported.
pub const BASELINE_NO_ANSWER: &str = "relying party did not answer in time: it could not be tested";
/// How a baseline that was never sent is reported.
pub const BASELINE_NOT_SENT: &str = "baseline not sent: the relying party was not tested";

impl ProbeReport {
    /// Why the relying party could not be tested (one of the `BASELINE_` lines), or `None`
    /// when its baseline was accepted: a refusal is the relying party's answer, an unreachable
    /// one gave none.
    pub fn untested_because(&self) -> Option<&'static str> {
        match self.baseline.observed {
            Observed::Accepted => None,
            Observed::Refused => Some(BASELINE_REFUSED),
            Observed::ConnectionError => Some(BASELINE_UNREACHABLE),
            Observed::Timeout => Some(BASELINE_NO_ANSWER),
            Observed::Skipped => Some(BASELINE_NOT_SENT),
        }
    }

    /// True when the baseline was accepted and no hostile token someone could exploit was
    /// (hygiene findings, exploitable by nobody, are reported but do not fail a run).
    pub fn ok(&self) -> bool {
        self.baseline.observed == Observed::Accepted && self.summary.exploitable == 0
    }

    /// Whether the relying party could be tested at all (its baseline accepted).
    pub fn tested(&self) -> bool {
        self.baseline.observed == Observed::Accepted
    }

    /// The verdict a person reads for `row`: a refused baseline is no sign of strictness but
    /// of a relying party that could not be tested (the wrong audience, issuer or CA,
    /// usually), so it reads `UNTESTED`; every other row its verdict.
    pub fn verdict_label(&self, row: &ProbeRow) -> &'static str {
        if std::ptr::eq(row, &self.baseline) && !self.tested() {
            return "UNTESTED";
        }
        match row.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Strict => "STRICT",
            Verdict::Error => "ERROR",
            Verdict::Skip => "SKIP",
        }
    }

    /// Every row that wrongly accepted a token, those the most people could exploit first.
    pub fn failures(&self) -> Vec<&ProbeRow> {
        let mut f: Vec<&ProbeRow> = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect();
        f.sort_by_key(|r| r.exploitable_by);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(case: &str, verdict: Verdict, by: Option<ExploitableBy>) -> ProbeRow {
        ProbeRow {
            case: case.into(),
            family: "identity".into(),
            expected: Outcome::Refuse,
            kind: "refuse".into(),
            observed: Observed::Accepted,
            verdict,
            severity: by.map(Severity::of),
            exploitable_by: by,
            exploit: String::new(),
            attacker_branch: None,
            reference: String::new(),
            detail: String::new(),
            ms: 0,
            edits: Vec::new(),
            reproduce: String::new(),
        }
    }

    #[test]
    fn severities_derive_from_who_could_exploit() {
        assert_eq!(Severity::of(ExploitableBy::Anyone), Severity::Bypass);
        assert_eq!(Severity::of(ExploitableBy::BranchPusher), Severity::Policy);
        assert_eq!(Severity::of(ExploitableBy::TokenHolder), Severity::Policy);
        assert_eq!(Severity::of(ExploitableBy::Nobody), Severity::Hygiene);
    }

    #[test]
    fn hygiene_is_counted_and_sorted_last_but_fails_nothing() {
        let mut rows = vec![
            row("a", Verdict::Pass, Some(ExploitableBy::Anyone)),
            row("b", Verdict::Fail, Some(ExploitableBy::Nobody)),
            row("c", Verdict::Fail, Some(ExploitableBy::BranchPusher)),
            row("d", Verdict::Fail, Some(ExploitableBy::Anyone)),
        ];
        sort_by_exploitable(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.case.as_str()).collect();
        assert_eq!(order, ["d", "c", "b", "a"]);
        let s = Summary::count(&rows[2..3], None);
        assert_eq!((s.failed, s.exploitable, s.hygiene), (1, 0, 1));
        let baseline = row("valid", Verdict::Pass, None);
        let hygiene_only = ProbeReport {
            baseline: ProbeRow {
                observed: Observed::Accepted,
                ..baseline
            },
            context: RecipeStep::default(),
            rows: rows[2..3].to_vec(),
            fuzz: None,
            summary: s,
        };
        assert!(hygiene_only.ok());
        let s = Summary::count(&rows, None);
        assert_eq!((s.failed, s.exploitable, s.hygiene), (3, 2, 1));
        assert_eq!(s.by_exploitable[&ExploitableBy::Anyone], 1);
    }
}
