//! `stepmint`: the command-line face of the Stepmint core. Parses arguments, calls the library,
//! prints. Exit codes: 0 success, 1 failure, 2 usage error.

mod ca;
mod cases;
mod cli;
mod common;
mod decode;
mod fault;
mod health;
mod keys;
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
    let mut args = cli::Cli::parse();
    // The global --data-dir reaches every command that uses one.
    let data = args.data.clone();
    match &mut args.command {
        cli::Command::Serve(a) => a.data = data,
        cli::Command::Mint(a) => a.data = data,
        cli::Command::Ca(a) => a.data = data,
        cli::Command::Keys(a) => a.data = data,
        cli::Command::Verify(a) => a.data = data,
        cli::Command::Run(a) => a.data = data,
        cli::Command::Probe(a) => a.data = data,
        cli::Command::Policy(cli::PolicyArgs {
            what: cli::PolicyCommand::Eval(a),
        }) => a.data = data,
        cli::Command::Fault(a) => a.data = data,
        cli::Command::Workspaces(a) => a.data = data,
        cli::Command::Log(a) => a.data = data,
        cli::Command::Health(a) => a.data = data,
        _ => {}
    }
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
        cli::Command::Policy(a) => policy::run(a),
        cli::Command::Fault(a) => fault::run(a),
        cli::Command::Workspaces(a) => workspaces::run(a),
        cli::Command::Log(a) => workspaces::log(a),
        cli::Command::Health(a) => health::run(a),
        cli::Command::Completions(a) => workspaces::completions(a),
        cli::Command::Man(a) => workspaces::man(a),
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
