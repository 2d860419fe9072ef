//! The catalogue as data: one [`CaseSummary`] per case for listings, the control API and
//! reports, and the Markdown table `docs/cases.md` holds.

use super::cases::{CATALOGUE, Case};
use super::kinds::{CaseSummary, Expected};

impl Case {
    /// This case as data.
    pub fn summary(&self) -> CaseSummary {
        CaseSummary {
            name: self.name.into(),
            family: self.family,
            description: self.description.into(),
            expected: self.expected.label().into(),
            rule: match self.expected {
                Expected::Policy { rule, .. } => Some(rule.into()),
                _ => None,
            },
            default_outcome: self.expected.by_default(),
            reference: self.reference.into(),
            exploitable_by: self.reach().0,
            exploit: self.reach().1.into(),
        }
    }
}

/// Every case as data, in catalogue order.
pub fn summaries() -> Vec<CaseSummary> {
    CATALOGUE.iter().map(Case::summary).collect()
}

/// The catalogue as a Markdown table (what `docs/cases.md` holds).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Case | Family | Token | Strict relying party | Exploitable by | Reference |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for c in CATALOGUE {
        let expected = match c.expected {
            Expected::Policy { rule, .. } => format!("policy: {rule}"),
            e => e.label().to_string(),
        };
        let family = serde_json::to_value(c.family)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let (by, why) = c.reach();
        out.push_str(&format!(
            "| `{}` | {family} | {} | {expected} | `{}`: {why} | {} |\n",
            c.name,
            c.description.replace('|', "\\|"),
            by.as_str(),
            c.reference
        ));
    }
    out
}
