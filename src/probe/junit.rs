//! The report as JUnit XML that any XML parser reads: one testcase per case and per finding.
//! Wrong acceptances someone could exploit are failures (with who, as a property); those nobody
//! could exploit are hygiene, written to the testcase's output so they inform without failing
//! a build; no answers are errors.

use super::report::{Finding, ProbeReport, ProbeRow, Verdict};
use super::send::Observed;
use crate::hostile::ExploitableBy;

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

fn property(by: ExploitableBy, branch: Option<&str>) -> String {
    let mut out = format!(
        "<properties><property name=\"exploitable_by\" value=\"{}\"/>",
        by.as_str()
    );
    if let Some(b) = branch {
        out.push_str(&format!(
            "<property name=\"attacker_branch\" value=\"{}\"/>",
            xml_escape(b)
        ));
    }
    out.push_str("</properties>");
    out
}

impl ProbeReport {
    /// JUnit XML: one testcase per case and per finding; wrong acceptances someone could
    /// exploit are failures, hygiene ones (nobody could) are output, no answers are errors.
    pub fn junit(&self) -> String {
        let esc = xml_escape;
        let rows: Vec<&ProbeRow> = std::iter::once(&self.baseline)
            .chain(self.rows.iter())
            .collect();
        let baseline_failed = self.baseline.observed != Observed::Accepted;
        let findings: Vec<&Finding> = self.fuzz.iter().flat_map(|f| f.findings.iter()).collect();
        let failures = rows
            .iter()
            .filter(|r| {
                r.verdict == Verdict::Fail
                    && r.exploitable_by.is_none_or(ExploitableBy::is_exploitable)
            })
            .count()
            + usize::from(baseline_failed)
            + findings
                .iter()
                .filter(|f| f.exploitable_by.is_exploitable())
                .count();
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
            let by = r.exploitable_by.unwrap_or(ExploitableBy::Anyone);
            if i == 0 && baseline_failed {
                let why = self
                    .untested_because()
                    .unwrap_or(super::report::BASELINE_REFUSED);
                out.push_str(&format!(
                    "<failure message=\"{}\">{}</failure>",
                    esc(why.split(':').next().unwrap_or(why)),
                    esc(&msg)
                ));
            } else {
                match r.verdict {
                    Verdict::Fail if by.is_exploitable() => {
                        out.push_str(&property(by, r.attacker_branch.as_deref()));
                        out.push_str(&format!(
                            "<failure message=\"{}\">{}</failure>",
                            esc(&format!(
                                "accepted a token a strict relying party refuses, exploitable by {} ({}; {})",
                                by.phrase(),
                                r.exploit,
                                r.reference
                            )),
                            esc(&msg)
                        ))
                    }
                    Verdict::Fail => {
                        out.push_str(&property(by, None));
                        out.push_str(&format!(
                            "<system-out>{}</system-out>",
                            esc(&format!(
                                "hygiene: accepted a token a strict relying party refuses, exploitable by nobody ({}): {msg}",
                                r.exploit
                            ))
                        ))
                    }
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
            let text = esc(&format!(
                "difference: {}\nexploitable by: {} ({})\nvalidator: {}\nrelying party: {}\nreproduce: {}",
                f.difference.join("; "),
                f.exploitable_by.phrase(),
                f.exploit,
                f.validator,
                f.detail,
                f.reproduce
            ));
            let body = if f.exploitable_by.is_exploitable() {
                format!(
                    "<failure message=\"{}\">{text}</failure>",
                    esc(&format!(
                        "accepted a generated token the validator refuses, exploitable by {}",
                        f.exploitable_by.phrase()
                    )),
                )
            } else {
                format!("<system-out>hygiene: {text}</system-out>")
            };
            out.push_str(&format!(
                "  <testcase classname=\"stepmint.probe.fuzz\" name=\"{}\">{}{body}</testcase>\n",
                esc(&f.id),
                property(f.exploitable_by, f.attacker_branch.as_deref()),
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
}
