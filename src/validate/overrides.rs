//! What a relying party declares over a workspace's default [`Policy`]: one serde shape for the
//! CLI's flags (`verify`, `probe`), the Probe screen, the Inspector and the control API, applied
//! by one function, so the four front doors cannot drift apart.

use serde::{Deserialize, Serialize};

use super::policy::{Condition, Policy};
use crate::error::{Error, Result};

/// Members over a base policy. An absent member keeps the base's; a list given replaces the
/// base's, except `conditions` and `claims`, which add to it (a declared condition never drops
/// one the base already has).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct PolicyOverrides {
    /// `iss` must equal this.
    pub issuer: Option<String>,
    /// `aud` must contain one of these (given: replaces the base's).
    pub audiences: Vec<String>,
    /// Allowed `alg` values (given: replaces the base's).
    pub algorithms: Vec<String>,
    /// Clock-skew allowance in seconds.
    pub leeway: Option<u64>,
    /// The oldest `iat` accepted, in seconds before now.
    pub max_age: Option<u64>,
    /// `sub` patterns, AWS `StringLike` (given: replaces the base's).
    pub sub_like: Vec<String>,
    /// Claim conditions, added to the base's.
    pub conditions: Vec<Condition>,
    /// Claim conditions as `KEY=PATTERN` text (the CLI's `--claim`), added to the base's.
    pub claims: Vec<String>,
    /// Claims that must be present (given: replaces the base's).
    pub required_claims: Option<Vec<String>>,
    /// Refuse tokens without `kid`.
    pub require_kid: Option<bool>,
    /// Longest token accepted, in bytes.
    pub max_token_len: Option<usize>,
    /// Deepest JSON nesting accepted.
    pub max_depth: Option<usize>,
    /// Header members that make a token refused (given: replaces the base's).
    pub forbidden_headers: Option<Vec<String>>,
    /// Check the payload's claims at all.
    pub check_claims: Option<bool>,
}

impl PolicyOverrides {
    /// Overrides from JSON members (as the desktop app's commands take them); a bad member is
    /// an error naming it (`policy.leeway`).
    pub fn from_json(value: serde_json::Value) -> Result<PolicyOverrides> {
        serde_path_to_error::deserialize(value)
            .map_err(|e| Error::invalid(format!("policy.{}", e.path()), e.inner().to_string()))
    }

    /// `base` with these members over it; a bad `claims` line is an error naming it.
    pub fn apply(&self, base: Policy) -> Result<Policy> {
        let mut p = base;
        if self.issuer.is_some() {
            p.issuer = self.issuer.clone();
        }
        if !self.audiences.is_empty() {
            p.audiences = self.audiences.clone();
        }
        if !self.algorithms.is_empty() {
            p.algorithms = self.algorithms.clone();
        }
        if let Some(l) = self.leeway {
            p.leeway = l;
        }
        if self.max_age.is_some() {
            p.max_age = self.max_age;
        }
        if !self.sub_like.is_empty() {
            p.sub_like = self.sub_like.clone();
        }
        p.conditions.extend(self.conditions.iter().cloned());
        for line in &self.claims {
            p.conditions.push(Condition::parse(line).map_err(|_| {
                Error::invalid("policy.claims", format!("`{line}`: expected KEY=PATTERN"))
            })?);
        }
        if let Some(r) = &self.required_claims {
            p.required_claims = r.clone();
        }
        if let Some(k) = self.require_kid {
            p.require_kid = k;
        }
        if let Some(n) = self.max_token_len {
            p.max_token_len = n;
        }
        if let Some(d) = self.max_depth {
            p.max_depth = d;
        }
        if let Some(h) = &self.forbidden_headers {
            p.forbidden_headers = h.clone();
        }
        if let Some(c) = self.check_claims {
            p.check_claims = c;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_replace_or_add_and_absent_ones_keep_the_base() {
        let mut base = Policy::for_issuer("https://i", "aud-0");
        base.conditions.push(Condition::parse("team=qa").unwrap());
        let kept = PolicyOverrides::default().apply(base.clone()).unwrap();
        assert_eq!(kept, base);
        let o = PolicyOverrides {
            audiences: vec!["aud-1".into()],
            max_age: Some(60),
            claims: vec!["branchName=main".into()],
            leeway: Some(0),
            ..Default::default()
        };
        let p = o.apply(base.clone()).unwrap();
        assert_eq!(p.audiences, ["aud-1"]);
        assert_eq!((p.max_age, p.leeway), (Some(60), 0));
        assert_eq!(
            p.conditions.len(),
            2,
            "declared conditions add to the base's"
        );
        assert_eq!(p.issuer, base.issuer);
        let err = PolicyOverrides {
            claims: vec!["no-equals-sign".into()],
            ..Default::default()
        }
        .apply(base)
        .unwrap_err()
        .to_string();
        assert!(err.contains("policy.claims"), "{err}");
    }

    #[test]
    fn a_bad_member_from_json_is_named() {
        let err = PolicyOverrides::from_json(serde_json::json!({ "leeway": "x" }))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("policy.leeway"), "{err}");
    }

    #[test]
    fn unknown_members_are_refused_by_name() {
        let err = serde_json::from_str::<PolicyOverrides>(r#"{"leway": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("leway"), "{err}");
    }
}
