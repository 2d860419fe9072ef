//! What a probe found: one row per case, the fuzz findings, counts, and the report's forms
//! (JUnit XML that any XML parser reads, and a text table whose cells are safe on a terminal).

use serde::{Deserialize, Serialize};

use super::send::Observed;
use crate::hostile::{Edit, Family, Outcome};

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

/// How bad a wrongly accepted token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Anyone can make such a token: signature, algorithm or key checks are bypassed.
    Bypass,
    /// A genuine token meant for someone else, or out of its time, is taken: audience,
    /// subject, claim conditions, issuer, times.
    Policy,
    /// Lax parsing or encoding: not exploitable alone, a sign of a verifier that is.
    Hygiene,
}

impl Severity {
    /// The severity of a catalogue family's case.
    pub fn of_family(family: Family) -> Severity {
        match family {
            Family::Algorithm | Family::Signature | Family::HeaderInjection => Severity::Bypass,
            Family::Baseline | Family::Time | Family::Identity => Severity::Policy,
            Family::Parser => Severity::Hygiene,
        }
    }

    /// The severity of a token made by `edits`.
    pub fn of_edits(edits: &[Edit]) -> Severity {
        if edits.iter().any(Edit::touches_key_or_signature) {
            Severity::Bypass
        } else if edits.iter().all(|e| matches!(e, Edit::Encoding { .. })) {
            Severity::Hygiene
        } else {
            Severity::Policy
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
    /// For a wrongly accepted token, how bad it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
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
    /// How bad it is (for accepted tokens).
    pub severity: Severity,
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
}

impl Summary {
    pub(crate) fn count(rows: &[ProbeRow], fuzz: Option<&FuzzReport>) -> Summary {
        let mut s = Summary {
            total: rows.len(),
            ..Summary::default()
        };
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

/// Characters XML 1.0 allows in text.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `s` as XML text or attribute content: markup escaped, characters XML forbids replaced by
/// U+FFFD (they cannot be escaped either).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

impl ProbeReport {
    /// True when the baseline was accepted and no hostile token was.
    pub fn ok(&self) -> bool {
        self.baseline.observed == Observed::Accepted
            && self.summary.failed == 0
            && self.summary.findings == 0
    }

    /// Whether the relying party could be tested at all (its baseline accepted).
    pub fn tested(&self) -> bool {
        self.baseline.observed == Observed::Accepted
    }

    /// Every row that wrongly accepted a token, worst first.
    pub fn failures(&self) -> Vec<&ProbeRow> {
        let mut f: Vec<&ProbeRow> = self
            .rows
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .collect();
        f.sort_by_key(|r| r.severity);
        f
    }

    /// JUnit XML: one testcase per case and per finding; wrong acceptances are failures, no
    /// answers are errors.
    pub fn junit(&self) -> String {
        let esc = xml_escape;
        let rows: Vec<&ProbeRow> = std::iter::once(&self.baseline)
            .chain(self.rows.iter())
            .collect();
        let baseline_failed = self.baseline.observed != Observed::Accepted;
        let findings: Vec<&Finding> = self.fuzz.iter().flat_map(|f| f.findings.iter()).collect();
        let failures = rows.iter().filter(|r| r.verdict == Verdict::Fail).count()
            + usize::from(baseline_failed)
            + findings.len();
        let errors = rows.iter().filter(|r| r.verdict == Verdict::Error).count();
        let skipped = rows.iter().filter(|r| r.verdict == Verdict::Skip).count();
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"stepmint-probe\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n",
            rows.len() + findings.len()
        );
        for (i, r) in rows.iter().enumerate() {
            out.push_str(&format!(
                "  <testcase classname=\"stepmint.probe.{}\" name=\"{}\" time=\"{:.3}\">",
                esc(if r.family.is_empty() {
                    "case"
                } else {
                    &r.family
                }),
                esc(&r.case),
                r.ms as f64 / 1000.0
            ));
            let msg = format!(
                "expected {:?}, observed {:?}: {}",
                r.expected, r.observed, r.detail
            );
            if i == 0 && baseline_failed {
                out.push_str(&format!(
                    "<failure message=\"baseline refused\">{}</failure>",
                    esc(&msg)
                ));
            } else {
                match r.verdict {
                    Verdict::Fail => out.push_str(&format!(
                        "<failure message=\"{}\">{}</failure>",
                        esc(&format!(
                            "accepted a token a strict relying party refuses ({:?}; {})",
                            r.severity.unwrap_or(Severity::Policy),
                            r.reference
                        )),
                        esc(&msg)
                    )),
                    Verdict::Error => out.push_str(&format!(
                        "<error message=\"{}\">{}</error>",
                        esc(&format!("{:?}", r.observed)),
                        esc(&msg)
                    )),
                    Verdict::Skip => {
                        out.push_str(&format!("<skipped message=\"{}\"/>", esc(&r.detail)))
                    }
                    Verdict::Strict => out.push_str(&format!(
                        "<system-out>{}</system-out>",
                        esc(&format!("refused an acceptable token: {msg}"))
                    )),
                    Verdict::Pass => {}
                }
            }
            out.push_str("</testcase>\n");
        }
        for f in findings {
            out.push_str(&format!(
                "  <testcase classname=\"stepmint.probe.fuzz\" name=\"{}\"><failure message=\"{}\">{}</failure></testcase>\n",
                esc(&f.id),
                esc(&format!("accepted a generated token the validator refuses ({:?})", f.severity)),
                esc(&format!(
                    "difference: {}\nvalidator: {}\nrelying party: {}\nreproduce: {}",
                    f.difference.join("; "),
                    f.validator,
                    f.detail,
                    f.reproduce
                ))
            ));
        }
        out.push_str("</testsuite>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_drops_what_xml_forbids() {
        assert_eq!(
            xml_escape("a<b>&\"\u{FFFE}\u{1}\u{1b}c"),
            "a&lt;b&gt;&amp;&quot;\u{FFFD}\u{FFFD}\u{FFFD}c"
        );
        assert_eq!(xml_escape("x\ny"), "x&#10;y");
    }

    #[test]
    fn severities() {
        assert_eq!(Severity::of_family(Family::Algorithm), Severity::Bypass);
        assert_eq!(Severity::of_family(Family::Identity), Severity::Policy);
        assert_eq!(Severity::of_family(Family::Parser), Severity::Hygiene);
        let claim = Edit::SetClaim {
            name: "aud".into(),
            value: "x".into(),
        };
        let pad = Edit::Encoding {
            change: crate::hostile::EncodingEdit::Pad,
        };
        let none = Edit::Sign {
            with: "none".into(),
        };
        assert_eq!(
            Severity::of_edits(std::slice::from_ref(&claim)),
            Severity::Policy
        );
        assert_eq!(
            Severity::of_edits(std::slice::from_ref(&pad)),
            Severity::Hygiene
        );
        assert_eq!(Severity::of_edits(&[claim, none]), Severity::Bypass);
    }
}
