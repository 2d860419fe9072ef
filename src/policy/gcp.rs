//! GCP workload identity pool providers (OIDC), judged as Google's STS judges a token exchange:
//! the provider must be enabled, `iss` must be its `issuerUri`, the token must not be expired,
//! `aud` must be one of `allowedAudiences` (or, when that list is empty, the provider's full
//! resource name with `//iam.googleapis.com/` or `https://iam.googleapis.com/` before it), then
//! `attributeMapping` is evaluated (CEL over `assertion`, the token's claims) with Google's
//! limits (`google.subject` at most 127 bytes, all mapped attributes together at most 8 KB, at
//! most 50 custom attributes named `[a-z0-9_]{1,100}`), and `attributeCondition` (CEL over
//! `assertion`, `google` and `attribute`) must be `true`. A CEL error anywhere refuses the
//! exchange. CEL is the maintained `cel` crate's.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::policy::source::Source;
use crate::policy::types::{Context, Decision, Finding, Kind, Severity, TimeRules, TraceStep};

/// Google's STS: `exp` required; no documented leeway.
pub const TIME_RULES: TimeRules = TimeRules {
    exp_required: true,
    leeway: 0,
};
/// `google.subject` limit, bytes.
pub const MAX_SUBJECT_BYTES: usize = 127;
/// All mapped attributes together, bytes.
pub const MAX_ATTRIBUTES_BYTES: usize = 8192;

/// A workload identity pool provider.
#[derive(Debug, Clone, Default)]
pub struct Provider {
    /// `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
    pub name: Option<String>,
    /// `disabled`.
    pub disabled: bool,
    /// `attributeMapping`, in document order.
    pub mapping: Vec<(String, String)>,
    /// `attributeCondition`.
    pub condition: Option<String>,
    /// `oidc.issuerUri`.
    pub issuer_uri: Option<String>,
    /// `oidc.allowedAudiences`.
    pub allowed_audiences: Vec<String>,
}

fn compile(field: &str, expr: &str) -> Result<()> {
    cel::Program::compile(expr)
        .map(|_| ())
        .map_err(|e| Error::invalid(field, format!("invalid CEL: {e}")))
}

impl Provider {
    /// Parses the provider resource (as `gcloud iam workload-identity-pools providers describe
    /// --format=json` prints it). What Google refuses to create is an error here.
    pub fn parse(src: &Source, doc: &Map<String, Value>) -> Result<Provider> {
        let at = |f: &str| match src.key_line(f, 0) {
            Some(l) => format!("{f} (line {l})"),
            None => f.to_string(),
        };
        let mut p = Provider {
            name: doc.get("name").and_then(Value::as_str).map(String::from),
            disabled: doc
                .get("disabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            ..Provider::default()
        };
        match doc.get("attributeMapping") {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let Some(expr) = v.as_str() else {
                        return Err(Error::invalid(
                            at(k),
                            "an attribute mapping must be a CEL expression string",
                        ));
                    };
                    valid_attribute(k).map_err(|m| Error::invalid(at(k), m))?;
                    if expr.len() > 2048 {
                        return Err(Error::invalid(
                            at(k),
                            "an attribute mapping expression is at most 2048 characters",
                        ));
                    }
                    compile(&at(k), expr)?;
                    p.mapping.push((k.clone(), expr.to_string()));
                }
            }
            Some(_) => {
                return Err(Error::invalid(
                    at("attributeMapping"),
                    "must be an object of attribute: CEL expression",
                ));
            }
            None => {}
        }
        if !p.mapping.iter().any(|(k, _)| k == "google.subject") {
            return Err(Error::invalid(
                "attributeMapping",
                "an OIDC provider's attributeMapping must map google.subject (for example {\"google.subject\": \"assertion.repositoryUuid\"}); Google refuses the provider without it",
            ));
        }
        if p.mapping
            .iter()
            .filter(|(k, _)| k.starts_with("attribute."))
            .count()
            > 50
        {
            return Err(Error::invalid(
                "attributeMapping",
                "at most 50 custom attributes",
            ));
        }
        if let Some(c) = doc.get("attributeCondition") {
            let Some(c) = c.as_str() else {
                return Err(Error::invalid(
                    at("attributeCondition"),
                    "must be a CEL expression string",
                ));
            };
            if c.len() > 4096 {
                return Err(Error::invalid(
                    at("attributeCondition"),
                    "at most 4096 characters",
                ));
            }
            if !c.trim().is_empty() {
                compile(&at("attributeCondition"), c)?;
                p.condition = Some(c.to_string());
            }
        }
        if let Some(Value::Object(oidc)) = doc.get("oidc") {
            p.issuer_uri = oidc
                .get("issuerUri")
                .and_then(Value::as_str)
                .map(String::from);
            if let Some(a) = oidc.get("allowedAudiences") {
                let Value::Array(items) = a else {
                    return Err(Error::invalid(
                        at("allowedAudiences"),
                        "must be a list of strings",
                    ));
                };
                for i in items {
                    let s = i.as_str().ok_or_else(|| {
                        Error::invalid(at("allowedAudiences"), "must be a list of strings")
                    })?;
                    if s.len() > 256 {
                        return Err(Error::invalid(
                            at("allowedAudiences"),
                            "each audience is at most 256 characters",
                        ));
                    }
                    p.allowed_audiences.push(s.to_string());
                }
                if p.allowed_audiences.len() > 10 {
                    return Err(Error::invalid(
                        at("allowedAudiences"),
                        "at most 10 audiences",
                    ));
                }
            }
        }
        Ok(p)
    }

    /// The issuer it trusts.
    pub fn issuer(&self) -> Option<String> {
        self.issuer_uri.clone()
    }

    /// The audiences a token may carry: the allowed ones, or the two default forms.
    pub fn audiences(&self, fallback_name: Option<&str>) -> Vec<String> {
        if !self.allowed_audiences.is_empty() {
            return self.allowed_audiences.clone();
        }
        match self.name.as_deref().or(fallback_name) {
            Some(n) => vec![
                format!("//iam.googleapis.com/{n}"),
                format!("https://iam.googleapis.com/{n}"),
            ],
            None => Vec::new(),
        }
    }

    /// Judges a token exchange.
    pub fn evaluate(&self, ctx: &Context) -> Decision {
        let mut trace = Vec::new();
        match self.judge(ctx, &mut trace) {
            Ok(subject) => Decision::new(
                Kind::Gcp,
                true,
                self.condition
                    .as_ref()
                    .map_or("attributeMapping", |_| "attributeCondition"),
                format!("the exchange succeeds as principal subject {subject:?}"),
                trace,
            ),
            Err((at, why)) => {
                trace.push(TraceStep {
                    at: at.clone(),
                    passed: false,
                    detail: why.clone(),
                });
                Decision::new(Kind::Gcp, false, at, why, trace)
            }
        }
    }

    fn judge(
        &self,
        ctx: &Context,
        trace: &mut Vec<TraceStep>,
    ) -> std::result::Result<String, (String, String)> {
        let e = |at: &str, why: String| (at.to_string(), why);
        let mut pass = |at: &str, detail: String| {
            trace.push(TraceStep {
                at: at.into(),
                passed: true,
                detail,
            })
        };
        if self.disabled {
            return Err(e("disabled", "the provider is disabled".into()));
        }
        let claims = &ctx.claims;
        if let Some(uri) = &self.issuer_uri {
            if claims.get("iss").and_then(Value::as_str) != Some(uri.as_str()) {
                return Err(e(
                    "oidc.issuerUri",
                    format!("invalid_grant: the token's iss is not {uri}"),
                ));
            }
            pass("oidc.issuerUri", format!("iss is {uri}"));
        }
        match claims.get("exp").and_then(Value::as_i64) {
            None => return Err(e("exp", "invalid_grant: the token has no exp".into())),
            Some(exp) if ctx.now >= exp => {
                return Err(e(
                    "exp",
                    format!("invalid_grant: the token expired at {exp}"),
                ));
            }
            Some(_) => pass("exp", "not expired".into()),
        }
        let aud: Vec<String> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        let allowed = self.audiences(ctx.gcp_provider.as_deref());
        if allowed.is_empty() {
            pass("oidc.allowedAudiences", "not checked: the provider's resource name is unknown (give the document its `name`)".into());
        } else if !aud.iter().any(|a| allowed.contains(a)) {
            let what = if self.allowed_audiences.is_empty() {
                "allowedAudiences is empty, so aud must be the provider's resource name"
            } else {
                "no aud is in allowedAudiences"
            };
            return Err(e(
                "oidc.allowedAudiences",
                format!("invalid_grant: {what} ({aud:?} vs {allowed:?})"),
            ));
        } else {
            pass("oidc.allowedAudiences", "an aud is allowed".into());
        }
        let assertion = cel::to_value(Value::Object(claims.clone())).map_err(|x| {
            e(
                "assertion",
                format!("the claims cannot be given to CEL: {x}"),
            )
        })?;
        let mut google: HashMap<String, cel::Value> = HashMap::new();
        let mut attribute: HashMap<String, cel::Value> = HashMap::new();
        let mut total = 0usize;
        let mut subject = String::new();
        for (key, expr) in &self.mapping {
            let mut c = cel::Context::default();
            c.add_variable_from_value("assertion", assertion.clone());
            let value = run(expr, &c).map_err(|x| {
                e(
                    &format!("attributeMapping.{key}"),
                    format!("invalid_grant: mapping {key} = {expr:?} failed: {x}"),
                )
            })?;
            let size = match &value {
                cel::Value::String(s) => s.len(),
                cel::Value::List(l) => l
                    .iter()
                    .map(|v| {
                        if let cel::Value::String(s) = v {
                            s.len()
                        } else {
                            0
                        }
                    })
                    .sum(),
                cel::Value::Null => 0,
                other => {
                    return Err(e(
                        &format!("attributeMapping.{key}"),
                        format!("invalid_grant: mapping {key} produced {other:?}, not a string"),
                    ));
                }
            };
            total += size;
            if key == "google.subject" {
                let cel::Value::String(s) = &value else {
                    return Err(e(
                        "attributeMapping.google.subject",
                        "invalid_grant: google.subject must be a string".into(),
                    ));
                };
                if s.len() > MAX_SUBJECT_BYTES {
                    return Err(e(
                        "attributeMapping.google.subject",
                        format!(
                            "invalid_grant: the mapped google.subject is {} bytes; the limit is {MAX_SUBJECT_BYTES}",
                            s.len()
                        ),
                    ));
                }
                subject = s.to_string();
            }
            match key.split_once('.') {
                Some(("google", name)) => google.insert(name.to_string(), value),
                Some((_, name)) => attribute.insert(name.to_string(), value),
                None => None,
            };
            pass(
                &format!("attributeMapping.{key}"),
                format!("mapped from {expr}"),
            );
        }
        if total > MAX_ATTRIBUTES_BYTES {
            return Err(e(
                "attributeMapping",
                format!(
                    "invalid_grant: mapped attributes total {total} bytes; the limit is {MAX_ATTRIBUTES_BYTES}"
                ),
            ));
        }
        if let Some(cond) = &self.condition {
            let mut c = cel::Context::default();
            c.add_variable_from_value("assertion", assertion);
            c.add_variable_from_value("google", google);
            c.add_variable_from_value("attribute", attribute);
            match run(cond, &c) {
                Ok(cel::Value::Bool(true)) => pass("attributeCondition", format!("{cond} is true")),
                Ok(cel::Value::Bool(false)) => {
                    return Err(e(
                        "attributeCondition",
                        format!("the attribute condition {cond:?} is false for this token"),
                    ));
                }
                Ok(other) => {
                    return Err(e(
                        "attributeCondition",
                        format!("the attribute condition produced {other:?}, not a boolean"),
                    ));
                }
                Err(x) => {
                    return Err(e(
                        "attributeCondition",
                        format!("the attribute condition failed: {x} (an error rejects the token)"),
                    ));
                }
            }
        }
        Ok(subject)
    }

    /// The lint findings.
    pub fn lint(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.condition.is_none() {
            out.push(Finding::new("sub-unconstrained", Severity::Error, "no attributeCondition: every repository of the workspace (every token the issuer signs) can exchange tokens through this provider", "add an attributeCondition such as assertion.repositoryUuid == '{REPOSITORY-UUID}'").at("attributeCondition", None));
        }
        if let Some(c) = &self.condition {
            let c = c.replace(' ', "");
            if c.contains("assertion.sub==") && !c.contains("startsWith") {
                out.push(Finding::new("full-sub-pinned", Severity::Error, "the condition compares the whole sub, which ends in the step UUID that changes every run: it can match one run only", "compare assertion.repositoryUuid (and assertion.deploymentEnvironmentUuid), or use assertion.sub.startsWith('{REPO}:')").at("attributeCondition", None));
            }
            if c.contains("deploymentEnvironment==")
                || c.contains("assertion.deploymentEnvironment")
                    && !c.contains("deploymentEnvironmentUuid")
            {
                out.push(Finding::new("environment-name-in-sub", Severity::Warning, "the condition names the environment rather than its UUID; Bitbucket tokens carry deploymentEnvironmentUuid", "compare assertion.deploymentEnvironmentUuid == '{ENV-UUID}'").at("attributeCondition", None));
            }
        }
        if self
            .mapping
            .iter()
            .any(|(k, e)| k == "google.subject" && e.replace(' ', "") == "assertion.sub")
        {
            out.push(Finding::new("volatile-subject", Severity::Warning, "google.subject is the token's sub, which changes every run (it ends in the step UUID): an IAM binding to principal://.../subject/... matches one run only", "map google.subject to assertion.repositoryUuid, or bind principalSet://.../attribute.repository/...").at("attributeMapping.google.subject", None));
        }
        if self.allowed_audiences.is_empty() {
            out.push(Finding::new("aud-default-resource-name", Severity::Info, "allowedAudiences is empty, so the token's aud must be the provider's resource name; Bitbucket's default aud is the workspace ARI", "set oidc.audiences in bitbucket-pipelines.yml to the provider's https://iam.googleapis.com/... name, or list the workspace ARI in allowedAudiences").at("oidc.allowedAudiences", None));
        }
        out
    }
}

fn run(expr: &str, ctx: &cel::Context) -> std::result::Result<cel::Value, String> {
    let program = cel::Program::compile(expr).map_err(|e| e.to_string())?;
    program.execute(ctx).map_err(|e| e.to_string())
}

fn valid_attribute(key: &str) -> std::result::Result<(), String> {
    match key.split_once('.') {
        Some((
            "google",
            "subject" | "groups" | "display_name" | "profile_photo" | "posix_username",
        )) => Ok(()),
        Some(("attribute", name))
            if !name.is_empty()
                && name.len() <= 100
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            Ok(())
        }
        Some(("attribute", _)) => {
            Err("a custom attribute name is 1 to 100 characters of [a-z0-9_]".into())
        }
        _ => Err(format!(
            "unknown attribute `{key}` (google.subject, google.groups, google.display_name, google.profile_photo, google.posix_username or attribute.NAME)"
        )),
    }
}
