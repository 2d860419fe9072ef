//! A generated case and the slot that names it: `policy-aud-suffix`, one per distinct value,
//! in the family of what it tests (`policy:aud`, `policy:claim:branchName`).

use serde_json::Value;

use super::generators::description;
use crate::token::Edit;

/// One generated case.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryCase {
    /// `policy-aud-suffix`, `policy-claim-branchName-nul-2`.
    pub name: String,
    /// `policy:aud`, `policy:sub`, `policy:claim:branchName`, `policy:iss`, `policy:time`.
    pub family: String,
    /// One line for people.
    pub description: String,
    /// The edits to the genuine token.
    pub edits: Vec<Edit>,
}

/// A slot's cases: one per distinct variant value, named after the slot and generator.
pub(super) struct Slot<'a> {
    pub(super) out: &'a mut Vec<BoundaryCase>,
    pub(super) family: String,
    pub(super) prefix: String,
    pub(super) what: String,
}

impl Slot<'_> {
    /// One case per variant of `claim`'s value that differs from `base` and from the others.
    pub(super) fn push_all(
        &mut self,
        claim: &str,
        base: &Value,
        variants: Vec<(&'static str, Value)>,
    ) {
        let mut seen: Vec<Value> = vec![base.clone()];
        for (generator, value) in variants {
            if seen.contains(&value) {
                continue;
            }
            seen.push(value.clone());
            self.push(
                generator,
                vec![Edit::SetClaim {
                    name: claim.into(),
                    value,
                }],
            );
        }
    }

    /// The case `edits` make, named after `generator`.
    pub(super) fn push(&mut self, generator: &'static str, edits: Vec<Edit>) {
        self.push_named(&self.prefix.clone(), generator, edits);
    }

    /// The case `edits` make, named `{prefix}-{generator}`.
    pub(super) fn push_named(&mut self, prefix: &str, generator: &'static str, edits: Vec<Edit>) {
        if edits.is_empty()
            || self
                .out
                .iter()
                .any(|c| c.name == format!("{prefix}-{generator}"))
        {
            return;
        }
        self.out.push(BoundaryCase {
            name: format!("{prefix}-{generator}"),
            family: self.family.clone(),
            description: format!("{}: {}", self.what, description(generator)),
            edits,
        });
    }
}

/// A slot prefix for the `n`th (0-based) value of a slot: `policy-aud`, then `policy-aud2`.
pub(super) fn nth(prefix: &str, n: usize) -> String {
    if n == 0 {
        prefix.to_string()
    } else {
        format!("{prefix}{}", n + 1)
    }
}
