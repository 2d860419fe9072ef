//! Stepmint's integration tests: one binary, modules by capability, shared helpers in `util`.

#![allow(clippy::unwrap_used)]

mod util;

mod cli;
mod control_api;
mod issuer_http;
mod relying_parties;
