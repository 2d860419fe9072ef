//! The operations both front ends offer, built once: the console's HTTP handlers and the desktop
//! app's commands each call these in one line and only translate errors (a JSON body, or a
//! string for the app). Each takes the running server's [`AppState`] (the desktop app gets it from
//! its [`crate::Instance`]), so the two screens cannot drift: a token minted in either is signed,
//! recorded and answered the same way.

use std::sync::Arc;

use super::AppState;
use super::api::{
    AwsRoleList, AwsRoleView, FaultList, FaultsCleared, GcpProviderList, GcpProviderView, KeyAdded,
    KeyRetired, RequestsPage, Rotation, ServerView,
};
use crate::error::{Error, ErrorKind, Result};
use crate::faults::{Fault, FaultEndpoint};
use crate::history::{History, HistoryEntry, MintOrigin};
use crate::inspect::Inspection;
use crate::issuer::{Issuer, MintedToken};
use crate::keys::{KeyAlg, KeyView};
use crate::policy::CheckReport;
use crate::policy_check::{CheckText, check_text};
use crate::probe::{self, ProbeOptions, Progress, ScreenReport};
use crate::token::StepRequest;
use crate::validate::PolicyOverrides;

/// Runs file work (keys, history, the data-directory lock) off the async reactor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::from(ErrorKind::Server(format!("a background task failed: {e}"))))?
}

/// `policy check` on a pasted policy (and pipelines text): the Policies screen's report, the
/// same as `stepmint policy check --json`. Parsing and evaluating up to a 64 KiB body is CPU
/// work, so it runs off the async runtime's threads.
pub async fn policy_check(state: &AppState, request: CheckText) -> Result<CheckReport> {
    let issuer = state.issuer.clone();
    blocking(move || check_text(&issuer, &request)).await
}

/// What the Issuer screen shows of a running server.
pub fn server_view(state: &AppState) -> ServerView {
    let now = state.issuer.clock().now();
    let facts = state.facts.clone().unwrap_or_default();
    ServerView {
        base_url: state.issuer.public_url().to_string(),
        bound: facts.bound,
        ca_path: facts.ca_path,
        bundle_path: facts.bundle_path,
        workspaces: state
            .issuer
            .workspaces()
            .iter()
            .map(|w| w.details(now))
            .collect(),
    }
}

/// The shell lines that make clients trust the CA.
pub fn trust_lines(state: &AppState) -> String {
    let facts = state.facts.clone().unwrap_or_default();
    crate::trust::shell_exports(&facts.ca_path, &facts.bundle_path)
}

/// How long a queued history entry waits for others before they are written together.
pub const HISTORY_COALESCE: std::time::Duration = std::time::Duration::from_millis(250);

/// How a mint is recorded in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Written before the answer, a failure to write becoming the token's `warning`: a person
    /// is looking (the console's Crafter, the app).
    Now(MintOrigin),
    /// Queued and written by a flush in the background: the control API's mints, the hot path
    /// (a failure to write is an event in the request log).
    Queued(MintOrigin),
    /// Not recorded (`?history=false`).
    Not,
}

/// Mints a token for `req` and records it in the history under its workspace as `keep` says.
pub async fn mint(state: &AppState, req: StepRequest, keep: Keep) -> Result<MintedToken> {
    // The workspace a queued mint is recorded under (an unknown one fails here as in `mint`).
    let queued = match keep {
        Keep::Queued(origin) => Some((
            origin,
            state
                .issuer
                .workspace_or_first(req.workspace.as_deref())?
                .workspace
                .slug
                .clone(),
        )),
        _ => None,
    };
    let minted = if let Keep::Now(origin) = keep {
        // The history is a file (and crafting may read or create the attacker's keys).
        let (issuer, history) = (state.issuer.clone(), state.history.clone());
        blocking(move || {
            let mut minted = issuer.mint(&req)?;
            // The token is minted already: a history that cannot be written (a full disk)
            // leaves it with a warning, not a failure.
            let ws = issuer.workspace_or_first(req.workspace.as_deref())?;
            history.keep(
                &mut minted,
                &ws.workspace.slug,
                issuer.clock().now(),
                origin,
            );
            Ok(minted)
        })
        .await?
    } else if req.is_crafted() {
        // Crafting may read or create the attacker's keys.
        let issuer = state.issuer.clone();
        blocking(move || issuer.mint(&req)).await?
    } else {
        // A plain token is one RSA signature (~0.4 ms) and nothing else: signing here, rather
        // than handing it to a blocking thread and back, is measurably faster (scripts/bench:
        // about 5 % more tokens/s, 6 % less CPU per token) because on a busy server the
        // signature is the work, and a hand-off only adds thread switches.
        state.issuer.mint(&req)?
    };
    if let Some((origin, slug)) = queued {
        let now = state.issuer.clock().now();
        if state.history.enqueue(&minted, &slug, now, origin) {
            let (history, log) = (state.history.clone(), state.log.clone());
            // One flush writes every mint queued until it starts, and starts a moment later so
            // that a burst is a few writes a second, not a rewrite of the file per token (a
            // list, and the server's stop, flush at once).
            tokio::spawn(async move {
                tokio::time::sleep(HISTORY_COALESCE).await;
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = history.flush() {
                        log.event(None, history.not_kept(&e));
                    }
                })
                .await;
            });
        }
    }
    Ok(minted)
}

/// Decodes a token and runs the validator against a workspace's policy with `overrides`.
pub fn inspect(
    state: &AppState,
    workspace: Option<&str>,
    token: &str,
    overrides: &PolicyOverrides,
) -> Result<Inspection> {
    state.issuer.inspect(workspace, token, overrides)
}

/// One page of the request log after `since` (the oldest, or with `newest` the newest):
/// relying-party traffic only unless `all`.
pub fn requests(state: &AppState, q: &crate::http::calls::RequestsQuery) -> RequestsPage {
    let (requests, left_out) = if q.newest {
        state.log.newest(q.since, q.limit, q.all)
    } else {
        let requests = state.log.since(q.since, q.limit, q.all);
        let after = requests.last().map_or(q.since, |r| r.id);
        let more = state.log.count_after(after, q.all);
        (requests, more)
    };
    let next = requests.last().map_or(q.since, |r| r.id);
    RequestsPage {
        requests,
        next,
        left_out,
    }
}

/// Minted tokens, newest first, queued mints included. Takes the history alone: the app lists
/// it while stopped.
pub async fn history(history: &History) -> Result<Vec<HistoryEntry>> {
    let h = history.clone();
    blocking(move || {
        h.flush()?;
        h.list()
    })
    .await
}

/// Forgets the history (takes the data-directory lock, which a key change may hold).
pub async fn clear_history(history: &History) -> Result<()> {
    let h = history.clone();
    blocking(move || h.clear()).await
}

/// A request as a recipe (TOML) named `name` (`crafted` when blank).
pub fn recipe(req: &StepRequest, name: Option<&str>) -> Result<String> {
    let name = match name.map(str::trim) {
        Some(n) if !n.is_empty() => n,
        _ => "crafted",
    };
    crate::hostile::recipe::from_request(req, name)?.to_toml()
}

/// A workspace's key ring as the screens list it.
pub fn keys(state: &AppState, slug: &str) -> Result<Vec<KeyView>> {
    let ws = state.issuer.workspace(slug)?;
    Ok(ws.workspace.keys.describe(state.issuer.clock().now()))
}

/// Rotates a workspace's signing key.
pub async fn rotate_key(
    state: &AppState,
    slug: &str,
    overlap: Option<u64>,
    unpublished_for: Option<u64>,
) -> Result<Rotation> {
    let (issuer, s) = (state.issuer.clone(), slug.to_string());
    let rotated = blocking(move || issuer.rotate_key(&s, overlap, unpublished_for)).await?;
    Ok(Rotation {
        active_kid: rotated.key.kid().to_string(),
        overlap: rotated.overlap,
        keys: keys(state, slug)?,
    })
}

/// Adds a key of `alg`, published or staged (published `publish_in` seconds from now).
pub async fn add_key(
    state: &AppState,
    slug: &str,
    alg: KeyAlg,
    staged: bool,
    publish_in: Option<u64>,
) -> Result<KeyAdded> {
    let (issuer, s) = (state.issuer.clone(), slug.to_string());
    let key = blocking(move || issuer.add_key(&s, alg, staged, publish_in)).await?;
    Ok(KeyAdded {
        kid: key.kid().to_string(),
        alg: key.alg(),
    })
}

/// Drops a key from the ring (and the JWKS) now; the one that signs cannot go.
pub async fn retire_key(state: &AppState, slug: &str, kid: &str) -> Result<KeyRetired> {
    crate::keys::validate_kid(kid)?;
    let (issuer, s, k) = (state.issuer.clone(), slug.to_string(), kid.to_string());
    blocking(move || issuer.retire_key(&s, &k)).await?;
    Ok(KeyRetired {
        retired: kid.to_string(),
    })
}

/// The active faults.
pub fn faults(state: &AppState) -> FaultList {
    FaultList {
        faults: state.faults.list(),
    }
}

/// Sets (replaces) the fault of a served workspace's endpoint.
pub fn set_fault(state: &AppState, slug: &str, endpoint: &str, fault: Fault) -> Result<FaultList> {
    let endpoint = FaultEndpoint::parse(endpoint)?;
    let ws = state.issuer.workspace(slug)?;
    state.faults.set(&ws.workspace.slug, endpoint, fault)?;
    Ok(faults(state))
}

/// Clears one fault, a workspace's, or every fault.
pub fn clear_faults(
    state: &AppState,
    slug: Option<&str>,
    endpoint: Option<&str>,
) -> Result<FaultsCleared> {
    let endpoint = endpoint.map(FaultEndpoint::parse).transpose()?;
    let cleared = state.faults.clear(slug, endpoint);
    Ok(FaultsCleared {
        cleared,
        faults: state.faults.list(),
    })
}

/// The emulated AWS roles and where the emulated STS answers.
pub fn aws_roles(state: &AppState) -> AwsRoleList {
    AwsRoleList {
        aws_sts: crate::paths::aws_sts_url(state.issuer.public_url()),
        roles: state
            .exchanges
            .roles()
            .into_iter()
            .map(|r| AwsRoleView {
                arn: r.arn,
                account: r.account,
                name: r.name,
                policy: r.policy,
            })
            .collect(),
    }
}

/// Adds the emulated role `arn` with trust policy `policy`, or replaces its policy.
pub fn put_aws_role(
    state: &AppState,
    arn: &str,
    policy: &serde_json::Value,
) -> Result<AwsRoleList> {
    state.exchanges.put_role(arn, policy)?;
    Ok(aws_roles(state))
}

/// Removes the emulated role `arn`; an unknown one is an error naming it.
pub fn delete_aws_role(state: &AppState, arn: &str) -> Result<AwsRoleList> {
    if !state.exchanges.delete_role(arn) {
        return Err(ErrorKind::UnknownRole(arn.to_string()).into());
    }
    Ok(aws_roles(state))
}

/// The emulated GCP workload identity providers and the emulated STS's token URL.
pub fn gcp_providers(state: &AppState) -> GcpProviderList {
    GcpProviderList {
        gcp_sts: crate::paths::gcp_sts_url(state.issuer.public_url()),
        providers: state
            .exchanges
            .gcp_provider_list()
            .into_iter()
            .map(|p| GcpProviderView {
                audience: format!("//iam.googleapis.com/{}", p.name),
                name: p.name,
                provider: p.provider,
            })
            .collect(),
    }
}

/// Adds the emulated GCP provider `name` with document `provider`, or replaces its document.
pub fn put_gcp_provider(
    state: &AppState,
    name: &str,
    provider: &serde_json::Value,
) -> Result<GcpProviderList> {
    state.exchanges.put_gcp_provider(name, provider)?;
    Ok(gcp_providers(state))
}

/// Removes the emulated GCP provider `name`; an unknown one is an error naming it.
pub fn delete_gcp_provider(state: &AppState, name: &str) -> Result<GcpProviderList> {
    if !state.exchanges.delete_gcp_provider(name) {
        return Err(ErrorKind::UnknownProvider(name.to_string()).into());
    }
    Ok(gcp_providers(state))
}

/// Runs a probe for the Probe screen (the request already checked into `options`), reporting
/// progress as it goes. Dropping the future cancels it, with every command it started.
pub async fn probe(
    issuer: Arc<Issuer>,
    options: ProbeOptions,
    progress: impl Fn(&Progress) + Send + Sync + 'static,
) -> Result<ScreenReport> {
    let report = probe::run(issuer, options, progress).await?;
    Ok(probe::screen_report(&report))
}
