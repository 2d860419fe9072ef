//! The reference validator: what correct validation of a Bitbucket step token is.
//!
//! [`verify`] takes a token, a [`KeySet`] and a [`Policy`] and returns a [`Report`]: every check
//! (structure, header, key, signature, then each claim rule) with its status and reason, and the
//! verdict. The signature itself is jsonwebtoken's; everything around it is here, because that
//! is where libraries differ: exactly three parts, strict unpadded canonical base64url, JSON
//! objects without duplicate members and with bounded depth, no `crit`/`b64`/`zip`/`jku`/`x5u`/
//! `jwk`/`x5c`, `alg` allowed and matching the key, registered claims type-checked, and `iat` not
//! in the future. It never panics, whatever the input.

mod claims;
mod keyset;
mod overrides;
mod policy;
mod remote;
mod report;
mod strict_json;
mod verify;

pub use keyset::KeySet;
pub use overrides::PolicyOverrides;
pub use policy::{Condition, FORBIDDEN_HEADERS, Policy, Test, string_like};
pub use remote::RemoteKeys;
pub use report::{Check, Refusal, Report, Status};
pub use strict_json::parse_object;
pub use verify::{strict_b64url, verify};
