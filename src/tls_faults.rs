//! TLS faults on listeners of their own, so the main issuer keeps working: an expired leaf, a
//! leaf for the wrong name, a leaf from a CA nobody trusts, and a server that speaks only
//! TLS 1.2. Each serves the same router; the certificates live in memory only.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;

use crate::ca::{LocalCa, TlsIdentity};
use crate::error::Result;
use crate::server::{self, Server};

/// Running TLS fault listeners.
#[derive(Debug)]
pub struct TlsFaultListeners {
    urls: BTreeMap<String, String>,
    servers: Vec<Server>,
}

impl TlsFaultListeners {
    /// Starts one listener per fault on `bind` (free ports).
    pub async fn start(
        ca: &LocalCa,
        bind: IpAddr,
        router: Router,
        now: i64,
    ) -> Result<TlsFaultListeners> {
        let day = 86_400;
        let configs: Vec<(&str, Arc<rustls::ServerConfig>)> = vec![
            (
                "expired",
                ca.custom_leaf(
                    &["localhost", "127.0.0.1", "::1"],
                    now - 30 * day,
                    now - day,
                )?
                .server_config()?,
            ),
            (
                "wrong-san",
                // Under localhost, so within the CA's name constraints: the client sees a good
                // chain for a name that is not the one it asked for.
                ca.custom_leaf(&["wrong-host.localhost"], now - day, now + 30 * day)?
                    .server_config()?,
            ),
            (
                "untrusted-ca",
                LocalCa::throwaway(now)?
                    .custom_leaf(
                        &["localhost", "127.0.0.1", "::1"],
                        now - day,
                        now + 30 * day,
                    )?
                    .server_config()?,
            ),
            (
                "tls12-only",
                tls12_only(&ca.custom_leaf(
                    &["localhost", "127.0.0.1", "::1"],
                    now - day,
                    now + 30 * day,
                )?)?,
            ),
        ];
        let mut urls = BTreeMap::new();
        let mut servers = Vec::new();
        for (name, config) in configs {
            let listener = server::bind(SocketAddr::new(bind, 0)).await?;
            let s = Server::spawn(
                listener,
                config,
                router.clone(),
                crate::server::Limits::default(),
            )?;
            urls.insert(
                name.to_string(),
                format!("https://localhost:{}", s.local_addr().port()),
            );
            servers.push(s);
        }
        Ok(TlsFaultListeners { urls, servers })
    }

    /// Fault name → base URL.
    pub fn urls(&self) -> &BTreeMap<String, String> {
        &self.urls
    }

    /// Stops every listener.
    pub async fn stop(self) {
        for s in self.servers {
            s.shutdown().await;
        }
    }
}

fn tls12_only(identity: &TlsIdentity) -> Result<Arc<rustls::ServerConfig>> {
    identity.server_config_with(&[&rustls::version::TLS12])
}
