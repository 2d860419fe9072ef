//! Emulated token exchanges: the relying parties that are not code but configuration (an AWS
//! IAM role, a GCP workload identity provider) answered by the policy engine, so deploy scripts
//! that call AWS STS run unchanged and offline against `serve`.
//!
//! The roles and the sessions they issued live in one [`Exchanges`] per server. A token is
//! verified with the served workspace's keys exactly as `stepmint policy eval` verifies it (the
//! workspace its `iss` names, signature and `kid` only), then the role's document decides,
//! expiry included (with the relying party's own leeway, which is the evaluator's business).

pub mod aws;
pub mod gcp;
mod roles;

pub use roles::{
    AwsRole, Exchanges, GcpProvider, Judged, MAX_ROLES, MAX_SESSIONS, Session, judge,
    parse_role_arn, random, valid_provider_name,
};
