//! Stepmint's integration tests: one binary, modules by capability, shared helpers in `util`.

#![allow(clippy::unwrap_used)]

mod util;

mod api_types;
mod arb;
mod aws_clients;
mod aws_sts;
mod catalogue;
mod cli;
mod cli_docs;
mod cli_examples;
mod cli_messages;
mod cli_newcomer;
mod connections;
mod console;
mod console_answers;
mod control_api;
mod endurance;
mod faults;
mod gcp_sts;
mod install;
mod issuer_http;
mod keys_and_verify;
mod layers;
mod local_ca;
mod local_inputs;
mod mint_history;
mod openbao;
mod owner_only;
mod policy;
mod policy_cli;
mod policy_http;
mod policy_semantics;
mod policy_vectors;
mod probe;
mod probe_cli;
mod probe_families;
mod probe_policy;
mod probe_reach;
mod probe_reproduce;
mod probe_who;
mod properties;
mod readme_snippets;
mod refname;
mod relying_parties;
mod request_log;
mod run_step;
mod serve_process;
mod vectors;
mod workspaces;
