//! `stepmint run` and `stepmint steps`.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use stepmint::step::{self, StepOptions};
use stepmint::{ControlClient, DataDir, Issuer, IssuerOptions, LocalCa, WorkspaceSpec, pipelines};

use crate::cli::{RunArgs, StepsArgs};
use crate::common::{self, Usage};

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let dir = common::data_dir(&args.data)?;
    let data = DataDir::open(&dir)?;
    let mut opts = StepOptions {
        workspace: args.workspace.clone(),
        repo_uuid: args.repo_uuid.clone(),
        repo_slug: args.repo_slug.clone(),
        environment: args.environment.clone(),
        branch: args.branch.clone(),
        audiences: args.audiences.clone(),
        aws_role_arn: args.aws_role_arn.clone(),
        dir: std::env::current_dir().context("the current directory")?,
    };
    if let (Some(file), Some(name)) = (&args.pipelines, &args.step) {
        let steps = pipelines::parse_file(file)?;
        let found = pipelines::find(&steps, name)?;
        if !found.oidc {
            bail!(Usage(format!(
                "step `{name}` ({}) has no `oidc: true`: Bitbucket gives it no token. Add `oidc: true` to the step.",
                found.location
            )));
        }
        if opts.environment.is_none() {
            opts.environment = found.deployment.clone();
        }
        if opts.audiences.is_empty() {
            opts.audiences = found.audiences.clone();
        }
    }
    let mut options =
        IssuerOptions::new(&dir, common::public_url(&dir, args.public_url.as_deref())?);
    if let Some(ws) = &args.workspace {
        options.workspaces = vec![WorkspaceSpec::parse(ws)?];
        opts.workspace = Some(options.workspaces[0].slug.clone());
    }
    let issuer = Issuer::open(options, common::clock(&args.time)?, common::ids(&args.time))?;
    let ca = {
        let _lock = data.lock()?;
        LocalCa::load_or_create(&data, issuer.clock().now())?
    };
    let bundle = stepmint::write_bundle(&data, ca.cert_pem())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if runtime
        .block_on(ControlClient::find_running(&data))?
        .is_none()
    {
        eprintln!(
            "stepmint: note: no `stepmint serve` is running on {}; relying parties cannot fetch its keys",
            dir.display()
        );
    }
    let env = step::prepare(
        &issuer,
        &opts,
        &common::ids(&args.time),
        &data.ca_cert(),
        &bundle,
    )?;
    let (program, rest) = args.command.split_first().context("no command given")?;
    let status = Command::new(program)
        .args(rest)
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status()
        .with_context(|| format!("running `{program}`"))?;
    drop(env);
    Ok(ExitCode::from(exit_code(&status)))
}

fn exit_code(status: &std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(255);
        }
    }
    status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1)
}

pub fn steps(args: StepsArgs) -> Result<ExitCode> {
    let steps = pipelines::parse_file(&args.file)?;
    if args.json {
        crate::out::line(&serde_json::to_string_pretty(&steps)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for s in &steps {
        crate::out::human(&format!(
            "{:<5} {:<28} {:<40} {}{}",
            if s.oidc { "token" } else { "-" },
            s.name.as_deref().unwrap_or("(unnamed)"),
            s.location,
            s.deployment
                .as_deref()
                .map(|d| format!("deployment={d} "))
                .unwrap_or_default(),
            if s.audiences.is_empty() {
                String::new()
            } else {
                format!("audiences={}", s.audiences.join(","))
            },
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
