//! The issuer: a data directory's workspaces served under one public base URL.
//!
//! [`Issuer`] is what both binaries and the HTTP layer talk to. It owns the loaded workspaces,
//! the injected [`Clock`] and [`IdSource`], and the discovery and JWKS bodies, serialised once
//! per key change so serving them is a memory copy.

mod mint;
mod minted;
mod served;

use std::sync::{Arc, RwLock};

use crate::clock::{Clock, IdSource};
use crate::config::DEFAULT_TOKEN_LIFETIME;
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyAlg, KeyRing, KeyState, SigningKey};
use crate::store::DataDir;
use crate::validate::PolicyOverrides;
use crate::workspace::{DEFAULT_WORKSPACE, Workspace, WorkspaceSpec};

pub use minted::MintedToken;
pub use served::{CLAIMS_SUPPORTED, ServedWorkspace, WorkspaceDetails, WorkspaceInfo};

/// How to open an [`Issuer`].
#[derive(Debug, Clone)]
pub struct IssuerOptions {
    /// The data directory.
    pub data_dir: std::path::PathBuf,
    /// Public base URL (`https://localhost:8443`).
    pub public_url: String,
    /// Workspaces to serve; empty means the persisted ones, or `stepmint`.
    pub workspaces: Vec<WorkspaceSpec>,
    /// Default token lifetime in seconds.
    pub token_lifetime: u64,
}

impl IssuerOptions {
    /// Options for `data_dir` with the defaults for everything else.
    pub fn new(data_dir: impl Into<std::path::PathBuf>, public_url: impl Into<String>) -> Self {
        IssuerOptions {
            data_dir: data_dir.into(),
            public_url: public_url.into(),
            workspaces: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
        }
    }
}

/// The issuer for every workspace of one data directory.
#[derive(Debug)]
pub struct Issuer {
    data: DataDir,
    public_url: String,
    token_lifetime: u64,
    clock: Arc<dyn Clock>,
    ids: Arc<IdSource>,
    workspaces: RwLock<Vec<Arc<ServedWorkspace>>>,
    attacker: std::sync::OnceLock<Arc<crate::hostile::AttackerKeys>>,
    /// What opening created for good that the caller named (see [`Issuer::creation_notes`]).
    notes: Vec<String>,
}

/// What [`Issuer::verify`] found, and under which policy.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The workspace whose keys were used.
    pub workspace: String,
    /// The policy applied.
    pub policy: crate::validate::Policy,
    /// The validator's report.
    pub report: crate::validate::Report,
}

/// What [`Issuer::rotate_key`] did.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The key that signs now.
    pub key: Arc<SigningKey>,
    /// Seconds the previous key stays published.
    pub overlap: u64,
}

impl Issuer {
    /// Opens the data directory and loads (creating where new) the configured workspaces.
    ///
    /// This does file I/O and may generate keys: call it off the async runtime.
    pub fn open(
        options: IssuerOptions,
        clock: Arc<dyn Clock>,
        ids: Arc<IdSource>,
    ) -> Result<Issuer> {
        let public_url = crate::config::validate_public_url(&options.public_url)?;
        let data = DataDir::open(&options.data_dir)?;
        let _lock = data.lock()?;
        // What a writer killed mid-write left behind is of no use to anyone.
        data.clean_stale_temp();
        let before = Workspace::persisted(&data)?;
        let specs = if options.workspaces.is_empty() {
            let persisted = before.clone();
            if persisted.is_empty() {
                vec![DEFAULT_WORKSPACE.to_string()]
            } else {
                persisted
            }
            .into_iter()
            .map(|slug| WorkspaceSpec { slug, uuid: None })
            .collect()
        } else {
            options.workspaces.clone()
        };
        let now = clock.now();
        // Workspace identities are generated once and persisted; drawing them from the token
        // id source would make a seeded mint depend on whether the workspace already existed.
        let identity_ids = IdSource::random();
        let mut workspaces: Vec<Arc<ServedWorkspace>> = Vec::with_capacity(specs.len());
        for spec in &specs {
            if workspaces.iter().any(|w| w.workspace.slug == spec.slug) {
                return Err(Error::invalid(
                    "workspace",
                    format!("`{}` is configured twice", spec.slug),
                ));
            }
            let ws = Workspace::load_or_create(&data, spec, &identity_ids, now)?;
            workspaces.push(Arc::new(ServedWorkspace::build(ws, &public_url, now)?));
        }
        let notes = if options.workspaces.is_empty() {
            Vec::new()
        } else {
            creation_notes(&data, &before, &Workspace::persisted(&data)?)
        };
        Ok(Issuer {
            data,
            public_url,
            token_lifetime: options.token_lifetime,
            clock,
            ids,
            workspaces: RwLock::new(workspaces),
            attacker: std::sync::OnceLock::new(),
            notes,
        })
    }

    /// What opening did for good beyond serving: the named workspaces it created (persisted in
    /// the data directory, served by every later start and seen by every command) and, when
    /// that moved it, the new default workspace of commands without `--workspace`. A front end
    /// says these where a person sees them.
    pub fn creation_notes(&self) -> &[String] {
        &self.notes
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.data
    }

    /// The public base URL.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The default token lifetime in seconds.
    pub fn token_lifetime(&self) -> u64 {
        self.token_lifetime
    }

    /// The attacker's keys (for crafted tokens), loaded or created on first use.
    pub fn attacker(&self) -> Result<Arc<crate::hostile::AttackerKeys>> {
        if let Some(a) = self.attacker.get() {
            return Ok(a.clone());
        }
        let keys = {
            let _lock = self.data.lock()?;
            Arc::new(crate::hostile::AttackerKeys::load_or_create(
                &self.data,
                self.clock.now(),
            )?)
        };
        Ok(self.attacker.get_or_init(|| keys).clone())
    }

    /// The injected clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Every served workspace, in configuration order.
    pub fn workspaces(&self) -> Vec<Arc<ServedWorkspace>> {
        self.workspaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The workspace with `slug`, its JWKS current at the clock's now.
    pub fn workspace(&self, slug: &str) -> Result<Arc<ServedWorkspace>> {
        let found = self
            .workspaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|w| w.workspace.slug == slug)
            .cloned()
            .ok_or_else(|| Error::from(ErrorKind::UnknownWorkspace(slug.to_string())))?;
        let now = self.clock.now();
        match found.valid_until {
            Some(t) if t <= now => {
                let rebuilt = Arc::new(ServedWorkspace::build(
                    found.workspace.clone(),
                    &self.public_url,
                    now,
                )?);
                let mut all = self.workspaces.write().unwrap_or_else(|p| p.into_inner());
                match all.iter_mut().find(|w| w.workspace.slug == slug) {
                    // Swap only what we rebuilt from: a key change that landed meanwhile wins.
                    Some(slot) if Arc::ptr_eq(slot, &found) => {
                        *slot = rebuilt.clone();
                        Ok(rebuilt)
                    }
                    Some(slot) => Ok(slot.clone()),
                    None => Ok(rebuilt),
                }
            }
            _ => Ok(found),
        }
    }

    fn replace(&self, served: ServedWorkspace) {
        let mut all = self.workspaces.write().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = all
            .iter_mut()
            .find(|w| w.workspace.slug == served.workspace.slug)
        {
            *slot = Arc::new(served);
        }
    }

    /// Changes a workspace's key ring: under the data directory lock, re-reads the ring from
    /// disk (another process may have changed it), applies `change`, persists, and serves the
    /// result.
    pub fn update_keys<T>(
        &self,
        slug: &str,
        change: impl FnOnce(&mut KeyRing, i64) -> Result<T>,
    ) -> Result<T> {
        let current = self.workspace(slug)?;
        let _lock = self.data.lock()?;
        let now = self.clock.now();
        let mut ring = KeyRing::load_or_create(&self.data.workspace_dir(slug), now)?;
        let out = change(&mut ring, now)?;
        let mut workspace = current.workspace.clone();
        workspace.keys = ring;
        self.replace(ServedWorkspace::build(workspace, &self.public_url, now)?);
        Ok(out)
    }

    /// Rotates workspace `slug`'s signing key: the old key stays published for `overlap`
    /// seconds (default: the token lifetime), the new one signs at once and is published after
    /// `unpublished_for` seconds (default: at once). Every front end rotates through here.
    pub fn rotate_key(
        &self,
        slug: &str,
        overlap: Option<u64>,
        unpublished_for: Option<u64>,
    ) -> Result<Rotated> {
        let overlap = overlap.unwrap_or(self.token_lifetime);
        let hidden = unpublished_for.unwrap_or(0);
        let key = self.update_keys(slug, |ring, now| {
            ring.rotate_unpublished(now, overlap, hidden)
        })?;
        Ok(Rotated { key, overlap })
    }

    /// Adds a key of `alg` to workspace `slug`: published at once, or staged (when `staged`
    /// or `publish_in` says so) and, with `publish_in`, published that many seconds from now.
    pub fn add_key(
        &self,
        slug: &str,
        alg: KeyAlg,
        staged: bool,
        publish_in: Option<u64>,
    ) -> Result<Arc<SigningKey>> {
        self.update_keys(slug, |ring, now| {
            let state = if staged || publish_in.is_some() {
                KeyState::Staged {
                    publish_at: publish_in
                        .map(|s| now.saturating_add(i64::try_from(s).unwrap_or(i64::MAX))),
                }
            } else {
                KeyState::Published
            };
            ring.add(alg, state, now)
        })
    }

    /// Drops key `kid` of workspace `slug` from the ring (and so from the JWKS) now.
    pub fn retire_key(&self, slug: &str, kid: &str) -> Result<()> {
        self.update_keys(slug, |ring, _| ring.retire(kid))
    }

    /// Workspace `slug`, or without one the first served: what every "default: the first"
    /// option means.
    pub fn workspace_or_first(&self, slug: Option<&str>) -> Result<Arc<ServedWorkspace>> {
        match slug {
            Some(s) => self.workspace(s),
            None => {
                let first = self
                    .workspaces
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .first()
                    .map(|w| w.workspace.slug.clone())
                    .ok_or_else(|| ErrorKind::UnknownWorkspace(DEFAULT_WORKSPACE.into()))?;
                // Through `workspace`, so a scheduled key change is served here too.
                self.workspace(&first)
            }
        }
    }

    /// Validates `token` against workspace `slug`'s (default: the first's) published keys,
    /// under its default policy with `overrides` over it.
    pub fn verify(
        &self,
        slug: Option<&str>,
        token: &str,
        overrides: &PolicyOverrides,
    ) -> Result<Verified> {
        let ws = self.workspace_or_first(slug)?;
        let policy = overrides.apply(ws.default_policy())?;
        let report = crate::validate::verify(token, ws.keyset(), &policy, self.clock.now());
        Ok(Verified {
            workspace: ws.workspace.slug.clone(),
            policy,
            report,
        })
    }

    /// What the Inspector shows for `token`: the unverified decoding (or why it failed) beside
    /// the validator's report against workspace `slug` (default: the first) under its default
    /// policy with `overrides` over it.
    pub fn inspect(
        &self,
        slug: Option<&str>,
        token: &str,
        overrides: &PolicyOverrides,
    ) -> Result<crate::inspect::Inspection> {
        let token = token.trim();
        let decoded = crate::inspect::decode_unverified(token);
        let v = self.verify(slug, token, overrides)?;
        let (decoded, decode_error) = match decoded {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(crate::inspect::Inspection {
            workspace: v.workspace,
            now: self.clock.now(),
            decoded,
            decode_error,
            policy: v.policy,
            report: v.report,
        })
    }
}

/// The notes [`Issuer::creation_notes`] returns, from the persisted workspaces before and after.
fn creation_notes(data: &DataDir, before: &[String], after: &[String]) -> Vec<String> {
    let flag = crate::workspace::data_dir_flag(data);
    let mut notes: Vec<String> = after
        .iter()
        .filter(|slug| !before.contains(slug))
        .map(|slug| {
            format!(
                "created workspace `{slug}` in {}: it is kept there (every later `serve` serves it, every command sees it); remove it with `stepmint workspaces remove {slug} --yes{flag}`",
                data.root().display()
            )
        })
        .collect();
    // Without --workspace, commands take the first persisted workspace (or the default one on
    // a fresh directory), so a new slug sorting first moves it.
    let default = |list: &[String]| {
        list.first()
            .cloned()
            .unwrap_or_else(|| DEFAULT_WORKSPACE.to_string())
    };
    let (old, new) = (default(before), default(after));
    if old != new {
        notes.push(format!(
            "commands without --workspace now use `{new}` (the first by name), no longer `{old}`"
        ));
    }
    notes
}
