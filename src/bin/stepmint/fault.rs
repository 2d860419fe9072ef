//! `stepmint fault set|clear|list`: change a running server's faults through its control API.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use stepmint::api::{FaultEntry, FaultList, FaultsCleared};
use stepmint::faults::{Fault, FaultEndpoint};
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::{ControlClient, DataDir};

use crate::cli::{DataDirArg, FaultArgs, FaultCommand};
use crate::common::{self, Usage};

pub fn run(args: FaultArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let data = DataDir::open(common::data_dir(dir_arg)?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = ControlClient::find_running(&data).await?.with_context(|| {
            format!(
                "no `stepmint serve` is running on {}: faults live in a running server",
                data.root().display()
            )
        })?;
        let workspace = match &args.workspace {
            Some(w) => {
                stepmint::validate_slug(w)?;
                w.clone()
            }
            None => client.default_workspace().await?,
        };
        let out = match &args.what {
            FaultCommand::List => Outcome::Listed(
                client
                    .call::<calls::Faults>(&[], &NoQuery {}, &NoBody {})
                    .await?,
            ),
            FaultCommand::Clear { endpoint, all } => {
                let ep = endpoint.as_deref().map(FaultEndpoint::parse).transpose()?;
                Outcome::Cleared(match ep {
                    _ if *all => {
                        client
                            .call::<calls::ClearAllFaults>(&[], &NoQuery {}, &NoBody {})
                            .await?
                    }
                    Some(e) => {
                        client
                            .call::<calls::ClearFault>(
                                &[&workspace, e.as_str()],
                                &NoQuery {},
                                &NoBody {},
                            )
                            .await?
                    }
                    None => {
                        client
                            .call::<calls::ClearWorkspaceFaults>(
                                &[&workspace],
                                &NoQuery {},
                                &NoBody {},
                            )
                            .await?
                    }
                })
            }
            FaultCommand::Set(s) => {
                let endpoint = FaultEndpoint::parse(&s.endpoint)?;
                let latency_ms = match &s.latency {
                    None => None,
                    Some(text) => Some(match text.split_once('-') {
                        Some((a, b)) => vec![parse_ms(a)?, parse_ms(b)?],
                        None => vec![parse_ms(text)?],
                    }),
                };
                let etag = match s.etag.as_deref() {
                    None => None,
                    Some("never-changes") => Some(stepmint::faults::EtagMode::NeverChanges),
                    Some("always-changes") => Some(stepmint::faults::EtagMode::AlwaysChanges),
                    Some(other) => bail!(Usage(format!(
                        "--etag {other}: never-changes or always-changes"
                    ))),
                };
                let fault = Fault {
                    latency_ms,
                    status: s.status,
                    retry_after: s.retry_after,
                    fail_next: s.fail_next,
                    reset: s.reset,
                    hang: s.hang,
                    truncate: s.truncate,
                    non_json: s.non_json,
                    content_type: s.content_type.clone(),
                    cache_control: s.cache_control.clone(),
                    etag,
                    empty_jwks: s.empty_jwks,
                    duplicate_kid: s.duplicate_kid,
                };
                fault.validate()?;
                let params = [workspace.as_str(), endpoint.as_str()];
                Outcome::Listed(
                    client
                        .call::<calls::SetFault>(&params, &NoQuery {}, &fault)
                        .await?,
                )
            }
        };
        match (&out, args.json) {
            (Outcome::Listed(l), true) => crate::out::line(&serde_json::to_string_pretty(l)?)?,
            (Outcome::Cleared(c), true) => crate::out::line(&serde_json::to_string_pretty(c)?)?,
            (Outcome::Listed(l), false) => print_faults(&l.faults)?,
            (Outcome::Cleared(c), false) => {
                crate::out::human(&format!("cleared {} fault(s)", c.cleared))?;
                print_faults(&c.faults)?;
            }
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

fn parse_ms(text: &str) -> Result<u64> {
    text.trim()
        .parse()
        .map_err(|_| Usage(format!("--latency {text}: milliseconds, or MIN-MAX")).into())
}

/// What the server answered: the faults set, or how many were cleared and what is left.
enum Outcome {
    Listed(FaultList),
    Cleared(FaultsCleared),
}

fn print_faults(faults: &[FaultEntry]) -> Result<()> {
    if faults.is_empty() {
        return crate::out::human("no fault is set");
    }
    for f in faults {
        let remaining = f
            .remaining
            .map(|n| format!(" ({n} failure(s) left)"))
            .unwrap_or_default();
        crate::out::human(&format!(
            "{:<20} {:<10} {}{remaining}",
            f.workspace,
            f.endpoint.as_str(),
            f.fault.describe()
        ))?;
    }
    Ok(())
}
