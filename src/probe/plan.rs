//! The fixed cases of a run, planned before anything is sent: the catalogue, the
//! policy-boundary cases for the declared policy and the recipes, each with what decides its
//! expected outcome and who could exploit a relying party that accepts it.

use serde_json::{Map, Value};

use super::options::ProbeOptions;
use crate::error::{Error, Result};
use crate::hostile::boundary::boundary_cases;
use crate::hostile::{CATALOGUE, Edit, Expected, Outcome, Reach, reach};
use crate::validate::Policy;

/// What decides a case's expected outcome.
#[derive(Debug, Clone, Copy)]
pub(super) enum Judge {
    Fixed(Outcome),
    Validator,
}

/// One token to send, before it is made.
pub(super) struct Job {
    pub(super) name: String,
    pub(super) family: String,
    pub(super) kind: &'static str,
    pub(super) reference: String,
    pub(super) judge: Judge,
    /// Who could exploit a relying party that accepts it.
    pub(super) reach: Reach,
    /// A catalogue case, or edits.
    pub(super) case: Option<&'static str>,
    pub(super) edits: Vec<Edit>,
    pub(super) skipped: bool,
}

fn family_name(f: crate::hostile::Family) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn selected(job_name: &str, family: &str, list: &[String]) -> bool {
    list.iter().any(|o| o == job_name || o == family)
}

/// The fixed cases of a run, in order: catalogue, policy-boundary, recipes; `claims` are the
/// baseline's (genuine) claims.
pub(super) fn plan(
    options: &ProbeOptions,
    policy: &Policy,
    claims: &Map<String, Value>,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    if options.cases {
        for c in CATALOGUE.iter().filter(|c| c.name != "valid") {
            jobs.push(Job {
                name: c.name.into(),
                family: family_name(c.family),
                kind: c.expected.label(),
                reference: c.reference.into(),
                judge: match c.expected {
                    Expected::Policy { .. } => Judge::Validator,
                    e => Judge::Fixed(e.by_default()),
                },
                reach: {
                    let (by, how) = c.reach();
                    Reach {
                        by,
                        how: how.into(),
                        branch: None,
                    }
                },
                case: Some(c.name),
                edits: Vec::new(),
                skipped: false,
            });
        }
        for b in boundary_cases(policy, claims) {
            jobs.push(Job {
                name: b.name,
                family: b.family,
                kind: "validator",
                reference: b.description,
                judge: Judge::Validator,
                reach: reach(claims, &b.edits),
                case: None,
                edits: b.edits,
                skipped: false,
            });
        }
    }
    for r in &options.recipes {
        jobs.push(Job {
            name: r.name.clone(),
            family: "recipe".into(),
            kind: if r.expected.is_some() {
                "recipe"
            } else {
                "validator"
            },
            reference: r.description.clone().unwrap_or_else(|| "recipe".into()),
            judge: r.expected.map_or(Judge::Validator, Judge::Fixed),
            reach: reach(claims, &r.edits),
            case: None,
            edits: r.edits.clone(),
            skipped: false,
        });
    }
    for name in options.only.iter().chain(&options.skip) {
        // The baseline (`valid`, family `baseline`) always runs first: naming it is fine.
        let known = jobs.iter().any(|j| &j.name == name || &j.family == name)
            || crate::hostile::find(name).is_some()
            || name == "baseline";
        if !known {
            return Err(Error::invalid(
                "cases",
                format!(
                    "no case or family named `{name}` in this run (list them with `stepmint cases`; policy cases exist only for what the relying party declares)"
                ),
            ));
        }
    }
    if !options.only.is_empty() {
        jobs.retain(|j| selected(&j.name, &j.family, &options.only));
    }
    for j in &mut jobs {
        j.skipped = selected(&j.name, &j.family, &options.skip);
    }
    Ok(jobs)
}
