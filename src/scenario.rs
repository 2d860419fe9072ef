//! Scenarios: a scripted sequence of faults and key changes for `serve --scenario FILE`, e.g.
//! "JWKS healthy for 10 s, then 503 for 30 s, then a new key":
//!
//! ```toml
//! [[step]]
//! at = 10
//! workspace = "stepmint"
//! endpoint = "jwks"
//! fault = { status = 503, retry_after = 30 }
//!
//! [[step]]
//! at = 40
//! clear = true
//!
//! [[step]]
//! at = 40
//! rotate = { overlap = 0 }
//! ```
//!
//! `at` is seconds after the server starts. `workspace` defaults to the first, `endpoint` (for
//! faults) to `jwks`; a step does one thing: set a `fault`, `clear` faults, or `rotate` the key.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};
use crate::faults::{Fault, FaultEndpoint, FaultTable};
use crate::http::RequestLog;
use crate::issuer::Issuer;

/// The latest a step may run, in seconds after start (a year): later ones cannot be timed.
pub const MAX_AT: f64 = 365.0 * 86_400.0;

/// A whole scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The steps, in any order (they run by `at`).
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
}

/// One timed action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds after start.
    pub at: f64,
    /// Workspace slug (default: the first).
    #[serde(default)]
    pub workspace: Option<String>,
    /// `discovery` or `jwks` (default).
    #[serde(default)]
    pub endpoint: Option<FaultEndpoint>,
    /// Set this fault.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// Clear the faults of the workspace (and endpoint, if given).
    #[serde(default)]
    pub clear: bool,
    /// Rotate the workspace's key.
    #[serde(default)]
    pub rotate: Option<Rotate>,
}

/// A rotation in a scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rotate {
    /// Seconds the old key stays published (default: the token lifetime).
    pub overlap: Option<u64>,
    /// Seconds the new key signs before it is published (default: 0).
    pub unpublished_for: Option<u64>,
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario> {
        let text =
            std::fs::read_to_string(path).map_err(|e| crate::error::Error::io("read", path, e))?;
        let err = |message: String| ErrorKind::Config {
            path: path.to_path_buf(),
            message,
        };
        let s: Scenario =
            toml::from_str(&text).map_err(|e| err(e.to_string().trim_end().to_string()))?;
        for (i, step) in s.steps.iter().enumerate() {
            let actions = usize::from(step.fault.is_some())
                + usize::from(step.clear)
                + usize::from(step.rotate.is_some());
            if actions != 1 {
                return Err(err(format!(
                    "step {} (at {}): give exactly one of fault, clear, rotate",
                    i + 1,
                    step.at
                ))
                .into());
            }
            // Out of range is a usage error (exit 2), not a broken file: no timer reaches it.
            if !(step.at.is_finite() && (0.0..=MAX_AT).contains(&step.at)) {
                return Err(crate::error::Error::invalid(
                    "scenario",
                    format!(
                        "{}: step {}: `at` must be 0 to {MAX_AT} seconds (a year), not {}",
                        path.display(),
                        i + 1,
                        step.at
                    ),
                ));
            }
            if let Some(f) = &step.fault {
                f.validate()
                    .map_err(|e| err(format!("step {}: {e}", i + 1)))?;
            }
        }
        Ok(s)
    }

    /// Applies the steps due at 0 s now, and returns the rest, to be spawned: each runs at its
    /// time from now. So whoever waits for the server to be ready sees the first steps.
    /// Each step, as it fires, is one `EVENT` record in `log` (which the CLI prints to stderr).
    pub async fn start(
        self,
        issuer: Arc<Issuer>,
        faults: Arc<FaultTable>,
        log: Arc<RequestLog>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let begun = tokio::time::Instant::now();
        let mut steps = self.steps;
        steps.sort_by(|a, b| a.at.total_cmp(&b.at));
        let later = steps.split_off(steps.partition_point(|s| s.at <= 0.0));
        for step in steps {
            apply(&issuer, &faults, &log, step).await;
        }
        async move {
            for step in later {
                tokio::time::sleep_until(begun + Duration::from_secs_f64(step.at)).await;
                apply(&issuer, &faults, &log, step).await;
            }
        }
    }
}

async fn apply(issuer: &Arc<Issuer>, faults: &FaultTable, log: &RequestLog, step: Step) {
    let slug = match issuer.workspace_or_first(step.workspace.as_deref()) {
        Ok(w) => w.workspace.slug.clone(),
        Err(e) => {
            log.event(
                None,
                format!("scenario step at {} s not applied: {e}", step.at),
            );
            return;
        }
    };
    let what = if let Some(fault) = step.fault {
        let endpoint = step.endpoint.unwrap_or(FaultEndpoint::Jwks);
        let described = fault.describe();
        match faults.set(&slug, endpoint, fault) {
            Ok(()) => format!("fault on {endpoint:?}: {described}"),
            Err(e) => format!("fault not set: {e}"),
        }
    } else if step.clear {
        let n = faults.clear(Some(&slug), step.endpoint);
        format!("{n} fault(s) cleared")
    } else if let Some(r) = step.rotate {
        let i = issuer.clone();
        let s = slug.clone();
        match tokio::task::spawn_blocking(move || i.rotate_key(&s, r.overlap, r.unpublished_for))
            .await
        {
            Ok(Ok(rotated)) => format!(
                "key rotated: {} signs, the old key published {} s more",
                rotated.key.kid(),
                rotated.overlap
            ),
            Ok(Err(e)) => format!("rotation failed: {e}"),
            Err(e) => format!("rotation failed: {e}"),
        }
    } else {
        return;
    };
    log.event(Some(slug), format!("scenario at {} s: {what}", step.at));
}
