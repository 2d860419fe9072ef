//! `stepmint verify`: the reference validator as a command.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use stepmint::validate::{self, KeySet, Policy, PolicyOverrides, RemoteKeys, Status};
use stepmint::{DataDir, IdSource, Issuer, IssuerOptions, Workspace, WorkspaceSpec};

use crate::cli::{DataDirArg, VerifyArgs};
use crate::common::{self, Usage};

pub fn run(args: VerifyArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let token = common::token_arg(args.token.clone())?;
    let now = common::clock(&args.time)?.now();
    let (policy, report) = if let Some(slug) = &args.workspace {
        let dir = common::data_dir(dir_arg)?;
        // Verifying reads a workspace; it never creates one (or changes its UUID).
        Workspace::require_persisted(&DataDir::open(&dir)?, slug)?;
        let public_url = common::public_url(&dir, None)?;
        let mut options = IssuerOptions::new(dir, public_url);
        options.workspaces = vec![WorkspaceSpec {
            slug: slug.clone(),
            uuid: None,
        }];
        let issuer = Issuer::open(
            options,
            common::clock(&args.time)?,
            Arc::new(IdSource::random()),
        )?;
        let ws = issuer.workspace(slug)?;
        let policy = apply_flags(ws.default_policy(), &args, true)?;
        let report = validate::verify(&token, ws.keyset(), &policy, now);
        (policy, report)
    } else if let Some(path) = &args.jwks {
        let bytes = std::fs::read(path).map_err(|e| {
            // A file named on the command line that is not there is a usage error (exit 2).
            Usage(format!(
                "--jwks {}: {e}; fetch the issuer's JWKS first: `curl -sf ISSUER/keys.json -o {}` (its `jwks_uri`; for a local server add `--cacert \"$(stepmint ca path)\"`), or verify with --issuer URL alone (keys by discovery) or --workspace SLUG",
                path.display(),
                path.display()
            ))
        })?;
        let keys = KeySet::from_json(&bytes)
            .with_context(|| format!("{} is not a JWKS", path.display()))?;
        let base = Policy {
            issuer: args.issuer.clone(),
            ..Policy::default()
        };
        let policy = apply_flags(base, &args, false)?;
        let report = validate::verify(&token, &keys, &policy, now);
        (policy, report)
    } else if let Some(issuer) = &args.issuer {
        let ca_path = match &args.ca {
            Some(p) => p.clone(),
            None => DataDir::open(common::data_dir(dir_arg)?)?.ca_cert(),
        };
        let ca = std::fs::read(&ca_path)
            .with_context(|| format!("reading the CA {}", ca_path.display()))?;
        let base = Policy {
            issuer: Some(issuer.clone()),
            ..Policy::default()
        };
        let policy = apply_flags(base, &args, false)?;
        let remote = RemoteKeys::new(issuer, &ca)?;
        let kid = stepmint::decode_unverified(&token).ok().and_then(|d| {
            d.header
                .get("kid")
                .and_then(|k| k.as_str())
                .map(str::to_string)
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let keys = runtime.block_on(remote.keys_for(kid.as_deref()))?;
        let report = validate::verify(&token, &keys, &policy, now);
        (policy, report)
    } else {
        bail!(Usage(
            "say where the keys come from: --workspace SLUG, --issuer URL, or --jwks FILE".into()
        ));
    };
    if args.json {
        crate::out::line(&serde_json::to_string_pretty(
            &serde_json::json!({ "policy": policy, "report": report }),
        )?)?;
    } else {
        for c in &report.checks {
            let mark = match c.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Skip => "skip",
            };
            crate::out::human(&format!("{mark}  {:<22} {}", c.name, c.detail))?;
        }
        crate::out::human(&report.verdict.to_uppercase())?;
    }
    Ok(if report.accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The flags' policy over `base`: the same [`PolicyOverrides`] the probe and the screens use.
fn apply_flags(base: Policy, args: &VerifyArgs, has_default_audience: bool) -> Result<Policy> {
    if args.audiences.is_empty() && !has_default_audience {
        bail!(Usage("name the accepted audience(s) with --audience: a validator that ignores `aud` accepts tokens meant for anyone".into()));
    }
    common::claim_conditions(&args.claims)?;
    let declared = PolicyOverrides {
        audiences: args.audiences.clone(),
        sub_like: args.sub_like.clone(),
        claims: args.claims.clone(),
        leeway: args.leeway,
        max_age: args.max_age,
        algorithms: args.algorithms.clone(),
        ..PolicyOverrides::default()
    };
    Ok(declared.apply(base)?)
}
