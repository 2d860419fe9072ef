//! `bound_claims` matching as the JWT auth method does it: the claim found by name or JSON
//! pointer, normalised to a list (a string, bool or number becomes a one-element list), each
//! expected value compared with each received one (any pair matching is enough). In `string`
//! mode the comparison is Go's `interface{}` equality (a string never equals a number; a
//! top-level number claim is first truncated to an integer, as `getClaim` does); in `glob` mode
//! only strings take part and `*` is go-glob's wildcard, quirks included (`a*a` matches `a`).

use serde_json::{Map, Value};

use super::get_claim;

/// A claim or bound value as Go compares it.
#[derive(Debug, Clone, PartialEq)]
enum GoVal {
    Str(String),
    Bool(bool),
    /// A `json.Number`, by its text.
    Num(String),
    /// Anything Go never finds equal to a bound value (a float inside a list, an object).
    Opaque,
}

fn go_top(v: &Value, claim_side: bool) -> Option<Vec<GoVal>> {
    let one = |v: &Value, top: bool| match v {
        Value::String(s) => GoVal::Str(s.clone()),
        Value::Bool(b) => GoVal::Bool(*b),
        // Claims are decoded as float64; `getClaim` turns a top-level one into
        // json.Number(int(v)). Bound values were decoded with UseNumber: their literal text.
        Value::Number(n) if claim_side && top => {
            GoVal::Num((n.as_f64().unwrap_or(0.0) as i64).to_string())
        }
        Value::Number(n) if !claim_side => GoVal::Num(n.to_string()),
        _ => GoVal::Opaque,
    };
    match v {
        Value::Array(items) => Some(items.iter().map(|i| one(i, false)).collect()),
        Value::String(_) | Value::Bool(_) | Value::Number(_) => Some(vec![one(v, true)]),
        _ => None,
    }
}

/// Whether bound claim `claim` with `expected` value(s) holds; `Ok` carries what matched.
pub fn bound_claim_matches(
    claims: &Map<String, Value>,
    claim: &str,
    expected: &Value,
    use_glob: bool,
) -> Result<String, String> {
    let Some(actual) = get_claim(claims, claim).filter(|v| !v.is_null()) else {
        return Err(format!("claim {claim:?} is missing"));
    };
    let Some(acts) = go_top(actual, true) else {
        return Err(format!(
            "received claim is not a string, bool, int or list: {actual}"
        ));
    };
    let Some(exps) = go_top(expected, false) else {
        return Err(format!(
            "bound claim is not a string, bool, int or list: {expected}"
        ));
    };
    for e in &exps {
        for a in &acts {
            let hit = if use_glob {
                let GoVal::Str(pattern) = e else {
                    return Err(format!("received claim is not a glob string: {e:?}"));
                };
                matches!(a, GoVal::Str(s) if glob(pattern, s))
            } else {
                a == e && *a != GoVal::Opaque
            };
            if hit {
                return Ok(format!("{actual} matches {expected}"));
            }
        }
    }
    Err(format!(
        "claim {claim:?} does not match any associated bound claim values ({actual} vs {expected})"
    ))
}

/// go-glob's `Glob(pattern, subj)`: `*` is the only wildcard.
pub fn glob(pattern: &str, subj: &str) -> bool {
    if pattern.is_empty() {
        return subj.is_empty();
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return subj == pattern;
    }
    let leading = pattern.starts_with('*');
    let trailing = pattern.ends_with('*');
    let end = parts.len() - 1;
    let mut subj = subj;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if leading {
                continue;
            }
            if !subj.starts_with(part) {
                return false;
            }
        } else if i == end {
            if !subj.is_empty() {
                return trailing || subj.ends_with(part);
            }
        } else if !subj.contains(part) {
            return false;
        }
        // Go: idx := strings.Index(subj, part) + len(part); -1 + len(part) when absent.
        let idx = match subj.find(part) {
            Some(i) => i + part.len(),
            None => part.len().saturating_sub(1),
        };
        subj = subj.get(idx..).unwrap_or("");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_glob_semantics() {
        assert!(glob("main", "main"));
        assert!(!glob("main", "main2"));
        assert!(glob("feature/*", "feature/x/y"));
        assert!(glob("*-prod", "eu-prod"));
        assert!(glob("a*a", "a"), "go-glob's overlap quirk");
        assert!(!glob("ma?n", "main"), "no ? wildcard in go-glob");
        assert!(glob("*", ""));
    }

    #[test]
    fn list_claims_and_types() {
        let claims = json!({"branchName": ["x", "main"], "n": 5.7, "b": true, "o": {"p": "q"}});
        let c = claims.as_object().unwrap();
        assert!(bound_claim_matches(c, "branchName", &json!("main"), false).is_ok());
        assert!(
            bound_claim_matches(c, "n", &json!(5), false).is_ok(),
            "truncated like getClaim"
        );
        assert!(bound_claim_matches(c, "n", &json!("5"), false).is_err());
        assert!(bound_claim_matches(c, "b", &json!(true), false).is_ok());
        assert!(bound_claim_matches(c, "b", &json!("true"), false).is_err());
        assert!(bound_claim_matches(c, "/o/p", &json!("q"), false).is_ok());
        assert!(
            bound_claim_matches(c, "missing", &json!("q"), false)
                .unwrap_err()
                .contains("missing")
        );
    }
}
