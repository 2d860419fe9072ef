//! Stepmint's integration tests: one binary, modules by capability, shared helpers in `util`.

#![allow(clippy::unwrap_used)]

mod util;

mod arb;
mod aws_sts;

mod api_types;

mod catalogue;
mod cli;
mod console;
mod control_api;
mod endurance;
mod faults;
mod hardening;
mod issuer_http;
mod keys_and_verify;
mod layers;
mod newcomer;
mod owner_only;
mod policy;
mod policy_vectors;
mod probe;
mod probe_cli;
mod probe_policy;
mod properties;
mod relying_parties;
mod run_step;
mod vectors;
