//! The trust-policy engine: "would this relying party let this token in, and why?", answered
//! offline for the four kinds of relying party that trust Bitbucket step tokens without any code
//! of their own: an AWS IAM role trust policy ([`aws`]), a Vault/OpenBao JWT auth role
//! ([`vault`]), a GCP workload identity pool provider ([`gcp`]) and an Azure federated identity
//! credential ([`azure`]).
//!
//! Everything here is a pure function of a parsed [`Document`], the verified claims and a clock
//! ([`Context`]): no I/O, no network, no signatures (the caller verifies those first, as the
//! relying party would). [`Document::evaluate`] returns a [`Decision`] naming what decided;
//! [`Document::findings`] lints the document; [`check`] builds the access table, the boundary
//! tokens and the findings that `stepmint policy check` prints, from claim sets the caller mints.

pub mod aws;
pub mod azure;
pub mod boundary;
pub mod check;
pub mod gcp;
mod source;
mod types;
pub mod vault;

use serde_json::{Map, Value};

pub use check::{AccessRow, BoundaryRow, CheckReport, StepToken, check};
pub use source::{MAX_POLICY_BYTES, MAX_POLICY_DEPTH, Source};
pub use types::{Context, Decision, Finding, Kind, Severity, TimeRules, TraceStep};

use crate::error::{Error, Result};

/// A parsed policy document of any kind.
#[derive(Debug, Clone)]
pub struct Document {
    source: Source,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Aws(aws::TrustPolicy),
    Vault(vault::VaultRole),
    Gcp(gcp::Provider),
    Azure(azure::Credential),
}

impl Document {
    /// Parses `text` as a policy of `kind`, or of the kind its members show when `kind` is
    /// `None`. Errors name the statement or field and the line; a file over
    /// [`MAX_POLICY_BYTES`] or nested deeper than [`MAX_POLICY_DEPTH`] is refused before any
    /// parser sees it.
    pub fn parse(text: &str, kind: Option<Kind>) -> Result<Document> {
        let (source, map) = Source::parse(text)?;
        Document::from_map(source, map, kind)
    }

    /// A document from JSON already parsed (no line numbers in its errors).
    pub fn from_value(value: &Value, kind: Option<Kind>) -> Result<Document> {
        let Value::Object(map) = value else {
            return Err(Error::invalid(
                "policy",
                "a policy document must be a JSON object",
            ));
        };
        Document::from_map(Source::synthetic(), map.clone(), kind)
    }

    fn from_map(source: Source, map: Map<String, Value>, kind: Option<Kind>) -> Result<Document> {
        let kind = match kind {
            Some(k) => k,
            None => Kind::detect(&Value::Object(map.clone())).ok_or_else(|| {
                Error::invalid(
                    "policy",
                    "cannot tell which kind of policy this is (an IAM trust policy has \
                     Statement; a Vault role has user_claim/bound_*; a GCP provider has \
                     attributeMapping; an Azure credential has issuer/subject/audiences): pass \
                     --kind aws|vault|gcp|azure",
                )
            })?,
        };
        let body = match kind {
            Kind::Aws => Body::Aws(aws::parse(&source, &map)?),
            Kind::Vault => Body::Vault(vault::VaultRole::parse(&source, &map)?),
            Kind::Gcp => Body::Gcp(gcp::Provider::parse(&source, &map)?),
            Kind::Azure => Body::Azure(azure::Credential::parse(&source, &map)?),
        };
        Ok(Document { source, body })
    }

    /// The kind of relying party.
    pub fn kind(&self) -> Kind {
        match self.body {
            Body::Aws(_) => Kind::Aws,
            Body::Vault(_) => Kind::Vault,
            Body::Gcp(_) => Kind::Gcp,
            Body::Azure(_) => Kind::Azure,
        }
    }

    /// Whether the relying party lets the token described by `ctx` in, and what decided.
    pub fn evaluate(&self, ctx: &Context) -> Decision {
        match &self.body {
            Body::Aws(p) => aws::evaluate(p, ctx),
            Body::Vault(r) => r.evaluate(ctx),
            Body::Gcp(p) => p.evaluate(ctx),
            Body::Azure(c) => c.evaluate(ctx),
        }
    }

    /// The lint findings for this document, most severe first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = match &self.body {
            Body::Aws(p) => aws::lint(p, &self.source),
            Body::Vault(r) => r.lint(),
            Body::Gcp(p) => p.lint(),
            Body::Azure(c) => c.lint(),
        };
        out.sort_by_key(|f| std::cmp::Reverse(f.severity));
        out
    }

    /// How the relying party treats token times (for verifying a token as it would).
    pub fn time_rules(&self) -> TimeRules {
        match &self.body {
            Body::Aws(_) => aws::TIME_RULES,
            Body::Vault(r) => r.time_rules(),
            Body::Gcp(_) => gcp::TIME_RULES,
            Body::Azure(_) => azure::TIME_RULES,
        }
    }

    /// The issuer(s) this relying party trusts, when the document says (the AWS principal's
    /// provider, Vault's `bound_issuer`, GCP's `issuerUri`, Azure's `issuer`), as `https://` URLs.
    pub fn trusted_issuers(&self) -> Vec<String> {
        match &self.body {
            Body::Aws(p) => aws::trusted_issuers(p),
            Body::Vault(r) => r.bound_issuer().into_iter().collect(),
            Body::Gcp(p) => p.issuer().into_iter().collect(),
            Body::Azure(c) => vec![c.issuer.clone()],
        }
    }

    /// The AWS trust policy, when this is one.
    pub fn as_aws(&self) -> Option<&aws::TrustPolicy> {
        match &self.body {
            Body::Aws(p) => Some(p),
            _ => None,
        }
    }

    /// The Vault role, when this is one.
    pub fn as_vault(&self) -> Option<&vault::VaultRole> {
        match &self.body {
            Body::Vault(r) => Some(r),
            _ => None,
        }
    }

    /// The GCP provider, when this is one.
    pub fn as_gcp(&self) -> Option<&gcp::Provider> {
        match &self.body {
            Body::Gcp(p) => Some(p),
            _ => None,
        }
    }

    /// The Azure credential, when this is one.
    pub fn as_azure(&self) -> Option<&azure::Credential> {
        match &self.body {
            Body::Azure(c) => Some(c),
            _ => None,
        }
    }
}
