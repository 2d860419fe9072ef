//! Writing to stdout. A reader that goes away (`stepmint cases | head -1`) ends the command
//! quietly; any other write failure (`> /dev/full`) is an error that says so, never a panic.

use std::io::Write;

use anyhow::Result;

/// Stdout is closed: the command stops quietly (see `main`).
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output closed")
    }
}

impl std::error::Error for Closed {}

fn check(r: std::io::Result<()>) -> Result<()> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Closed.into()),
        Err(e) => Err(anyhow::anyhow!("writing to standard output: {e}")),
    }
}

/// Prints `text` and a newline.
pub fn line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    check(writeln!(out, "{text}").and_then(|()| out.flush()))
}

/// Prints `text` as it is.
pub fn text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    check(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Prints human-readable `text` (a newline is added): every line made
/// [printable](stepmint::printable), so text from a token, a YAML file or a request cannot act
/// on the terminal (a `kid` holding `\nACCEPTED`, an ESC sequence, a bidi override).
pub fn human(text: &str) -> Result<()> {
    let safe: Vec<String> = text
        .split('\n')
        .map(|l| stepmint::printable(l).into_owned())
        .collect();
    line(&safe.join("\n"))
}
