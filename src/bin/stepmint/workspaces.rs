//! `stepmint workspaces list|add|remove`, `stepmint log`, `stepmint completions`, `stepmint man`:
//! the housekeeping commands.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use serde_json::{Value, json};
use stepmint::{
    Clock, ControlClient, DataDir, IdSource, Issuer, IssuerOptions, SystemClock, Workspace,
    WorkspaceSpec, braced,
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
                let served = client.get(&["workspaces"]).await_blocking(&runtime)?;
                let serves = served["workspaces"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|w| w["slug"] == slug.as_str());
                if serves {
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
    let list = describe(&dir)?;
    if args.json {
        line(&serde_json::to_string_pretty(
            &json!({ "workspaces": list }),
        )?)?;
    } else if matches!(args.what, WorkspacesCommand::List) {
        if list.is_empty() {
            human(&format!(
                "no workspace in {} yet (`stepmint serve` or `stepmint mint` creates `{}`)",
                dir.display(),
                stepmint::DEFAULT_WORKSPACE
            ))?;
        }
        for w in &list {
            human(&format!(
                "{:<20} {}  signs with {}",
                w["slug"].as_str().unwrap_or_default(),
                w["uuid"].as_str().unwrap_or_default(),
                w["active_kid"].as_str().unwrap_or_default()
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every persisted workspace, as `serve --json` describes them.
fn describe(dir: &std::path::Path) -> Result<Vec<Value>> {
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
    Ok(issuer
        .workspaces()
        .iter()
        .map(|w| serde_json::to_value(w.info()).unwrap_or_default())
        .collect())
}

trait Blocking {
    fn await_blocking(self, runtime: &tokio::runtime::Runtime) -> stepmint::Result<Value>;
}

impl<F: std::future::Future<Output = stepmint::Result<Value>>> Blocking for F {
    fn await_blocking(self, runtime: &tokio::runtime::Runtime) -> stepmint::Result<Value> {
        runtime.block_on(self)
    }
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
            let page = client
                .get_query(
                    &["requests"],
                    &[("since", since.to_string()), ("all", "true".into())],
                )
                .await?;
            for r in page["requests"].as_array().into_iter().flatten() {
                if args.json {
                    line(&r.to_string())?;
                } else {
                    human(&format_record(r))?;
                }
            }
            since = page["next"].as_u64().unwrap_or(since);
            if !args.follow {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A record as the server's stderr log prints it.
fn format_record(r: &Value) -> String {
    let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
    let mut out = format!(
        "{} {} {} {} {} {:.1}ms",
        s("time"),
        s("peer"),
        s("method"),
        s("path"),
        r["status"],
        r["duration_ms"].as_f64().unwrap_or_default()
    );
    if let Some(ua) = r["user_agent"].as_str() {
        out.push_str(&format!(" \"{ua}\""));
    }
    if let Some(f) = r["fault"].as_str() {
        out.push_str(&format!(" fault={f}"));
    }
    out
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
