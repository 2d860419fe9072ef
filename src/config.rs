//! Issuer configuration: plain serde data with documented defaults.
//!
//! The same structure comes from command-line flags or a TOML file (`stepmint serve --config`):
//!
//! ```toml
//! port = 8443
//! public_url = "https://api.bitbucket.org"
//! sans = ["api.bitbucket.org"]
//! [[workspaces]]
//! slug = "acme"
//! uuid = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}"
//! ```

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::store::DataDir;
use crate::workspace::WorkspaceSpec;

/// Open connections a server holds by default (see `Config::max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// The open connections one client address may hold when `Config::max_connections_per_peer`
/// is not set: a quarter of `max_connections` (rounded up), so one client holding busy
/// connections leaves three quarters of the slots to everyone else.
pub fn default_per_peer(max_connections: usize) -> usize {
    max_connections.div_ceil(4).max(1)
}

/// Bitbucket's own step token lifetime, in seconds.
pub const DEFAULT_TOKEN_LIFETIME: u64 = 3600;
/// The default HTTPS port.
pub const DEFAULT_PORT: u16 = 8443;

/// How an issuer is set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the CA, TLS leaf, keys and workspaces live.
    /// Default: `None`, meaning `$STEPMINT_DATA_DIR` or the platform data directory.
    pub data_dir: Option<PathBuf>,
    /// Address to listen on. Default: `127.0.0.1` (loopback only).
    pub bind: IpAddr,
    /// Port to listen on; 0 picks a free one. Default: 8443.
    pub port: u16,
    /// The base URL relying parties use, which every issuer URL starts with.
    /// Default: `None`, meaning `https://localhost:{port}`.
    pub public_url: Option<String>,
    /// Extra names for the TLS leaf beyond `localhost`, `127.0.0.1` and `::1`. Default: none.
    pub sans: Vec<String>,
    /// The workspaces to serve. Default: empty, meaning every persisted workspace, or a single
    /// `stepmint` workspace when there is none.
    pub workspaces: Vec<WorkspaceSpec>,
    /// Lifetime of minted tokens in seconds. Default: 3600.
    pub token_lifetime: u64,
    /// Open connections above which the one idle the longest is closed for a new client.
    /// Default: 4096 (or fewer, if the process may not open that many files).
    pub max_connections: usize,
    /// Open connections one client address (IP) may hold: at that many, its own idlest is
    /// closed for its new one, or the new one refused when all of them are busy. Default:
    /// `None`, a quarter of `max_connections` (rounded up).
    pub max_connections_per_peer: Option<usize>,
    /// Also serve on listeners with TLS faults. Default: false.
    pub tls_faults: bool,
    /// The token the control API and console require. Default: `None`, meaning a new random
    /// one each start. Either way it is written to the data directory (`control-token`, 0600)
    /// for the CLI, and the console link carries it: loopback is not a boundary (other local
    /// users, containers sharing the network and tunnels reach it).
    pub control_token: Option<String>,
    /// Serve the web console at `/_stepmint/ui/`. Default: true.
    pub console: bool,
    /// Let the control API's probe run commands (`exec` targets), still only for the token's
    /// holder. Default: false: HTTP targets only.
    pub allow_exec: bool,
    /// Serve the control API and console at all. Default: true. `stepmint probe`'s own issuer
    /// turns it off: it serves the relying-party paths only, and records no `server.json`.
    pub control_plane: bool,
    /// Emulated AWS roles: role ARN to the trust policy file (`serve --aws-role ARN=FILE`),
    /// answered at the STS endpoint. Default: none.
    pub aws_roles: std::collections::BTreeMap<String, PathBuf>,
    /// Emulated GCP workload identity providers: full resource name
    /// (`projects/N/locations/global/workloadIdentityPools/P/providers/X`) to the provider file
    /// (`serve --gcp-provider NAME=FILE`), answered at the GCP STS endpoint. Default: none.
    pub gcp_providers: std::collections::BTreeMap<String, PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            public_url: None,
            sans: Vec::new(),
            workspaces: Vec::new(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_peer: None,
            control_token: None,
            console: true,
            tls_faults: false,
            allow_exec: false,
            control_plane: true,
            aws_roles: Default::default(),
            gcp_providers: Default::default(),
        }
    }
}

impl Config {
    /// Reads a TOML configuration file.
    pub fn from_toml_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        let config: Config = toml::from_str(&text).map_err(|e| ErrorKind::Config {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for ws in &config.workspaces {
            WorkspaceSpec::parse(&match &ws.uuid {
                Some(u) => format!("{}={u}", ws.slug),
                None => ws.slug.clone(),
            })
            .map_err(|e| ErrorKind::Config {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        Ok(config)
    }

    /// The data directory this configuration names, resolved through the environment and
    /// platform defaults, and made absolute (the CA paths `serve` prints must work from any
    /// directory). An empty path is an error, not the current directory.
    pub fn resolve_data_dir(&self) -> Result<PathBuf> {
        let dir = match &self.data_dir {
            Some(dir) if dir.as_os_str().is_empty() => {
                return Err(Error::invalid(
                    "data-dir",
                    "the data directory is empty: name one, or leave it out for the default",
                ));
            }
            Some(dir) => dir.clone(),
            None => match std::env::var_os(crate::store::DATA_DIR_ENV) {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => DataDir::platform_default()?,
            },
        };
        std::path::absolute(&dir).map_err(|e| Error::io("resolve", &dir, e))
    }

    /// Checks every setting, naming the first bad one: what a server would otherwise find out
    /// one request at a time.
    pub fn validate(&self) -> Result<()> {
        if self.token_lifetime == 0 || self.token_lifetime > crate::token::MAX_LIFETIME {
            return Err(Error::invalid(
                "lifetime",
                format!(
                    "{} s: a token lifetime is 1 to {} seconds (a year)",
                    self.token_lifetime,
                    crate::token::MAX_LIFETIME
                ),
            ));
        }
        if let Some(url) = &self.public_url {
            validate_public_url(url)?;
        }
        if let Some(t) = &self.control_token
            && (t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(Error::invalid(
                "control-token",
                "a control token is at least 16 visible ASCII characters",
            ));
        }
        if self.max_connections == 0 {
            return Err(Error::invalid(
                "max-connections",
                "at least one connection must be allowed",
            ));
        }
        if self.max_connections_per_peer == Some(0) {
            return Err(Error::invalid(
                "max-connections-per-peer",
                "at least one connection per client must be allowed",
            ));
        }
        for san in &self.sans {
            if san.is_empty()
                || san.chars().any(crate::encoding::is_unprintable)
                || san.contains(' ')
            {
                return Err(Error::invalid(
                    "san",
                    format!(
                        "`{}` is not a host name or address",
                        crate::encoding::printable(san)
                    ),
                ));
            }
        }
        self.resolve_data_dir()?;
        Ok(())
    }

    /// The public base URL for a server listening on `port`.
    pub fn public_base(&self, port: u16) -> Result<String> {
        match &self.public_url {
            Some(url) => validate_public_url(url),
            None => Ok(format!("https://localhost:{port}")),
        }
    }
}

/// Checks a public base URL (`http(s)://host[:port][/prefix]`) and returns it without a
/// trailing slash.
pub fn validate_public_url(url: &str) -> Result<String> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && !r.contains(['?', '#', ' '])
                && !r.chars().any(crate::encoding::is_unprintable) =>
        {
            Ok(trimmed.to_string())
        }
        _ => Err(Error::invalid(
            "public-url",
            format!(
                "`{}` is not a base URL like https://host[:port]",
                crate::encoding::printable(url)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_errors_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("stepmint.toml");
        std::fs::write(&path, "port = 9000\n[[workspaces]]\nslug = \"acme\"\n").unwrap();
        let c = Config::from_toml_file(&path).unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.workspaces[0].slug, "acme");
        assert_eq!(c.bind, Config::default().bind);

        std::fs::write(&path, "port = \"x\"\n").unwrap();
        let err = Config::from_toml_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("stepmint.toml") && err.contains("line 1"),
            "{err}"
        );

        std::fs::write(&path, "[[workspaces]]\nslug = \"Bad/Slug\"\n").unwrap();
        let err = Config::from_toml_file(&path).unwrap_err().to_string();
        assert!(err.contains("Bad/Slug"), "{err}");
    }

    #[test]
    fn a_client_gets_a_quarter_of_the_connections_unless_told_otherwise() {
        assert_eq!(default_per_peer(DEFAULT_MAX_CONNECTIONS), 1024);
        assert_eq!(default_per_peer(20), 5);
        assert_eq!(default_per_peer(2), 1);
        let config = Config {
            max_connections_per_peer: Some(0),
            data_dir: Some("/tmp".into()),
            ..Config::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("max-connections-per-peer"), "{err}");
    }

    #[test]
    fn public_url() {
        assert_eq!(
            validate_public_url("https://api.bitbucket.org/").unwrap(),
            "https://api.bitbucket.org"
        );
        assert!(validate_public_url("ftp://x").is_err());
        assert!(validate_public_url("https://").is_err());
        assert_eq!(
            Config::default().public_base(1234).unwrap(),
            "https://localhost:1234"
        );
    }
}
