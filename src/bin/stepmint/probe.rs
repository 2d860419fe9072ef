//! `stepmint probe`: the catalogue against a live relying party.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};
use stepmint::probe::{self, BASELINE_REFUSED, ProbeOptions, Target};
use stepmint::{
    Config, ControlClient, DataDir, IdSource, Instance, Issuer, IssuerOptions, StepRequest,
    SystemClock, WorkspaceSpec,
};

use crate::cli::ProbeArgs;
use crate::common;

pub fn run(args: ProbeArgs) -> Result<ExitCode> {
    let target = if let Some(cmd) = &args.exec {
        Target::Exec {
            argv: probe::split_command(cmd)?,
        }
    } else {
        let url = args.url.clone().context("--url or --exec")?;
        let mut ca = Vec::new();
        for p in &args.ca {
            ca.push(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?);
        }
        Target::http(
            url,
            &args.method,
            &args.headers,
            args.body.clone(),
            probe::parse_range(&args.accept_status)?,
            ca,
        )?
    };
    let mut overrides = Map::new();
    if !args.audiences.is_empty() {
        overrides.insert("audiences".into(), json!(args.audiences));
    }
    if !args.sub_like.is_empty() {
        overrides.insert("sub_like".into(), json!(args.sub_like));
    }
    let conditions = common::claim_conditions(&args.claims)?;
    if !conditions.is_empty() {
        overrides.insert("conditions".into(), serde_json::to_value(conditions)?);
    }
    if let Some(l) = args.leeway {
        overrides.insert("leeway".into(), json!(l));
    }
    let options = ProbeOptions {
        target,
        policy_overrides: overrides,
        step: StepRequest {
            workspace: args.workspace.clone(),
            repository_uuid: args.repo_uuid.clone(),
            deployment_environment_uuid: args.env_uuid.clone(),
            branch: args.branch.clone(),
            ..Default::default()
        },
        only: args.cases.clone(),
        skip: args.skip.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        concurrency: args.concurrency,
    };

    let dir = common::data_dir(&args.data)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let data = DataDir::open(&dir)?;
        let workspaces = args
            .workspace
            .iter()
            .map(|w| WorkspaceSpec::parse(w))
            .collect::<stepmint::Result<Vec<_>>>()?;
        // Relying parties are configured for an issuer URL: use the running server if there is one.
        let (issuer, instance) = if ControlClient::find_running(&data).await?.is_some() {
            let mut opts = IssuerOptions::new(&dir, common::public_url(&dir, None)?);
            opts.workspaces = workspaces;
            (
                Arc::new(Issuer::open(
                    opts,
                    Arc::new(SystemClock),
                    Arc::new(IdSource::random()),
                )?),
                None,
            )
        } else {
            let config = Config {
                data_dir: Some(dir.clone()),
                port: args.port,
                public_url: args.public_url.clone(),
                workspaces,
                ..Config::default()
            };
            let instance =
                Instance::start(config, Arc::new(SystemClock), Arc::new(IdSource::random()))
                    .await?;
            eprintln!("stepmint: issuer for the probe at {}", instance.base_url());
            (instance.issuer().clone(), Some(instance))
        };
        let live = !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let report = probe::run(issuer, options, move |done, total| {
            if live {
                eprint!("\rprobing: {done}/{total}");
            }
        })
        .await;
        if live {
            eprintln!();
        }
        if let Some(i) = instance {
            i.stop().await;
        }
        anyhow::Ok(report?)
    })?;

    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    if report.baseline.observed != probe::Observed::Accepted {
        eprintln!(
            "stepmint: {BASELINE_REFUSED}: {:?}: {}",
            report.baseline.observed, report.baseline.detail
        );
        return Ok(ExitCode::from(1));
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_table(report: &probe::ProbeReport) {
    let label = |v: &Value| v.as_str().unwrap_or_default().to_string();
    println!(
        "{:<28} {:<8} {:<17} {:<7} reference",
        "case", "expected", "observed", "verdict"
    );
    for r in std::iter::once(&report.baseline).chain(&report.rows) {
        let observed = label(&serde_json::to_value(&r.observed).unwrap_or_default());
        let verdict = label(&serde_json::to_value(r.verdict).unwrap_or_default());
        let expected = label(&serde_json::to_value(r.expected).unwrap_or_default());
        println!(
            "{:<28} {:<8} {:<17} {:<7} {}",
            r.case,
            expected,
            observed,
            verdict.to_uppercase(),
            r.reference
        );
    }
    let s = &report.summary;
    println!(
        "probe: {} cases: {} as expected, {} hostile accepted, {} acceptable refused, {} errors, {} skipped",
        s.total, s.passed, s.failed, s.strict, s.errors, s.skipped
    );
}
