//! `stepmint keys list|rotate|add|retire`: through the running server's control API when one
//! serves this data directory, else on the files directly.

use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;
use stepmint::api::{AddKeyRequest, KeyAdded, KeyRetired, KeyStatus, KeyView, RotateRequest};
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::{
    Clock, ControlClient, DataDir, IdSource, Issuer, IssuerOptions, KeyAlg, SystemClock, Workspace,
    WorkspaceSpec,
};

use crate::cli::{DataDirArg, KeysArgs, KeysCommand};
use crate::common;

pub fn run(args: KeysArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let dir = common::data_dir(dir_arg)?;
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

/// What `keys` prints with `--json`: the change made (if any), the ring after it, and whether
/// it went through the server or the files.
#[derive(Debug, Default, Serialize)]
struct KeysOutcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    active_kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    overlap: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<KeyAlg>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retired: Option<String>,
    keys: Vec<KeyView>,
    workspace: String,
    via: &'static str,
}

impl KeysOutcome {
    fn rotated(active_kid: String, overlap: u64) -> KeysOutcome {
        KeysOutcome {
            active_kid: Some(active_kid),
            overlap: Some(overlap),
            ..KeysOutcome::default()
        }
    }

    fn added(added: KeyAdded) -> KeysOutcome {
        KeysOutcome {
            kid: Some(added.kid),
            alg: Some(added.alg),
            ..KeysOutcome::default()
        }
    }

    fn retired(retired: KeyRetired) -> KeysOutcome {
        KeysOutcome {
            retired: Some(retired.retired),
            ..KeysOutcome::default()
        }
    }
}

async fn remote(client: &ControlClient, args: &KeysArgs) -> Result<KeysOutcome> {
    let slug = match &args.workspace {
        Some(s) => s.clone(),
        None => client.default_workspace().await?,
    };
    let ws = [slug.as_str()];
    let mut out = match &args.what {
        KeysCommand::List => KeysOutcome::default(),
        KeysCommand::Rotate {
            overlap,
            unpublished_for,
        } => {
            let request = RotateRequest {
                overlap: *overlap,
                unpublished_for: *unpublished_for,
            };
            let rotation = client
                .call::<calls::RotateKey>(&ws, &NoQuery {}, &request)
                .await?;
            KeysOutcome::rotated(rotation.active_kid, rotation.overlap)
        }
        KeysCommand::Add {
            alg,
            staged,
            publish_in,
        } => {
            let request = AddKeyRequest {
                alg: KeyAlg::parse(alg)?,
                staged: *staged || publish_in.is_some(),
                publish_in: *publish_in,
            };
            KeysOutcome::added(
                client
                    .call::<calls::AddKey>(&ws, &NoQuery {}, &request)
                    .await?,
            )
        }
        KeysCommand::Retire { kid } => KeysOutcome::retired(
            client
                .call::<calls::RetireKey>(&[slug.as_str(), kid.as_str()], &NoQuery {}, &NoBody {})
                .await?,
        ),
    };
    out.keys = client
        .call::<calls::ListKeys>(&ws, &NoQuery {}, &NoBody {})
        .await?
        .keys;
    out.workspace = slug;
    out.via = "server";
    Ok(out)
}

fn local(dir: &std::path::Path, args: &KeysArgs) -> Result<KeysOutcome> {
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
        KeysCommand::List => KeysOutcome::default(),
        KeysCommand::Rotate {
            overlap,
            unpublished_for,
        } => {
            let rotated = issuer.rotate_key(&slug, *overlap, *unpublished_for)?;
            KeysOutcome::rotated(rotated.key.kid().to_string(), rotated.overlap)
        }
        KeysCommand::Add {
            alg,
            staged,
            publish_in,
        } => {
            let alg = KeyAlg::parse(alg)?;
            let key = issuer.add_key(&slug, alg, *staged, *publish_in)?;
            KeysOutcome::added(KeyAdded {
                kid: key.kid().to_string(),
                alg: key.alg(),
            })
        }
        KeysCommand::Retire { kid } => {
            issuer.update_keys(&slug, |ring, _| ring.retire(kid))?;
            KeysOutcome::retired(KeyRetired {
                retired: kid.clone(),
            })
        }
    };
    out.keys = issuer
        .workspace(&slug)?
        .workspace
        .keys
        .describe(SystemClock.now());
    out.workspace = slug;
    out.via = "files";
    Ok(out)
}

fn print_human(out: &KeysOutcome) -> Result<()> {
    if let (Some(kid), Some(overlap)) = (&out.active_kid, out.overlap) {
        crate::out::human(&format!(
            "rotated: {kid} now signs (old key published for {overlap} s more)"
        ))?;
    }
    if let (Some(kid), Some(alg)) = (&out.kid, out.alg) {
        crate::out::human(&format!("added: {kid} ({})", alg.as_str()))?;
    }
    if let Some(kid) = &out.retired {
        crate::out::human(&format!("retired: {kid}"))?;
    }
    crate::out::human(&format!("workspace {} (via {}):", out.workspace, out.via))?;
    for k in &out.keys {
        let extra = match k.status {
            KeyStatus::Retiring { until } => format!(" until {}", common::rfc3339(until)),
            KeyStatus::Staged {
                publish_at: Some(t),
            } => format!(" publish at {}", common::rfc3339(t)),
            _ => String::new(),
        };
        let state = match k.status {
            KeyStatus::Staged { .. } => "staged",
            KeyStatus::Active => "active",
            KeyStatus::Published { .. } => "published",
            KeyStatus::Retiring { .. } => "retiring",
        };
        crate::out::human(&format!(
            "  {}  {:<5}  {:<9}{}{}",
            k.kid,
            k.alg.as_str(),
            state,
            if k.published {
                "  published"
            } else {
                "  not published"
            },
            extra
        ))?;
    }
    Ok(())
}
