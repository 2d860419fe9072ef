//! `stepmint completions` and `stepmint man`: what the tool says about itself, generated from the
//! same argument definitions the parser uses, so they cannot drift.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;

use crate::cli::{CompletionsArgs, ManArgs};
use crate::out::human;

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stepmint", &mut buf);
    crate::out::text(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> Result<ExitCode> {
    let pages = pages();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, page) in &pages {
            let path = dir.join(format!("{name}.1"));
            std::fs::write(&path, render(name, page, true)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        human(&format!(
            "{} man pages written to {}",
            pages.len(),
            dir.display()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let out = match args.command.as_deref() {
        // The whole manual as one document: the root page, then every command's.
        None => {
            let mut out = Vec::new();
            for (i, (name, page)) in pages.iter().enumerate() {
                out.extend(render(name, page, i == 0)?);
            }
            out
        }
        Some(wanted) => {
            let name = format!("stepmint-{}", wanted.trim().replace(' ', "-"));
            match pages.iter().find(|(n, _)| *n == name) {
                Some((name, page)) => render(name, page, true)?,
                None => {
                    let known: Vec<&str> = pages
                        .iter()
                        .skip(1)
                        .map(|(n, _)| n.trim_start_matches("stepmint-"))
                        .collect();
                    bail!(crate::common::Usage(format!(
                        "no command `{wanted}` has a man page; these do: {}",
                        known.join(", ")
                    )));
                }
            }
        }
    };
    crate::out::text(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}

/// Every page: `stepmint`, then each command and each of its own commands (`stepmint-fault-set`),
/// each with the full command line as its name so its synopsis reads as typed.
fn pages() -> Vec<(String, clap::Command)> {
    let mut root = crate::cli::Cli::command();
    root.build();
    let mut pages = Vec::new();
    collect(&root, "stepmint", &mut pages);
    pages
}

fn collect(cmd: &clap::Command, line: &str, pages: &mut Vec<(String, clap::Command)>) {
    pages.push((line.replace(' ', "-"), cmd.clone().bin_name(line)));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub, &format!("{line} {}", sub.get_name()), pages);
    }
}

/// One page in roff. The after-help text is ours rather than clap_mangen's "EXTRA": its
/// examples go verbatim under EXAMPLES (reflowing would join them into one line), the rest
/// under NOTES. `title`: whether to start a new page (`.TH`); the one-document manual has one.
fn render(name: &str, cmd: &clap::Command, title: bool) -> Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd.clone()).title(name.to_string());
    let mut buf = Vec::new();
    if title {
        man.render_title(&mut buf)?;
    } else {
        buf.extend(format!(".SH \"{}\"\n", roff_escape(&name.replace('-', " "))).as_bytes());
    }
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut buf)?;
    }
    let after = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let (examples, notes) = split_after_help(&after);
    if !examples.is_empty() {
        buf.extend(b".SH EXAMPLES\n.nf\n");
        for line in &examples {
            buf.extend(format!("{}\n", roff_line(line)).as_bytes());
        }
        buf.extend(b".fi\n");
    }
    if !notes.is_empty() {
        buf.extend(b".SH NOTES\n");
        for para in notes {
            buf.extend(format!(".PP\n{}\n", roff_line(&para)).as_bytes());
        }
    }
    // clap_mangen's version section insists on a version, which only the root command has.
    if title && (cmd.get_version().is_some() || cmd.get_long_version().is_some()) {
        man.render_version_section(&mut buf)?;
    }
    Ok(buf)
}

/// Splits an after-help text into its example lines ("Examples:" then indented lines, up to the
/// first blank line) and the paragraphs after them, each joined into one line.
fn split_after_help(text: &str) -> (Vec<String>, Vec<String>) {
    let mut examples = Vec::new();
    let mut rest = text;
    if let Some(body) = text.strip_prefix("Examples:\n") {
        let end = body.find("\n\n").unwrap_or(body.len());
        examples = body[..end]
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        rest = &body[end..];
    }
    let notes = rest
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    (examples, notes)
}

/// A line of text as roff shows it: backslashes and leading control characters escaped, and
/// hyphens kept as minus signs so the commands can be copied.
fn roff_line(line: &str) -> String {
    let escaped = roff_escape(line);
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn roff_escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_and_notes_are_told_apart() {
        let (ex, notes) = split_after_help(
            "Examples:\n  stepmint a --b\n  stepmint c   # needs d\n\nNeeds: a server.\nSecond line.\n\nExit codes: 0.",
        );
        assert_eq!(ex, ["stepmint a --b", "stepmint c   # needs d"]);
        assert_eq!(notes, ["Needs: a server. Second line.", "Exit codes: 0."]);
        let (ex, notes) = split_after_help("Only prose here.");
        assert!(ex.is_empty());
        assert_eq!(notes, ["Only prose here."]);
    }

    #[test]
    fn roff_control_characters_are_escaped() {
        assert_eq!(roff_line(".hidden"), "\\&.hidden");
        assert_eq!(roff_line("a\\b --c"), "a\\eb \\-\\-c");
    }
}
