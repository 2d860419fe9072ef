//! `stepmint health`: is a server running on this data directory and answering? The container
//! image's health check (it has no shell or curl), and a readiness wait for scripts.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;
use stepmint::api::Health;
use stepmint::http::calls::{self, NoBody, NoQuery};
use stepmint::{ControlClient, DataDir, ServerRecord};

use crate::cli::{DataDirArg, HealthArgs};
use crate::common;
use crate::out::{human, line};

pub fn run(args: HealthArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let dir = common::data_dir(dir_arg)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    let answer = runtime.block_on(async {
        loop {
            // A check never creates the directory it looks at.
            if dir.is_dir() {
                let data = DataDir::open(&dir)?;
                // A server still starting holds the directory before it answers: not ready yet.
                if let Ok(Some(client)) = ControlClient::find_running(&data).await {
                    let health: Health = client
                        .call::<calls::HealthCall>(&[], &NoQuery {}, &NoBody {})
                        .await?;
                    let url = ServerRecord::read(&data)?.map(|r| r.public_url);
                    return anyhow::Ok(Some((health, url)));
                }
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })?;
    match answer {
        Some((health, url)) => {
            if args.json {
                line(&json!({"ready": true, "public_url": url, "health": health}).to_string())?;
            } else {
                human(&format!(
                    "ready: stepmint {} at {}, {} workspace(s), up {} s",
                    health.version,
                    url.unwrap_or_default(),
                    health.workspaces,
                    health.uptime_s
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let why = format!(
                "no `stepmint serve` answers on the data directory {}",
                dir.display()
            );
            if args.json {
                line(&json!({"ready": false, "reason": why}).to_string())?;
            } else {
                human(&format!("not ready: {why}"))?;
            }
            Ok(ExitCode::from(1))
        }
    }
}
