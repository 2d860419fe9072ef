//! `stepmint ca path|pem|env|install-browser`

use std::process::ExitCode;

use anyhow::Result;
use std::path::PathBuf;

use stepmint::{Clock, DataDir, LocalCa, SystemClock, nss};

use crate::cli::{CaArgs, CaCommand, DataDirArg};
use crate::common::{self, Usage};

pub fn run(args: CaArgs, dir_arg: &DataDirArg) -> Result<ExitCode> {
    let data = DataDir::open(common::data_dir(dir_arg)?)?;
    let ca = {
        let _lock = data.lock()?;
        LocalCa::load_or_create(&data, &[], SystemClock.now())?
    };
    if let Some(w) = ca.unconstrained_warning(&data) {
        eprintln!("stepmint: warning: {w}");
    }
    match args.what {
        CaCommand::Path => crate::out::human(&data.ca_cert().display().to_string())?,
        CaCommand::Pem => crate::out::text(ca.cert_pem())?,
        CaCommand::Env => {
            let bundle = stepmint::write_bundle(&data, ca.cert_pem())?;
            crate::out::text(&stepmint::shell_exports(&data.ca_cert(), &bundle))?;
        }
        CaCommand::InstallBrowser { home, remove, json } => {
            let home = match home.or_else(|| std::env::var_os("HOME").map(PathBuf::from)) {
                Some(h) => h,
                None => return Err(Usage("no home directory: give --home DIR".into()).into()),
            };
            let nickname = nss::nickname(ca.cert_der());
            let mut targets = nss::databases(&home);
            let changed = if remove {
                nss::uninstall(&nickname, &targets)?
            } else {
                nss::install(&data.ca_cert(), &nickname, &mut targets)?;
                targets
            };
            if json {
                crate::out::line(&serde_json::to_string_pretty(&serde_json::json!({
                    "nickname": nickname,
                    "removed": remove,
                    "databases": changed,
                }))?)?;
            } else if changed.is_empty() {
                crate::out::line(&format!("`{nickname}` was in no browser database"))?;
            } else {
                for t in &changed {
                    let verb = match (remove, t.created) {
                        (true, _) => "removed from",
                        (false, true) => "trusted in (new database)",
                        (false, false) => "trusted in",
                    };
                    crate::out::line(&format!(
                        "{nickname}: {verb} {} ({})",
                        t.dir.display(),
                        t.browser
                    ))?;
                }
                if !remove {
                    crate::out::human("restart the browser to pick it up")?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
