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
        // First the newest records, saying how many older ones were cut; then, following,
        // whatever comes after them.
        let query = calls::RequestsQuery {
            since: 0,
            all: args.all,
            limit: args.lines as usize,
            newest: true,
        };
        let page = client
            .call::<calls::Requests>(&[], &query, &NoBody {})
            .await?;
        if page.left_out > 0 {
            eprintln!(
                "stepmint: showing the newest {} of {} records ({} older not shown; -n N for more, at most {MAX_PAGE})",
                page.requests.len(),
                page.requests.len() + page.left_out,
                page.left_out
            );
        }
        print(&page.requests, args.json)?;
        let mut since = page.next;
        if !args.follow {
            return anyhow::Ok(());
        }
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            loop {
                let query = calls::RequestsQuery {
                    since,
                    all: args.all,
                    limit: MAX_PAGE,
                    newest: false,
                };
                let page = client
                    .call::<calls::Requests>(&[], &query, &NoBody {})
                    .await?;
                print(&page.requests, args.json)?;
                since = page.next;
                // More waiting: read on at once.
                if page.left_out == 0 {
                    break;
                }
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print(records: &[stepmint::http::RequestRecord], json: bool) -> Result<()> {
    for r in records {
        if json {
            line(&serde_json::to_string(r)?)?;
        } else {
            // The server's own access-log line.
            human(&r.to_string())?;
        }
    }
    Ok(())
}
