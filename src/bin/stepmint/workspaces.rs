//! `stepmint workspaces list|add|remove`: which workspaces the data directory holds, changed only
//! here (no other command creates one), through the running server when there is one.

use std::process::ExitCode;

use anyhow::{Result, bail};
use stepmint::api::WorkspaceList;
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::{
    Clock, ControlClient, DataDir, IdSource, Issuer, IssuerOptions, SystemClock, Workspace,
    WorkspaceInfo, WorkspaceSpec, braced,
};

use crate::cli::{DataDirArg, WorkspacesArgs, WorkspacesCommand};
use crate::common::{self, Usage};
use crate::out::{human, line};

pub fn run(args: WorkspacesArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let dir = common::data_dir(dir_arg)?;
    let data = DataDir::open(&dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let running = runtime.block_on(ControlClient::find_running(&data))?;
    match &args.what {
        WorkspacesCommand::List => {}
        WorkspacesCommand::Add { spec } => {
            let spec = WorkspaceSpec::parse(spec)?;
            let ws = Workspace::create(&data, &spec, SystemClock.now())?;
            if !args.json {
                human(&format!("added: {} {}", ws.slug, braced(&ws.uuid)))?;
                if running.is_some() {
                    human(
                        "note: the running server serves the workspaces it started with; restart it to serve this one",
                    )?;
                }
            }
        }
        WorkspacesCommand::Remove { slug, yes } => {
            stepmint::validate_slug(slug)?;
            if let Some(client) = &running {
                let served = runtime.block_on(client.call::<calls::ListWorkspaces>(
                    &[],
                    &NoQuery {},
                    &NoBody {},
                ))?;
                if served.workspaces.iter().any(|w| w.slug == *slug) {
                    bail!(Usage(format!(
                        "the running server serves `{slug}`: stop it first (its keys would be removed under it)"
                    )));
                }
            }
            if !yes {
                bail!(Usage(format!(
                    "removing `{slug}` deletes its keys for good: add --yes"
                )));
            }
            Workspace::remove(&data, slug)?;
            if !args.json {
                human(&format!("removed: {slug}"))?;
            }
        }
    }
    let workspaces = describe(&dir)?;
    if args.json {
        line(&serde_json::to_string_pretty(&WorkspaceList {
            workspaces,
        })?)?;
    } else if matches!(args.what, WorkspacesCommand::List) {
        if workspaces.is_empty() {
            human(&format!(
                "no workspace in {} yet (`stepmint serve` or `stepmint mint` creates `{}`)",
                dir.display(),
                stepmint::DEFAULT_WORKSPACE
            ))?;
        }
        for w in &workspaces {
            human(&format!(
                "{:<20} {}  signs with {}\n{:<20} default audience {}",
                w.slug, w.uuid, w.active_kid, "", w.default_audience
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every persisted workspace, as `serve --json` describes them.
fn describe(dir: &std::path::Path) -> Result<Vec<WorkspaceInfo>> {
    let data = DataDir::open(dir)?;
    let slugs = Workspace::persisted(&data)?;
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let mut options = IssuerOptions::new(dir, common::public_url(dir, None)?);
    options.workspaces = slugs
        .into_iter()
        .map(|slug| WorkspaceSpec { slug, uuid: None })
        .collect();
    let issuer = Issuer::open(
        options,
        std::sync::Arc::new(SystemClock),
        std::sync::Arc::new(IdSource::random()),
    )?;
    Ok(issuer.workspaces().iter().map(|w| w.info()).collect())
}
