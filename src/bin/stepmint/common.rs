//! Helpers shared by the commands: data directory, clock and id source from flags.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};
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
    let secs = match now.parse::<i64>() {
        Ok(secs) => secs,
        Err(_) => time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                Usage(format!(
                    "--now: `{now}` is neither Unix seconds nor RFC 3339"
                ))
            })?
            .unix_timestamp(),
    };
    if !stepmint::NOW_RANGE.contains(&secs) {
        bail!(Usage(format!(
            "--now: `{now}` is outside 1970-01-01T00:00:00Z..2100-01-01T00:00:00Z (Unix 0..4102444800)"
        )));
    }
    Ok(Arc::new(FixedClock(secs)))
}

pub fn ids(args: &TimeArgs) -> Arc<IdSource> {
    Arc::new(match args.seed {
        Some(seed) => IdSource::seeded(seed),
        None => IdSource::random(),
    })
}

/// The issuer base URL for offline tokens: `--public-url`, else the running server's (from
/// `server.json`), else `https://localhost:8443`.
pub fn public_url(data_dir: &std::path::Path, flag: Option<&str>) -> Result<String> {
    if let Some(url) = flag {
        return Ok(url.to_string());
    }
    Ok(match live_record(data_dir)? {
        Some(rec) => rec.public_url,
        None => format!("https://localhost:{}", stepmint::DEFAULT_PORT),
    })
}

/// The running server's record, saying on stderr when a dead server's was ignored.
pub fn live_record(data_dir: &std::path::Path) -> Result<Option<stepmint::ServerRecord>> {
    let (record, note) = stepmint::ServerRecord::read_noting(&stepmint::DataDir::open(data_dir)?)?;
    if let Some(note) = note {
        // On stderr: stdout carries the token.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "stepmint: note: {}; tokens name https://localhost:{} unless --public-url says otherwise",
            stepmint::printable(&note),
            stepmint::DEFAULT_PORT
        );
    }
    Ok(record)
}

/// The running server's settings a CLI mint must share: its public URL (unless `flag` gives
/// one) and its token lifetime. Without a server: `https://localhost:8443` and the default.
pub fn live_settings(data_dir: &std::path::Path, flag: Option<&str>) -> Result<(String, u64)> {
    let record = match flag {
        Some(_) => stepmint::ServerRecord::read(&stepmint::DataDir::open(data_dir)?)?,
        None => live_record(data_dir)?,
    };
    let lifetime = record
        .as_ref()
        .and_then(|r| r.token_lifetime)
        .unwrap_or(stepmint::DEFAULT_TOKEN_LIFETIME);
    let url = match (flag, record) {
        (Some(url), _) => url.to_string(),
        (None, Some(rec)) => rec.public_url,
        (None, None) => format!("https://localhost:{}", stepmint::DEFAULT_PORT),
    };
    Ok((url, lifetime))
}

/// The token argument: the text itself, or stdin for `-` (trimmed, size-capped).
pub fn token_arg(arg: String) -> Result<String> {
    use std::io::Read;
    if arg != "-" {
        return Ok(arg);
    }
    let mut s = String::new();
    std::io::stdin()
        .take(stepmint::MAX_DECODE_LEN as u64 + 1)
        .read_to_string(&mut s)
        .map_err(|e| anyhow::anyhow!("reading the token from stdin: {e}"))?;
    Ok(s.trim().to_string())
}

/// A mistake in how the command was called: exit code 2, like clap's own usage errors.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// 2 for usage errors (ours, or invalid input the core rejected), 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let usage = err.chain().any(|e| {
        e.downcast_ref::<Usage>().is_some()
            || e.downcast_ref::<stepmint::Error>()
                .is_some_and(|e| matches!(e.kind(), stepmint::ErrorKind::InvalidInput { .. }))
    });
    if usage { 2 } else { 1 }
}

/// Parses `--claim KEY=PATTERN` flags into `StringLike` claim conditions.
pub fn claim_conditions(flags: &[String]) -> Result<Vec<stepmint::validate::Condition>> {
    flags
        .iter()
        .map(|c| {
            stepmint::validate::Condition::parse(c)
                .map_err(|_| Usage(format!("--claim {c}: expected KEY=PATTERN")).into())
        })
        .collect()
}

/// Splits `KEY=JSON` and parses the value.
pub fn key_json(flag: &str, text: &str) -> Result<(String, serde_json::Value)> {
    let Some((key, value)) = text.split_once('=') else {
        bail!(Usage(format!("{flag} {text}: expected KEY=JSON")));
    };
    if key.is_empty() {
        bail!(Usage(format!("{flag} {text}: the key is empty")));
    }
    let value = serde_json::from_str(value).map_err(|e| {
        Usage(format!(
            "{flag} {text}: the value is not JSON ({e}); write a string as {key}='\"{value}\"'"
        ))
    })?;
    Ok((key.to_string(), value))
}

/// Unix seconds as RFC 3339 UTC (`2026-11-30T08:00:00Z`), as `decode` shows times.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{t} (out of range)"))
}

/// The workspace `--workspace` names, which must exist already (or be the default one on a
/// fresh data directory): a typo is an error listing the known ones, and nothing is created.
pub fn existing_workspace(
    dir: &std::path::Path,
    arg: Option<&str>,
) -> Result<Option<stepmint::WorkspaceSpec>> {
    let Some(slug) = arg else { return Ok(None) };
    if slug.contains('=') {
        bail!(Usage(format!(
            "--workspace {slug}: give the slug alone; a new workspace gets its UUID with `stepmint workspaces add SLUG=UUID`"
        )));
    }
    stepmint::Workspace::require_usable(&stepmint::DataDir::open(dir)?, slug)?;
    Ok(Some(stepmint::WorkspaceSpec {
        slug: slug.to_string(),
        uuid: None,
    }))
}
