//! Sending one token to the relying party and reading its answer: an HTTP request, or a command
//! run with the token in its arguments, environment and stdin. What comes back is bounded (a
//! head and a tail of each output, the rest drained and dropped), and every way of not getting
//! an answer is named: connection refused, TLS failure, timeout, command not found, a crash and
//! its signal.

use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::target::{Target, Vars, fill, shell_script};

/// Bytes of output kept from the start, and from the end, of each stream or body.
pub const KEEP: usize = 2048;
/// How long a command's leftover output is awaited once it has exited (a background child may
/// hold its pipes open).
const EXIT_GRACE: Duration = Duration::from_millis(250);
/// The longest string Linux passes as one argument or environment entry.
const MAX_ARG: usize = 128 * 1024 - 1;

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

/// An answer: what happened and how it looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// What happened.
    pub observed: Observed,
    /// Status and start of the body, exit code and last stderr lines, or the error.
    pub detail: String,
}

impl Answer {
    fn new(observed: Observed, detail: impl Into<String>) -> Answer {
        Answer {
            observed,
            detail: detail.into(),
        }
    }
}

/// A bounded capture: the first and last [`KEEP`] bytes, and how many were dropped between.
#[derive(Debug, Default, Clone)]
pub struct Capture {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    dropped: u64,
}

impl Capture {
    /// Takes `bytes`, keeping the bound.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.head.len() < KEEP {
            let n = (KEEP - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        if bytes.len() >= KEEP {
            self.dropped += (self.tail.len() + bytes.len() - KEEP) as u64;
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - KEEP..]);
            return;
        }
        let over = (self.tail.len() + bytes.len()).saturating_sub(KEEP);
        self.dropped += over as u64;
        self.tail.drain(..over);
        self.tail.extend(bytes);
    }

    /// The kept bytes as text, with a marker where bytes were dropped.
    pub fn text(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            out.push_str(&format!("\n[… {} bytes dropped …]\n", self.dropped));
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        out.push_str(&String::from_utf8_lossy(&tail));
        out
    }

    /// Everything kept, in bytes.
    pub fn kept(&self) -> usize {
        self.head.len() + self.tail.len()
    }
}

async fn capture(mut reader: impl AsyncRead + Unpin) -> Capture {
    let mut cap = Capture::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return cap,
            Ok(n) => cap.push(&buf[..n]),
        }
    }
}

/// The first `n` characters of `text`, on one line.
fn excerpt(text: &str, n: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > n {
        format!("{}…", one.chars().take(n).collect::<String>())
    } else {
        one
    }
}

/// The last `n` non-empty lines of `text`, joined with ` | `.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(n);
    excerpt(&lines[from..].join(" | "), 300)
}

/// An error and its causes, as one line (reqwest's own text omits the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Sends tokens to one relying party.
pub struct Sender {
    pub(crate) target: Target,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) timeout: Duration,
    /// Issuer, audience and CA for the placeholders (the token is filled per send).
    pub(crate) vars: Vars,
    /// Extra environment for commands (issuer, audience, CA trust variables).
    pub(crate) env: Vec<(String, String)>,
}

impl Sender {
    /// Sends `token` and waits (at most the timeout) for the answer.
    pub async fn send(&self, token: &str) -> Answer {
        let vars = Vars {
            token: token.to_string(),
            ..self.vars.clone()
        };
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
                    return Answer::new(Observed::ConnectionError, "no HTTP client");
                };
                let url = fill(url, &vars);
                let send = async {
                    let method = reqwest::Method::from_bytes(method.as_bytes())
                        .unwrap_or(reqwest::Method::GET);
                    let mut req = client.request(method, &url);
                    for (k, v) in headers {
                        req = req.header(k.as_str(), fill(v, &vars));
                    }
                    if let Some(b) = body {
                        req = req.body(fill(b, &vars));
                    }
                    let mut resp = req.send().await?;
                    let status = resp.status().as_u16();
                    // A bounded look at the body: enough to show why; the rest is not read.
                    let mut cap = Capture::default();
                    while cap.kept() < KEEP {
                        match resp.chunk().await {
                            Ok(Some(chunk)) => cap.push(&chunk),
                            _ => break,
                        }
                    }
                    Ok::<_, reqwest::Error>((status, cap.text()))
                };
                match tokio::time::timeout(self.timeout, send).await {
                    Ok(Ok((status, text))) => {
                        let observed = if accept.contains(&status) {
                            Observed::Accepted
                        } else {
                            Observed::Refused
                        };
                        let body = excerpt(&text, 200);
                        let detail = if body.is_empty() {
                            format!("HTTP {status}")
                        } else {
                            format!("HTTP {status}: {body}")
                        };
                        Answer::new(observed, detail)
                    }
                    Ok(Err(e)) if e.is_timeout() => Answer::new(
                        Observed::Timeout,
                        format!("no answer within {:?}", self.timeout),
                    ),
                    Ok(Err(e)) => {
                        let what = if e.is_connect() {
                            "cannot connect"
                        } else {
                            "request failed"
                        };
                        Answer::new(
                            Observed::ConnectionError,
                            format!("{what} to {url}: {}", chain(&e)),
                        )
                    }
                    Err(_) => Answer::new(
                        Observed::Timeout,
                        format!("no answer within {:?}", self.timeout),
                    ),
                }
            }
            Target::Exec { argv, shell } => self.run(argv, *shell, &vars).await,
        }
    }

    async fn run(&self, argv: &[String], shell: bool, vars: &Vars) -> Answer {
        let token = &vars.token;
        let Some((program, args)) = argv.split_first() else {
            return Answer::new(Observed::ConnectionError, "empty command");
        };
        // A shell command gets the values in its environment, never in its text.
        let mut values: Vec<(&'static str, String)> = Vec::new();
        let filled: Vec<String> = if shell {
            args.iter()
                .map(|a| {
                    let script = shell_script(a, vars);
                    for (k, v) in script.env {
                        if !values.iter().any(|(seen, _)| *seen == k) {
                            values.push((k, v));
                        }
                    }
                    script.text
                })
                .collect()
        } else {
            args.iter().map(|a| fill(a, vars)).collect()
        };
        // Linux caps one argument or environment string at 128 KiB: a longer token can only
        // reach the command on stdin. Measure what is really passed.
        if filled.iter().any(|a| a.len() >= MAX_ARG)
            || values.iter().any(|(k, v)| k.len() + 1 + v.len() >= MAX_ARG)
        {
            return Answer::new(
                Observed::Skipped,
                format!(
                    "a {}-byte token cannot be a command-line argument or variable; read it from stdin",
                    token.len()
                ),
            );
        }
        let program = fill(program, vars);
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(&filled);
        if token.len() + "BITBUCKET_STEP_OIDC_TOKEN=".len() < MAX_ARG {
            cmd.env("BITBUCKET_STEP_OIDC_TOKEN", token);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in &values {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own process group, so a timeout ends what a wrapper script started too. (A
        // child that calls setsid(2) leaves the group, and is out of reach: see the README.)
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => format!("command not found: {program}"),
                    std::io::ErrorKind::PermissionDenied => {
                        format!("not executable: {program}")
                    }
                    _ => format!("cannot run {program}: {e}"),
                };
                return Answer::new(Observed::ConnectionError, why);
            }
        };
        if let Some(mut stdin) = child.stdin.take() {
            // A command that never reads stdin must not block us.
            let t = token.clone();
            tokio::spawn(async move {
                let _ = stdin.write_all(t.as_bytes()).await;
            });
        }
        let out = child.stdout.take().map(|o| tokio::spawn(capture(o)));
        let err = child.stderr.take().map(|e| tokio::spawn(capture(e)));
        let pid = child.id();
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => return Answer::new(Observed::ConnectionError, e.to_string()),
            Err(_) => {
                kill_group(pid).await;
                return Answer::new(
                    Observed::Timeout,
                    format!("no exit within {:?}", self.timeout),
                );
            }
        };
        // The exit status decides; output still held open by a background child is not
        // waited for past a short grace.
        let collect = |h: Option<tokio::task::JoinHandle<Capture>>| async move {
            match h {
                Some(h) => {
                    let abort = h.abort_handle();
                    match tokio::time::timeout(EXIT_GRACE, h).await {
                        Ok(Ok(c)) => c.text(),
                        _ => {
                            abort.abort();
                            String::new()
                        }
                    }
                }
                None => String::new(),
            }
        };
        let stderr = collect(err).await;
        let stdout = collect(out).await;
        let observed = if status.success() {
            Observed::Accepted
        } else {
            Observed::Refused
        };
        let how = match status.code() {
            Some(c) => format!("exit {c}"),
            None => signal_text(&status),
        };
        let said = if stderr.trim().is_empty() {
            last_lines(&stdout, 3)
        } else {
            last_lines(&stderr, 3)
        };
        let detail = if said.is_empty() {
            how
        } else {
            format!("{how}: {said}")
        };
        Answer::new(observed, detail)
    }
}

#[cfg(unix)]
fn signal_text(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(sig) => {
            let name = match sig {
                4 => " (SIGILL)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                13 => " (SIGPIPE)",
                15 => " (SIGTERM)",
                _ => "",
            };
            format!("crashed: killed by signal {sig}{name}")
        }
        None => "exit unknown".into(),
    }
}

#[cfg(not(unix))]
fn signal_text(_: &std::process::ExitStatus) -> String {
    "exit unknown".into()
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
    fn capture_keeps_a_head_and_a_tail() {
        let mut c = Capture::default();
        for _ in 0..1000 {
            c.push(&[b'x'; 1000]);
        }
        c.push(b"THE END");
        assert_eq!(c.kept(), 2 * KEEP);
        let text = c.text();
        assert!(text.ends_with("THE END"), "{}", &text[text.len() - 20..]);
        assert!(text.contains(&format!("{} bytes dropped", 1_000_007 - 2 * KEEP)));
        let mut small = Capture::default();
        small.push(b"a");
        small.push(b"b");
        assert_eq!(small.text(), "ab");
    }

    #[test]
    fn excerpts_are_one_bounded_line() {
        assert_eq!(excerpt("a\n b\tc", 10), "a b c");
        assert_eq!(excerpt(&"é".repeat(300), 3), "ééé…");
        assert_eq!(last_lines("1\n2\n\n3\n4\n", 2), "3 | 4");
    }
}
