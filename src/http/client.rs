//! [`ControlClient`]: the control API's client. It speaks the wire contract of [`super::api`],
//! so it sits beside it in the serving layer (a foundation that named `api` would depend on the
//! server). It finds a running `stepmint serve` through the data directory's `server.json`, so
//! CLI commands change the live server, not files behind its back.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::calls::{self, Call, NoBody, NoQuery};
use crate::encoding::printable;
use crate::error::{Error, ErrorKind, Result};
use crate::https::https_client;
use crate::paths;
use crate::store::{DataDir, ServerRecord, read_optional};

/// A client for a running server's control API. Every call is generic over its reply type:
/// the types in [`super::api`] (or [`serde_json::Value`] for a raw look).
#[derive(Debug, Clone)]
pub struct ControlClient {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl ControlClient {
    /// A client for the server at `base` (e.g. `https://127.0.0.1:8443`) trusting `ca_pem`.
    pub fn new(base: &str, ca_pem: &[u8]) -> Result<ControlClient> {
        Ok(ControlClient {
            base: paths::trim_base(base).to_string(),
            http: https_client(&[ca_pem], Duration::from_secs(30))?,
            token: None,
        })
    }

    /// The server recorded in `data`'s `server.json`, if one is there and answers its health
    /// check; `None` when no server runs on this data directory.
    pub async fn find_running(data: &DataDir) -> Result<Option<ControlClient>> {
        let Some(record) = ServerRecord::read(data)? else {
            return Self::none_unless_held(data, None, "it left no server.json");
        };
        let Some(ca) = read_optional(&data.ca_cert())? else {
            return Self::none_unless_held(data, Some(&record), "the CA certificate is missing");
        };
        let mut client = ControlClient::new(&record.listening, &ca)?;
        // The server left its token for us in the data directory.
        client.token = read_optional(&data.control_token())?
            .map(|t| String::from_utf8_lossy(&t).trim().to_string())
            .filter(|t| !t.is_empty());
        match client
            .call::<calls::HealthCall>(&[], &NoQuery {}, &NoBody {})
            .await
        {
            Ok(_) => Ok(Some(client)),
            Err(e) => Self::none_unless_held(data, Some(&record), &e.to_string()),
        }
    }

    /// A warning when the server running on `data` does not serve workspace `slug`: a token
    /// minted from the files for a workspace added after the server started verifies against
    /// the files, yet the server answers 404 for its discovery and JWKS. `None` when it does
    /// serve it, or when no server runs (or none answers: nothing to compare with).
    pub async fn unserved_warning(data: &DataDir, slug: &str) -> Option<String> {
        let client = Self::find_running(data).await.ok()??;
        let served = client
            .call::<calls::ListWorkspaces>(&[], &NoQuery {}, &NoBody {})
            .await
            .ok()?;
        if served.workspaces.iter().any(|w| w.slug == slug) {
            return None;
        }
        let names: Vec<&str> = served.workspaces.iter().map(|w| w.slug.as_str()).collect();
        Some(format!(
            "the server at {} does not serve `{slug}` (it serves: {}; it was started before `{slug}` existed, or without it): relying parties get 404 for its discovery and JWKS until it is restarted",
            client.base,
            names.join(", ")
        ))
    }

    /// No server to talk to, which callers take as leave to work on the files themselves:
    /// true only when no process holds the serving lock. A live server we cannot reach (a
    /// wildcard bind recorded by an old version, a changed token, a probe's own issuer) would
    /// go on serving the old keys while the files changed under it, so that is an error
    /// naming who holds the directory.
    fn none_unless_held(
        data: &DataDir,
        record: Option<&ServerRecord>,
        why: &str,
    ) -> Result<Option<ControlClient>> {
        if data.try_lock_serving()?.is_some() {
            return Ok(None);
        }
        let who = match record {
            Some(r) => format!("the server at {} (pid {})", r.listening, r.pid),
            None => "another Stepmint process (a server, or a `stepmint probe` run)".to_string(),
        };
        Err(ErrorKind::AlreadyServing(format!(
            "{who} holds {} but its control API cannot be reached ({}): stop it, or use it, before changing these files",
            data.root().display(),
            printable(why)
        ))
        .into())
    }

    /// The same client sending `token` (`Authorization: Bearer`) with every call.
    pub fn with_token(mut self, token: impl Into<String>) -> ControlClient {
        self.token = Some(token.into());
        self
    }

    /// Call `C` of the control API's call table, its path parameters filled by `params` (each
    /// percent-encoded, so a slug or kid cannot reach another route), with its query and body,
    /// answered as its reply type.
    pub async fn call<C: Call>(
        &self,
        params: &[&str],
        query: &C::Query,
        body: &C::Body,
    ) -> Result<C::Reply> {
        let path = calls::path_of::<C>(params).ok_or_else(|| {
            Error::invalid(
                "path",
                format!("`{}` takes the parameters of {}", C::NAME, C::PATH),
            )
        })?;
        let url = paths::control_url(&self.base, &path);
        let req = self.http.request(C::METHOD, url).query(query);
        let req = match C::METHOD {
            reqwest::Method::GET | reqwest::Method::DELETE => req,
            _ => req.json(body),
        };
        self.send(req).await
    }

    /// The default workspace's slug (the first the server serves).
    pub async fn default_workspace(&self) -> Result<String> {
        let list = self
            .call::<calls::ListWorkspaces>(&[], &NoQuery {}, &NoBody {})
            .await?;
        list.default_slug()
            .map(str::to_string)
            .ok_or_else(|| ErrorKind::Server(format!("{} serves no workspace", self.base)).into())
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(|e| {
            Error::from(ErrorKind::Server(format!(
                "control API at {}: {e}",
                self.base
            )))
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| {
            Error::from(ErrorKind::Server(format!(
                "control API at {}: bad response: {e}",
                self.base
            )))
        })?;
        if status.is_success() {
            return serde_json::from_value(body).map_err(|e| {
                ErrorKind::Server(format!(
                    "control API at {}: unexpected reply: {e}",
                    self.base
                ))
                .into()
            });
        }
        let message = body["message"]
            .as_str()
            .unwrap_or("request failed")
            .to_string();
        Err(match body["field"].as_str() {
            Some(field) if status.is_client_error() => Error::invalid(field, message),
            _ => ErrorKind::Server(format!("control API answered {status}: {message}")).into(),
        })
    }
}
