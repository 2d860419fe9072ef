//! Helpers shared by the commands: data directory, clock and id source from flags.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use stepmint::{Clock, Config, FixedClock, IdSource, SystemClock};

use crate::cli::{DataDirArg, TimeArgs};

pub fn data_dir(arg: &DataDirArg) -> Result<PathBuf> {
    let config = Config {
        data_dir: arg.data_dir.clone(),
        ..Config::default()
    };
    Ok(config.resolve_data_dir()?)
}

pub fn clock(args: &TimeArgs) -> Result<Arc<dyn Clock>> {
    let Some(now) = &args.now else {
        return Ok(Arc::new(SystemClock));
    };
    if let Ok(secs) = now.parse::<i64>() {
        return Ok(Arc::new(FixedClock(secs)));
    }
    let t = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("--now: `{now}` is neither Unix seconds nor RFC 3339"))?;
    Ok(Arc::new(FixedClock(t.unix_timestamp())))
}

pub fn ids(args: &TimeArgs) -> Arc<IdSource> {
    Arc::new(match args.seed {
        Some(seed) => IdSource::seeded(seed),
        None => IdSource::random(),
    })
}

/// Splits `KEY=JSON` and parses the value.
pub fn key_json(flag: &str, text: &str) -> Result<(String, serde_json::Value)> {
    let Some((key, value)) = text.split_once('=') else {
        bail!("{flag} {text}: expected KEY=JSON");
    };
    if key.is_empty() {
        bail!("{flag} {text}: the key is empty");
    }
    let value = serde_json::from_str(value).with_context(|| {
        format!("{flag} {text}: the value is not JSON (write a string as {key}='\"{value}\"')")
    })?;
    Ok((key.to_string(), value))
}
