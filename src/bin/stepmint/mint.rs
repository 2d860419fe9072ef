//! `stepmint mint`: sign a step token offline with the persisted keys, recorded in the history
//! as the CLI's.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Map, Value};
use stepmint::{Crafting, History, Issuer, IssuerOptions, MintOrigin, MintRequest, StepRequest};

use crate::cli::{DataDirArg, MintArgs};
use crate::common::{self, Usage};

pub fn run(mut args: MintArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let data_dir = common::data_dir(dir_arg)?;
    // A recipe carries the step it was found in (audiences, environment, branch, clock...):
    // flags given here win over it.
    let recipe = match &args.recipe {
        Some(path) => Some(stepmint::hostile::Recipe::load(path)?),
        None => None,
    };
    if let Some(r) = &recipe {
        if args.workspace.is_none() {
            args.workspace.clone_from(&r.step.workspace);
        }
        if args.time.now.is_none() {
            args.time.now = r.step.now.map(|n| n.to_string());
        }
    }
    let (public_url, lifetime) = common::live_settings(&data_dir, args.public_url.as_deref())?;
    let mut options = IssuerOptions::new(&data_dir, public_url);
    options.token_lifetime = lifetime;
    if let Some(ws) = common::existing_workspace(&data_dir, args.workspace.as_deref())? {
        options.workspaces = vec![ws];
    }
    let issuer = Issuer::open(options, common::clock(&args.time)?, common::ids(&args.time))?;

    let mut claims = Map::new();
    for c in &args.claims {
        let (k, v) = common::key_json("--claim", c)?;
        claims.insert(k, v);
    }
    for k in &args.unset {
        claims.insert(k.clone(), Value::Null);
    }
    let mut header = Map::new();
    for h in &args.headers {
        let (k, v) = common::key_json("--header", h)?;
        header.insert(k, v);
    }
    let edits = match (&recipe, &args.edits) {
        (Some(r), _) => r.edits.clone(),
        (None, Some(json)) => {
            let value: Value =
                serde_json::from_str(json).map_err(|e| Usage(format!("--edits: not JSON: {e}")))?;
            serde_json::from_value(value).map_err(|e| Usage(format!("--edits: {e}")))?
        }
        (None, None) => Vec::new(),
    };
    let mut step = StepRequest {
        workspace: args.workspace.clone(),
        repository_uuid: args.repo_uuid,
        step_uuid: args.step_uuid,
        pipeline_uuid: args.pipeline_uuid,
        deployment_environment_uuid: args.env_uuid,
        branch: args.branch,
        audiences: args.audiences,
        lifetime: args.lifetime,
        claims,
        header,
    };
    if let Some(r) = &recipe {
        r.step.fill(&mut step);
    }
    let craft = Crafting {
        case: args.case,
        header_json: args.header_json,
        payload_json: args.payload_json,
        sign_with: args.sign_with,
        drop_signature: args.drop_signature,
        edits,
    };
    let req = MintRequest { step, craft };
    let mut minted = issuer.craft(&req)?;
    // The History screens show every mint, this one too (a failure to record is a warning).
    let ws = issuer.workspace_or_first(req.step.workspace.as_deref())?;
    History::new(issuer.data_dir().clone()).keep(
        &mut minted,
        &ws.workspace.slug,
        issuer.clock().now(),
        MintOrigin::Cli,
    );
    // A token for a workspace the running server does not serve verifies here, yet no
    // relying party can fetch its keys: say so (stderr; stdout carries the token).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Some(w) = runtime.block_on(stepmint::ControlClient::unserved_warning(
        issuer.data_dir(),
        &ws.workspace.slug,
    )) {
        eprintln!("stepmint: warning: {}", stepmint::printable(&w));
    }
    if args.json {
        crate::out::line(&serde_json::to_string(&minted)?)?;
    } else {
        if let Some(w) = &minted.warning {
            eprintln!("stepmint: {w}");
        }
        crate::out::line(&minted.token)?;
    }
    Ok(ExitCode::SUCCESS)
}
