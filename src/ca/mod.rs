//! The local certificate authority and the TLS identity the issuer serves with (`authority`),
//! and the names they are for: the SAN set and the CA's name constraints (`names`).

mod authority;
mod names;

pub use authority::{CA_COMMON_NAME, LocalCa, TlsIdentity};
pub use names::{DEFAULT_SANS, Permitted, san_set};
