//! `stepmint serve`: run the issuer until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;
use stepmint::{Config, Instance, WorkspaceSpec, paths, shell_exports};

use crate::cli::{DataDirArg, ServeArgs};
use crate::common;

pub fn run(args: ServeArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => Config::from_toml_file(path)?,
        None => Config::default(),
    };
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if let Some(p) = args.port {
        config.port = p;
    }
    if args.public_url.is_some() {
        config.public_url = args.public_url.clone();
    }
    if dir_arg.data_dir.is_some() {
        config.data_dir = dir_arg.data_dir.clone();
    }
    if let Some(l) = args.lifetime {
        config.token_lifetime = l;
    }
    if args.control_token.is_some() {
        return Err(common::Usage(
            "--control-token on the command line is visible to every local user (`ps`): put the token in $STEPMINT_CONTROL_TOKEN or in a file named by --control-token-file".into(),
        )
        .into());
    }
    if let Some(path) = &args.control_token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the control token from {}", path.display()))?;
        config.control_token = Some(text.trim().to_string());
    } else if let Some(t) = std::env::var_os("STEPMINT_CONTROL_TOKEN").filter(|t| !t.is_empty()) {
        config.control_token = Some(t.to_string_lossy().trim().to_string());
    }
    config.allow_exec |= args.allow_exec;
    if args.no_console {
        config.console = false;
    }
    if let Some(n) = args.max_connections {
        config.max_connections = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = args.max_connections_per_peer {
        config.max_connections_per_peer = Some(usize::try_from(n).unwrap_or(usize::MAX));
    }
    config.sans.extend(args.sans.iter().cloned());
    config.tls_faults |= args.tls_faults;
    let scenario = args
        .scenario
        .as_deref()
        .map(stepmint::scenario::Scenario::from_file)
        .transpose()?;
    for r in &args.aws_roles {
        let Some((arn, file)) = r.split_once('=') else {
            return Err(
                common::Usage(format!("--aws-role {r}: expected ARN=TRUST_POLICY.json")).into(),
            );
        };
        stepmint::http::exchange::parse_role_arn(arn)
            .map_err(|e| common::Usage(format!("--aws-role: {e}")))?;
        config.aws_roles.insert(arn.to_string(), file.into());
    }
    for g in &args.gcp_providers {
        let Some((name, file)) = g.split_once('=') else {
            return Err(common::Usage(format!(
                "--gcp-provider {g}: expected projects/N/locations/global/workloadIdentityPools/P/providers/X=PROVIDER.json"
            ))
            .into());
        };
        stepmint::http::exchange::valid_provider_name(name)
            .map_err(|e| common::Usage(format!("--gcp-provider: {e}")))?;
        config.gcp_providers.insert(name.to_string(), file.into());
    }
    for w in &args.workspaces {
        config.workspaces.push(WorkspaceSpec::parse(w)?);
    }
    let clock = common::clock(&args.time)?;
    let ids = common::ids(&args.time);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // Handlers first: a SIGTERM right after the JSON line must stop us cleanly, not kill us.
        let stop = ShutdownSignal::install()?;
        let instance = Instance::start(config.clone(), clock, ids).await?;
        // The log printer first, so the scenario's first steps show in it too.
        let printer = instance.log().print_to(std::io::stderr());
        if let Some(s) = scenario {
            // Steps at 0 s are in force before we say we are ready.
            let rest = s
                .start(
                    instance.issuer().clone(),
                    instance.faults().clone(),
                    instance.log().clone(),
                )
                .await;
            tokio::spawn(rest);
        }
        // Whatever happens from here (stdout closed, stderr full, a signal), the server stops
        // cleanly and removes its record.
        let served = async {
            printer.context("starting the request-log printer")?;
            announce(&instance, &config, args.json)?;
            stop.wait().await;
            anyhow::Ok(())
        }
        .await;
        let _ = writeln!(std::io::stderr(), "stepmint: shutting down");
        instance.stop().await;
        served?;
        Ok(ExitCode::SUCCESS)
    })
}

fn announce(instance: &Instance, config: &Config, as_json: bool) -> Result<()> {
    // On stderr whatever the format, where a person sees them and `--json` readers do not trip.
    for w in instance.warnings() {
        let _ = writeln!(std::io::stderr(), "stepmint: warning: {w}");
    }
    for n in instance.issuer().creation_notes() {
        let _ = writeln!(std::io::stderr(), "stepmint: note: {n}");
    }
    let addr = instance.local_addr();
    let listening = match addr.ip() {
        ip if ip.is_loopback() || ip.is_unspecified() => {
            format!("https://localhost:{}", addr.port())
        }
        IpAddr::V6(ip) => format!("https://[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("https://{ip}:{}", addr.port()),
    };
    let workspaces = instance.workspaces();
    let mut out = std::io::stdout().lock();
    if as_json {
        let line = json!({
            "listening": listening,
            "public_url": instance.base_url(),
            "bound": addr.to_string(),
            "ca": instance.ca_path(),
            "ca_bundle": instance.bundle_path(),
            "control": paths::control_url(&listening, ""),
            "pid": std::process::id(),
            "workspaces": workspaces,
            "tls_faults": instance.tls_fault_urls(),
            "console": instance.console_url(),
            "aws_sts": instance.aws_sts_url(),
            "aws_roles": instance.exchanges().roles().iter().map(|r| r.arn.clone()).collect::<Vec<_>>(),
            "gcp_sts": instance.gcp_sts_url(),
            "gcp_providers": instance.exchanges().gcp_providers(),
            "control_token_file": instance.issuer().data_dir().control_token(),
            "warnings": instance.warnings(),
        });
        writeln!(out, "{line}")?;
    } else {
        writeln!(
            out,
            "Stepmint issuer listening on {listening} (bound to {addr})"
        )?;
        if instance.base_url() != listening {
            writeln!(out, "Public URL: {}", instance.base_url())?;
        }
        writeln!(out, "CA certificate: {}", instance.ca_path().display())?;
        if let Some(url) = instance.console_url() {
            writeln!(out, "Console: {url}")?;
            if !stepmint::http::console_built() {
                writeln!(
                    out,
                    "  (this build has no console: `cd ui && npm ci && npm run build`, then rebuild)"
                )?;
            }
        }
        let token_file = instance.issuer().data_dir().control_token();
        writeln!(
            out,
            "Control token: {} (0600; the CLI reads it, the console link carries it)",
            token_file.display()
        )?;
        if config.allow_exec {
            writeln!(
                out,
                "Commands: the control API's probe may run commands for the token's holder (--allow-exec)"
            )?;
        }
        for w in &workspaces {
            writeln!(out, "\nWorkspace {} {}", w.slug, w.uuid)?;
            writeln!(out, "  issuer:    {}", w.issuer)?;
            writeln!(out, "  discovery: {}", w.discovery)?;
            writeln!(out, "  jwks:      {}", w.jwks_uri)?;
            writeln!(
                out,
                "  audience:  {} (the default `aud`)",
                w.default_audience
            )?;
        }
        writeln!(
            out,
            "\nAWS STS (AWS_ENDPOINT_URL_STS): {}",
            instance.aws_sts_url()
        )?;
        for r in instance.exchanges().roles() {
            writeln!(out, "  role: {}", r.arn)?;
        }
        writeln!(out, "GCP STS (token_url): {}", instance.gcp_sts_url())?;
        for p in instance.exchanges().gcp_providers() {
            writeln!(out, "  provider: {p}")?;
        }
        let tls_faults = instance.tls_fault_urls();
        if !tls_faults.is_empty() {
            writeln!(out, "\nTLS faults (same paths, broken TLS):")?;
            for (name, url) in &tls_faults {
                writeln!(out, "  {name:<13} {url}")?;
            }
        }
        writeln!(out, "\nTrust the CA (Node, Python, curl, OpenSSL, AWS):")?;
        for line in shell_exports(instance.ca_path(), instance.bundle_path()).lines() {
            writeln!(out, "  {line}")?;
        }
        writeln!(
            out,
            "\nMint a token:\n  curl -s --cacert {} -H \"Authorization: Bearer $(cat {})\" -X POST {} -d '{{\"audiences\":[\"my-api\"]}}'",
            stepmint::shell_quote(&instance.ca_path().display().to_string()),
            stepmint::shell_quote(&token_file.display().to_string()),
            paths::control_url(&listening, "/tokens"),
        )?;
        if config.bind.is_unspecified() {
            writeln!(
                out,
                "\nWarning: listening on all interfaces ({}).",
                config.bind
            )?;
        }
        writeln!(out, "\nCtrl-C stops it.")?;
    }
    out.flush()?;
    Ok(())
}

/// Ctrl-C and SIGTERM, registered up front.
struct ShutdownSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> Result<ShutdownSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignal {
                term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
                int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignal {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
