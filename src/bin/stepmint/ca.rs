//! `stepmint ca path|pem|env`

use std::process::ExitCode;

use anyhow::Result;
use stepmint::{Clock, DataDir, LocalCa, SystemClock};

use crate::cli::{CaArgs, CaCommand, DataDirArg};
use crate::common;

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
    }
    Ok(ExitCode::SUCCESS)
}
