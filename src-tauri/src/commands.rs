//! The commands the front end invokes. Each is one call into the core (`stepmint::http::service`, the
//! same operations the console's HTTP handlers call); errors reach the UI as readable strings.

use stepmint::api::{
    FaultList, FaultsCleared, IssuerStatus, KeyView, ListenSettings, RequestsPage,
};
use stepmint::hostile::{self, CaseSummary};
use stepmint::http::service;
use stepmint::{HistoryEntry, KeyAlg, MintedToken, StepRequest, WorkspaceSpec};
use tauri::State;

use crate::state::Desktop;

type CmdResult<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Everything the Issuer screen shows.
#[tauri::command]
pub async fn status(desktop: State<'_, Desktop>) -> CmdResult<IssuerStatus> {
    let settings = desktop.settings().await;
    let running = desktop.server().await.map(|s| service::server_view(&s));
    Ok(IssuerStatus {
        running: running.is_ok(),
        server: running.ok(),
        data_dir: desktop.data_dir.clone(),
        settings: ListenSettings {
            bind: settings.bind.to_string(),
            port: settings.port,
            workspaces: settings.workspaces,
        },
        note: desktop.note().await,
        error: desktop.last_error().await,
    })
}

async fn apply_listen(desktop: &Desktop, bind: Option<String>, port: Option<u16>) -> CmdResult<()> {
    let mut settings = desktop.settings().await;
    if let Some(b) = bind {
        settings.bind = b
            .trim()
            .parse()
            .map_err(|_| format!("bind: `{b}` is not an IP address"))?;
    }
    if let Some(p) = port {
        settings.port = p;
    }
    desktop.save_settings(settings).await.map_err(err)
}

/// Starts the issuer (optionally on a new address).
#[tauri::command]
pub async fn start(
    desktop: State<'_, Desktop>,
    bind: Option<String>,
    port: Option<u16>,
) -> CmdResult<IssuerStatus> {
    apply_listen(&desktop, bind, port).await?;
    desktop.start().await.map_err(err)?;
    status(desktop).await
}

/// Stops the issuer.
#[tauri::command]
pub async fn stop(desktop: State<'_, Desktop>) -> CmdResult<IssuerStatus> {
    desktop.stop().await;
    status(desktop).await
}

/// Stops and starts the issuer (optionally on a new address).
#[tauri::command]
pub async fn restart(
    desktop: State<'_, Desktop>,
    bind: Option<String>,
    port: Option<u16>,
) -> CmdResult<IssuerStatus> {
    apply_listen(&desktop, bind, port).await?;
    desktop.stop().await;
    desktop.start().await.map_err(err)?;
    status(desktop).await
}

async fn served_slugs(desktop: &Desktop) -> Vec<WorkspaceSpec> {
    let settings = desktop.settings().await;
    if !settings.workspaces.is_empty() {
        return settings.workspaces;
    }
    desktop
        .with_instance(|i| {
            i.issuer()
                .workspaces()
                .iter()
                .map(|w| WorkspaceSpec {
                    slug: w.workspace.slug.clone(),
                    uuid: None,
                })
                .collect()
        })
        .await
        .unwrap_or_default()
}

/// Serves another workspace (`SLUG` or `SLUG=UUID`) and restarts.
#[tauri::command]
pub async fn add_workspace(
    desktop: State<'_, Desktop>,
    workspace: String,
) -> CmdResult<IssuerStatus> {
    let spec = WorkspaceSpec::parse(workspace.trim()).map_err(err)?;
    let mut list = served_slugs(&desktop).await;
    if list.iter().any(|w| w.slug == spec.slug) {
        return Err(format!("workspace `{}` is already served", spec.slug));
    }
    list.push(spec);
    let mut settings = desktop.settings().await;
    settings.workspaces = list;
    desktop.save_settings(settings).await.map_err(err)?;
    restart(desktop, None, None).await
}

/// Stops serving a workspace (its keys stay in the data directory) and restarts.
#[tauri::command]
pub async fn remove_workspace(
    desktop: State<'_, Desktop>,
    slug: String,
) -> CmdResult<IssuerStatus> {
    let mut list = served_slugs(&desktop).await;
    let before = list.len();
    list.retain(|w| w.slug != slug);
    if list.len() == before {
        return Err(format!("workspace `{slug}` is not served"));
    }
    if list.is_empty() {
        return Err("at least one workspace must be served".into());
    }
    let mut settings = desktop.settings().await;
    settings.workspaces = list;
    desktop.save_settings(settings).await.map_err(err)?;
    restart(desktop, None, None).await
}

/// A workspace's keys.
#[tauri::command]
pub async fn keys(desktop: State<'_, Desktop>, workspace: String) -> CmdResult<Vec<KeyView>> {
    service::keys(&desktop.server().await?, &workspace).map_err(err)
}

/// Rotates a workspace's signing key.
#[tauri::command]
pub async fn rotate_key(
    desktop: State<'_, Desktop>,
    workspace: String,
    overlap: Option<u64>,
) -> CmdResult<Vec<KeyView>> {
    let server = desktop.server().await?;
    let rotation = service::rotate_key(&server, &workspace, overlap, None).await;
    Ok(rotation.map_err(err)?.keys)
}

/// Adds a published key of `alg` (ES256/EdDSA for the catalogue).
#[tauri::command]
pub async fn add_key(
    desktop: State<'_, Desktop>,
    workspace: String,
    alg: String,
    staged: Option<bool>,
    publish_in: Option<u64>,
) -> CmdResult<Vec<KeyView>> {
    let alg = KeyAlg::parse(&alg).map_err(err)?;
    let server = desktop.server().await?;
    let staged = staged.unwrap_or(false);
    service::add_key(&server, &workspace, alg, staged, publish_in)
        .await
        .map_err(err)?;
    service::keys(&server, &workspace).map_err(err)
}

/// Drops a key from the ring (and the JWKS) now; the one that signs cannot go.
#[tauri::command]
pub async fn retire_key(
    desktop: State<'_, Desktop>,
    workspace: String,
    kid: String,
) -> CmdResult<Vec<KeyView>> {
    let server = desktop.server().await?;
    service::retire_key(&server, &workspace, &kid)
        .await
        .map_err(err)?;
    service::keys(&server, &workspace).map_err(err)
}

/// The shell lines that make clients trust the CA.
#[tauri::command]
pub async fn trust_lines(desktop: State<'_, Desktop>) -> CmdResult<String> {
    Ok(service::trust_lines(&desktop.server().await?))
}

/// Copies the CA certificate to `path` (a leading `~/` is the home directory).
#[tauri::command]
pub async fn save_ca(desktop: State<'_, Desktop>, path: String) -> CmdResult<String> {
    let ca = desktop.with_instance(|i| i.ca_path().clone()).await?;
    let target = match path.trim().strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_default()
            .join(rest),
        None => std::path::PathBuf::from(path.trim()),
    };
    if target.as_os_str().is_empty() {
        return Err("give a file path".into());
    }
    let pem = tokio::fs::read(&ca)
        .await
        .map_err(|e| format!("reading {}: {e}", ca.display()))?;
    tokio::fs::write(&target, pem)
        .await
        .map_err(|e| format!("writing {}: {e}", target.display()))?;
    Ok(target.display().to_string())
}

/// The hostile catalogue.
#[tauri::command]
pub async fn cases() -> CmdResult<Vec<CaseSummary>> {
    Ok(hostile::summaries())
}

/// Mints a token (a step request, possibly naming a case) and records it in the history.
#[tauri::command]
pub async fn mint(desktop: State<'_, Desktop>, request: StepRequest) -> CmdResult<MintedToken> {
    let server = desktop.server().await?;
    service::mint(
        &server,
        request,
        service::Keep::Now(stepmint::MintOrigin::App),
    )
    .await
    .map_err(err)
}

/// Decodes a token and runs the validator against a workspace's policy (with overrides).
#[tauri::command]
pub async fn inspect(
    desktop: State<'_, Desktop>,
    token: String,
    workspace: Option<String>,
    policy: Option<serde_json::Value>,
) -> CmdResult<stepmint::Inspection> {
    let overrides = match policy {
        Some(p) => stepmint::validate::PolicyOverrides::from_json(p).map_err(err)?,
        None => Default::default(),
    };
    let server = desktop.server().await?;
    service::inspect(&server, workspace.as_deref(), &token, &overrides).map_err(err)
}

/// `policy check` on a pasted policy (and pipelines text): the Policies screen's report, the
/// same as the console's `POST /policies/check`.
#[tauri::command]
pub async fn policy_check(
    desktop: State<'_, Desktop>,
    request: stepmint::policy_check::CheckText,
) -> CmdResult<stepmint::policy::CheckReport> {
    let server = desktop.server().await?;
    service::policy_check(&server, request).await.map_err(err)
}

/// Relying-party requests after `since`.
#[tauri::command]
pub async fn requests(desktop: State<'_, Desktop>, since: u64) -> CmdResult<RequestsPage> {
    let query = stepmint::http::calls::RequestsQuery {
        since,
        ..Default::default()
    };
    Ok(service::requests(&desktop.server().await?, &query))
}

/// Minted tokens, newest first (also while the issuer is stopped).
#[tauri::command]
pub async fn history(desktop: State<'_, Desktop>) -> CmdResult<Vec<HistoryEntry>> {
    service::history(&desktop.history).await.map_err(err)
}

/// Forgets the history.
#[tauri::command]
pub async fn clear_history(desktop: State<'_, Desktop>) -> CmdResult<()> {
    service::clear_history(&desktop.history).await.map_err(err)
}

/// Runs the catalogue, the policy-boundary cases, recipes and generated tokens against a relying
/// party (the same request and reply as the console's `POST /probe`), with live
/// `probe-progress` events.
#[tauri::command]
pub async fn probe<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: State<'_, Desktop>,
    options: stepmint::probe::ScreenRequest,
) -> CmdResult<stepmint::probe::ScreenReport> {
    let issuer = desktop.with_instance(|i| i.issuer().clone()).await?;
    let probe_options = options.options(&issuer).map_err(err)?;
    // Live progress for the Probe screen: `probe-progress` events, at most every 100 ms.
    let last = std::sync::Mutex::new(std::time::Instant::now());
    service::probe(
        issuer,
        probe_options,
        move |pr: &stepmint::probe::Progress| {
            use tauri::Emitter;
            let mut at = last.lock().unwrap_or_else(|e| e.into_inner());
            if at.elapsed() >= std::time::Duration::from_millis(100) || pr.total == Some(pr.done) {
                *at = std::time::Instant::now();
                let _ = app.emit("probe-progress", pr.clone());
            }
        },
    )
    .await
    .map_err(err)
}

/// The active faults.
#[tauri::command]
pub async fn faults(desktop: State<'_, Desktop>) -> CmdResult<FaultList> {
    Ok(service::faults(&desktop.server().await?))
}

/// Sets (replaces) the fault of a workspace's endpoint.
#[tauri::command]
pub async fn fault_set(
    desktop: State<'_, Desktop>,
    workspace: String,
    endpoint: String,
    fault: stepmint::faults::Fault,
) -> CmdResult<FaultList> {
    let server = desktop.server().await?;
    service::set_fault(&server, &workspace, &endpoint, fault).map_err(err)
}

/// Clears one fault, a workspace's, or every fault.
#[tauri::command]
pub async fn fault_clear(
    desktop: State<'_, Desktop>,
    workspace: Option<String>,
    endpoint: Option<String>,
) -> CmdResult<FaultsCleared> {
    let server = desktop.server().await?;
    service::clear_faults(&server, workspace.as_deref(), endpoint.as_deref()).map_err(err)
}

/// The Crafter's request as a recipe (TOML text) named `name`.
#[tauri::command]
pub async fn recipe_from_request(request: StepRequest, name: String) -> CmdResult<String> {
    service::recipe(&request, Some(&name)).map_err(err)
}
