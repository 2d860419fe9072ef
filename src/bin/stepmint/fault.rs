//! `stepmint fault set|clear|list`: change a running server's faults through its control API.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use stepmint::faults::{Fault, FaultEndpoint};
use stepmint::{ControlClient, DataDir};

use crate::cli::{FaultArgs, FaultCommand};
use crate::common::{self, Usage};

pub fn run(args: FaultArgs) -> Result<ExitCode> {
    let data = DataDir::open(common::data_dir(&args.data)?)?;
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
            None => client.get(&["workspaces"]).await?["workspaces"][0]["slug"]
                .as_str()
                .context("no workspace")?
                .to_string(),
        };
        let out: Value = match &args.what {
            FaultCommand::List => client.get(&["faults"]).await?,
            FaultCommand::Clear { endpoint, all } => {
                if *all {
                    client.delete(&["faults"]).await?
                } else {
                    let ep = endpoint.as_deref().map(FaultEndpoint::parse).transpose()?;
                    match ep {
                        Some(e) => {
                            let ep = json!(e);
                            client
                                .delete(&["faults", &workspace, ep.as_str().unwrap_or_default()])
                                .await?
                        }
                        None => client.delete(&["faults", &workspace]).await?,
                    }
                }
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
                let ep = json!(endpoint);
                client
                    .put(
                        &["faults", &workspace, ep.as_str().unwrap_or_default()],
                        &serde_json::to_value(&fault)?,
                    )
                    .await?
            }
        };
        if args.json {
            crate::out::line(&serde_json::to_string_pretty(&out)?)?;
        } else {
            print_human(&out)?;
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

fn parse_ms(text: &str) -> Result<u64> {
    text.trim()
        .parse()
        .map_err(|_| Usage(format!("--latency {text}: milliseconds, or MIN-MAX")).into())
}

fn print_human(out: &Value) -> Result<()> {
    if let Some(n) = out["cleared"].as_u64() {
        crate::out::human(&format!("cleared {n} fault(s)"))?;
    }
    let faults = out["faults"].as_array().cloned().unwrap_or_default();
    if faults.is_empty() {
        return crate::out::human("no fault is set");
    }
    for f in &faults {
        let remaining = f["remaining"]
            .as_u64()
            .map(|n| format!(" ({n} failure(s) left)"))
            .unwrap_or_default();
        crate::out::human(&format!(
            "{:<20} {:<10} {}{remaining}",
            f["workspace"].as_str().unwrap_or_default(),
            f["endpoint"].as_str().unwrap_or_default(),
            f["fault"]
        ))?;
    }
    Ok(())
}
