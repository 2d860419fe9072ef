//! `policy eval` and `policy check` for people (aligned tables, terminal-safe) and for tools
//! (SARIF 2.1.0 for code scanning, JUnit XML for CI test reports).

use serde_json::{Value, json};

use crate::encoding::printable;
use crate::policy::{CheckReport, Severity};
use crate::probe::xml_escape;

use super::Evaluation;

fn yes(b: bool) -> &'static str {
    if b { "ALLOWED" } else { "denied" }
}

/// `policy eval`'s human output.
pub fn human_eval(e: &Evaluation, verbose: bool) -> String {
    let d = &e.decision;
    let mut out = format!(
        "{}  ({} policy)\ndecided by: {}\nreason:     {}\n",
        yes(d.allowed).to_uppercase(),
        d.kind,
        printable(&d.decided_by),
        printable(&d.reason)
    );
    if verbose {
        out.push_str("trace:\n");
        for t in &d.trace {
            out.push_str(&format!(
                "  {} {}: {}\n",
                if t.passed { "pass" } else { "FAIL" },
                printable(&t.at),
                printable(&t.detail)
            ));
        }
    }
    out
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
                .min(48)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                let w = widths[i];
                let cell: String = cell.chars().take(w).collect();
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `policy check`'s human output.
pub fn human_check(r: &CheckReport) -> String {
    let mut out = format!("{} policy\n", r.kind);
    // AWS condition keys repeat the provider in every reason; the table says it once.
    let provider = r
        .scope
        .issuer
        .as_deref()
        .map(|i| i.trim_start_matches("https://").to_string())
        .filter(|p| p.len() > 12);
    if let Some(p) = &provider {
        out.push_str(&format!("PROVIDER = {}\n", printable(p)));
    }
    let short = |s: &str| match &provider {
        Some(p) => printable(&s.replace(p.as_str(), "PROVIDER")).into_owned(),
        None => printable(s).into_owned(),
    };
    if !r.access.is_empty() {
        out.push_str("\nAccess (every step of the pipelines file):\n");
        let mut rows = vec![vec![
            "STEP".into(),
            "BRANCH".into(),
            "ENVIRONMENT".into(),
            "GETS IN".into(),
            "WHY".into(),
        ]];
        for a in &r.access {
            rows.push(vec![
                printable(&a.step).into_owned(),
                printable(a.branch.as_deref().unwrap_or("(any)")).into_owned(),
                printable(a.environment.as_deref().unwrap_or("-")).into_owned(),
                format!(
                    "{}{}",
                    yes(a.allowed),
                    if a.unexpected { " (!)" } else { "" }
                ),
                short(&a.reason),
            ]);
        }
        out.push_str(&table(&rows));
    }
    out.push_str("\nBoundary tokens (derived from the policy):\n");
    let mut rows = vec![vec![
        "TOKEN".into(),
        "GETS IN".into(),
        "SHOULD".into(),
        "WHY".into(),
    ]];
    for b in &r.boundary {
        let should = match b.expected {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        rows.push(vec![
            b.token.clone(),
            format!(
                "{}{}",
                yes(b.allowed),
                if b.unexpected { " (!)" } else { "" }
            ),
            should.into(),
            short(&b.why),
        ]);
    }
    out.push_str(&table(&rows));
    if !r.findings.is_empty() {
        out.push_str("\nFindings:\n");
        for f in &r.findings {
            let at = match (&f.at, f.line) {
                (Some(a), Some(l)) => format!(" [{} line {l}]", printable(a)),
                (Some(a), None) => format!(" [{}]", printable(a)),
                _ => String::new(),
            };
            out.push_str(&format!(
                "  {:<7} {}{}\n          {}\n          fix: {}\n",
                f.severity.as_str(),
                f.id,
                short(&at),
                short(&f.message),
                short(&f.fix)
            ));
        }
    }
    for n in &r.notes {
        out.push_str(&format!("\nnote: {}", printable(n)));
    }
    if !r.notes.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{}\n",
        if r.failed {
            "FAILED: a token gets in that the policy means to keep out, or a finding is an error"
        } else {
            "OK"
        }
    ));
    out
}

/// SARIF 2.1.0: one rule per finding id, one result per finding and per unexpected admission.
pub fn sarif(r: &CheckReport, file: &str) -> Value {
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let mut rules: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let mut rule = |id: &str, text: &str| {
        if !rules.iter().any(|r| r["id"] == id) {
            rules.push(json!({"id": id, "shortDescription": {"text": text}}));
        }
    };
    for f in &r.findings {
        rule(&f.id, &f.message);
        let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": file}}});
        if let Some(l) = f.line {
            loc["physicalLocation"]["region"] = json!({"startLine": l});
        }
        results.push(json!({"ruleId": f.id, "level": level(f.severity), "message": {"text": format!("{} Fix: {}", f.message, f.fix)}, "locations": [loc]}));
    }
    for a in r.access.iter().filter(|a| a.unexpected) {
        rule(
            "step-admitted",
            "a step the policy evidently means to keep out gets in",
        );
        results.push(json!({"ruleId": "step-admitted", "level": "error", "message": {"text": format!("step {} gets in: {}", a.step, a.reason)}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": file}}}]}));
    }
    for b in r.boundary.iter().filter(|b| b.unexpected) {
        rule(
            "boundary-admitted",
            "a boundary token the policy evidently means to keep out gets in",
        );
        results.push(json!({"ruleId": "boundary-admitted", "level": "error", "message": {"text": format!("{} ({}) gets in: {}", b.token, b.change, b.why)}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": file}}}]}));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "stepmint", "informationUri": "https://github.com/", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results
        }]
    })
}

/// JUnit XML: a suite each for access, boundary and findings; a test fails when a token gets
/// in that should not, or a finding is an error.
pub fn junit(r: &CheckReport) -> String {
    let mut suites = String::new();
    let mut suite = |name: &str, cases: Vec<(String, Option<String>)>| {
        let failures = cases.iter().filter(|c| c.1.is_some()).count();
        suites.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
            xml_escape(name),
            cases.len()
        ));
        for (case, failure) in cases {
            match failure {
                Some(f) => suites.push_str(&format!(
                    "    <testcase name=\"{}\"><failure message=\"{}\"/></testcase>\n",
                    xml_escape(&case),
                    xml_escape(&f)
                )),
                None => {
                    suites.push_str(&format!("    <testcase name=\"{}\"/>\n", xml_escape(&case)))
                }
            }
        }
        suites.push_str("  </testsuite>\n");
    };
    suite(
        "policy.access",
        r.access
            .iter()
            .map(|a| {
                (
                    format!("{} [{}]", a.step, a.location),
                    a.unexpected.then(|| format!("gets in: {}", a.reason)),
                )
            })
            .collect(),
    );
    suite(
        "policy.boundary",
        r.boundary
            .iter()
            .map(|b| {
                (
                    b.token.clone(),
                    b.unexpected.then(|| format!("gets in: {}", b.why)),
                )
            })
            .collect(),
    );
    suite(
        "policy.findings",
        r.findings
            .iter()
            .map(|f| {
                (
                    format!("{} {}", f.id, f.at.clone().unwrap_or_default()),
                    (f.severity == Severity::Error)
                        .then(|| format!("{} Fix: {}", f.message, f.fix)),
                )
            })
            .collect(),
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"stepmint policy check\">\n{suites}</testsuites>\n"
    )
}
