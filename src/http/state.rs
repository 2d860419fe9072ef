//! The one [`AppState`] every handler gets.

use std::sync::Arc;
use std::time::Instant;

use super::reqlog::RequestLog;
use crate::issuer::Issuer;

/// Everything a handler can reach: one shared [`Shared`], so handing it to a request is a
/// single reference-count bump.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

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
}

impl AppState {
    /// State for `issuer` with an empty log.
    pub fn new(issuer: Arc<Issuer>, ca_pem: Option<Arc<str>>) -> Self {
        AppState(Arc::new(Shared {
            issuer,
            log: Arc::new(RequestLog::default()),
            ca_pem,
            started: Instant::now(),
            faults: Arc::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
