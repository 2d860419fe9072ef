//! Who could be issued a claim set: the claims read as Bitbucket assigns them (workspace,
//! repository, branch, step, times), each difference needing someone, and any claim that
//! disagrees with the others or that Bitbucket never writes so making the token nobody's.

use serde_json::{Map, Value};

use crate::hostile::kinds::ExploitableBy;
use crate::paths::issuer_path;
use crate::refname::branch_problem;
use crate::token::{MAX_AUDIENCE_LEN, MAX_AUDIENCES};
use crate::workspace::validate_slug;

/// Who could exploit a token, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// Who.
    pub by: ExploitableBy,
    /// One line: how such a token is obtained, or why nobody can obtain one.
    pub how: String,
    /// For a branch pusher: the branch they would push (none for a tag, which has no branch).
    pub branch: Option<String>,
}

impl Reach {
    pub(super) fn new(by: ExploitableBy, how: impl Into<String>) -> Reach {
        Reach {
            by,
            how: how.into(),
            branch: None,
        }
    }
}

/// The claims a Bitbucket step token carries.
const BITBUCKET_CLAIMS: [&str; 11] = [
    "iss",
    "aud",
    "sub",
    "iat",
    "exp",
    "workspaceUuid",
    "repositoryUuid",
    "pipelineUuid",
    "stepUuid",
    "branchName",
    "deploymentEnvironmentUuid",
];

/// The prefix of the workspace ARI Bitbucket puts first in `aud`.
pub const ARI_PREFIX: &str = "ari:cloud:bitbucket::workspace/";

/// What one difference needs: who, and why.
struct Need {
    by: ExploitableBy,
    why: String,
    branch: Option<String>,
}

fn need(by: ExploitableBy, why: impl Into<String>) -> Need {
    Need {
        by,
        why: why.into(),
        branch: None,
    }
}

/// Who could be issued `claims`, where the trusted step is issued `genuine` at `now`.
pub fn claims_reach(genuine: &Map<String, Value>, claims: &Map<String, Value>, now: i64) -> Reach {
    let mut needs = Vec::new();
    let verdict = (|| -> std::result::Result<(), String> {
        custom_claims(genuine, claims)?;
        times(genuine, claims, now, &mut needs)?;
        let other_ws = workspace(genuine, claims, &mut needs)?;
        repository(genuine, claims, other_ws, &mut needs)?;
        branch(genuine, claims, &mut needs)?;
        Ok(())
    })();
    if let Err(why) = verdict {
        return Reach::new(ExploitableBy::Nobody, why);
    }
    match needs.into_iter().min_by_key(|n| n.by) {
        Some(n) => Reach {
            branch: n.branch.filter(|_| n.by == ExploitableBy::BranchPusher),
            by: n.by,
            how: n.why,
        },
        None => Reach::new(ExploitableBy::TokenHolder, "the trusted step's own token"),
    }
}

fn custom_claims(genuine: &Map<String, Value>, claims: &Map<String, Value>) -> Result<(), String> {
    for name in claims.keys().chain(genuine.keys()) {
        // `nbf` is no Bitbucket claim either, but a time: `times` says why.
        if BITBUCKET_CLAIMS.contains(&name.as_str())
            || name == "nbf"
            || claims.get(name) == genuine.get(name)
        {
            continue;
        }
        return Err(format!(
            "`{name}` is no claim Bitbucket issues, so no one chooses its value"
        ));
    }
    Ok(())
}

fn int(claims: &Map<String, Value>, name: &str) -> Result<i64, String> {
    match claims.get(name) {
        None => Err(format!("Bitbucket always sends `{name}`")),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| format!("Bitbucket sends `{name}` as a whole number, never {v}")),
    }
}

fn times(
    genuine: &Map<String, Value>,
    claims: &Map<String, Value>,
    now: i64,
    needs: &mut Vec<Need>,
) -> Result<(), String> {
    if claims.contains_key("nbf") && claims.get("nbf") != genuine.get("nbf") {
        return Err("Bitbucket sends no `nbf`".into());
    }
    let (iat, exp) = (int(claims, "iat")?, int(claims, "exp")?);
    let lifetime = int(genuine, "exp")?.saturating_sub(int(genuine, "iat")?);
    if iat > now {
        return Err(format!(
            "`iat` {} s in the future: Bitbucket dates a token when it signs it",
            iat - now
        ));
    }
    if exp <= iat || exp - iat > lifetime {
        return Err(format!(
            "a lifetime of {} s: Bitbucket's tokens live {lifetime} s",
            exp - iat
        ));
    }
    if exp < now {
        needs.push(need(
            ExploitableBy::TokenHolder,
            format!(
                "a token of the trusted step kept {} s past its expiry (a leaked log, a cache)",
                now - exp
            ),
        ));
    } else if iat != int(genuine, "iat")? {
        needs.push(need(
            ExploitableBy::TokenHolder,
            format!(
                "a token of the trusted step issued {} s ago, still unexpired",
                now - iat
            ),
        ));
    }
    Ok(())
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match claims.get(name) {
        None => Err(format!("Bitbucket always sends `{name}`")),
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(format!("Bitbucket sends `{name}` as a string, never {v}")),
    }
}

/// Whether `s` is a UUID as Bitbucket writes it: lower-case, hyphenated, in braces.
pub fn canonical_uuid(s: &str) -> bool {
    s.strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .and_then(|t| uuid::Uuid::try_parse(t).ok().map(|u| (t, u)))
        .is_some_and(|(t, u)| u.hyphenated().to_string() == t)
}

fn uuid_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    let v = text(claims, name)?;
    if canonical_uuid(v) {
        Ok(v)
    } else {
        Err(format!(
            "Bitbucket writes `{name}` as a lower-case UUID in braces, never {v:?}"
        ))
    }
}

/// The workspace slug of a Bitbucket issuer URL on the same host as `own`, if `iss` is one.
pub fn issuer_slug<'a>(own: &str, iss: &'a str) -> Option<&'a str> {
    // The issuer path with an empty slug splits into what comes before and after the slug.
    let empty = issuer_path("");
    let (head, tail) = empty.split_once("//")?;
    let base = &own[..own.find(head)?];
    let slug = iss
        .strip_prefix(base)?
        .strip_prefix(head)?
        .strip_prefix('/')?
        .strip_suffix(tail)?
        .strip_suffix('/')?;
    validate_slug(slug).is_ok().then_some(slug)
}

/// The workspace ARI for a braced workspace UUID.
pub fn ari(workspace_uuid: &str) -> String {
    format!(
        "{ARI_PREFIX}{}",
        workspace_uuid.trim_start_matches('{').trim_end_matches('}')
    )
}

/// The audiences: the ARI Bitbucket puts first, and the custom ones after it.
fn audiences(claims: &Map<String, Value>) -> Result<(String, Vec<String>), String> {
    let bad = |v: &Value| format!("Bitbucket never sends `aud` = {v}");
    match claims.get("aud") {
        None => Err("Bitbucket always sends `aud`".into()),
        Some(Value::String(s)) => Ok((s.clone(), Vec::new())),
        Some(v @ Value::Array(items)) => {
            let texts: Option<Vec<String>> = items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect();
            let texts = texts.ok_or_else(|| bad(v))?;
            let customs = texts.get(1..).unwrap_or_default().to_vec();
            let ok = !customs.is_empty()
                && customs.len() <= MAX_AUDIENCES
                && customs.iter().all(|c| {
                    // Taken as unissuable: a pipeline file's audience with a control character.
                    (1..=MAX_AUDIENCE_LEN).contains(&c.chars().count())
                        && !c.chars().any(char::is_control)
                });
            if !ok {
                return Err(bad(v));
            }
            Ok((texts[0].clone(), customs))
        }
        Some(v) => Err(bad(v)),
    }
}

/// The workspace claims; true when they are consistently another workspace's.
fn workspace(
    genuine: &Map<String, Value>,
    claims: &Map<String, Value>,
    needs: &mut Vec<Need>,
) -> Result<bool, String> {
    let (own_iss, own_ws) = (text(genuine, "iss")?, text(genuine, "workspaceUuid")?);
    let (iss, ws) = (text(claims, "iss")?, uuid_claim(claims, "workspaceUuid")?);
    let (first, customs) = audiences(claims)?;
    let (_, own_customs) = audiences(genuine).unwrap_or_default();
    if iss == own_iss && ws == own_ws && first == ari(own_ws) {
        if customs != own_customs {
            needs.push(need(
                ExploitableBy::TokenHolder,
                "a token of the trusted pipeline for other audiences (another step's `oidc: audiences`)",
            ));
        }
        return Ok(false);
    }
    let own_slug = issuer_slug(own_iss, own_iss);
    let Some(slug) = issuer_slug(own_iss, iss).filter(|s| Some(*s) != own_slug) else {
        return Err(if iss == own_iss {
            format!(
                "the workspace claims disagree: this workspace's `iss` with `workspaceUuid` {ws} and `aud` {first:?}"
            )
        } else {
            format!("`iss` {iss:?} is no Bitbucket workspace issuer on this host")
        });
    };
    if ws == own_ws || first != ari(ws) {
        return Err(format!(
            "the workspace claims disagree: `iss` names workspace `{slug}` but `workspaceUuid` is {ws} and the first audience {first:?}"
        ));
    }
    if text(claims, "repositoryUuid")? == text(genuine, "repositoryUuid")? {
        return Err(format!(
            "workspace `{slug}` with this repository: a repository belongs to one workspace"
        ));
    }
    needs.push(need(
        ExploitableBy::AnyWorkspace,
        format!(
            "a step in workspace `{slug}`{}: any Bitbucket user can create a workspace",
            if customs.is_empty() {
                String::new()
            } else {
                format!(" asking for audiences {customs:?}")
            }
        ),
    ));
    Ok(true)
}

fn repository(
    genuine: &Map<String, Value>,
    claims: &Map<String, Value>,
    other_ws: bool,
    needs: &mut Vec<Need>,
) -> Result<(), String> {
    let repo = uuid_claim(claims, "repositoryUuid")?;
    let step = uuid_claim(claims, "stepUuid")?;
    uuid_claim(claims, "pipelineUuid")?;
    let env = match claims.get("deploymentEnvironmentUuid") {
        None => None,
        Some(_) => Some(uuid_claim(claims, "deploymentEnvironmentUuid")?),
    };
    let sub = text(claims, "sub")?;
    let want = match env {
        Some(env) => format!("{repo}:{env}:{step}"),
        None => format!("{repo}:{step}"),
    };
    if sub != want {
        return Err(format!(
            "`sub` {sub:?} disagrees with the repository, environment and step claims (Bitbucket writes {want:?})"
        ));
    }
    if repo != text(genuine, "repositoryUuid")? {
        if !other_ws {
            needs.push(need(
                ExploitableBy::SameWorkspaceRepo,
                format!("a step in repository {repo} of the same workspace"),
            ));
        }
    } else if claims.get("deploymentEnvironmentUuid") != genuine.get("deploymentEnvironmentUuid") {
        needs.push(need(
            ExploitableBy::TokenHolder,
            match env {
                Some(env) => format!("a step of the trusted branch deploying to environment {env}"),
                None => "a step of the trusted branch that is no deployment".into(),
            },
        ));
    }
    Ok(())
}

fn branch(
    genuine: &Map<String, Value>,
    claims: &Map<String, Value>,
    needs: &mut Vec<Need>,
) -> Result<(), String> {
    let value = claims.get("branchName");
    if value == genuine.get("branchName") {
        return Ok(());
    }
    match value {
        None => needs.push(need(
            ExploitableBy::BranchPusher,
            "push a tag: a tag (or custom) pipeline's token names no branch",
        )),
        Some(Value::String(b)) => match branch_problem(b) {
            None => needs.push(Need {
                by: ExploitableBy::BranchPusher,
                why: format!("push a branch named {b:?} and run a step with `oidc: true`"),
                branch: Some(b.clone()),
            }),
            Some(problem) => {
                return Err(format!(
                    "no branch is named {b:?}: git refuses it ({problem})"
                ));
            }
        },
        Some(v) => {
            return Err(format!(
                "Bitbucket sends `branchName` as a string, never {v}"
            ));
        }
    }
    Ok(())
}
