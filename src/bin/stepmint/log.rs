//! `stepmint log`: a running server's request log, read through its control API (`--follow`:
//! as it grows).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use stepmint::http::MAX_PAGE;
use stepmint::http::calls::{self, NoBody};
use stepmint::{ControlClient, DataDir};

use crate::cli::{DataDirArg, LogArgs};
use crate::common;
use crate::out::{human, line};

pub fn run(args: LogArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let dir = common::data_dir(dir_arg)?;
    let data = DataDir::open(&dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = ControlClient::find_running(&data).await?.with_context(|| {
            format!(
                "no `stepmint serve` is running on {}: the request log lives in a running server",
                dir.display()
            )
        })?;
        let mut since = 0u64;
        loop {
            let query = calls::RequestsQuery {
                since,
                all: true,
                limit: MAX_PAGE,
            };
            let page = client
                .call::<calls::Requests>(&[], &query, &NoBody {})
                .await?;
            for r in &page.requests {
                if args.json {
                    line(&serde_json::to_string(r)?)?;
                } else {
                    // The server's own access-log line.
                    human(&r.to_string())?;
                }
            }
            since = page.next;
            // A full page: the log holds more (it keeps twice a page), read on at once.
            if page.requests.len() >= MAX_PAGE {
                continue;
            }
            if !args.follow {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
