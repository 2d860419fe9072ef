//! Vault/OpenBao JWT auth roles, judged as `auth/jwt/login` judges them (OpenBao's
//! `builtin/credential/jwt` and HashiCorp's `cap/jwt`, read for their rules): the role must be a
//! `jwt` role (a role written without `role_type` is an `oidc` role and refuses JWT logins), the
//! token's `alg` must be a supported one (all asymmetric algorithms by default), `bound_issuer`,
//! `bound_subject` and `bound_audiences` compare exactly, the times get their leeways
//! (`expiration_leeway` and `not_before_leeway` 150 s, `clock_skew_leeway` 60 s; a token with no
//! `exp` is valid until `iat` + 150 s, and one with none of `iat`/`nbf`/`exp` is refused), a token
//! with any `aud` is refused by a role without `bound_audiences`, `user_claim` must be a string
//! claim, and every `bound_claims` entry must match (a list claim matches when any element does;
//! `glob` has only `*`, with go-glob's exact semantics).

mod claims;
mod glob;
mod lint;
mod parse;

use serde_json::{Map, Value};

pub use glob::glob;

use crate::policy::types::{Context, Decision, Kind, TimeRules, TraceStep};

/// The algorithms a JWT role accepts when the mount sets no `jwt_supported_algs`.
pub const DEFAULT_ALGS: [&str; 10] = [
    "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA",
];
/// `expiration_leeway` and `not_before_leeway` when unset or 0.
pub const DEFAULT_LEEWAY: i64 = 150;
/// `clock_skew_leeway` when unset or 0.
pub const DEFAULT_CLOCK_SKEW: i64 = 60;

/// A JWT auth role with the mount settings that bear on login.
#[derive(Debug, Clone, Default)]
pub struct VaultRole {
    /// `role_type`: `jwt` or `oidc` (the API's default when absent).
    pub role_type: String,
    /// Whether `role_type` was written.
    pub role_type_given: bool,
    /// `bound_audiences`.
    pub bound_audiences: Vec<String>,
    /// `bound_subject`.
    pub bound_subject: Option<String>,
    /// `bound_claims_type`: `string` or `glob`.
    pub glob: bool,
    /// `bound_claims`, in document order.
    pub bound_claims: Vec<(String, Value)>,
    /// `user_claim`.
    pub user_claim: String,
    /// `user_claim_json_pointer`.
    pub user_claim_json_pointer: bool,
    /// `groups_claim`.
    pub groups_claim: Option<String>,
    /// `claim_mappings` sources.
    pub claim_mappings: Vec<String>,
    /// Seconds, as written (0: default; negative: none).
    pub expiration_leeway: i64,
    /// Seconds, as written.
    pub not_before_leeway: i64,
    /// Seconds, as written.
    pub clock_skew_leeway: i64,
    /// `token_bound_cidrs`.
    pub token_bound_cidrs: Vec<String>,
    /// The mount's `bound_issuer`.
    pub bound_issuer: Option<String>,
    /// The mount's `jwt_supported_algs` (empty: [`DEFAULT_ALGS`]).
    pub supported_algs: Vec<String>,
    /// The mount's `oidc_discovery_url`: whose keys verify its tokens. It is not an issuer
    /// check: OpenBao accepts any `iss` on a token those keys signed unless `bound_issuer` is
    /// set.
    pub oidc_discovery_url: Option<String>,
}

impl VaultRole {
    /// The mount's `bound_issuer`, if the document carries the config.
    pub fn bound_issuer(&self) -> Option<String> {
        self.bound_issuer.clone()
    }

    /// Leeway seconds as `cap/jwt` applies them: negative is none, 0 is the default.
    pub(super) fn effective(v: i64, default: i64) -> i64 {
        match v {
            v if v < 0 => 0,
            0 => default,
            v => v,
        }
    }

    /// The time rules (exp optional; grace = clock skew leeway + expiration leeway).
    pub fn time_rules(&self) -> TimeRules {
        TimeRules {
            exp_required: false,
            leeway: Self::effective(self.clock_skew_leeway, DEFAULT_CLOCK_SKEW),
        }
    }

    /// Judges a login with `ctx`'s token.
    pub fn evaluate(&self, ctx: &Context) -> Decision {
        let mut trace: Vec<TraceStep> = Vec::new();
        let mut pass = |at: &str, detail: String| {
            trace.push(TraceStep {
                at: at.into(),
                passed: true,
                detail,
            })
        };
        let fail = |at: &str, reason: String, trace: &[TraceStep]| {
            let mut trace = trace.to_vec();
            trace.push(TraceStep {
                at: at.into(),
                passed: false,
                detail: reason.clone(),
            });
            Decision::new(Kind::Vault, false, at, reason, trace)
        };
        if self.role_type != "jwt" {
            let why = if self.role_type_given {
                ""
            } else {
                " (role_type was not written, and Vault's default is oidc)"
            };
            return fail(
                "role_type",
                format!("role with oidc role_type is not allowed{why}: set role_type=jwt"),
                &trace,
            );
        }
        if !self.token_bound_cidrs.is_empty() {
            pass(
                "token_bound_cidrs",
                format!(
                    "{:?} not checked: the caller's address is the deployment's",
                    self.token_bound_cidrs
                ),
            );
        }
        let algs: Vec<&str> = if self.supported_algs.is_empty() {
            DEFAULT_ALGS.to_vec()
        } else {
            self.supported_algs.iter().map(String::as_str).collect()
        };
        if let Some(alg) = ctx.header.get("alg").and_then(Value::as_str) {
            if !algs.contains(&alg) {
                return fail(
                    "jwt_supported_algs",
                    format!(
                        "error validating token: invalid algorithm (alg) header parameter: token signed with unexpected algorithm {alg} (accepted: {algs:?})"
                    ),
                    &trace,
                );
            }
            pass("jwt_supported_algs", format!("{alg} is accepted"));
        }
        let claims = &ctx.claims;
        if let Err(why) = Self::registered_types(claims) {
            return fail("claims", format!("error validating token: {why}"), &trace);
        }
        let str_claim = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if let Some(iss) = &self.bound_issuer {
            if *iss != str_claim("iss") {
                return fail(
                    "bound_issuer",
                    "error validating token: invalid issuer (iss) claim".into(),
                    &trace,
                );
            }
            pass("bound_issuer", format!("iss is {iss}"));
        }
        if let Some(sub) = &self.bound_subject {
            if *sub != str_claim("sub") {
                return fail(
                    "bound_subject",
                    format!(
                        "error validating token: invalid subject (sub) claim: {:?} is not {sub:?}",
                        str_claim("sub")
                    ),
                    &trace,
                );
            }
            pass("bound_subject", format!("sub is {sub:?}"));
        }
        let aud: Vec<String> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        if !self.bound_audiences.is_empty() {
            if !self.bound_audiences.iter().any(|b| aud.contains(b)) {
                return fail(
                    "bound_audiences",
                    format!(
                        "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience ({aud:?} vs {:?})",
                        self.bound_audiences
                    ),
                    &trace,
                );
            }
            pass("bound_audiences", "an aud matches".into());
        }
        if let Err(why) = self.check_times(claims, ctx.now) {
            return fail("exp", format!("error validating token: {why}"), &trace);
        }
        pass("times", "within exp/nbf/iat with the role's leeways".into());
        if claims.get("aud").is_some_and(|a| !a.is_null()) && self.bound_audiences.is_empty() {
            return fail(
                "bound_audiences",
                "audience claim found in JWT but no audiences bound to the role".into(),
                &trace,
            );
        }
        let user = if self.user_claim_json_pointer {
            pointer(claims, &self.user_claim)
        } else {
            claims.get(&self.user_claim)
        };
        match user {
            None | Some(Value::Null) => {
                return fail(
                    "user_claim",
                    format!("claim {:?} not found in token", self.user_claim),
                    &trace,
                );
            }
            Some(Value::String(name)) => pass("user_claim", format!("entity alias {name:?}")),
            Some(_) => {
                return fail(
                    "user_claim",
                    format!(
                        "claim {:?} could not be converted to string",
                        self.user_claim
                    ),
                    &trace,
                );
            }
        }
        for source in &self.claim_mappings {
            if let Some(v) = get_claim(claims, source)
                && !v.is_null()
                && !v.is_string()
            {
                return fail(
                    "claim_mappings",
                    format!("error converting claim '{source}' to string"),
                    &trace,
                );
            }
        }
        if let Some(groups) = &self.groups_claim {
            match get_claim(claims, groups) {
                None | Some(Value::Null) => {
                    return fail(
                        "groups_claim",
                        format!("failed to fetch groups: {groups:?} claim not found in token"),
                        &trace,
                    );
                }
                Some(Value::String(_)) => {}
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
                Some(_) => {
                    return fail(
                        "groups_claim",
                        format!("{groups:?} claim could not be converted to string list"),
                        &trace,
                    );
                }
            }
        }
        for (claim, expected) in &self.bound_claims {
            let at = format!("bound_claims.{claim}");
            match glob::bound_claim_matches(claims, claim, expected, self.glob) {
                Ok(detail) => pass(&at, detail),
                Err(why) => return fail(&at, format!("error validating claims: {why}"), &trace),
            }
        }
        Decision::new(
            Kind::Vault,
            true,
            "role",
            "login succeeds: every binding of the role holds",
            trace,
        )
    }
}

/// A claim by name, or by JSON pointer when it starts with `/` (Vault's `getClaim`).
pub fn get_claim<'a>(claims: &'a Map<String, Value>, claim: &str) -> Option<&'a Value> {
    if claim.starts_with('/') {
        pointer(claims, claim)
    } else {
        claims.get(claim)
    }
}

/// RFC 6901 lookup (`~1` is `/`, `~0` is `~`) into maps and lists.
pub fn pointer<'a>(claims: &'a Map<String, Value>, ptr: &str) -> Option<&'a Value> {
    let mut parts = ptr.strip_prefix('/')?.split('/');
    let first = parts.next()?.replace("~1", "/").replace("~0", "~");
    let mut cur = claims.get(&first)?;
    for part in parts {
        let part = part.replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Value::Object(m) => m.get(&part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

impl VaultRole {
    /// The lint findings.
    pub fn lint(&self) -> Vec<crate::policy::types::Finding> {
        lint::lint(self)
    }
}
