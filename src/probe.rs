//! The probe: serve the whole catalogue to a live relying party and report every hostile token
//! it wrongly accepts.
//!
//! A relying party is an HTTP endpoint (`{token}`, `{token_json}` or `{token_url}` replaced in
//! URL, headers and body; an accepted token is a status in the accept range) or a command
//! (`{token}` replaced in its arguments, the token also in `BITBUCKET_STEP_OIDC_TOKEN` and on
//! stdin; exit 0 accepts). A genuine baseline
//! goes first; if it is refused, the run stops, because the relying party is not configured for
//! this issuer and every other verdict would be noise. Each case is minted just before it is
//! sent. What a strict relying party must do comes from the catalogue, and for `policy` cases
//! from the reference validator under the policy the relying party declares.

use std::ops::RangeInclusive;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::hostile::{CATALOGUE, Case, Expected, Outcome};
use crate::issuer::Issuer;
use crate::token::StepRequest;
use crate::validate::{self, Policy};

/// Where the relying party is.
#[derive(Debug, Clone)]
pub enum Target {
    /// An HTTP(S) endpoint.
    Http {
        /// URL template.
        url: String,
        /// HTTP method.
        method: String,
        /// `Name: value` templates.
        headers: Vec<(String, String)>,
        /// Body template.
        body: Option<String>,
        /// Statuses that mean "accepted".
        accept: RangeInclusive<u16>,
        /// Extra CA certificates (PEM) to trust, beyond the system roots and Stepmint's CA.
        ca: Vec<Vec<u8>>,
    },
    /// A command: argv templates.
    Exec {
        /// Program and arguments.
        argv: Vec<String>,
    },
}

impl Target {
    /// An HTTP target with `Name: value` header lines. With no header, no body and no `{token}`
    /// in the URL, the token goes where relying parties look for it: `Authorization: Bearer`.
    pub fn http(
        url: String,
        method: &str,
        header_lines: &[String],
        body: Option<String>,
        accept: RangeInclusive<u16>,
        ca: Vec<Vec<u8>>,
    ) -> Result<Target> {
        let mut headers = Vec::new();
        for line in header_lines {
            let (name, value) = line.split_once(':').ok_or_else(|| {
                Error::invalid("header", format!("`{line}`: expected `Name: value`"))
            })?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        if headers.is_empty() && body.is_none() && !url.contains("{token}") {
            headers.push(("Authorization".into(), "Bearer {token}".into()));
        }
        Ok(Target::Http {
            url,
            method: method.to_uppercase(),
            headers,
            body,
            accept,
            ca,
        })
    }
}

/// How to probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The relying party.
    pub target: Target,
    /// What the relying party is declared to accept (issuer and keys are the workspace's).
    pub policy_overrides: Map<String, Value>,
    /// The step the tokens describe (workspace, repository, environment, branch, audiences).
    pub step: StepRequest,
    /// Only these cases (default: all).
    pub only: Vec<String>,
    /// Not these cases.
    pub skip: Vec<String>,
    /// Per-case timeout.
    pub timeout: Duration,
    /// Cases in flight at once.
    pub concurrency: usize,
}

/// What the relying party did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed {
    /// It accepted the token.
    Accepted,
    /// It refused the token.
    Refused,
    /// It did not answer in time.
    Timeout,
    /// It could not be reached, or the command could not be run.
    ConnectionError,
    /// The case was not sent.
    Skipped,
}

/// The verdict on one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// One case's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeRow {
    /// Case name.
    pub case: String,
    /// `refuse` or `accept` (what a strict relying party does here).
    pub expected: Outcome,
    /// The catalogue's label: `refuse`, `accept` or `policy`.
    pub kind: String,
    /// What happened.
    pub observed: Observed,
    /// The verdict.
    pub verdict: Verdict,
    /// CVE, RFC section or Bitbucket behaviour.
    pub reference: String,
    /// Status, exit code, error text.
    pub detail: String,
    /// Milliseconds to the answer.
    pub ms: u64,
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The baseline's row.
    pub baseline: ProbeRow,
    /// Every other case (empty when the baseline was refused).
    pub rows: Vec<ProbeRow>,
    /// Counts.
    pub summary: Summary,
}

/// Counts by verdict.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Cases sent or skipped, baseline excluded.
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
}

impl ProbeReport {
    /// True when the baseline was accepted and no hostile case was.
    pub fn ok(&self) -> bool {
        self.baseline.observed == Observed::Accepted && self.summary.failed == 0
    }

    /// JUnit XML: one testcase per case; wrong acceptances are failures, no answers are errors.
    pub fn junit(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .chars()
                .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                .collect::<String>()
        };
        let rows: Vec<&ProbeRow> = std::iter::once(&self.baseline)
            .chain(self.rows.iter())
            .collect();
        let failures = rows
            .iter()
            .filter(|r| {
                r.verdict == Verdict::Fail
                    || (r.case == self.baseline.case && r.observed != Observed::Accepted)
            })
            .count();
        let errors = rows.iter().filter(|r| r.verdict == Verdict::Error).count();
        let skipped = rows.iter().filter(|r| r.verdict == Verdict::Skip).count();
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"stepmint-probe\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n",
            rows.len()
        );
        for r in rows {
            out.push_str(&format!(
                "  <testcase classname=\"stepmint.probe\" name=\"{}\" time=\"{:.3}\">",
                esc(&r.case),
                r.ms as f64 / 1000.0
            ));
            let msg = format!(
                "expected {:?}, observed {:?}: {}",
                r.expected, r.observed, r.detail
            );
            match r.verdict {
                _ if r.case == self.baseline.case && r.observed != Observed::Accepted => {
                    out.push_str(&format!("<failure message=\"baseline refused\">{}</failure>", esc(&msg)))
                }
                Verdict::Fail => out.push_str(&format!("<failure message=\"accepted a token a strict relying party refuses ({})\">{}</failure>", esc(&r.reference), esc(&msg))),
                Verdict::Error => out.push_str(&format!("<error message=\"{}\">{}</error>", esc(&format!("{:?}", r.observed)), esc(&msg))),
                Verdict::Skip => out.push_str(&format!("<skipped message=\"{}\"/>", esc(&r.detail))),
                Verdict::Strict => out.push_str(&format!("<system-out>{}</system-out>", esc(&format!("refused an acceptable token: {msg}")))),
                _ => {}
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// The longest string Linux passes as one argument or environment entry.
const MAX_ARG: usize = 128 * 1024 - 1;

/// The error that stops a run whose baseline was refused.
pub const BASELINE_REFUSED: &str =
    "baseline refused: the relying party is not configured for this issuer";

struct Sender {
    target: Target,
    http: Option<reqwest::Client>,
    timeout: Duration,
}

impl Sender {
    async fn send(&self, token: &str) -> (Observed, String) {
        let fill = |t: &str| fill_template(t, token);
        match &self.target {
            Target::Http {
                url,
                method,
                headers,
                body,
                accept,
                ..
            } => {
                let Some(client) = &self.http else {
                    return (Observed::ConnectionError, "no HTTP client".into());
                };
                let method =
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
                let mut req = client.request(method, fill(url)).timeout(self.timeout);
                for (k, v) in headers {
                    req = req.header(k.as_str(), fill(v));
                }
                if let Some(b) = body {
                    req = req.body(fill(b));
                }
                match req.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let text = resp.text().await.unwrap_or_default();
                        let excerpt: String = text.chars().take(200).collect();
                        let observed = if accept.contains(&status) {
                            Observed::Accepted
                        } else {
                            Observed::Refused
                        };
                        (
                            observed,
                            format!("HTTP {status} {excerpt}").trim().to_string(),
                        )
                    }
                    Err(e) if e.is_timeout() => (
                        Observed::Timeout,
                        format!("no answer within {:?}", self.timeout),
                    ),
                    Err(e) => (Observed::ConnectionError, format!("{e}")),
                }
            }
            Target::Exec { argv } => {
                let Some((program, args)) = argv.split_first() else {
                    return (Observed::ConnectionError, "empty command".into());
                };
                // Linux caps one argument or environment string at 128 KiB: a longer token can
                // only reach the command on stdin.
                // Measure what is really passed: filled arguments, and the `NAME=value` entry.
                let env_fits = token.len() + "BITBUCKET_STEP_OIDC_TOKEN=".len() < MAX_ARG;
                let args_fit = argv
                    .iter()
                    .all(|a| !a.contains("{token}") || fill(a).len() < MAX_ARG);
                if !args_fit {
                    let why = format!(
                        "a {}-byte token cannot be a command-line argument; read it from stdin",
                        token.len()
                    );
                    return (Observed::Skipped, why);
                }
                let mut cmd = tokio::process::Command::new(fill(program));
                cmd.args(args.iter().map(|a| fill(a)));
                if env_fits {
                    cmd.env("BITBUCKET_STEP_OIDC_TOKEN", token);
                }
                cmd.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .kill_on_drop(true);
                // Its own process group, so a timeout ends what a wrapper script started too.
                #[cfg(unix)]
                cmd.process_group(0);
                let mut child = match cmd.spawn() {
                    Ok(c) => c,
                    Err(e) => {
                        return (
                            Observed::ConnectionError,
                            format!("cannot run {program}: {e}"),
                        );
                    }
                };
                if let Some(mut stdin) = child.stdin.take() {
                    // A command that never reads stdin must not block us.
                    let t = token.to_string();
                    tokio::spawn(async move {
                        let _ = stdin.write_all(t.as_bytes()).await;
                    });
                }
                let pid = child.id();
                match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
                    Ok(Ok(out)) => {
                        let stderr: String = String::from_utf8_lossy(&out.stderr)
                            .chars()
                            .take(200)
                            .collect();
                        let observed = if out.status.success() {
                            Observed::Accepted
                        } else {
                            Observed::Refused
                        };
                        (
                            observed,
                            format!(
                                "exit {} {}",
                                out.status
                                    .code()
                                    .map_or("by signal".into(), |c| c.to_string()),
                                stderr.trim()
                            )
                            .trim()
                            .to_string(),
                        )
                    }
                    Ok(Err(e)) => (Observed::ConnectionError, e.to_string()),
                    Err(_) => {
                        kill_group(pid).await;
                        (
                            Observed::Timeout,
                            format!("no exit within {:?}", self.timeout),
                        )
                    }
                }
            }
        }
    }
}

fn expected_for(case: &Case, issuer: &Issuer, slug: &str, token: &str, policy: &Policy) -> Outcome {
    match case.expected {
        Expected::Refuse => Outcome::Refuse,
        Expected::Accept => Outcome::Accept,
        // Policy cases: what the reference validator does under the declared policy.
        Expected::Policy { .. } => match issuer.workspace(slug) {
            Ok(ws)
                if validate::verify(token, ws.keyset(), policy, issuer.clock().now()).accepted =>
            {
                Outcome::Accept
            }
            _ => Outcome::Refuse,
        },
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

/// Runs the probe. `progress(done, total)` is called as cases finish.
pub async fn run(
    issuer: Arc<Issuer>,
    options: ProbeOptions,
    progress: impl Fn(usize, usize) + Send + Sync + 'static,
) -> Result<ProbeReport> {
    if let Target::Http { method, .. } = &options.target
        && reqwest::Method::from_bytes(method.as_bytes()).is_err()
    {
        return Err(Error::invalid(
            "method",
            format!("`{method}` is not an HTTP method"),
        ));
    }
    for name in options.only.iter().chain(&options.skip) {
        if crate::hostile::find(name).is_none() {
            return Err(Error::invalid("cases", format!("no case named `{name}`")));
        }
    }
    let ws = issuer.workspace_or_first(options.step.workspace.as_deref())?;
    let slug = ws.workspace.slug.clone();
    let policy = ws.policy_with(options.policy_overrides.clone())?;
    // Tokens carry the audience the relying party accepts.
    let mut step = options.step.clone();
    step.workspace = Some(slug.clone());
    for aud in &policy.audiences {
        if *aud != ws.workspace.default_audience() && !step.audiences.contains(aud) {
            step.audiences.push(aud.clone());
        }
    }
    let http = match &options.target {
        Target::Http { ca, .. } => {
            let bundle = std::fs::read(issuer.data_dir().ca_bundle())
                .or_else(|_| std::fs::read(issuer.data_dir().ca_cert()))
                .unwrap_or_default();
            let mut pems: Vec<&[u8]> = vec![&bundle];
            pems.extend(ca.iter().map(Vec::as_slice));
            Some(crate::client::https_client(&pems, options.timeout)?)
        }
        Target::Exec { .. } => None,
    };
    let sender = Arc::new(Sender {
        target: options.target.clone(),
        http,
        timeout: options.timeout,
    });

    let mint = {
        let issuer = issuer.clone();
        let step = step.clone();
        move |case: &str| -> Result<String> {
            let mut req = step.clone();
            req.case = Some(case.to_string());
            Ok(issuer.mint(&req)?.token)
        }
    };

    // The baseline, alone, first.
    let baseline_case =
        crate::hostile::find("valid").ok_or_else(|| Error::invalid("cases", "no baseline case"))?;
    let token = {
        let mint = mint.clone();
        tokio::task::spawn_blocking(move || mint("valid"))
            .await
            .map_err(|e| Error::invalid("probe", e.to_string()))??
    };
    let started = Instant::now();
    let (observed, detail) = sender.send(&token).await;
    let baseline = ProbeRow {
        case: baseline_case.name.into(),
        expected: Outcome::Accept,
        kind: "accept".into(),
        verdict: if observed == Observed::Accepted {
            Verdict::Pass
        } else {
            verdict(Outcome::Accept, &observed)
        },
        observed,
        reference: baseline_case.reference.into(),
        detail,
        ms: started.elapsed().as_millis() as u64,
    };
    if baseline.observed != Observed::Accepted {
        return Ok(ProbeReport {
            baseline,
            rows: Vec::new(),
            summary: Summary::default(),
        });
    }

    let selected: Vec<&'static Case> = CATALOGUE
        .iter()
        .filter(|c| c.name != "valid")
        .filter(|c| options.only.is_empty() || options.only.iter().any(|o| o == c.name))
        .collect();
    let total = selected.len();
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let progress = Arc::new(progress);
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(total);
    for case in selected {
        let skip = options.skip.iter().any(|s| s == case.name);
        let (sender, semaphore, mint, issuer, slug, policy, progress, done) = (
            sender.clone(),
            semaphore.clone(),
            mint.clone(),
            issuer.clone(),
            slug.clone(),
            policy.clone(),
            progress.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let row = |expected, observed: Observed, detail: String, ms| ProbeRow {
                case: case.name.into(),
                expected,
                kind: case.expected.label().into(),
                verdict: verdict(expected, &observed),
                observed,
                reference: case.reference.into(),
                detail,
                ms,
            };
            let result = if skip {
                row(
                    case.expected.by_default(),
                    Observed::Skipped,
                    "skipped (--skip)".into(),
                    0,
                )
            } else {
                let _permit = semaphore.acquire().await;
                let name = case.name;
                // Fresh at send time: minted right before it goes out.
                match tokio::task::spawn_blocking(move || mint(name)).await {
                    Ok(Ok(token)) => {
                        let expected = expected_for(case, &issuer, &slug, &token, &policy);
                        let started = Instant::now();
                        let (observed, detail) = sender.send(&token).await;
                        row(
                            expected,
                            observed,
                            detail,
                            started.elapsed().as_millis() as u64,
                        )
                    }
                    Ok(Err(e)) => row(
                        case.expected.by_default(),
                        Observed::Skipped,
                        format!("not available: {e}"),
                        0,
                    ),
                    Err(e) => row(
                        case.expected.by_default(),
                        Observed::Skipped,
                        e.to_string(),
                        0,
                    ),
                }
            };
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            progress(n, total);
            result
        }));
    }
    let mut rows = Vec::with_capacity(total);
    for t in tasks {
        rows.push(
            t.await
                .map_err(|e| Error::invalid("probe", e.to_string()))?,
        );
    }
    let mut summary = Summary {
        total: rows.len(),
        ..Summary::default()
    };
    for r in &rows {
        match r.verdict {
            Verdict::Pass => summary.passed += 1,
            Verdict::Fail => summary.failed += 1,
            Verdict::Strict => summary.strict += 1,
            Verdict::Error => summary.errors += 1,
            Verdict::Skip => summary.skipped += 1,
        }
    }
    Ok(ProbeReport {
        baseline,
        rows,
        summary,
    })
}

/// Fills a template: `{token}` as it is, `{token_json}` as a JSON string (quoted and escaped, for
/// JSON bodies: some hostile tokens contain quotes), `{token_url}` percent-encoded (for query
/// strings).
pub fn fill_template(template: &str, token: &str) -> String {
    let mut out = template.replace(
        "{token_json}",
        &serde_json::to_string(token).unwrap_or_default(),
    );
    if out.contains("{token_url}") {
        let encoded: String = token
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        out = out.replace("{token_url}", &encoded);
    }
    out.replace("{token}", token)
}

/// Splits a command template into arguments: whitespace separates, single and double quotes
/// group, a backslash escapes the next character outside single quotes.
pub fn split_command(text: &str) -> Result<Vec<String>> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(Error::invalid("exec", "unterminated quote"));
    }
    if in_word {
        args.push(cur);
    }
    if args.is_empty() {
        return Err(Error::invalid("exec", "empty command"));
    }
    Ok(args)
}

/// Parses an accept range: `200-299` or `200`.
pub fn parse_range(text: &str) -> Result<RangeInclusive<u16>> {
    let bad = || {
        Error::invalid(
            "accept-status",
            format!("`{text}` is not a status or a range like 200-299"),
        )
    };
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        ),
        None => {
            let v: u16 = text.trim().parse().map_err(|_| bad())?;
            (v, v)
        }
    };
    if a > b || !(100..=599).contains(&a) || b > 599 {
        return Err(bad());
    }
    Ok(a..=b)
}

/// Kills the process group `pid` leads (see `process_group(0)` above), with the system's
/// `kill(1)`: the core has no unsafe code to call kill(2) itself.
async fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let _ = tokio::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
    #[cfg(not(unix))]
    let _ = pid;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_splitting() {
        assert_eq!(
            split_command("python3 v.py {token}").unwrap(),
            ["python3", "v.py", "{token}"]
        );
        assert_eq!(
            split_command(r#"sh -c 'echo "$X" {token}' "a b" c\ d"#).unwrap(),
            ["sh", "-c", "echo \"$X\" {token}", "a b", "c d"]
        );
        assert!(split_command("'open").is_err());
        assert!(split_command("   ").is_err());
    }

    #[test]
    fn templates() {
        let t = r#"{"protected":"a","x":"b\c"}"#;
        assert_eq!(fill_template("Bearer {token}", "a.b.c"), "Bearer a.b.c");
        let body = fill_template(r#"{"token":{token_json}}"#, t);
        let v: serde_json::Value = serde_json::from_str(&body).expect("still JSON");
        assert_eq!(v["token"], t);
        assert_eq!(fill_template("/x?t={token_url}", "a b/c"), "/x?t=a%20b%2Fc");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("200-299").unwrap(), 200..=299);
        assert_eq!(parse_range("204").unwrap(), 204..=204);
        for bad in ["x", "300-200", "99", "200-700"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_targets_parse_header_lines_and_default_to_a_bearer_token() {
        let headers = |t: Target| match t {
            Target::Http { headers, .. } => headers,
            Target::Exec { .. } => unreachable!(),
        };
        let t = Target::http("https://rp/".into(), "get", &[], None, 200..=299, vec![]).unwrap();
        assert_eq!(
            headers(t),
            [("Authorization".into(), "Bearer {token}".into())]
        );
        let lines = ["X-Token : {token} ".to_string()];
        let t = Target::http("https://rp/".into(), "GET", &lines, None, 200..=299, vec![]);
        assert_eq!(headers(t.unwrap()), [("X-Token".into(), "{token}".into())]);
        let t = Target::http(
            "https://rp/?t={token}".into(),
            "GET",
            &[],
            None,
            200..=299,
            vec![],
        );
        assert!(headers(t.unwrap()).is_empty());
        let bad = Target::http(
            "https://rp/".into(),
            "GET",
            &["nocolon".into()],
            None,
            200..=299,
            vec![],
        );
        let err = bad.unwrap_err();
        assert!(
            matches!(err.kind(), crate::ErrorKind::InvalidInput { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("nocolon"), "{err}");
    }

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
