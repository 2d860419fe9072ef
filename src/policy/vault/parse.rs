//! Reading a role as Vault and OpenBao store it: the role's members (as written to
//! `auth/jwt/role/NAME` or as `read -format=json` prints them) and the mount's config, with
//! what they refuse to store refused here too.

use serde_json::{Map, Value};

use super::VaultRole;
use crate::error::{Error, Result};
use crate::policy::source::Source;

fn list(field: &str, v: &Value) -> Result<Vec<String>> {
    match v {
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        Value::String(s) => Ok(s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| Error::invalid(field, "expected a list of strings"))
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(Error::invalid(
            field,
            "expected a string or a list of strings",
        )),
    }
}

fn seconds(field: &str, v: &Value) -> Result<i64> {
    let bad = || {
        Error::invalid(
            field,
            "expected seconds (a number, or a duration such as \"90s\" or \"2m\")",
        )
    };
    match v {
        Value::Number(n) => n.as_i64().ok_or_else(bad),
        Value::String(s) => {
            let s = s.trim();
            let (num, mult) = match s.chars().last() {
                Some('s') => (&s[..s.len() - 1], 1),
                Some('m') => (&s[..s.len() - 1], 60),
                Some('h') => (&s[..s.len() - 1], 3600),
                _ => (s, 1),
            };
            num.parse::<i64>().map(|n| n * mult).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

impl VaultRole {
    /// Parses a role (as written to `auth/jwt/role/NAME`, or as `vault read -format=json`
    /// prints it under `data`), or `{"role": {...}, "config": {...}}` with the mount's config.
    /// What Vault refuses to store is an error here too.
    pub fn parse(src: &Source, doc: &Map<String, Value>) -> Result<VaultRole> {
        let at = |field: &str| match src.key_line(field, 0) {
            Some(l) => format!("{field} (line {l})"),
            None => field.to_string(),
        };
        let (role, config) = match (doc.get("role"), doc.get("data"), doc.get("config")) {
            (Some(Value::Object(r)), _, c) => (r, c),
            (None, Some(Value::Object(r)), c) => (r, c),
            (None, None, c) => (doc, c),
            _ => {
                return Err(Error::invalid(
                    "role",
                    "`role` (or `data`) must be an object",
                ));
            }
        };
        let mut out = VaultRole {
            role_type: "oidc".into(),
            ..VaultRole::default()
        };
        let mut redirects = false;
        for (key, v) in role {
            match key.as_str() {
                "role_type" => {
                    let t = v.as_str().unwrap_or_default();
                    if t != "jwt" && t != "oidc" {
                        return Err(Error::invalid(
                            at(key),
                            format!("invalid 'role_type': {v} (Vault accepts jwt or oidc)"),
                        ));
                    }
                    out.role_type = t.into();
                    out.role_type_given = true;
                }
                "bound_audiences" => out.bound_audiences = list(&at(key), v)?,
                "bound_subject" => {
                    out.bound_subject = v.as_str().filter(|s| !s.is_empty()).map(String::from)
                }
                "bound_claims_type" => match v.as_str() {
                    Some("string") | None => out.glob = false,
                    Some("glob") => out.glob = true,
                    Some(other) => {
                        return Err(Error::invalid(
                            at(key),
                            format!("invalid 'bound_claims_type': {other} (string or glob)"),
                        ));
                    }
                },
                "bound_claims" => match v {
                    Value::Object(m) => {
                        out.bound_claims = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                    }
                    Value::Null => {}
                    _ => {
                        return Err(Error::invalid(
                            at(key),
                            "bound_claims must be an object of claim: value(s)",
                        ));
                    }
                },
                "user_claim" => out.user_claim = v.as_str().unwrap_or_default().to_string(),
                "user_claim_json_pointer" => {
                    out.user_claim_json_pointer = v.as_bool().unwrap_or(false)
                }
                "groups_claim" => {
                    out.groups_claim = v.as_str().filter(|s| !s.is_empty()).map(String::from)
                }
                "claim_mappings" => {
                    if let Value::Object(m) = v {
                        out.claim_mappings = m.keys().cloned().collect();
                    }
                }
                "expiration_leeway" => out.expiration_leeway = seconds(&at(key), v)?,
                "not_before_leeway" => out.not_before_leeway = seconds(&at(key), v)?,
                "clock_skew_leeway" => out.clock_skew_leeway = seconds(&at(key), v)?,
                "token_bound_cidrs" | "bound_cidrs" => out.token_bound_cidrs = list(&at(key), v)?,
                "allowed_redirect_uris" => redirects = !list(&at(key), v)?.is_empty(),
                _ => {}
            }
        }
        if out.glob {
            for (claim, v) in &out.bound_claims {
                let vals = match v {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                if vals.iter().any(|x| !x.is_string()) {
                    return Err(Error::invalid(
                        format!("bound_claims.{claim}"),
                        "claim is not a string: with bound_claims_type glob every value must be a string (Vault refuses the role)",
                    ));
                }
            }
        }
        if out.role_type == "oidc" && !redirects {
            let why = if out.role_type_given {
                "an oidc role"
            } else {
                "role_type was not written, so this is an oidc role (the default)"
            };
            return Err(Error::invalid(
                "role_type",
                format!(
                    "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified: Vault and OpenBao refuse to store {why}; for pipeline tokens set role_type=jwt"
                ),
            ));
        }
        if out.user_claim.is_empty() {
            return Err(Error::invalid(
                "user_claim",
                "a user claim must be defined on the role (Vault refuses the role without one; for Bitbucket use repositoryUuid)",
            ));
        }
        if out.role_type == "jwt"
            && out.bound_audiences.is_empty()
            && out.token_bound_cidrs.is_empty()
            && out.bound_subject.is_none()
            && out.bound_claims.is_empty()
        {
            return Err(Error::invalid(
                "role",
                "must have at least one bound constraint when creating/updating a role (Vault refuses a jwt role with no bound_audiences, bound_subject, bound_claims or token_bound_cidrs)",
            ));
        }
        if let Some(Value::Object(config)) = config {
            out.bound_issuer = config
                .get("bound_issuer")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from);
            out.oidc_discovery_url = config
                .get("oidc_discovery_url")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from);
            if let Some(v) = config.get("jwt_supported_algs") {
                out.supported_algs = list("config.jwt_supported_algs", v)?;
            }
        }
        Ok(out)
    }
}
