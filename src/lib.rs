//! Stepmint: a mock of Bitbucket Pipelines' OpenID Connect provider, and a test harness for the
//! services that trust it.
//!
//! The core of both binaries. An [`Issuer`] loads (or creates) workspaces with persisted RSA
//! signing keys from a data directory and mints step tokens shaped exactly like Bitbucket's; an
//! [`Instance`] serves its discovery documents and JWKS over real TLS from a local CA, with a
//! JSON control API beside them.
//!
//! ```no_run
//! # async fn demo() -> stepmint::Result<()> {
//! use std::sync::Arc;
//! use stepmint::{Config, Instance, IdSource, StepRequest, SystemClock};
//!
//! let mut config = Config::default();
//! config.port = 0; // any free port
//! let instance = Instance::start(config, Arc::new(SystemClock), Arc::new(IdSource::random())).await?;
//! let token = instance.issuer().mint(&StepRequest::default())?;
//! println!("{} trusts {}", instance.base_url(), instance.ca_path().display());
//! # let _ = token; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ca;
mod clock;
mod config;
mod encoding;
mod error;
pub mod faults;
mod history;
pub mod hostile;
pub mod http;
mod https;
mod inspect;
mod instance;
mod issuer;
mod keys;
pub mod nss;
pub mod paths;
pub mod pipelines;
pub mod policy;
pub mod policy_check;
mod ports;
pub mod probe;
pub mod refname;
pub mod scenario;
mod server;
pub mod step;
mod store;
pub mod tls_faults;
mod token;
mod trust;
pub mod validate;
mod workspace;

pub use ca::{CA_COMMON_NAME, DEFAULT_SANS, LocalCa, Permitted, TlsIdentity, san_set};
pub use clock::{Clock, FixedClock, IdSource, NOW_RANGE, SystemClock};
pub use config::{Config, DEFAULT_PORT, DEFAULT_TOKEN_LIFETIME, validate_public_url};
pub use encoding::{b64url, b64url_decode, is_unprintable, printable, shell_quote};
pub use error::{Error, ErrorKind, Result};
pub use history::{HISTORY_LIMIT, History, HistoryEntry, MintOrigin};
pub use http::{ControlClient, api};
pub use https::https_client;
pub use inspect::{DecodedToken, Inspection, MAX_DECODE_LEN, decode_unverified};
pub use instance::Instance;
pub use issuer::{
    CLAIMS_SUPPORTED, Issuer, IssuerOptions, MintedToken, Rotated, ServedWorkspace, Verified,
    WorkspaceDetails, WorkspaceInfo,
};
pub use keys::{
    KeyAlg, KeyEntry, KeyRing, KeyState, KeyStatus, KeyView, PublicJwk, RS256, SigningKey,
    rsa_thumbprint, thumbprint, validate_kid,
};
pub use server::Server;
pub use store::{DATA_DIR_ENV, DataDir, ServerRecord, write_atomic};
pub use token::{
    Crafting, MAX_AUDIENCE_LEN, MAX_AUDIENCES, MintRequest, Signer, StepIdentity, StepRequest,
    merge, step_claims,
};
pub use trust::{env_vars, shell_exports, write_bundle};
pub use workspace::{
    DEFAULT_WORKSPACE, Workspace, WorkspaceSpec, braced, parse_uuid, validate_slug,
};
