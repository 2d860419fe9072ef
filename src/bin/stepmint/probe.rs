//! `stepmint probe`: hostile, policy-boundary and generated tokens against a live relying party.
//! Exit codes: 0 nothing hostile accepted that someone could exploit (hygiene findings, which
//! nobody could, are reported but do not fail the run), 1 a hostile token accepted that someone
//! could exploit, 2 usage, 3 the relying party could not be tested.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use stepmint::hostile::{ExploitableBy, Recipe};
use stepmint::probe::{self, FindingKind, FuzzOptions, ProbeOptions, Progress, Target};
use stepmint::validate::PolicyOverrides;
use stepmint::{
    Config, ControlClient, DataDir, IdSource, Instance, Issuer, IssuerOptions, StepRequest,
    SystemClock, printable,
};

use crate::cli::{DataDirArg, ProbeArgs};
use crate::common::{self, Usage};

/// The widest the case column of the table grows (a longer name is cut).
const CASE_COLUMN_MAX: usize = 60;

/// Exit code when the relying party could not be tested at all.
const UNTESTED: u8 = 3;

/// Runs the probe. An operational failure (the in-process issuer cannot listen, the data
/// directory is unusable, the report cannot be written) is "could not test" (3), or a usage
/// error (2), never 1, which means a hostile token was accepted; with `--json` it is also a JSON
/// object on stdout, so a script reading the report never parses nothing.
pub fn run(args: ProbeArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let json = args.json;
    match probe(args, dir_arg) {
        Ok(code) => Ok(code),
        Err(err) if err.chain().any(|e| e.is::<crate::out::Closed>()) => Err(err),
        Err(err) => {
            let code = match common::exit_code(&err) {
                2 => 2,
                _ => UNTESTED,
            };
            let message = printable(&format!("{err:#}")).into_owned();
            if json {
                let body = serde_json::json!({ "error": { "message": message, "exit": code } });
                crate::out::line(&serde_json::to_string_pretty(&body)?)?;
            }
            eprintln!("stepmint: error: {message}");
            Ok(ExitCode::from(code))
        }
    }
}

fn probe(args: ProbeArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let target = if let Some(cmd) = &args.exec {
        if args.shell {
            Target::shell(cmd)?
        } else {
            Target::exec(cmd)?
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
    // Bad --claim lines are usage errors before anything starts.
    common::claim_conditions(&args.claims)?;
    let recipes = match &args.recipes {
        Some(dir) => {
            let loaded = Recipe::load_dir(dir)?;
            for s in &loaded.skipped {
                eprintln!(
                    "stepmint: --recipes: skipped {}: {}",
                    printable(&s.path.display().to_string()),
                    s.why
                );
            }
            if loaded.recipes.is_empty() {
                return Err(Usage(format!(
                    "--recipes {}: no *.toml recipe there{}",
                    dir.display(),
                    if loaded.skipped.is_empty() {
                        ""
                    } else {
                        " (see the files skipped above)"
                    }
                ))
                .into());
            }
            loaded.recipes
        }
        None => Vec::new(),
    };
    if args.no_catalogue && args.fuzz.is_none() && args.fuzz_time.is_none() && recipes.is_empty() {
        return Err(Usage(
            "--no-catalogue leaves nothing to send: add --fuzz N, --fuzz-time SECS or --recipes DIR".into(),
        )
        .into());
    }
    let seed = args
        .seed
        .unwrap_or_else(|| IdSource::random().uuid().as_u64_pair().0);
    let fuzz = (args.fuzz.is_some() || args.fuzz_time.is_some()).then(|| FuzzOptions {
        count: args.fuzz.map(|n| n as usize),
        seconds: args.fuzz_time,
        seed,
    });

    let dir = common::data_dir(dir_arg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let live = !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = runtime.block_on(async {
        let data = DataDir::open(&dir)?;
        let workspaces: Vec<_> = common::existing_workspace(&dir, args.workspace.as_deref())?
            .into_iter()
            .collect();
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
                port: args.port.unwrap_or(0),
                // The relying party's paths only: nothing here may drive this issuer or run a
                // command through it while the probe runs.
                control_plane: false,
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
        // What the relying party declares: the workspace's policy with the flags over it.
        let declared = PolicyOverrides {
            audiences: args.audiences.clone(),
            sub_like: args.sub_like.clone(),
            claims: args.claims.clone(),
            leeway: args.leeway,
            max_age: args.max_age,
            ..PolicyOverrides::default()
        };
        let policy = declared.apply(
            issuer
                .workspace_or_first(
                    args.workspace
                        .as_deref()
                        .map(|w| w.split('=').next().unwrap_or(w)),
                )?
                .default_policy(),
        )?;
        let mut options = ProbeOptions::new(target);
        options.policy = Some(policy);
        options.step = StepRequest {
            workspace: args
                .workspace
                .as_deref()
                .map(|w| w.split('=').next().unwrap_or(w).to_string()),
            repository_uuid: args.repo_uuid.clone(),
            deployment_environment_uuid: args.env_uuid.clone(),
            branch: args.branch.clone(),
            ..Default::default()
        };
        options.only = args.cases.clone();
        options.skip = args.skip.clone();
        options.cases = !args.no_catalogue;
        options.recipes = recipes;
        options.fuzz = fuzz;
        options.timeout = Duration::from_secs(args.timeout);
        options.concurrency = args.concurrency as usize;
        if let Some(f) = &options.fuzz {
            eprintln!(
                "stepmint: fuzz seed {} (repeat the run with --seed {})",
                f.seed, f.seed
            );
        }
        let run = probe::run(issuer, options, move |p: &Progress| {
            if live {
                show_progress(p);
            }
        });
        // Ctrl-C drops the run, which takes away what it staged, and stops the issuer cleanly.
        let report = tokio::select! {
            report = run => report.map_err(anyhow::Error::from),
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        };
        if live {
            eprintln!();
        }
        if let Some(i) = instance {
            i.stop().await;
        }
        anyhow::Ok(report?)
    })?;

    if let Some(path) = &args.junit {
        stepmint::write_atomic(path, report.junit().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &args.save_findings {
        save_findings(&report, dir)?;
    }
    if args.json {
        crate::out::line(&serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(&report)?;
    }
    if !report.tested() {
        eprintln!(
            "stepmint: the relying party could not be tested: its baseline (a genuine token) was {}: {}",
            label(&report.baseline.observed),
            printable(&report.baseline.detail)
        );
        return Ok(ExitCode::from(UNTESTED));
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn show_progress(p: &Progress) {
    match (p.phase, p.total) {
        ("fuzz", Some(total)) => eprint!(
            "\r\x1b[Kfuzz: {}/{total} tokens, {:.0}/s, {} accepted hostile",
            p.done, p.rate, p.findings
        ),
        ("fuzz", None) => eprint!(
            "\r\x1b[Kfuzz: {} tokens, {:.0}/s, {} accepted hostile",
            p.done, p.rate, p.findings
        ),
        ("shrink", _) => eprint!("\r\x1b[Kshrinking finding {}", p.done),
        (_, Some(total)) => eprint!("\r\x1b[Kprobing: {}/{total}", p.done),
        _ => {}
    }
}

fn label<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn save_findings(report: &probe::ProbeReport, dir: &std::path::Path) -> Result<()> {
    let written = report.save_findings(dir)?;
    eprintln!(
        "stepmint: {} recipe(s) written to {}",
        written.len(),
        dir.display()
    );
    Ok(())
}

fn print_report(report: &probe::ProbeReport) -> Result<()> {
    use crate::out::line;
    let rows = || std::iter::once(&report.baseline).chain(&report.rows);
    // The case column fits the longest name up to a cap; a longer one is cut with `…` (the
    // whole name is in the JSON report and the reproduce lines), so the columns line up.
    let width = rows()
        .map(|r| printable(&r.case).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(34, CASE_COLUMN_MAX);
    line(&format!(
        "{:<width$} {:<8} {:<16} {:<8} {:<19} what the relying party answered",
        "case", "expected", "observed", "verdict", "exploitable by"
    ))?;
    for r in rows() {
        let detail: String = printable(&r.detail).chars().take(90).collect();
        let case = printable(&r.case);
        let case: String = if case.chars().count() > width {
            case.chars().take(width - 1).chain(['…']).collect()
        } else {
            case.into_owned()
        };
        let by = match (r.verdict, r.exploitable_by) {
            (probe::Verdict::Fail, Some(by)) => by.as_str(),
            _ => "",
        };
        line(&format!(
            "{case:<width$} {:<8} {:<16} {:<8} {:<19} {}",
            label(&r.expected),
            label(&r.observed),
            report.verdict_label(r),
            by,
            detail
        ))?;
    }
    let failures = report.failures();
    if !failures.is_empty() {
        line("")?;
        line("wrongly accepted, by who could exploit them:")?;
        for r in failures {
            let by = r.exploitable_by.unwrap_or(ExploitableBy::Anyone);
            line(&format!(
                "  {} [{}] exploitable by {}: {}",
                printable(&r.case),
                by.as_str(),
                by.phrase(),
                printable(&r.exploit)
            ))?;
            line(&format!("    reproduce: {}", printable(&r.reproduce)))?;
        }
    }
    if let Some(f) = &report.fuzz {
        line("")?;
        line(&format!(
            "fuzz: {} generated tokens in {:.1} s ({:.0}/s), seed {}: {} finding(s), {} false refusal(s), {} without answer; {} sends to shrink",
            f.sent,
            f.seconds,
            f.rate,
            f.seed,
            f.findings.len(),
            f.false_refusals.len(),
            f.errors,
            f.shrink_sends
        ))?;
        for x in f.findings.iter().chain(&f.false_refusals) {
            let what = match x.kind {
                FindingKind::Accepted => format!(
                    "ACCEPTED [{}], exploitable by {}",
                    x.exploitable_by.as_str(),
                    x.exploitable_by.phrase()
                ),
                FindingKind::FalseRefusal => "REFUSED an acceptable token".to_string(),
            };
            line(&format!("{} {what}, seen {} time(s)", x.id, x.occurrences))?;
            for d in &x.difference {
                line(&format!("  difference:    {}", printable(d)))?;
            }
            if x.kind == FindingKind::Accepted {
                line(&format!("  exploit:       {}", printable(&x.exploit)))?;
            }
            line(&format!("  validator:     {}", printable(&x.validator)))?;
            line(&format!("  relying party: {}", printable(&x.detail)))?;
            line(&format!("  reproduce:     {}", printable(&x.reproduce)))?;
        }
    }
    let s = &report.summary;
    let count = |fam: &dyn Fn(&str) -> bool| report.rows.iter().filter(|r| fam(&r.family)).count();
    let policy = count(&|f| f.starts_with("policy:"));
    let recipes = count(&|f| f == "recipe");
    let catalogue = s.total - policy - recipes;
    let by: Vec<String> = ExploitableBy::ALL
        .iter()
        .filter(|b| b.is_exploitable())
        .filter_map(|b| {
            s.by_exploitable
                .get(b)
                .map(|n| format!("{} {n}", b.as_str()))
        })
        .collect();
    line(&format!(
        "probe: baseline {} + {} cases ({catalogue} catalogue, {policy} policy-boundary, {recipes} recipes): {} as expected, {} hostile accepted, {} acceptable refused, {} errors, {} skipped{}; exploitable: {}{}; hygiene (exploitable by nobody): {}",
        label(&report.baseline.observed),
        s.total,
        s.passed,
        s.failed,
        s.strict,
        s.errors,
        s.skipped,
        match &report.fuzz {
            Some(_) => format!(
                "; fuzz: {} finding(s), {} false refusal(s)",
                s.findings, s.false_refusals
            ),
            None => String::new(),
        },
        s.exploitable,
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        },
        s.hygiene
    ))?;
    Ok(())
}
