//! What a policy evidently means, and the tokens just outside it.
//!
//! [`Scope::of`] reads the values a document compares claims to (the repository UUID leading a
//! `sub` pattern, an environment UUID in its middle, the workspace ARI in `aud`, a pinned
//! `branchName`, the trusted issuer) without judging whether the relying party can enforce
//! them. [`variants`] then edits one in-scope token into its neighbours: another repository,
//! another environment, a plain (non-deployment) step, another workspace, another branch,
//! audience variants, the next run, an expired token. Each says whether the author evidently
//! meant to keep it out; one that gets in anyway is what `policy check` fails on.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Document;
use super::azure::parse_expression;

/// The Bitbucket audience prefix; the workspace UUID follows it.
pub const ARI_PREFIX: &str = "ari:cloud:bitbucket::workspace/";

/// What a policy pins (each `None` when it does not).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "PolicyScope")]
pub struct Scope {
    /// The issuer the relying party trusts.
    pub issuer: Option<String>,
    /// The workspace UUID (from an `aud` ARI or `workspaceUuid`), braced.
    pub workspace_uuid: Option<String>,
    /// The repository UUID leading `sub` (or `repositoryUuid`), braced.
    pub repository_uuid: Option<String>,
    /// Deployment environment UUIDs the policy admits, braced.
    pub environment_uuids: Vec<String>,
    /// Branches the policy compares `branchName` to (whether or not the relying party sees it).
    pub branches: Vec<String>,
    /// Audiences other than the workspace ARI the policy requires (a custom audience the
    /// pipeline must ask for).
    pub custom_audiences: Vec<String>,
}

/// A neighbour of the in-scope token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryToken {
    /// What it is (`other repository`, `other branch`, ...).
    pub name: String,
    /// What changed.
    pub change: String,
    /// `Some(false)`: the policy evidently means to keep it out; `Some(true)`: in; `None`: the
    /// policy does not say.
    pub expected: Option<bool>,
    /// Its claims.
    pub claims: Map<String, Value>,
}

/// `{uuid}` when `s` is a braced (or bare) UUID.
fn braced_uuid(s: &str) -> Option<String> {
    let inner = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(s);
    uuid::Uuid::parse_str(inner)
        .ok()
        .filter(|_| inner.len() == 36)
        .map(|u| format!("{{{}}}", u.hyphenated()))
}

impl Scope {
    /// Reads the scope of `doc`.
    pub fn of(doc: &Document) -> Scope {
        let mut scope = Scope {
            issuer: doc.trusted_issuers().into_iter().next(),
            ..Scope::default()
        };
        for (claim, value) in compared(doc) {
            scope.learn(&claim, &value);
        }
        scope.environment_uuids.dedup();
        scope
    }

    fn learn(&mut self, claim: &str, value: &str) {
        match claim {
            "sub" => {
                let parts: Vec<&str> = value.split(':').collect();
                if let Some(repo) = parts.first().and_then(|p| braced_uuid(p)) {
                    self.repository_uuid.get_or_insert(repo);
                }
                if parts.len() >= 3
                    && let Some(env) = braced_uuid(parts[1])
                    && !self.environment_uuids.contains(&env)
                {
                    self.environment_uuids.push(env);
                }
            }
            "aud" => match value.strip_prefix(ARI_PREFIX).and_then(braced_uuid) {
                Some(ws) => {
                    self.workspace_uuid.get_or_insert(ws);
                }
                None if !value.contains('*')
                    && !self.custom_audiences.iter().any(|a| a == value) =>
                {
                    self.custom_audiences.push(value.to_string())
                }
                None => {}
            },
            "workspaceUuid" => {
                if let Some(ws) = braced_uuid(value) {
                    self.workspace_uuid.get_or_insert(ws);
                }
            }
            "repositoryUuid" => {
                if let Some(r) = braced_uuid(value) {
                    self.repository_uuid.get_or_insert(r);
                }
            }
            "deploymentEnvironmentUuid" => {
                if let Some(e) = braced_uuid(value)
                    && !self.environment_uuids.contains(&e)
                {
                    self.environment_uuids.push(e);
                }
            }
            "branchName" if !value.contains('*') && !self.branches.iter().any(|b| b == value) => {
                self.branches.push(value.to_string());
            }
            _ => {}
        }
    }
}

/// The (claim, value) pairs a document compares, claim names as the token spells them.
pub fn compared(doc: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(p) = doc.as_aws() {
        for s in p
            .statements
            .iter()
            .filter(|s| s.effect == super::aws::Effect::Allow)
        {
            for c in &s.clauses {
                if c.op.negated() {
                    continue;
                }
                let claim = c.key.rsplit_once(':').map(|(_, k)| k).unwrap_or(&c.key);
                for v in &c.values {
                    out.push((claim.to_string(), v.clone()));
                }
            }
        }
    }
    if let Some(r) = doc.as_vault() {
        if let Some(s) = &r.bound_subject {
            out.push(("sub".into(), s.clone()));
        }
        for a in &r.bound_audiences {
            out.push(("aud".into(), a.clone()));
        }
        for (k, v) in &r.bound_claims {
            let claim = k.trim_start_matches('/').to_string();
            let vals: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for v in vals.into_iter().filter_map(Value::as_str) {
                out.push((claim.clone(), v.to_string()));
            }
        }
    }
    if let Some(p) = doc.as_gcp() {
        for a in &p.allowed_audiences {
            out.push(("aud".into(), a.clone()));
        }
        if let Some(c) = &p.condition {
            out.extend(cel_comparisons(c));
        }
    }
    if let Some(c) = doc.as_azure() {
        if let Some(s) = &c.subject {
            out.push(("sub".into(), s.clone()));
        }
        for cl in c.expression.iter().flatten() {
            out.push((cl.claim.clone(), cl.value.clone()));
        }
        let _ = parse_expression;
    }
    out
}

/// `assertion.X == 'v'`, `assertion['X'] == 'v'`, `assertion.X.startsWith('v')` in a CEL
/// condition, read as text (only to infer the scope; evaluation is CEL's).
fn cel_comparisons(cond: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = cond;
    while let Some(i) = rest.find("assertion") {
        rest = &rest[i + "assertion".len()..];
        let (name, after) = if let Some(r) = rest.strip_prefix("['") {
            match r.split_once("']") {
                Some((n, a)) => (n, a),
                None => continue,
            }
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            (&r[..end], &r[end..])
        } else {
            continue;
        };
        let after = after.trim_start();
        let quoted = if let Some(r) = after.strip_prefix("==") {
            r.trim_start()
        } else if let Some(r) = after.strip_prefix(".startsWith(") {
            r.trim_start()
        } else {
            continue;
        };
        let q = quoted.chars().next().unwrap_or(' ');
        if (q == '\'' || q == '"')
            && let Some((v, _)) = quoted[1..].split_once(q)
        {
            let v = if after.starts_with(".startsWith") {
                format!("{v}*")
            } else {
                v.to_string()
            };
            out.push((name.to_string(), v));
        }
    }
    out
}

/// A fixed UUID for boundary tokens (reproducible reports), braced.
fn other_uuid(n: u8) -> String {
    format!("{{0000b0de-0000-4000-8000-0000000000{n:02x}}}")
}

fn replace_in_sub(claims: &mut Map<String, Value>, index: usize, new: Option<&str>) {
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return;
    };
    let mut parts: Vec<String> = sub.split(':').map(String::from).collect();
    match new {
        Some(n) if index < parts.len() => parts[index] = n.to_string(),
        None if index < parts.len() && parts.len() == 3 => {
            parts.remove(index);
        }
        _ => {}
    }
    claims.insert("sub".into(), parts.join(":").into());
}

/// The neighbours of `base`, an in-scope token of `scope`, at `now`.
pub fn variants(scope: &Scope, base: &Map<String, Value>, now: i64) -> Vec<BoundaryToken> {
    let mut out = Vec::new();
    let mut push =
        |name: &str, change: String, expected: Option<bool>, claims: Map<String, Value>| {
            out.push(BoundaryToken {
                name: name.into(),
                change,
                expected,
                claims,
            });
        };
    push(
        "in scope",
        "a token the policy is written for".into(),
        Some(true),
        base.clone(),
    );

    let mut c = base.clone();
    let repo = other_uuid(1);
    replace_in_sub(&mut c, 0, Some(&repo));
    c.insert("repositoryUuid".into(), repo.clone().into());
    push(
        "other repository",
        format!("repositoryUuid {repo} (another repository of the same workspace)"),
        scope.repository_uuid.as_ref().map(|_| false),
        c,
    );

    if base.contains_key("deploymentEnvironmentUuid") {
        let mut c = base.clone();
        let env = other_uuid(2);
        replace_in_sub(&mut c, 1, Some(&env));
        c.insert("deploymentEnvironmentUuid".into(), env.clone().into());
        push(
            "other environment",
            format!("deploymentEnvironmentUuid {env} (another deployment environment)"),
            (!scope.environment_uuids.is_empty()).then_some(false),
            c,
        );
        let mut c = base.clone();
        replace_in_sub(&mut c, 1, None);
        c.shift_remove("deploymentEnvironmentUuid");
        push(
            "no environment",
            "a step with no deployment (sub {repository}:{step})".into(),
            (!scope.environment_uuids.is_empty()).then_some(false),
            c,
        );
    } else {
        let mut c = base.clone();
        let env = other_uuid(2);
        if let Some(sub) = c.get("sub").and_then(Value::as_str).map(String::from)
            && let Some((repo, step)) = sub.split_once(':')
        {
            c.insert("sub".into(), format!("{repo}:{env}:{step}").into());
        }
        c.insert("deploymentEnvironmentUuid".into(), env.clone().into());
        push(
            "deployment step",
            format!("the same repository deploying to environment {env}"),
            None,
            c,
        );
    }

    let mut c = base.clone();
    let ws = other_uuid(3);
    let ws_bare = ws.trim_matches(|ch| ch == '{' || ch == '}').to_string();
    if let Some(iss) = c.get("iss").and_then(Value::as_str).map(String::from) {
        let other = match iss.split_once("/workspaces/") {
            Some((head, tail)) => {
                let rest = tail.split_once('/').map(|(_, r)| r).unwrap_or("");
                format!("{head}/workspaces/other-workspace/{rest}")
            }
            None => format!("{iss}-other"),
        };
        c.insert("iss".into(), other.into());
    }
    c.insert("workspaceUuid".into(), ws.clone().into());
    set_ari(&mut c, &format!("{ARI_PREFIX}{ws_bare}"));
    push(
        "other workspace",
        "another workspace's issuer and audience".into(),
        Some(false),
        c,
    );

    let mut c = base.clone();
    set_ari(&mut c, &format!("{ARI_PREFIX}{ws_bare}"));
    push(
        "other workspace audience",
        "the same issuer with another workspace's ARI in aud".into(),
        None,
        c,
    );

    let mut c = base.clone();
    let mut aud: Vec<Value> = match c.get("aud") {
        Some(Value::Array(a)) => a.clone(),
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    };
    aud.push("custom-audience.example".into());
    c.insert("aud".into(), Value::Array(aud));
    push(
        "extra audience",
        "aud as a list with a custom audience added (oidc.audiences in the pipeline)".into(),
        None,
        c,
    );

    let mut c = base.clone();
    c.insert("branchName".into(), "feature/boundary".into());
    push(
        "other branch",
        "branchName feature/boundary".into(),
        (!scope.branches.is_empty()).then_some(false),
        c,
    );

    let mut c = base.clone();
    let step = other_uuid(4);
    let n = c
        .get("sub")
        .and_then(Value::as_str)
        .map_or(0, |s| s.split(':').count());
    replace_in_sub(&mut c, n.saturating_sub(1), Some(&step));
    c.insert("stepUuid".into(), step.into());
    push(
        "next run",
        "the same step in the next pipeline run (a new step UUID)".into(),
        Some(true),
        c,
    );

    let mut c = base.clone();
    c.insert("iat".into(), (now - 7200).into());
    c.insert("exp".into(), (now - 3600).into());
    push("expired", "expired an hour ago".into(), Some(false), c);
    out
}

/// Replaces the workspace ARI in `aud` (string or first element), keeping custom audiences.
fn set_ari(claims: &mut Map<String, Value>, ari: &str) {
    let new = match claims.get("aud") {
        Some(Value::Array(a)) => Value::Array(
            a.iter()
                .map(|v| {
                    if v.as_str().is_some_and(|s| s.starts_with(ARI_PREFIX)) {
                        ari.into()
                    } else {
                        v.clone()
                    }
                })
                .collect(),
        ),
        _ => ari.into(),
    };
    claims.insert("aud".into(), new);
}
