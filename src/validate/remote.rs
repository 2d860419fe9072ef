//! Keys from an issuer's discovery document over HTTPS, as a relying party gets them: the
//! discovery `issuer` must equal the URL used exactly, redirects are not followed, the JWKS is
//! cached, and an unknown `kid` triggers a refresh at most once per `min_refresh`.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use super::keyset::KeySet;
use crate::error::{Error, ErrorKind, Result};
use crate::paths;

/// The shortest interval between refreshes that unknown kids trigger: a flood of tokens with
/// made-up kids must not become a flood of fetches.
const MIN_REFRESH: Duration = Duration::from_secs(30);

/// A discovery-backed, cached key source.
#[derive(Debug)]
pub struct RemoteKeys {
    issuer: String,
    client: reqwest::Client,
    cache: Mutex<Option<(KeySet, Instant)>>,
}

impl RemoteKeys {
    /// Keys of `issuer`, fetched over HTTPS trusting `ca_pem` only.
    pub fn new(issuer: &str, ca_pem: &[u8]) -> Result<RemoteKeys> {
        Ok(RemoteKeys {
            issuer: issuer.to_string(),
            client: crate::https::https_client(&[ca_pem], Duration::from_secs(10))?,
            cache: Mutex::new(None),
        })
    }

    /// The key set, fetched on first use and refreshed when `kid` is unknown (rate-limited).
    pub async fn keys_for(&self, kid: Option<&str>) -> Result<KeySet> {
        let mut cache = self.cache.lock().await;
        if let Some((keys, at)) = cache.as_ref() {
            let known = kid.is_none_or(|k| keys.contains_kid(k));
            if known || at.elapsed() < MIN_REFRESH {
                return Ok(keys.clone());
            }
        }
        let keys = self.fetch().await?;
        *cache = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    async fn get_json(&self, url: &str) -> Result<Value> {
        let bytes = self.get_bytes(url).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ErrorKind::Server(format!("GET {url}: not JSON: {e}")).into())
    }

    async fn get_bytes(&self, url: &str) -> Result<Vec<u8>> {
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| Error::from(ErrorKind::Server(format!("GET {url}: {e}"))))?;
        if !resp.status().is_success() {
            return Err(ErrorKind::Server(format!("GET {url}: HTTP {}", resp.status())).into());
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::from(ErrorKind::Server(format!("GET {url}: {e}"))))?;
        Ok(bytes.to_vec())
    }

    async fn fetch(&self) -> Result<KeySet> {
        let discovery = self.get_json(&paths::discovery_url(&self.issuer)).await?;
        if discovery["issuer"].as_str() != Some(self.issuer.as_str()) {
            return Err(ErrorKind::Server(format!(
                "discovery says issuer {}, not {}",
                discovery["issuer"], self.issuer
            ))
            .into());
        }
        let jwks_uri = discovery["jwks_uri"]
            .as_str()
            .ok_or_else(|| Error::from(ErrorKind::Server("discovery has no jwks_uri".into())))?;
        if !jwks_uri.starts_with("https://") {
            return Err(
                ErrorKind::Server(format!("discovery's jwks_uri {jwks_uri} is not https")).into(),
            );
        }
        KeySet::from_json(&self.get_bytes(jwks_uri).await?)
    }
}
