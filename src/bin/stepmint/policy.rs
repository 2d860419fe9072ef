//! `stepmint policy eval|check`: read the policy, call the core, print.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use stepmint::policy::{Context, Document, Kind};
use stepmint::{Issuer, IssuerOptions, policy_check};

use crate::cli::{DataDirArg, PolicyArgs, PolicyCheckArgs, PolicyCommand, PolicyEvalArgs};
use crate::common::{self, Usage};

pub fn run(args: PolicyArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    match args.what {
        PolicyCommand::Eval(a) => eval(a, dir_arg),
        PolicyCommand::Check(a) => check(a),
    }
}

/// Reads and parses the policy; every problem is a usage error (exit 2).
fn document(path: &Path, kind: Option<&str>) -> Result<Document> {
    let kind = kind.map(str::parse::<Kind>).transpose()?;
    let meta = std::fs::metadata(path)
        .map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > stepmint::policy::MAX_POLICY_BYTES as u64 {
        bail!(Usage(format!(
            "{}: {} bytes; policies larger than {} bytes are refused",
            path.display(),
            meta.len(),
            stepmint::policy::MAX_POLICY_BYTES
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Usage(format!(
            "{}: not UTF-8 text, so not a JSON policy",
            path.display()
        ))
    })?;
    Document::parse(&text, kind).with_context(|| format!("{}", path.display()))
}

fn eval(args: PolicyEvalArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let doc = document(&args.file, args.kind.as_deref())?;
    let token = match (&args.token, &args.token_file) {
        (Some(t), _) => common::token_arg(t.clone())?,
        (None, Some(p)) => std::fs::read_to_string(p)
            .map_err(|e| Usage(format!("cannot read {}: {e}", p.display())))?
            .trim()
            .to_string(),
        (None, None) => bail!(Usage(
            "give the token with --token TOKEN (or -) or --token-file PATH".into()
        )),
    };
    let clock = common::clock(&args.time)?;
    let now = clock.now();
    let data_dir = common::data_dir(dir_arg)?;
    let public_url = common::public_url(&data_dir, None)?;
    let mut options = IssuerOptions::new(&data_dir, public_url);
    if let Some(ws) = common::existing_workspace(&data_dir, args.workspace.as_deref())? {
        options.workspaces = vec![ws];
    }
    let issuer = Issuer::open(options, clock, common::ids(&args.time))?;
    let registration = Context {
        aws_account: args.account.clone(),
        aws_client_ids: (!args.client_ids.is_empty()).then(|| args.client_ids.clone()),
        role_session_name: args.session_name.clone(),
        gcp_provider: args.gcp_provider.clone(),
        ..Context::default()
    };
    let e = policy_check::eval_token(
        &issuer,
        &doc,
        &token,
        args.workspace.as_deref(),
        &registration,
        now,
    )?;
    if args.json {
        crate::out::line(&serde_json::to_string_pretty(&e)?)?;
    } else {
        crate::out::text(&policy_check::human_eval(&e, args.verbose))?;
    }
    Ok(if e.decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(args: PolicyCheckArgs) -> Result<ExitCode> {
    let doc = document(&args.file, args.kind.as_deref())?;
    let mut environments = BTreeMap::new();
    for e in &args.envs {
        let Some((name, uuid)) = e.split_once('=') else {
            bail!(Usage(format!("--env {e}: expected NAME=UUID")));
        };
        environments.insert(
            name.to_string(),
            stepmint::braced(&stepmint::parse_uuid(&format!("--env {name}"), uuid)?),
        );
    }
    if let Some(p) = &args.pipelines
        && !p.is_file()
    {
        bail!(Usage(format!("--pipelines {}: no such file", p.display())));
    }
    let opts = policy_check::CheckOptions {
        issuer: args.issuer.clone(),
        workspace_uuid: args.workspace_uuid.clone(),
        repository_uuid: args.repository.clone(),
        environments,
        registration: Context {
            aws_account: args.account.clone(),
            now: common::clock(&args.time)?.now(),
            ..Context::default()
        },
    };
    let report = policy_check::check(&doc, args.pipelines.as_deref(), &opts)?;
    if let Some(path) = &args.sarif {
        let text = serde_json::to_string_pretty(&policy_check::sarif(
            &report,
            &args.file.display().to_string(),
        ))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, policy_check::junit(&report))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        crate::out::line(&serde_json::to_string_pretty(&report)?)?;
    } else {
        crate::out::text(&policy_check::human_check(&report))?;
    }
    Ok(if report.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
