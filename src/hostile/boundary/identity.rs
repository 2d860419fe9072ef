//! Bitbucket's identity structure, for making other identities as Bitbucket would issue them.
//! The issuer is `https://HOST/2.0/workspaces/{slug}/pipelines-config/identity/oidc`, the
//! default audience the workspace ARI `ari:cloud:bitbucket::workspace/{uuid}` (custom audiences
//! after it), `sub` is `{repo}:{step}` or `{repo}:{env}:{step}`, and every UUID is lower-case in
//! braces. From the genuine claims ([`Shape`]) this makes the edits of another workspace's,
//! another repository's or another step's token, each claim consistent with the others, and
//! the look-alikes Bitbucket never writes (upper-case or unbraced UUIDs).

use serde_json::{Map, Value};

use crate::hostile::reach::{ari, canonical_uuid, issuer_slug};
use crate::paths::issuer_path;
use crate::token::Edit;

/// What the genuine token says about where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// `iss`.
    pub iss: String,
    /// The workspace slug read from `iss`.
    pub slug: String,
    /// `workspaceUuid` (braced).
    pub workspace: String,
    /// `repositoryUuid` (braced).
    pub repository: String,
    /// `deploymentEnvironmentUuid`, for a deployment step.
    pub environment: Option<String>,
    /// `stepUuid`.
    pub step: String,
    /// `branchName`.
    pub branch: Option<String>,
    /// The custom audiences after the ARI.
    pub audiences: Vec<String>,
}

impl Shape {
    /// The shape of `claims`, when they are a Bitbucket step token's.
    pub fn of(claims: &Map<String, Value>) -> Option<Shape> {
        let text = |n: &str| claims.get(n).and_then(Value::as_str).map(str::to_string);
        let iss = text("iss")?;
        let workspace = text("workspaceUuid").filter(|u| canonical_uuid(u))?;
        let audiences = match claims.get("aud") {
            Some(Value::Array(a)) => a
                .iter()
                .skip(1)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        Some(Shape {
            slug: issuer_slug(&iss, &iss)?.to_string(),
            repository: text("repositoryUuid").filter(|u| canonical_uuid(u))?,
            environment: text("deploymentEnvironmentUuid"),
            step: text("stepUuid")?,
            branch: text("branchName"),
            workspace,
            audiences,
            iss,
        })
    }

    fn sub(&self, repo: &str, env: Option<&str>) -> String {
        match env {
            Some(env) => format!("{repo}:{env}:{}", self.step),
            None => format!("{repo}:{}", self.step),
        }
    }

    /// The `n`th (from 1) other workspace's slug and issuer, on the same host.
    pub fn other_issuer(&self, n: u8) -> String {
        let mut slug: String = self.slug.chars().take(54).collect();
        slug.push_str("-other");
        if n > 1 {
            slug.push_str(&n.to_string());
        }
        let own = issuer_path(&self.slug);
        let base = self.iss.strip_suffix(&own).unwrap_or(&self.iss);
        format!("{base}{}", issuer_path(&slug))
    }

    /// Another workspace's step token: its issuer, workspace UUID, ARI (and, when `asks` is
    /// given, those custom audiences after it), repository and `sub`.
    pub fn other_workspace(&self, n: u8, asks: &[String]) -> Vec<Edit> {
        let ws = other_uuid(&self.workspace, n);
        let repo = other_uuid(&self.repository, n);
        let aud = if asks.is_empty() {
            Value::from(ari(&ws))
        } else {
            let mut all = vec![Value::from(ari(&ws))];
            all.extend(asks.iter().map(|a| Value::from(a.as_str())));
            Value::Array(all)
        };
        vec![
            set("iss", self.other_issuer(n)),
            set("workspaceUuid", ws),
            set("aud", aud),
            set("repositoryUuid", repo.clone()),
            set("sub", self.sub(&repo, self.environment.as_deref())),
        ]
    }

    /// This workspace's token with another workspace's ARI in place of its own.
    pub fn other_ari(&self, n: u8) -> Edit {
        let other = Value::from(ari(&other_uuid(&self.workspace, n)));
        if self.audiences.is_empty() {
            set("aud", other)
        } else {
            let mut all = vec![other];
            all.extend(self.audiences.iter().map(|a| Value::from(a.as_str())));
            set("aud", Value::Array(all))
        }
    }

    /// This workspace's token asking for `audience` (and no other custom one).
    pub fn other_service(&self, audience: &str) -> Edit {
        set(
            "aud",
            Value::Array(vec![ari(&self.workspace).into(), audience.into()]),
        )
    }

    /// Another repository's step token in this workspace.
    pub fn other_repository(&self, n: u8) -> Vec<Edit> {
        let repo = other_uuid(&self.repository, n);
        vec![
            set("repositoryUuid", repo.clone()),
            set("sub", self.sub(&repo, self.environment.as_deref())),
        ]
    }

    /// A step of this repository deploying to another environment (for a deployment step), or
    /// to one (for a step that is none).
    pub fn other_environment(&self, n: u8) -> Vec<Edit> {
        let env = match &self.environment {
            Some(e) => other_uuid(e, n),
            None => other_uuid(&self.step, n.wrapping_add(7)),
        };
        vec![
            set("deploymentEnvironmentUuid", env.clone()),
            set("sub", self.sub(&self.repository, Some(&env))),
        ]
    }

    /// A step of this repository that is no deployment, when the genuine one is one.
    pub fn non_deployment(&self) -> Option<Vec<Edit>> {
        self.environment.as_ref()?;
        Some(vec![
            Edit::RemoveClaim {
                name: "deploymentEnvironmentUuid".into(),
            },
            set("sub", self.sub(&self.repository, None)),
        ])
    }

    /// A branch anyone who can push could name: the genuine one with `-evil` appended.
    pub fn attacker_branch(&self) -> String {
        format!("{}-evil", self.branch.as_deref().unwrap_or("main"))
    }

    /// The UUID claims among `names`, and `sub`, rewritten by `f` (upper-cased, unbraced).
    pub fn uuids(&self, claims: &Map<String, Value>, f: fn(&str) -> String) -> Vec<Edit> {
        let mut out = Vec::new();
        for name in ["repositoryUuid", "deploymentEnvironmentUuid", "stepUuid"] {
            if let Some(v) = claims.get(name).and_then(Value::as_str) {
                out.push(set(name, f(v)));
            }
        }
        if let Some(sub) = claims.get("sub").and_then(Value::as_str) {
            let segs: Vec<String> = sub.split(':').map(f).collect();
            out.push(set("sub", segs.join(":")));
        }
        out
    }
}

fn set(name: &str, value: impl Into<Value>) -> Edit {
    Edit::SetClaim {
        name: name.into(),
        value: value.into(),
    }
}

/// The `n`th (from 1) other UUID, derived from `uuid` by turning its first hex digit, so the
/// same genuine token gives the same others (findings stay comparable across runs).
pub fn other_uuid(uuid: &str, n: u8) -> String {
    let turn = |c: char| {
        c.to_digit(16)
            .and_then(|d| char::from_digit((d + u32::from(n.max(1))) % 16, 16))
    };
    let (i, r) = uuid
        .char_indices()
        .find_map(|(i, c)| turn(c).map(|r| (i, r)))
        .unwrap_or((0, '0'));
    let at = uuid[i..].chars().next().map_or(0, char::len_utf8);
    format!("{}{r}{}", &uuid[..i], &uuid[i + at..])
}

/// A UUID upper-cased (Bitbucket writes them lower-case).
pub fn upper(u: &str) -> String {
    u.to_uppercase()
}

/// A UUID without its braces (Bitbucket writes them in braces).
pub fn unbraced(u: &str) -> String {
    u.trim_start_matches('{').trim_end_matches('}').to_string()
}
