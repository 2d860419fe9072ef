//! Policy-boundary cases: tokens generated from what a relying party declares (its audiences,
//! `sub` patterns, claim conditions, issuer and leeway), each genuine but for one member that a
//! loose comparison (prefix, substring, list membership, case-insensitive, unanchored pattern,
//! type coercion, normalisation) would take for the declared value, that a check running only
//! on present claims would pass (the member left out), or that Bitbucket really issues to
//! someone else (another workspace, repository, environment or step).
//!
//! Every case is a list of [`Edit`](crate::token::Edit)s to the genuine token; whether a strict
//! relying party accepts it is not written here but decided by the reference validator under the
//! declared policy, so a variant that happens to satisfy the policy is simply expected to be
//! accepted. Who could exploit a relying party that accepts it is `hostile::reach`'s to say.
//!
//! Files: [`generators`] (the table `stepmint cases --generators` lists), `values` (the value
//! makers), [`identity`] (Bitbucket's identity structure: other workspaces, repositories,
//! environments), `families` (each slot's cases), `slot` (naming).

mod families;
pub mod generators;
pub mod identity;
mod slot;
#[cfg(test)]
mod tests;
mod values;

use serde_json::{Map, Value};

use crate::validate::Policy;

pub use families::BEYOND;
pub use generators::{GENERATORS, Generator};
pub use identity::Shape;
pub use slot::BoundaryCase;

/// Every policy-boundary case for `policy`, given the genuine claims a baseline token carries.
pub fn boundary_cases(policy: &Policy, claims: &Map<String, Value>) -> Vec<BoundaryCase> {
    let shape = Shape::of(claims);
    let mut out = Vec::new();
    families::aud_cases(&mut out, policy, claims, shape.as_ref());
    families::iss_cases(&mut out, policy, shape.as_ref());
    families::sub_cases(&mut out, policy, claims, shape.as_ref());
    families::claim_cases(&mut out, policy, claims, shape.as_ref());
    families::time_cases(&mut out, policy, claims);
    out
}

/// The genuine token's lifetime (`exp - iat`), or an hour when it cannot be read.
pub fn lifetime(claims: &Map<String, Value>) -> i64 {
    families::lifetime(claims)
}
