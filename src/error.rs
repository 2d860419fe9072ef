//! The core's one error type: an [`Error`] wrapping a `#[non_exhaustive]` [`ErrorKind`].
//!
//! Every kind says *what* went wrong and *where* (the file, the field, the address), because the
//! people reading these messages are debugging a relying party at the same time and should not
//! have to guess which of the two is broken.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from the Stepmint core. Inspect it with [`Error::kind`].
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file or directory could not be read or written.
    // The OS error is part of the message and deliberately not a `source`: error chains
    // printed in full (`{:#}`) would otherwise say it twice.
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        /// What we were doing ("read", "write", "create directory", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A persisted file exists but cannot be used. It is never silently replaced.
    #[error("{} is corrupt: {reason} (fix or remove it; Stepmint never replaces it silently)", path.display())]
    CorruptFile {
        /// The file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A caller-supplied value is invalid.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The field, flag or claim name at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No workspace with this slug is configured.
    #[error("unknown workspace `{0}`")]
    UnknownWorkspace(String),
    /// No emulated role with this ARN.
    #[error("no emulated role `{0}`")]
    UnknownRole(String),
    /// No emulated GCP workload identity provider with this name.
    #[error("no emulated provider `{0}`")]
    UnknownProvider(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {error}{hint}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        error: std::io::Error,
        /// What to do, and who holds the port when the system says (empty when nothing helps).
        hint: String,
    },
    /// Another server already serves this data directory.
    #[error("{0}")]
    AlreadyServing(String),
    /// A configuration file is invalid.
    #[error("config {}: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong (with line and column where the parser gives them).
        message: String,
    },
    /// Key generation, signing or certificate work failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// A token could not be taken apart.
    #[error("malformed token: {0}")]
    MalformedToken(String),
    /// A server or network operation failed.
    #[error("{0}")]
    Server(String),
    /// An outside program Stepmint drives is missing or failed (`certutil`, say).
    #[error("{tool}: {message}")]
    Tool {
        /// The program.
        tool: String,
        /// What happened, and the fix.
        message: String,
    },
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Consumes the error, returning its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        error: std::io::Error,
    ) -> Self {
        ErrorKind::Io {
            action,
            path: path.into(),
            error,
        }
        .into()
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        ErrorKind::CorruptFile {
            path: path.into(),
            reason: reason.to_string(),
        }
        .into()
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorKind::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
        .into()
    }

    pub(crate) fn crypto(message: impl std::fmt::Display) -> Self {
        ErrorKind::Crypto(message.to_string()).into()
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        ErrorKind::MalformedToken(message.into()).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }
}
