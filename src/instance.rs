//! A running Stepmint: issuer, TLS, HTTP server and request log, started and stopped as one.
//!
//! Both binaries start the issuer through [`Instance::start`]; the CLI prints what it reports,
//! the desktop app keeps it as managed state. While running it records its address in the data
//! directory's `server.json`, so other commands (`mint`, later `fault`) can find it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::ca::{LocalCa, TlsIdentity};
use crate::clock::{Clock, IdSource};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Access, AppState, RequestLog, ServerFacts, router};
use crate::issuer::{Issuer, IssuerOptions, WorkspaceInfo};
use crate::server::{self, Server};
use crate::store::{self, ServerRecord};

/// A running issuer.
pub struct Instance {
    issuer: Arc<Issuer>,
    /// What the handlers share; the desktop app's commands use it through [`crate::http::service`].
    state: AppState,
    log: Arc<RequestLog>,
    faults: Arc<crate::faults::FaultTable>,
    exchanges: Arc<crate::http::exchange::Exchanges>,
    tls_faults: Option<crate::tls_faults::TlsFaultListeners>,
    server: Server,
    control_token: Option<String>,
    console: bool,
    /// Held while serving (see `DataDir::try_lock_serving`).
    _serving: crate::store::DirLock,
    base_url: String,
    ca_path: PathBuf,
    bundle_path: PathBuf,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// Opens the data directory, binds, and starts serving.
    pub async fn start(
        config: Config,
        clock: Arc<dyn Clock>,
        ids: Arc<IdSource>,
    ) -> Result<Instance> {
        config.validate()?;
        let data_dir = config.resolve_data_dir()?;
        // One server per data directory, held for the server's life: a second would serve
        // key changes the first never sees, and delete the record the first still needs.
        let data = crate::store::DataDir::open(&data_dir)?;
        let mut serving = data.try_lock_serving()?;
        // Without a record the holder is a server just stopped in this process (a child it
        // forked may hold the lock's descriptor for the instant before its exec closes it) or
        // one still starting: give it a moment before calling the directory taken.
        let mut tries = 0;
        while serving.is_none() && tries < 20 && matches!(ServerRecord::read(&data), Ok(None)) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            serving = data.try_lock_serving()?;
            tries += 1;
        }
        let serving = serving.ok_or_else(|| {
            let who = match ServerRecord::read(&data) {
                Ok(Some(r)) => format!("{} (pid {})", r.listening, r.pid),
                _ => "another process".into(),
            };
            Error::from(ErrorKind::AlreadyServing(format!(
                "{who} already serves {}: stop it, or give this server its own --data-dir",
                data_dir.display()
            )))
        })?;
        let addr = SocketAddr::new(config.bind, config.port);
        // Bind first: a busy port should fail fast, before any key work, and port 0 needs
        // the real port to build the issuer URLs.
        let listener = server::bind(addr).await?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::from(ErrorKind::Server(format!("listener has no address: {e}"))))?;
        let public_url = config.public_base(local.port())?;
        let options = IssuerOptions {
            data_dir,
            public_url: public_url.clone(),
            workspaces: config.workspaces.clone(),
            token_lifetime: config.token_lifetime,
        };
        // The certificate covers the name relying parties use, which behind a container's
        // published port or a proxy is the public URL's host, not one of ours.
        let mut sans = config.sans.clone();
        // (A host no certificate can name, such as one with `_`, is left to `--san`.)
        let host = public_host(&public_url).0;
        if crate::ca::san_set(std::slice::from_ref(&host)).is_ok() {
            sans.push(host);
        }
        let (issuer, ca, tls, bundle_path) = tokio::task::spawn_blocking(move || -> Result<_> {
            let issuer = Issuer::open(options, clock, ids)?;
            let (ca, leaf) = tls_identity(&issuer, &sans)?;
            let tls = leaf.server_config()?;
            let bundle = crate::trust::write_bundle(issuer.data_dir(), ca.cert_pem())?;
            Ok((issuer, ca, tls, bundle))
        })
        .await
        .map_err(|e| Error::from(ErrorKind::Server(format!("start-up task failed: {e}"))))??;
        let issuer = Arc::new(issuer);
        let control_token = control_token(&config, issuer.data_dir())?;
        let access = access_for(&config, &public_url, local, control_token.clone());
        let facts = ServerFacts {
            bound: local.to_string(),
            ca_path: issuer.data_dir().ca_cert(),
            bundle_path: bundle_path.clone(),
            bind: config.bind.to_string(),
            port: config.port,
        };
        let state = AppState::serving(
            issuer.clone(),
            Some(Arc::from(ca.cert_pem())),
            access,
            Some(facts),
            crate::http::Serving {
                console: config.console && config.control_plane,
                control: config.control_plane,
                allow_exec: config.allow_exec,
            },
        );
        for (arn, file) in &config.aws_roles {
            let text = std::fs::read_to_string(file).map_err(|e| {
                Error::invalid(
                    "aws_roles",
                    format!("role {arn}: cannot read {}: {e}", file.display()),
                )
            })?;
            // The file's name with the line the parser points at, for the person who wrote it.
            state
                .exchanges
                .put_role_text(arn, &text)
                .map_err(|e| Error::invalid("aws_roles", format!("{}: {e}", file.display())))?;
        }
        for (name, file) in &config.gcp_providers {
            let text = std::fs::read_to_string(file).map_err(|e| {
                Error::invalid(
                    "gcp_providers",
                    format!("provider {name}: cannot read {}: {e}", file.display()),
                )
            })?;
            state
                .exchanges
                .put_gcp_provider_text(name, &text)
                .map_err(|e| Error::invalid("gcp_providers", format!("{}: {e}", file.display())))?;
        }
        let exchanges = state.exchanges.clone();
        let log = state.log.clone();
        let faults = state.faults.clone();
        let app = router(state.clone());
        let tls_faults = if config.tls_faults {
            Some(
                crate::tls_faults::TlsFaultListeners::start(
                    &ca,
                    config.bind,
                    app.clone(),
                    issuer.clock().now(),
                )
                .await?,
            )
        } else {
            None
        };
        let server = Server::spawn(listener, tls, app, {
            let max_connections = connection_cap(config.max_connections);
            server::Limits {
                max_connections,
                per_peer: config
                    .max_connections_per_peer
                    .unwrap_or_else(|| crate::config::default_per_peer(max_connections)),
            }
        })?;
        let ca_path = issuer.data_dir().ca_cert();
        let warnings = ca
            .unconstrained_warning(issuer.data_dir())
            .into_iter()
            .collect();
        // Only a server with a control plane is one the CLI can drive; a probe's own issuer
        // leaves no record for `mint` or `keys` to find.
        if config.control_plane {
            let record = ServerRecord {
                public_url: public_url.clone(),
                listening: format!("https://{}", reachable(local)),
                pid: std::process::id(),
                token_lifetime: Some(config.token_lifetime),
            };
            // Best effort: a read-only data directory must not stop the server.
            let _ = store::write_json(&issuer.data_dir().server_state(), &record);
        }
        Ok(Instance {
            issuer,
            state,
            log,
            faults,
            exchanges,
            tls_faults,
            server,
            control_token,
            console: config.console && config.control_plane,
            _serving: serving,
            base_url: public_url,
            ca_path,
            bundle_path,
            warnings,
        })
    }

    /// The issuer being served.
    pub fn issuer(&self) -> &Arc<Issuer> {
        &self.issuer
    }

    /// The state the server's handlers share: what [`crate::http::service`]'s operations take.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The request log.
    pub fn log(&self) -> &Arc<RequestLog> {
        &self.log
    }

    /// The injected faults.
    pub fn faults(&self) -> &Arc<crate::faults::FaultTable> {
        &self.faults
    }

    /// The emulated token exchanges' roles and sessions.
    pub fn exchanges(&self) -> &Arc<crate::http::exchange::Exchanges> {
        &self.exchanges
    }

    /// The emulated AWS STS endpoint (`AWS_ENDPOINT_URL_STS`).
    pub fn aws_sts_url(&self) -> String {
        crate::paths::aws_sts_url(&self.base_url)
    }

    /// The emulated GCP STS token URL (an external-account credential's `token_url`).
    pub fn gcp_sts_url(&self) -> String {
        crate::paths::gcp_sts_url(&self.base_url)
    }

    /// The TLS fault listeners' base URLs by fault name (empty unless `tls_faults`).
    pub fn tls_fault_urls(&self) -> std::collections::BTreeMap<String, String> {
        self.tls_faults
            .as_ref()
            .map(|t| t.urls().clone())
            .unwrap_or_default()
    }

    /// The token the control API requires, if it requires one.
    pub fn control_token(&self) -> Option<&str> {
        self.control_token.as_deref()
    }

    /// The web console's URL, with the token in its fragment when one is required (the
    /// fragment never reaches a server or its logs); `None` with `--no-console`.
    pub fn console_url(&self) -> Option<String> {
        self.console.then(|| {
            let base = format!(
                "{}{}/",
                crate::paths::trim_base(&self.base_url),
                crate::paths::CONSOLE_PREFIX
            );
            match &self.control_token {
                Some(t) => format!("{base}#token={t}"),
                None => base,
            }
        })
    }

    /// The public base URL (`https://localhost:PORT` unless configured).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The CA certificate file.
    pub fn ca_path(&self) -> &PathBuf {
        &self.ca_path
    }

    /// System roots plus the CA.
    pub fn bundle_path(&self) -> &PathBuf {
        &self.bundle_path
    }

    /// What the owner should know but that did not stop the start (a CA without name
    /// constraints), for the front ends to show.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every served workspace.
    pub fn workspaces(&self) -> Vec<WorkspaceInfo> {
        self.issuer.workspaces().iter().map(|w| w.info()).collect()
    }

    /// Stops serving and removes `server.json` if it is still ours.
    pub async fn stop(self) {
        if let Some(t) = self.tls_faults {
            t.stop().await;
        }
        self.server.shutdown().await;
        // Mints the control API queued for the history are written before the server goes.
        let history = self.state.history.clone();
        let _ = tokio::task::spawn_blocking(move || history.flush()).await;
        let data = self.issuer.data_dir();
        if let Ok(Some(rec)) = ServerRecord::read(data)
            && rec.pid == std::process::id()
            && rec.public_url == self.base_url
        {
            let _ = std::fs::remove_file(data.server_state());
        }
    }
}

/// Loads or creates the CA and a TLS leaf covering `extra_sans`, under the directory lock.
fn tls_identity(issuer: &Issuer, extra_sans: &[String]) -> Result<(LocalCa, TlsIdentity)> {
    let data = issuer.data_dir();
    let _lock = data.lock()?;
    let now = issuer.clock().now();
    // A new CA may vouch for the names this server is started with, and no others.
    let ca = LocalCa::load_or_create(data, extra_sans, now)?;
    let leaf = ca.leaf(data, extra_sans, now)?;
    Ok((ca, leaf))
}

/// The connection cap for `wanted`: no more than the process can open files for, with room for
/// the data directory, TLS-fault listeners and outgoing clients. The soft limit on open files is
/// raised to the hard one first (many systems start processes at 1,024).
fn connection_cap(wanted: usize) -> usize {
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let room = usize::try_from(files.saturating_sub(128)).unwrap_or(usize::MAX);
    wanted.min(room).max(16)
}

/// The control token: the configured one, else a new random one. Always one: loopback is not a
/// boundary (other local users, containers sharing the network namespace, `ssh -L` and tunnels
/// all reach 127.0.0.1), and the control plane can mint, change keys and, with `--allow-exec`,
/// run commands. Written to the data directory (0600) for the CLI; a server without a control
/// plane removes a stale one.
fn control_token(config: &Config, data: &store::DataDir) -> Result<Option<String>> {
    let path = data.control_token();
    if !config.control_plane {
        return Ok(None);
    }
    let token = match &config.control_token {
        Some(t) => t.clone(),
        None => {
            let mut bytes = [0u8; 24];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::crypto("no random bytes"))?;
            crate::encoding::b64url(&bytes)
        }
    };
    store::write_atomic(&path, token.as_bytes())?;
    Ok(Some(token))
}

/// Where a client on this machine reaches a server bound to `local`: an unspecified address
/// (`--bind 0.0.0.0`) is no destination, nor a name the certificate holds; loopback is both.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port())
        }
        _ => local,
    }
}

/// The public URL's host and port, if it names one.
fn public_host(public_url: &str) -> (String, Option<u16>) {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    crate::http::split_host(authority)
}

/// Whom the control plane answers: the names this server serves, on its ports.
fn access_for(
    config: &Config,
    public_url: &str,
    local: SocketAddr,
    token: Option<String>,
) -> Access {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let (public_host, public_port) = public_host(public_url);
    hosts.push(public_host);
    hosts.extend(config.sans.iter().map(|s| s.to_ascii_lowercase()));
    if !config.bind.is_unspecified() {
        hosts.push(config.bind.to_string());
    }
    hosts.sort();
    hosts.dedup();
    let default_port = if public_url.starts_with("http://") {
        80
    } else {
        443
    };
    let mut ports = vec![local.port(), public_port.unwrap_or(default_port)];
    ports.dedup();
    Access {
        hosts,
        ports,
        token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_bound_to_all_interfaces_is_recorded_at_loopback() {
        let at = |s: &str| reachable(s.parse().unwrap()).to_string();
        assert_eq!(at("0.0.0.0:8443"), "127.0.0.1:8443");
        assert_eq!(at("[::]:8443"), "[::1]:8443");
        assert_eq!(at("192.0.2.7:8443"), "192.0.2.7:8443");
        assert_eq!(at("127.0.0.1:9"), "127.0.0.1:9");
    }

    #[test]
    fn a_token_is_made_on_loopback_too_and_kept_for_the_cli() {
        let tmp = tempfile::tempdir().unwrap();
        let data = store::DataDir::open(tmp.path()).unwrap();
        let mut config = Config::default();
        assert!(config.bind.is_loopback());
        let made = control_token(&config, &data)
            .unwrap()
            .expect("loopback is no boundary: a token");
        assert!(made.len() >= 32);
        assert_eq!(std::fs::read_to_string(data.control_token()).unwrap(), made);
        let again = control_token(&config, &data).unwrap().unwrap();
        assert_ne!(made, again, "a new one each start");
        config.control_token = Some("a-configured-token-0123".into());
        assert_eq!(
            control_token(&config, &data).unwrap().as_deref(),
            Some("a-configured-token-0123")
        );
        config.control_plane = false;
        assert_eq!(control_token(&config, &data).unwrap(), None);
        let a = access_for(
            &config,
            "https://issuer.example:9443/prefix",
            "127.0.0.1:8443".parse().unwrap(),
            None,
        );
        assert!(a.hosts.contains(&"issuer.example".to_string()));
        assert_eq!(a.ports, [8443, 9443]);
    }
}
