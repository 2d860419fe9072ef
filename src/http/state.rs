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
    /// Whether the console is served.
    pub console: bool,
}

impl AppState {
    /// State for `issuer` with an empty log, loopback-only access and no console.
    pub fn new(issuer: Arc<Issuer>, ca_pem: Option<Arc<str>>) -> Self {
        Self::serving(issuer, ca_pem, Access::default(), None, false)
    }

    /// State for a server: its access rules, its facts, whether it serves the console.
    pub fn serving(
        issuer: Arc<Issuer>,
        ca_pem: Option<Arc<str>>,
        access: Access,
        facts: Option<ServerFacts>,
        console: bool,
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
            console,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
