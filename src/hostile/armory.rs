//! What crafting needs from the issuer, as a trait this module owns (so `hostile` sits below the
//! issuer, which implements it), and the genuine token a crafted one starts from.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::attacker::AttackerKeys;
use crate::error::Result;
use crate::keys::SigningKey;
use crate::workspace::Workspace;

/// What crafting needs from whoever serves the workspace (the [`crate::Issuer`]).
pub trait Armory {
    /// The public base URL: the attacker's documents are served under it.
    fn public_url(&self) -> &str;
    /// The attacker's keys, loaded or created on first use.
    fn attacker(&self) -> Result<Arc<AttackerKeys>>;
    /// A staged (unpublished) key of workspace `slug`, made and persisted if there is none.
    fn staged_key(&self, slug: &str) -> Result<Arc<SigningKey>>;
}

/// The genuine token a crafted one starts from: the workspace, its issuer URL, the genuine
/// header and claims, and the time they were made at.
#[derive(Debug, Clone)]
pub struct Genuine<'a> {
    /// The workspace.
    pub workspace: &'a Workspace,
    /// Its issuer URL.
    pub issuer: &'a str,
    /// The genuine header (with the request's header overrides).
    pub header: Map<String, Value>,
    /// The genuine claims (with the request's claim overrides).
    pub claims: Map<String, Value>,
    /// Unix seconds.
    pub now: i64,
}
