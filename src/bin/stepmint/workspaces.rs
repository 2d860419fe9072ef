//! `stepmint workspaces list|add|remove`, `stepmint log`, `stepmint completions`, `stepmint man`:
//! the housekeeping commands.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use stepmint::api::WorkspaceList;
use stepmint::http::MAX_PAGE;
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::{
    Clock, ControlClient, DataDir, IdSource, Issuer, IssuerOptions, SystemClock, Workspace,
    WorkspaceInfo, WorkspaceSpec, braced,
};

use crate::cli::{CompletionsArgs, LogArgs, ManArgs, WorkspacesArgs, WorkspacesCommand};
use crate::common::{self, Usage};
use crate::out::{human, line};

pub fn run(args: WorkspacesArgs) -> Result<ExitCode> {
    let dir = common::data_dir(&args.data)?;
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
                "{:<20} {}  signs with {}",
                w.slug, w.uuid, w.active_kid
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

pub fn log(args: LogArgs) -> Result<ExitCode> {
    let dir = common::data_dir(&args.data)?;
    let data = DataDir::open(&dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = ControlClient::find_running(&data).await?.with_context(|| {
            format!(
                "no `stepmint serve` is running on {}: the request log lives in a running server",
                dir.display()
            )
        })?;
        let mut since = 0u64;
        loop {
            let query = calls::RequestsQuery {
                since,
                all: true,
                limit: MAX_PAGE,
            };
            let page = client
                .call::<calls::Requests>(&[], &query, &NoBody {})
                .await?;
            for r in &page.requests {
                if args.json {
                    line(&serde_json::to_string(r)?)?;
                } else {
                    // The server's own access-log line.
                    human(&r.to_string())?;
                }
            }
            since = page.next;
            // A full page: the log holds more (it keeps twice a page), read on at once.
            if page.requests.len() >= MAX_PAGE {
                continue;
            }
            if !args.follow {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stepmint", &mut buf);
    crate::out::text(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> Result<ExitCode> {
    let cmd = crate::cli::Cli::command();
    match &args.dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            crate::out::text(&String::from_utf8_lossy(&buf))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut pages = vec![("stepmint".to_string(), cmd.clone())];
            for sub in cmd.get_subcommands() {
                pages.push((format!("stepmint-{}", sub.get_name()), sub.clone()));
            }
            for (name, page) in pages {
                let mut buf = Vec::new();
                clap_mangen::Man::new(page)
                    .title(name.clone())
                    .render(&mut buf)?;
                let path = dir.join(format!("{name}.1"));
                std::fs::write(&path, buf)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            human(&format!("man pages written to {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
