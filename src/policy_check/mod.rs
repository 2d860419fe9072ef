//! `stepmint policy eval` and `policy check` over this issuer: a token verified against the
//! served workspace's keys and then judged by a policy, and a pipelines file's steps minted as
//! the issuer would mint them (keyless: [`step_claims`]) and judged with the policy's boundary
//! tokens. Identities the policy pins (issuer, workspace, repository, environments) are used as
//! the steps' own, since the pipelines file is the policy's author's; what the policy does not
//! say comes from the options or fixed stand-ins, and the report notes which.

mod go_jose;
mod render;
mod steps;

use steps::step_token;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use render::{human_check, human_eval, junit, sarif};

use crate::clock::IdSource;
use crate::error::{Error, ErrorKind, Result};
use crate::issuer::Issuer;
use crate::pipelines::{self, PipelineStep};
use crate::policy::boundary::Scope;
use crate::policy::vault::{DEFAULT_ALGS, VaultRole};
use crate::policy::{self, CheckReport, Context, Decision, Document};
use crate::token::{StepIdentity, StepRequest, step_claims};
use crate::validate::{self, Policy, Report};

/// The issuer a check assumes when the policy names none.
pub const STAND_IN_ISSUER: &str =
    "https://api.bitbucket.org/2.0/workspaces/workspace/pipelines-config/identity/oidc";

/// `policy eval`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The decision (a bad signature is a denial decided by `signature`).
    #[serde(flatten)]
    pub decision: Decision,
    /// The workspace whose keys verified the token.
    pub workspace: String,
    /// The signature check.
    pub verification: Report,
    /// The claims judged.
    pub claims: Map<String, Value>,
}

/// Verifies `token` with the keys of the workspace that issued it (its `iss`; else
/// `workspace`, else the first), then judges it by `doc` with `registration` (account, client
/// IDs...) at `now`.
pub fn eval_token(
    issuer: &Issuer,
    doc: &Document,
    token: &str,
    workspace: Option<&str>,
    registration: &Context,
    now: i64,
) -> Result<Evaluation> {
    let token = token.trim();
    if let Some(role) = doc.as_vault() {
        return eval_vault(issuer, doc, role, token, workspace, registration, now);
    }
    let decoded = crate::inspect::decode_unverified(token)?;
    let payload = match &decoded.claims {
        Value::Object(m) => m.clone(),
        _ => return Err(Error::malformed("the payload is not a JSON object")),
    };
    let header = match &decoded.header {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let iss = payload.get("iss").and_then(Value::as_str).map(String::from);
    let ws = match workspace {
        Some(slug) => issuer.workspace(slug)?,
        None => issuer
            .workspaces()
            .into_iter()
            .find(|w| Some(&w.issuer) == iss.as_ref())
            .map_or_else(|| issuer.workspace_or_first(None), Ok)?,
    };
    let algs: Vec<&str> = vec![
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ];
    let mut check = Policy::signature_only(&algs);
    check.require_kid = true;
    let report = validate::verify(token, ws.keyset(), &check, now);
    let claims = payload;
    if !report.accepted {
        let why = report
            .reason
            .clone()
            .unwrap_or_else(|| report.verdict.clone());
        let decision = Decision {
            allowed: false,
            kind: doc.kind(),
            decided_by: "signature".into(),
            reason: format!("the relying party refuses the token before its policy: {why}"),
            trace: Vec::new(),
        };
        return Ok(Evaluation {
            decision,
            workspace: ws.workspace.slug.clone(),
            verification: report,
            claims,
        });
    }
    let mut ctx = registration.clone();
    ctx.claims = claims.clone();
    ctx.header = header;
    ctx.now = now;
    Ok(Evaluation {
        decision: doc.evaluate(&ctx),
        workspace: ws.workspace.slug.clone(),
        verification: report,
        claims,
    })
}

/// [`eval_token`] for a Vault/OpenBao role: the token verified as the JWT auth method verifies
/// it ([`go_jose`]), with the keys of the workspace the mount discovers (`oidc_discovery_url`
/// or `bound_issuer` in the document's config; else the token's `iss`, else the first).
fn eval_vault(
    issuer: &Issuer,
    doc: &Document,
    role: &VaultRole,
    token: &str,
    workspace: Option<&str>,
    registration: &Context,
    now: i64,
) -> Result<Evaluation> {
    let unverified = crate::inspect::decode_unverified(token).ok();
    let unverified_claims = match unverified.as_ref().map(|d| &d.claims) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let mounted = role
        .oidc_discovery_url
        .clone()
        .or_else(|| role.bound_issuer());
    let iss = mounted.or_else(|| {
        unverified_claims
            .get("iss")
            .and_then(Value::as_str)
            .map(String::from)
    });
    let ws = match workspace {
        Some(slug) => issuer.workspace(slug)?,
        None => issuer
            .workspaces()
            .into_iter()
            .find(|w| Some(&w.issuer) == iss.as_ref())
            .map_or_else(|| issuer.workspace_or_first(None), Ok)?,
    };
    let algs: Vec<&str> = if role.supported_algs.is_empty() {
        DEFAULT_ALGS.to_vec()
    } else {
        role.supported_algs.iter().map(String::as_str).collect()
    };
    let verified = go_jose::verify(token, ws.keyset(), &algs);
    let report = go_jose::report(&verified);
    let (decision, claims) = match verified {
        Ok(v) => {
            let mut ctx = registration.clone();
            ctx.claims = v.claims.clone();
            ctx.header = v.header;
            ctx.now = now;
            (doc.evaluate(&ctx), v.claims)
        }
        Err(why) => (
            Decision {
                allowed: false,
                kind: doc.kind(),
                decided_by: "signature".into(),
                reason: format!("the JWT auth method refuses the token before the role: {why}"),
                trace: Vec::new(),
            },
            unverified_claims,
        ),
    };
    Ok(Evaluation {
        decision,
        workspace: ws.workspace.slug.clone(),
        verification: report,
        claims,
    })
}

/// What `policy check` knows beyond the policy.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The issuer URL of the steps' tokens [default: the policy's].
    pub issuer: Option<String>,
    /// The workspace UUID [default: the policy's `aud`].
    pub workspace_uuid: Option<String>,
    /// The repository UUID [default: the one leading the policy's `sub`].
    pub repository_uuid: Option<String>,
    /// Deployment environment UUIDs by name (`deployment:` in the pipelines file).
    pub environments: BTreeMap<String, String>,
    /// The relying party's registration (account, client IDs) and clock (`now`).
    pub registration: Context,
}

fn uuid_of(field: &str, text: &str) -> Result<uuid::Uuid> {
    crate::workspace::parse_uuid(field, text)
}

/// Runs the check of `doc` against the steps of `pipelines` (none: boundary and findings only).
pub fn check(
    doc: &Document,
    pipelines_file: Option<&Path>,
    opts: &CheckOptions,
) -> Result<CheckReport> {
    let parsed = pipelines_file
        .map(pipelines::parse_file_checked)
        .transpose()?;
    let (steps, warnings) = parsed.unzip();
    let mut report = check_steps(doc, steps.as_deref(), opts)?;
    report.notes.extend(pipeline_notes(warnings));
    Ok(report)
}

/// The pipelines file's warnings as report notes (an `import`ed pipeline's steps are not in
/// the table, a key Bitbucket ignores, ...).
fn pipeline_notes(warnings: Option<Vec<pipelines::Warning>>) -> impl Iterator<Item = String> {
    warnings
        .into_iter()
        .flatten()
        .map(|w| format!("pipelines: {w}"))
}

/// The pseudo path a pipelines text is parsed under, for its messages.
pub const PIPELINES_TEXT_PATH: &str = "bitbucket-pipelines.yml";

/// What the Policies screens send: the policy's text, and optionally its kind, a pipelines
/// file's text and the served workspace whose identity the steps use where the policy pins none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(rename = "PolicyCheckRequest")]
pub struct CheckText {
    /// The policy document's text (JSON).
    pub policy: String,
    /// `aws`, `vault`, `gcp` or `azure` [default: from the document's members].
    #[serde(default)]
    #[ts(optional = nullable)]
    pub kind: Option<String>,
    /// A `bitbucket-pipelines.yml` text whose steps fill the access table.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub pipelines: Option<String>,
    /// The served workspace whose issuer and UUID the steps use where the policy pins none.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub workspace: Option<String>,
}

/// `policy check` on texts, as the console and the app run it: parses the policy (of `kind`,
/// or detected) and the pipelines text (named [`PIPELINES_TEXT_PATH`] in messages), takes the
/// issuer and workspace UUID of `req.workspace` from `issuer` where the policy pins none, and
/// judges at the issuer's clock. Every input problem is an `InvalidInput` naming the field.
pub fn check_text(issuer: &Issuer, req: &CheckText) -> Result<CheckReport> {
    let kind = req
        .kind
        .as_deref()
        .map(str::parse::<policy::Kind>)
        .transpose()?;
    let doc = Document::parse(&req.policy, kind).map_err(|e| match e.into_kind() {
        // The parsers name the document `policy` already; anything else is a part of it.
        ErrorKind::InvalidInput { field, message } if field == "policy" => {
            Error::invalid(field, message)
        }
        ErrorKind::InvalidInput { field, message } => {
            Error::invalid(format!("policy: {field}"), message)
        }
        other => Error::invalid("policy", Error::from(other).to_string()),
    })?;
    let parsed = match req.pipelines.as_deref().filter(|t| !t.trim().is_empty()) {
        None => None,
        Some(text) => {
            if text.len() as u64 > pipelines::MAX_FILE_LEN {
                return Err(Error::invalid(
                    "pipelines",
                    format!(
                        "{} bytes; pipelines files larger than {} bytes are refused",
                        text.len(),
                        pipelines::MAX_FILE_LEN
                    ),
                ));
            }
            Some(
                pipelines::parse_checked(text, Path::new(PIPELINES_TEXT_PATH))
                    .map_err(|e| Error::invalid("pipelines", e.to_string()))?,
            )
        }
    };
    let mut opts = CheckOptions {
        registration: Context {
            now: issuer.clock().now(),
            ..Context::default()
        },
        ..CheckOptions::default()
    };
    if let Some(slug) = req.workspace.as_deref() {
        let ws = issuer.workspace(slug)?;
        let scope = Scope::of(&doc);
        if scope.issuer.is_none() {
            opts.issuer = Some(ws.issuer.clone());
        }
        if scope.workspace_uuid.is_none() {
            opts.workspace_uuid = Some(crate::workspace::braced(&ws.workspace.uuid));
        }
        if scope.repository_uuid.is_none() {
            opts.repository_uuid = Some(crate::workspace::braced(
                &ws.workspace.default_repository_uuid,
            ));
        }
    }
    let (steps, warnings) = parsed.unzip();
    let mut report = check_steps(&doc, steps.as_deref(), &opts)?;
    report.notes.extend(pipeline_notes(warnings));
    Ok(report)
}

fn check_steps(
    doc: &Document,
    parsed: Option<&[PipelineStep]>,
    opts: &CheckOptions,
) -> Result<CheckReport> {
    let scope = Scope::of(doc);
    let mut notes = Vec::new();
    let now = opts.registration.now;
    let issuer = match (&opts.issuer, &scope.issuer) {
        (Some(i), _) | (None, Some(i)) => i.clone(),
        (None, None) => {
            notes.push(format!(
                "the policy names no issuer: the steps' tokens use {STAND_IN_ISSUER}"
            ));
            STAND_IN_ISSUER.to_string()
        }
    };
    let ws = match (&opts.workspace_uuid, &scope.workspace_uuid) {
        (Some(u), _) | (None, Some(u)) => uuid_of("workspace uuid", u)?,
        (None, None) => {
            notes.push(
                "the policy pins no workspace UUID (aud): the steps use a stand-in workspace"
                    .into(),
            );
            uuid::Uuid::from_u128(0x0000_b0de_0000_4000_8000_0000_0000_00a0)
        }
    };
    let repo = match (&opts.repository_uuid, &scope.repository_uuid) {
        (Some(u), _) | (None, Some(u)) => uuid_of("repository uuid", u)?,
        (None, None) => {
            notes.push(
                "the policy pins no repository (sub): the steps use a stand-in repository UUID"
                    .into(),
            );
            uuid::Uuid::from_u128(0x0000_b0de_0000_4000_8000_0000_0000_00a1)
        }
    };
    let identity = StepIdentity {
        issuer,
        workspace_uuid: ws,
        default_repository_uuid: repo,
    };
    let ids = IdSource::seeded(20);
    let mut envs: BTreeMap<String, String> = opts.environments.clone();
    for (name, uuid) in &envs {
        uuid_of(&format!("--env {name}"), uuid)?;
    }
    let mint =
        |env: Option<String>, branch: &str, audiences: Vec<String>| -> Result<Map<String, Value>> {
            let req = StepRequest {
                deployment_environment_uuid: env,
                branch: Some(branch.to_string()),
                audiences,
                ..StepRequest::default()
            };
            step_claims(&req, &identity, now, 3600, &ids)
        };
    let mut steps = Vec::new();
    if let Some(parsed) = parsed {
        for (n, s) in parsed.iter().enumerate() {
            steps.push(step_token(s, n, &mut envs, &mut notes, &scope, &mint)?);
        }
    }
    let base = mint(
        scope.environment_uuids.first().cloned(),
        scope.branches.first().map_or("main", String::as_str),
        scope.custom_audiences.clone(),
    )?;
    Ok(policy::check(
        doc,
        &scope,
        &steps,
        &base,
        &opts.registration,
        notes,
    ))
}
