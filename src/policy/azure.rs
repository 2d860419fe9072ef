//! Azure (Entra) federated identity credentials, judged as Entra judges a client assertion:
//! `iss` equal to `issuer`, an `aud` equal to one of `audiences` (by default
//! `api://AzureADTokenExchange`), and `sub` equal to `subject` — exact and case-sensitive, no
//! wildcards — or, for a flexible credential, `claimsMatchingExpression` (`claims['c'] eq 'v'`
//! and `claims['c'] matches 'glob'` clauses joined by `and`; `*` any run, `?` one character).
//!
//! A Bitbucket step token's `sub` ends with the step UUID, new on every run, so a classic
//! credential's exact `subject` can match the run it was copied from and never another.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::policy::source::Source;
use crate::policy::types::{Context, Decision, Finding, Kind, Severity, TimeRules, TraceStep};
use crate::validate::string_like;

/// Entra: `exp` required; no documented leeway.
pub const TIME_RULES: TimeRules = TimeRules {
    exp_required: true,
    leeway: 0,
};
/// The audience Entra recommends and the portal fills in.
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Issuers Microsoft supports flexible credentials for.
const FLEXIBLE_ISSUERS: [&str; 3] = [
    "https://token.actions.githubusercontent.com",
    "https://gitlab.com",
    "https://app.terraform.io",
];

/// One clause of a flexible expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The claim.
    pub claim: String,
    /// `matches` (glob) rather than `eq`.
    pub glob: bool,
    /// The comparand.
    pub value: String,
}

/// A federated identity credential.
#[derive(Debug, Clone, Default)]
pub struct Credential {
    /// `issuer`.
    pub issuer: String,
    /// `subject` (classic).
    pub subject: Option<String>,
    /// `claimsMatchingExpression` (flexible), parsed.
    pub expression: Option<Vec<Clause>>,
    /// `audiences`.
    pub audiences: Vec<String>,
}

/// Parses `claims['sub'] eq 'x' and claims['job_workflow_ref'] matches 'y*'`.
pub fn parse_expression(text: &str) -> std::result::Result<Vec<Clause>, String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    loop {
        let r = rest
            .strip_prefix("claims['")
            .ok_or_else(|| format!("expected claims['NAME'] at `{rest}`"))?;
        let (claim, r) = r.split_once("']").ok_or("unterminated claims['...']")?;
        let r = r.trim_start();
        let (glob, r) = if let Some(r) = r.strip_prefix("eq ") {
            (false, r)
        } else if let Some(r) = r.strip_prefix("matches ") {
            (true, r)
        } else {
            return Err(format!(
                "expected `eq` or `matches` after claims['{claim}']"
            ));
        };
        let r = r
            .trim_start()
            .strip_prefix('\'')
            .ok_or("expected a quoted comparand")?;
        let (value, r) = r.split_once('\'').ok_or("unterminated comparand")?;
        out.push(Clause {
            claim: claim.to_string(),
            glob,
            value: value.to_string(),
        });
        let r = r.trim_start();
        if r.is_empty() {
            return Ok(out);
        }
        rest = r
            .strip_prefix("and ")
            .ok_or_else(|| format!("expected `and` at `{r}`"))?
            .trim_start();
    }
}

impl Credential {
    /// Parses a credential as the Graph / ARM API shows it.
    pub fn parse(src: &Source, doc: &Map<String, Value>) -> Result<Credential> {
        let doc = match doc.get("properties") {
            Some(Value::Object(p)) => p,
            _ => doc,
        };
        let at = |f: &str| match src.key_line(f, 0) {
            Some(l) => format!("{f} (line {l})"),
            None => f.to_string(),
        };
        let issuer = doc
            .get("issuer")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid("issuer", "a federated credential needs an issuer"))?
            .to_string();
        let subject = doc
            .get("subject")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        let expression = match doc.get("claimsMatchingExpression") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let text = v.get("value").and_then(Value::as_str).or(v.as_str()).ok_or_else(|| Error::invalid(at("claimsMatchingExpression"), "expected {\"value\": \"claims['sub'] matches '...'\", \"languageVersion\": 1}"))?;
                Some(
                    parse_expression(text)
                        .map_err(|m| Error::invalid(at("claimsMatchingExpression"), m))?,
                )
            }
        };
        match (&subject, &expression) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    at("claimsMatchingExpression"),
                    "subject and claimsMatchingExpression are mutually exclusive",
                ));
            }
            (None, None) => {
                return Err(Error::invalid(
                    "subject",
                    "a federated credential needs a subject (or a claimsMatchingExpression)",
                ));
            }
            _ => {}
        }
        let audiences = match doc.get("audiences") {
            None => vec![DEFAULT_AUDIENCE.to_string()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .ok_or_else(|| Error::invalid(at("audiences"), "must be a list of strings"))
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(Error::invalid(at("audiences"), "must be a list of strings")),
        };
        if audiences.len() != 1 {
            return Err(Error::invalid(
                at("audiences"),
                "a federated credential has exactly one audience",
            ));
        }
        Ok(Credential {
            issuer,
            subject,
            expression,
            audiences,
        })
    }

    /// Judges a token.
    pub fn evaluate(&self, ctx: &Context) -> Decision {
        let mut trace = Vec::new();
        let c = &ctx.claims;
        let s = |k: &str| {
            c.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let deny = |at: &str, why: String, mut trace: Vec<TraceStep>| {
            trace.push(TraceStep {
                at: at.into(),
                passed: false,
                detail: why.clone(),
            });
            Decision::new(Kind::Azure, false, at, why, trace)
        };
        if s("iss") != self.issuer {
            return deny(
                "issuer",
                format!(
                    "AADSTS700211: No matching federated identity record found for presented assertion issuer {:?}",
                    s("iss")
                ),
                trace,
            );
        }
        trace.push(TraceStep {
            at: "issuer".into(),
            passed: true,
            detail: "iss matches".into(),
        });
        let aud: Vec<String> = match c.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        if !aud.iter().any(|a| self.audiences.contains(a)) {
            return deny(
                "audiences",
                format!(
                    "AADSTS700212: No matching federated identity record found for presented assertion audience {aud:?} (the credential accepts {:?}; set oidc.audiences in bitbucket-pipelines.yml)",
                    self.audiences
                ),
                trace,
            );
        }
        trace.push(TraceStep {
            at: "audiences".into(),
            passed: true,
            detail: "an aud matches".into(),
        });
        match c.get("exp").and_then(Value::as_i64) {
            Some(exp) if ctx.now < exp => {}
            _ => {
                return deny(
                    "exp",
                    "AADSTS700024: the client assertion is expired or has no exp".into(),
                    trace,
                );
            }
        }
        if let Some(subject) = &self.subject {
            if s("sub") != *subject {
                let hint = if ctx.claims.contains_key("stepUuid") {
                    " (a Bitbucket sub ends with the step UUID, new every run: a classic credential cannot match future runs)"
                } else {
                    ""
                };
                return deny(
                    "subject",
                    format!(
                        "AADSTS700213: No matching federated identity record found for presented assertion subject {:?}{hint}",
                        s("sub")
                    ),
                    trace,
                );
            }
            trace.push(TraceStep {
                at: "subject".into(),
                passed: true,
                detail: "sub matches exactly".into(),
            });
        }
        if let Some(clauses) = &self.expression {
            for cl in clauses {
                let v = s(&cl.claim);
                let ok = c.get(&cl.claim).is_some_and(Value::is_string)
                    && if cl.glob {
                        string_like(&cl.value, &v)
                    } else {
                        v == cl.value
                    };
                let detail = format!(
                    "claims['{}'] {} '{}' for {v:?}",
                    cl.claim,
                    if cl.glob { "matches" } else { "eq" },
                    cl.value
                );
                if !ok {
                    return deny(
                        "claimsMatchingExpression",
                        format!(
                            "AADSTS700213: the claims matching expression does not hold: {detail}"
                        ),
                        trace,
                    );
                }
                trace.push(TraceStep {
                    at: "claimsMatchingExpression".into(),
                    passed: true,
                    detail,
                });
            }
        }
        Decision::new(
            Kind::Azure,
            true,
            if self.subject.is_some() {
                "subject"
            } else {
                "claimsMatchingExpression"
            },
            "the assertion matches the federated credential",
            trace,
        )
    }

    /// The lint findings.
    pub fn lint(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let bitbucket = self.issuer.contains("/pipelines-config/identity/oidc");
        if let Some(subject) = &self.subject {
            if subject.contains('*') || subject.contains('?') {
                out.push(Finding::new("star-in-string-equals", Severity::Error, format!("subject {subject:?} contains a wildcard, but a classic credential compares exactly: the `*` is a literal"), "use a flexible credential (claimsMatchingExpression with `matches`), where the issuer supports it").at("subject", None));
            }
            if bitbucket {
                out.push(Finding::new("full-sub-pinned", Severity::Error, "a Bitbucket step token's sub ends with the step UUID, which is new on every run; a classic credential's exact subject matches only the run it was copied from and no Bitbucket step can ever match it again", "Azure cannot express \"this repository, any step\" for Bitbucket: classic credentials have no wildcards and Microsoft supports flexible credentials only for GitHub, GitLab and Terraform Cloud").at("subject", None));
            }
        }
        if self.expression.is_some()
            && !FLEXIBLE_ISSUERS.contains(&self.issuer.trim_end_matches('/'))
        {
            out.push(Finding::new("flexible-fic-unsupported-issuer", Severity::Warning, format!("flexible credentials are supported only for GitHub, GitLab and Terraform Cloud issuers; Entra refuses one for {}", self.issuer), "use a classic credential with the exact subject, or another relying party").at("claimsMatchingExpression", None));
        }
        if self.audiences.iter().any(|a| a != DEFAULT_AUDIENCE) {
            out.push(Finding::new("aud-not-default", Severity::Info, format!("the audience is {:?}, not the recommended {DEFAULT_AUDIENCE}", self.audiences), "keep api://AzureADTokenExchange unless every pipeline sets the custom audience").at("audiences", None));
        }
        out
    }
}
