//! The one [`AppState`] every handler gets.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::access::Access;
use super::reqlog::RequestLog;
use crate::history::History;
use crate::issuer::Issuer;

/// Everything a handler can reach: one shared [`Shared`], so handing it to a request is a
/// single reference-count bump.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What a running server knows of itself, for the console's Issuer screen.
#[derive(Debug, Clone, Default)]
pub struct ServerFacts {
    /// The address bound.
    pub bound: String,
    /// The CA certificate file.
    pub ca_path: PathBuf,
    /// System roots plus the CA.
    pub bundle_path: PathBuf,
    /// The listen address asked for.
    pub bind: String,
    /// The port asked for.
    pub port: u16,
}

/// What [`AppState`] shares.
pub struct Shared {
    /// The issuer.
    pub issuer: Arc<Issuer>,
    /// The request log.
    pub log: Arc<RequestLog>,
    /// The CA certificate PEM, when serving over TLS.
    pub ca_pem: Option<Arc<str>>,
    /// When the server started.
    pub started: Instant,
    /// Injected faults on the relying-party paths.
    pub faults: Arc<crate::faults::FaultTable>,
    /// Who may drive the control plane.
    pub access: Arc<Access>,
    /// The server's own facts, when it is one.
    pub facts: Option<ServerFacts>,
    /// Minted-token history (the console's History screen).
    pub history: History,
    /// What this server serves and allows.
    pub serving: Serving,
    /// Probes running in the server (bounded: each holds tokens, a relying party's answers
    /// and, for commands, processes).
    pub probes: Arc<tokio::sync::Semaphore>,
    /// The emulated token exchanges' roles and the sessions they issued.
    pub exchanges: Arc<super::exchange::Exchanges>,
}

/// How many probes a server runs at once; one more is answered 429.
pub const MAX_CONCURRENT_PROBES: usize = 2;

/// What a server serves beyond the relying-party paths, and what its control plane allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serving {
    /// The web console's pages.
    pub console: bool,
    /// The control API. Without it only the relying-party paths (discovery, JWKS, the
    /// attacker's documents) are served.
    pub control: bool,
    /// Whether a probe over the control API may run a command (`serve --allow-exec`).
    pub allow_exec: bool,
}

impl Default for Serving {
    /// The control API without the console, and no commands: what in-process tests need.
    fn default() -> Self {
        Serving {
            console: false,
            control: true,
            allow_exec: false,
        }
    }
}

impl AppState {
    /// State for `issuer` with an empty log, loopback-only access and no console.
    pub fn new(issuer: Arc<Issuer>, ca_pem: Option<Arc<str>>) -> Self {
        Self::serving(issuer, ca_pem, Access::default(), None, Serving::default())
    }

    /// State for a server: its access rules, its facts, what it serves.
    pub fn serving(
        issuer: Arc<Issuer>,
        ca_pem: Option<Arc<str>>,
        access: Access,
        facts: Option<ServerFacts>,
        serving: Serving,
    ) -> Self {
        let history = History::new(issuer.data_dir().clone());
        AppState(Arc::new(Shared {
            issuer,
            log: Arc::new(RequestLog::default()),
            ca_pem,
            started: Instant::now(),
            faults: Arc::default(),
            access: Arc::new(access),
            facts,
            history,
            serving,
            probes: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_PROBES)),
            exchanges: Arc::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
