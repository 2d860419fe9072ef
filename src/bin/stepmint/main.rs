//! `stepmint`: the command-line face of the Stepmint core. Parses arguments, calls the library,
//! prints. Exit codes: 0 success, 1 failure, 2 usage error.

mod ca;
mod cases;
mod cli;
mod common;
mod decode;
mod docs;
mod fault;
mod health;
mod keys;
mod log;
mod mint;
mod out;
mod policy;
mod probe;
mod run;
mod serve;
mod verify;
mod workspaces;

use std::process::ExitCode;

use std::io::Write as _;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // The global --data-dir (before or after the command's name) reaches every command once.
    let dir = &args.data;
    let result = match args.command {
        cli::Command::Serve(a) => serve::run(a, dir),
        cli::Command::Mint(a) => mint::run(a, dir),
        cli::Command::Decode(a) => decode::run(a),
        cli::Command::Ca(a) => ca::run(a, dir),
        cli::Command::Cases(a) => cases::run(a),
        cli::Command::Keys(a) => keys::run(a, dir),
        cli::Command::Verify(a) => verify::run(a, dir),
        cli::Command::Run(a) => run::run(a, dir),
        cli::Command::Steps(a) => run::steps(a),
        cli::Command::Probe(a) => probe::run(a, dir),
        cli::Command::Policy(a) => policy::run(a, dir),
        cli::Command::Fault(a) => fault::run(a, dir),
        cli::Command::Workspaces(a) => workspaces::run(a, dir),
        cli::Command::Log(a) => log::run(a, dir),
        cli::Command::Health(a) => health::run(a, dir),
        cli::Command::Completions(a) => docs::completions(a),
        cli::Command::Man(a) => docs::man(a),
    };
    match result {
        Ok(code) => code,
        Err(err) if err.chain().any(|e| e.is::<out::Closed>()) => ExitCode::SUCCESS,
        Err(err) => {
            // An error may quote what it was given (a slug, a path, a token's kid): escaped, line
            // by line, so a multi-line message (a TOML parse error's excerpt) keeps its newlines.
            let text = format!("{err:#}")
                .lines()
                .map(|l| stepmint::printable(l).into_owned())
                .collect::<Vec<_>>()
                .join("\n");
            let _ = writeln!(std::io::stderr(), "stepmint: error: {text}");
            ExitCode::from(common::exit_code(&err))
        }
    }
}
