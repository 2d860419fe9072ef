//! `stepmint keys list|rotate|add|retire`: through the running server's control API when one
//! serves this data directory, else on the files directly.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use stepmint::{
    Clock, ControlClient, DataDir, IdSource, Issuer, IssuerOptions, KeyAlg, SystemClock, Workspace,
    WorkspaceSpec,
};

use crate::cli::{KeysArgs, KeysCommand};
use crate::common;

pub fn run(args: KeysArgs) -> Result<ExitCode> {
    let dir = common::data_dir(&args.data)?;
    let data = DataDir::open(&dir)?;
    if let KeysCommand::Add { alg, .. } = &args.what {
        KeyAlg::parse(alg)?;
    }
    // Checked as the files path checks them, before anything is sent.
    if let Some(ws) = &args.workspace {
        stepmint::validate_slug(ws)?;
    }
    if let KeysCommand::Retire { kid } = &args.what {
        stepmint::validate_kid(kid)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let out = match runtime.block_on(ControlClient::find_running(&data))? {
        Some(client) => runtime.block_on(remote(&client, &args))?,
        None => local(&dir, &args)?,
    };
    if args.json {
        crate::out::line(&serde_json::to_string_pretty(&out)?)?;
    } else {
        print_human(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn remote(client: &ControlClient, args: &KeysArgs) -> Result<Value> {
    let slug = match &args.workspace {
        Some(s) => s.clone(),
        None => client.get(&["workspaces"]).await?["workspaces"][0]["slug"]
            .as_str()
            .context("the server has no workspace")?
            .to_string(),
    };
    let base = ["workspaces", slug.as_str(), "keys"];
    let mut out = match &args.what {
        KeysCommand::List => client.get(&base).await?,
        KeysCommand::Rotate { overlap, unpublished_for } => {
            let path = ["workspaces", slug.as_str(), "keys", "rotate"];
            client.post(&path, &json!({ "overlap": overlap, "unpublished_for": unpublished_for })).await?
        }
        KeysCommand::Add { alg, staged, publish_in } => {
            client
                .post(&base, &json!({ "alg": KeyAlg::parse(alg)?.as_str(), "staged": *staged || publish_in.is_some(), "publish_in": publish_in }))
                .await?
        }
        KeysCommand::Retire { kid } => {
            client.delete(&["workspaces", slug.as_str(), "keys", kid.as_str()]).await?
        }
    };
    if !matches!(args.what, KeysCommand::List | KeysCommand::Rotate { .. }) {
        out["keys"] = client.get(&base).await?["keys"].clone();
    }
    out["workspace"] = slug.into();
    out["via"] = "server".into();
    Ok(out)
}

fn local(dir: &std::path::Path, args: &KeysArgs) -> Result<Value> {
    let mut options =
        IssuerOptions::new(dir, format!("https://localhost:{}", stepmint::DEFAULT_PORT));
    if let Some(ws) = &args.workspace {
        // Keys are managed for a workspace that exists; a typo must not create one.
        Workspace::require_persisted(&DataDir::open(dir)?, ws)?;
        options.workspaces = vec![WorkspaceSpec {
            slug: ws.clone(),
            uuid: None,
        }];
    }
    let issuer = Issuer::open(
        options,
        std::sync::Arc::new(SystemClock),
        std::sync::Arc::new(IdSource::random()),
    )?;
    let slug = issuer.workspaces()[0].workspace.slug.clone();
    let mut out = match &args.what {
        KeysCommand::List => json!({}),
        KeysCommand::Rotate {
            overlap,
            unpublished_for,
        } => {
            let rotated = issuer.rotate_key(&slug, *overlap, *unpublished_for)?;
            json!({ "active_kid": rotated.key.kid(), "overlap": rotated.overlap })
        }
        KeysCommand::Add {
            alg,
            staged,
            publish_in,
        } => {
            let alg = KeyAlg::parse(alg)?;
            let key = issuer.add_key(&slug, alg, *staged, *publish_in)?;
            json!({ "kid": key.kid(), "alg": key.alg() })
        }
        KeysCommand::Retire { kid } => {
            issuer.update_keys(&slug, |ring, _| ring.retire(kid))?;
            json!({ "retired": kid })
        }
    };
    out["keys"] = issuer
        .workspace(&slug)?
        .workspace
        .keys
        .describe(SystemClock.now());
    out["workspace"] = slug.into();
    out["via"] = "files".into();
    Ok(out)
}

fn print_human(out: &Value) -> Result<()> {
    if let Some(kid) = out["active_kid"].as_str() {
        crate::out::human(&format!(
            "rotated: {kid} now signs (old key published for {} s more)",
            out["overlap"]
        ))?;
    }
    if let Some(kid) = out["kid"].as_str() {
        crate::out::human(&format!(
            "added: {kid} ({})",
            out["alg"].as_str().unwrap_or_default()
        ))?;
    }
    if let Some(kid) = out["retired"].as_str() {
        crate::out::human(&format!("retired: {kid}"))?;
    }
    crate::out::human(&format!(
        "workspace {} (via {}):",
        out["workspace"].as_str().unwrap_or_default(),
        out["via"].as_str().unwrap_or_default()
    ))?;
    for k in out["keys"].as_array().into_iter().flatten() {
        let extra = match (k["until"].as_i64(), k["publish_at"].as_i64()) {
            (Some(t), _) => format!(" until {}", common::rfc3339(t)),
            (_, Some(t)) => format!(" publish at {}", common::rfc3339(t)),
            _ => String::new(),
        };
        crate::out::human(&format!(
            "  {}  {:<5}  {:<9}{}{}",
            k["kid"].as_str().unwrap_or_default(),
            k["alg"].as_str().unwrap_or_default(),
            k["state"].as_str().unwrap_or_default(),
            if k["published"].as_bool() == Some(true) {
                "  published"
            } else {
                "  not published"
            },
            extra
        ))?;
    }
    Ok(())
}
