//! Every example in every `--help` works as printed on a fresh data directory, or says what it
//! needs: a line's `# needs ...` comment (skipped here), or a command's `Needs: a running server`
//! (its examples run here against one, on port 0). `serve` examples run until they listen.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util;

/// `stepmint ARGS --help`'s text.
fn help(path: &[String]) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let out = util::run(&args);
    assert!(out.status.success(), "{path:?}: {}", util::text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists under `Commands:`.
fn subcommands(help: &str) -> Vec<String> {
    help.split("\nCommands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| *name != "help")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Every command path (`[]`, `["ca"]`, `["ca", "install-browser"]`, ...) with its help.
fn every_help() -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let text = help(&path);
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
        out.push((path, text));
    }
    out
}

/// The example lines of a help text.
fn examples(help: &str) -> Vec<String> {
    help.split("Examples:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A shell running one example in `cwd`, finding this `stepmint` first on PATH, on `data`.
fn shell(line: &str, cwd: &Path, data: &Path) -> Command {
    let bin_dir = util::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", line])
        .current_dir(cwd)
        .env("PATH", path)
        .env("STEPMINT_DATA_DIR", data)
        .env("HOME", cwd)
        // `serve` examples pick a free port (a flag on the line would win, and none does).
        .env("STEPMINT_PORT", "0")
        .env_remove("STEPMINT_CONTROL_TOKEN");
    cmd
}

/// Runs a `serve` example until it says it listens, then stops it.
fn serve_until_listening(line: &str, cwd: &Path, data: &Path) -> Result<(), String> {
    let mut child = shell(&format!("exec {line}"), cwd, data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut listening = false;
    for l in stdout.lines().map_while(Result::ok) {
        if l.contains("Ctrl-C stops it") || l.contains("\"listening\"") {
            listening = true;
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if listening {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_help_example_works_on_a_fresh_data_directory_or_says_what_it_needs() {
    let mut ran = 0;
    for (path, text) in every_help() {
        let lines = examples(&text);
        if lines.is_empty() {
            continue;
        }
        // Each command's examples in order on their own fresh directory, as a newcomer
        // pasting them one after the other would.
        let data = util::data_dir();
        let cwd = util::data_dir();
        let server = text
            .contains("Needs: a running server")
            .then(|| util::ServeProcess::start(data.path(), &[]).expect("serve"));
        for line in &lines {
            let comment = line.split(" # ").nth(1).unwrap_or_default();
            if comment.contains("needs ") {
                continue;
            }
            let command = line.split(" # ").next().unwrap().trim();
            if command.starts_with("stepmint serve") {
                serve_until_listening(command, cwd.path(), data.path())
                    .unwrap_or_else(|e| panic!("{path:?}: `{line}` never listened: {e}"));
            } else if comment.contains("until Ctrl-C") {
                continue;
            } else {
                let out = shell(command, cwd.path(), data.path())
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{path:?}: `{line}` failed on a fresh data directory: {}",
                    util::text(&out)
                );
            }
            ran += 1;
        }
        drop(server);
    }
    // Most examples need nothing: a parser that found none would pass vacuously.
    assert!(ran >= 40, "only {ran} examples ran");
}
