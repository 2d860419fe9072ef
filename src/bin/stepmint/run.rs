//! `stepmint run` and `stepmint steps`.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::step::{self, StepOptions};
use stepmint::{ControlClient, DataDir, Issuer, IssuerOptions, LocalCa, pipelines};

use crate::cli::{DataDirArg, RunArgs, StepsArgs};
use crate::common::{self, Usage};

pub fn run(args: RunArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let dir = common::data_dir(dir_arg)?;
    let data = DataDir::open(&dir)?;
    let mut opts = StepOptions {
        workspace: args.workspace.clone(),
        repo_uuid: args.repo_uuid.clone(),
        repo_slug: args.repo_slug.clone(),
        environment: None,
        environment_uuid: None,
        branch: args.branch.clone(),
        audiences: args.audiences.clone(),
        aws_role_arn: args.aws_role_arn.clone(),
        aws_sts_url: None,
        gcp_provider: args.gcp_provider.clone(),
        gcp_sts_url: None,
        dir: std::env::current_dir().context("the current directory")?,
    };
    if let Some(e) = &args.environment {
        let (name, uuid) = match e.split_once('=') {
            Some((name, uuid)) => (
                name,
                Some(stepmint::braced(&stepmint::parse_uuid(
                    &format!("--env {name}"),
                    uuid,
                )?)),
            ),
            None => (e.as_str(), None),
        };
        if name.is_empty() {
            bail!(Usage(format!("--env {e}: the environment's name is empty")));
        }
        opts.environment = Some(name.to_string());
        opts.environment_uuid = uuid;
    }
    if let Some(name) = &args.step {
        let file = args
            .pipelines
            .clone()
            .unwrap_or_else(|| "bitbucket-pipelines.yml".into());
        let file = &file;
        let (steps, warnings) = pipelines::parse_file_checked(file)?;
        for w in &warnings {
            note(&format!("warning: {}: {w}", file.display()));
        }
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
        // A step under `branches: main` runs for main, whatever this checkout is on.
        if opts.branch.is_none()
            && let Some(b) = &found.branch
        {
            // A glob: the local branch if it fits is not known here; a name it takes is.
            let b = pipelines::example_ref(b);
            note(&format!(
                "step `{name}` ({}) runs for branch `{b}`; --branch chooses another",
                found.location
            ));
            opts.branch = Some(b);
        }
    }
    let (public_url, lifetime) = common::live_settings(&dir, args.public_url.as_deref())?;
    let mut options = IssuerOptions::new(&dir, public_url);
    options.token_lifetime = lifetime;
    if let Some(ws) = common::existing_workspace(&dir, args.workspace.as_deref())? {
        opts.workspace = Some(ws.slug.clone());
        options.workspaces = vec![ws];
    }
    let issuer = Issuer::open(options, common::clock(&args.time)?, common::ids(&args.time))?;
    let ca = {
        let _lock = data.lock()?;
        LocalCa::load_or_create(&data, &[], issuer.clock().now())?
    };
    let bundle = stepmint::write_bundle(&data, ca.cert_pem())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(ControlClient::find_running(&data))? {
        Some(client) => runtime.block_on(async {
            aws_settings(&client, &mut opts).await;
            gcp_settings(&client, &mut opts).await;
        }),
        None => note(&format!(
            "note: no `stepmint serve` is running on {}; relying parties cannot fetch its keys",
            dir.display()
        )),
    }
    let mut env = step::prepare(
        &issuer,
        &opts,
        &common::ids(&args.time),
        &data.ca_cert(),
        &bundle,
    )?;
    // The AWS CLI and SDKs refuse to sign without a region; STS's is any.
    let has_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|k| std::env::var_os(k).is_some());
    if opts.aws_sts_url.is_some() && !has_region {
        env.vars
            .push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
    }
    let (program, rest) = args.command.split_first().context("no command given")?;
    let status = match Command::new(program)
        .args(rest)
        .envs(env.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status()
    {
        Ok(status) => status,
        // As a shell says it: 127 not found, 126 found but not runnable.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            note(&format!("{program}: command not found"));
            return Ok(ExitCode::from(127));
        }
        // ENOEXEC (8): marked runnable, but not a program the system can run.
        Err(e)
            if e.kind() == std::io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(8) =>
        {
            note(&format!("{program}: not executable"));
            return Ok(ExitCode::from(126));
        }
        Err(e) => return Err(e).with_context(|| format!("running `{program}`")),
    };
    drop(env);
    Ok(ExitCode::from(exit_code(&status)))
}

/// Points the AWS SDKs at the running server's emulated STS, and at its role when it has
/// exactly one and none was named.
async fn aws_settings(client: &ControlClient, opts: &mut StepOptions) {
    let list = match client
        .call::<calls::AwsRoles>(&[], &NoQuery {}, &NoBody {})
        .await
    {
        Ok(list) => list,
        Err(e) => {
            note(&format!(
                "note: the running server lists no AWS roles ({e}); AWS_ENDPOINT_URL_STS is not set"
            ));
            return;
        }
    };
    opts.aws_sts_url = Some(list.aws_sts);
    if opts.aws_role_arn.is_some() {
        return;
    }
    match list.roles.as_slice() {
        [] => {}
        [only] => opts.aws_role_arn = Some(only.arn.clone()),
        several => note(&format!(
            "note: the server emulates {} AWS roles; --aws-role-arn chooses the step's (AWS_ROLE_ARN is not set)",
            several.len()
        )),
    }
}

/// Points google-auth at the running server's emulated GCP STS, with its provider when it has
/// exactly one and none was named.
async fn gcp_settings(client: &ControlClient, opts: &mut StepOptions) {
    let list = match client
        .call::<calls::GcpProviders>(&[], &NoQuery {}, &NoBody {})
        .await
    {
        Ok(list) => list,
        Err(e) => {
            if opts.gcp_provider.is_some() {
                note(&format!(
                    "note: the running server lists no GCP providers ({e})"
                ));
            }
            return;
        }
    };
    opts.gcp_sts_url = Some(list.gcp_sts);
    match (&opts.gcp_provider, list.providers.as_slice()) {
        (Some(named), served) => {
            let name = named.strip_prefix("//iam.googleapis.com/").unwrap_or(named);
            if !served.iter().any(|p| p.name == name) {
                note(&format!(
                    "note: the running server emulates no GCP provider {name}; its STS will answer invalid_target"
                ));
            }
        }
        (None, [only]) => opts.gcp_provider = Some(only.name.clone()),
        (None, []) => {}
        (None, several) => note(&format!(
            "note: the server emulates {} GCP providers; --gcp-provider chooses the step's (GOOGLE_APPLICATION_CREDENTIALS is not set)",
            several.len()
        )),
    }
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

/// A line on stderr for people, made terminal-safe; a full stderr is no reason to fail.
fn note(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "stepmint: {}", stepmint::printable(text));
}

pub fn steps(args: StepsArgs) -> Result<ExitCode> {
    let (steps, warnings) = pipelines::parse_file_checked(&args.file)?;
    for w in &warnings {
        note(&format!("warning: {}: {w}", args.file.display()));
    }
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
