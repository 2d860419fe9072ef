//! `stepmint`: the command-line face of the Stepmint core. Parses arguments, calls the library,
//! prints. Exit codes: 0 success, 1 failure, 2 usage error.

mod ca;
mod cases;
mod cli;
mod common;
mod decode;
mod fault;
mod keys;
mod mint;
mod out;
mod probe;
mod run;
mod serve;
mod verify;

use std::process::ExitCode;

use std::io::Write as _;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let result = match args.command {
        cli::Command::Serve(a) => serve::run(a),
        cli::Command::Mint(a) => mint::run(a),
        cli::Command::Decode(a) => decode::run(a),
        cli::Command::Ca(a) => ca::run(a),
        cli::Command::Cases(a) => cases::run(a),
        cli::Command::Keys(a) => keys::run(a),
        cli::Command::Verify(a) => verify::run(a),
        cli::Command::Run(a) => run::run(a),
        cli::Command::Steps(a) => run::steps(a),
        cli::Command::Probe(a) => probe::run(a),
        cli::Command::Fault(a) => fault::run(a),
    };
    match result {
        Ok(code) => code,
        Err(err) if err.chain().any(|e| e.is::<out::Closed>()) => ExitCode::SUCCESS,
        Err(err) => {
            // An error may quote what it was given (a slug, a path, a token's kid): escaped.
            let text = stepmint::printable(&format!("{err:#}")).into_owned();
            let _ = writeln!(std::io::stderr(), "stepmint: error: {text}");
            ExitCode::from(common::exit_code(&err))
        }
    }
}
