//! What the JWT auth method reads from a claim set before any role rule: the registered
//! claims decoded into go-jose's `jwt.Claims` (a wrong type refuses the token: `sub` must be a
//! string, `exp` a number), then the times with the role's leeways (`cap/jwt`'s rules: a token
//! with no `exp` is valid until `iat` (or `nbf`) + `expiration_leeway`).

use serde_json::{Map, Value};

use super::{DEFAULT_CLOCK_SKEW, DEFAULT_LEEWAY, VaultRole};

/// Go's name for a JSON value's type in `json: cannot unmarshal X into ...`.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

// Methods on the role (not free functions the parent names) keep this file a leaf: the
// parent calls them on the role and only this file imports the other.
impl VaultRole {
    /// The registered claims as go-jose decodes them into `jwt.Claims`.
    pub(super) fn registered_types(claims: &Map<String, Value>) -> Result<(), String> {
        for name in ["iss", "sub", "jti"] {
            if let Some(v) = claims.get(name).filter(|v| !v.is_null() && !v.is_string()) {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field Claims.{name} of type string",
                    go_type(v)
                ));
            }
        }
        for name in ["exp", "nbf", "iat"] {
            if claims
                .get(name)
                .is_some_and(|v| !v.is_null() && !v.is_number())
            {
                return Err(format!(
                    "go-jose/go-jose/jwt: expected number value to unmarshal NumericDate ({name})"
                ));
            }
        }
        match claims.get("aud") {
            None | Some(Value::String(_)) => Ok(()),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
            Some(_) => Err(
                "go-jose/go-jose/jwt: expected string or array value to unmarshal to Audience"
                    .into(),
            ),
        }
    }

    /// The token's times against `now` with the role's leeways, as `cap/jwt` checks them.
    pub(super) fn check_times(
        &self,
        claims: &Map<String, Value>,
        now: i64,
    ) -> std::result::Result<(), String> {
        let num = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_f64)
                .map(|f| f as i64)
                .unwrap_or(0)
        };
        let (iat, mut exp, mut nbf) = (num("iat"), num("exp"), num("nbf"));
        if iat == 0 && exp == 0 && nbf == 0 {
            return Err(
                "no issued at (iat), not before (nbf), or expiration time (exp) claims in token"
                    .into(),
            );
        }
        if exp == 0 {
            exp = iat.max(nbf) + Self::effective(self.expiration_leeway, DEFAULT_LEEWAY);
        }
        if nbf == 0 {
            nbf = if iat != 0 {
                iat
            } else {
                exp - Self::effective(self.not_before_leeway, DEFAULT_LEEWAY)
            };
        }
        let skew = Self::effective(self.clock_skew_leeway, DEFAULT_CLOCK_SKEW);
        if now + skew < nbf {
            return Err("invalid not before (nbf) claim: token not yet valid".into());
        }
        if now - skew > exp {
            return Err(format!(
                "invalid expiration time (exp) claim: token is expired (exp {exp}, now {now}, clock skew leeway {skew} s)"
            ));
        }
        if iat != 0 && now + skew < iat {
            return Err("invalid issued at (iat) claim: token issued in the future".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types(v: Value) -> Result<(), String> {
        VaultRole::registered_types(v.as_object().unwrap())
    }

    #[test]
    fn registered_claims_take_go_jose_types() {
        assert!(
            types(json!({"iss": "i", "sub": "s", "aud": ["a"], "exp": 1.5, "jti": null})).is_ok()
        );
        assert!(types(json!({"iss": null, "aud": "a"})).is_ok());
        assert!(
            types(json!({"sub": 5}))
                .unwrap_err()
                .contains("Claims.sub of type string")
        );
        assert!(
            types(json!({"exp": "1"}))
                .unwrap_err()
                .contains("NumericDate")
        );
        assert!(types(json!({"nbf": true})).is_err());
        assert!(
            types(json!({"aud": null}))
                .unwrap_err()
                .contains("Audience")
        );
        assert!(types(json!({"aud": ["a", 1]})).is_err());
    }
}
