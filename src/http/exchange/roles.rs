//! The roles the emulated exchanges answer for and the sessions they issued: one [`Exchanges`]
//! per server, bounded; and [`judge`], the token check every exchange shares (verify with the
//! served workspace's keys, then let the role's document decide).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, RwLock};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::issuer::Issuer;
use crate::policy::{Context, Decision, Document, Kind};
use crate::validate::{self, Policy};

/// Most roles a server holds (each is a parsed policy of at most 1 MiB... bounded anyway).
pub const MAX_ROLES: usize = 256;
/// Most live sessions remembered; the oldest are forgotten first.
pub const MAX_SESSIONS: usize = 10_000;

/// One emulated AWS role: its ARN and its trust policy.
#[derive(Debug, Clone)]
pub struct AwsRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME` (paths allowed).
    pub arn: String,
    /// The account, from the ARN.
    pub account: String,
    /// The role's name (the ARN's last segment).
    pub name: String,
    /// The trust policy as given.
    pub policy: Value,
    /// The parsed trust policy.
    pub doc: Document,
}

/// One emulated GCP workload identity provider: its resource name and its document.
#[derive(Debug, Clone)]
pub struct GcpProvider {
    /// `projects/N/locations/global/workloadIdentityPools/P/providers/X`.
    pub name: String,
    /// The provider as given (as `gcloud ... providers describe --format=json` prints it).
    pub provider: Value,
    /// The parsed provider.
    pub doc: Document,
}

/// Credentials the STS emulation issued.
#[derive(Debug, Clone)]
pub struct Session {
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    pub arn: String,
    /// `AROA...:SESSION`.
    pub user_id: String,
    /// The account.
    pub account: String,
    /// Unix seconds.
    pub expires: i64,
}

/// The roles and sessions of one server.
#[derive(Debug, Default)]
pub struct Exchanges {
    roles: RwLock<BTreeMap<String, AwsRole>>,
    gcp: RwLock<BTreeMap<String, GcpProvider>>,
    sessions: Mutex<Sessions>,
}

/// Live sessions by access key ID, and the IDs oldest first: forgetting the oldest is O(1),
/// not a scan of [`MAX_SESSIONS`] entries on every issue once full (scripts/bench's STS figure).
#[derive(Debug, Default)]
struct Sessions {
    by_key: HashMap<String, Session>,
    order: VecDeque<String>,
}

impl Exchanges {
    /// Adds or replaces the role `arn` with trust policy `policy`.
    pub fn put_role(&self, arn: &str, policy: &Value) -> Result<AwsRole> {
        let (account, name) = parse_role_arn(arn)?;
        let doc = Document::from_value(policy, Some(Kind::Aws))
            .map_err(|e| Error::invalid("policy", format!("role {arn}: {e}")))?;
        let role = AwsRole {
            arn: arn.to_string(),
            account,
            name,
            policy: policy.clone(),
            doc,
        };
        let mut roles = self
            .roles
            .write()
            .map_err(|_| Error::invalid("roles", "the role table is poisoned"))?;
        if roles.len() >= MAX_ROLES && !roles.contains_key(arn) {
            return Err(Error::invalid(
                "roles",
                format!("at most {MAX_ROLES} roles"),
            ));
        }
        roles.insert(arn.to_string(), role.clone());
        Ok(role)
    }

    /// Parses `text` (a trust policy file) with line numbers in its errors, then adds it.
    pub fn put_role_text(&self, arn: &str, text: &str) -> Result<AwsRole> {
        Document::parse(text, Some(Kind::Aws))
            .map_err(|e| Error::invalid("policy", format!("role {arn}: {e}")))?;
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid("policy", format!("role {arn}: {e}")))?;
        self.put_role(arn, &value)
    }

    /// Removes the role; whether it was there.
    pub fn delete_role(&self, arn: &str) -> bool {
        self.roles
            .write()
            .map(|mut r| r.remove(arn).is_some())
            .unwrap_or(false)
    }

    /// The role named `arn`.
    pub fn role(&self, arn: &str) -> Option<AwsRole> {
        self.roles.read().ok()?.get(arn).cloned()
    }

    /// Every role, by ARN.
    pub fn roles(&self) -> Vec<AwsRole> {
        self.roles
            .read()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Adds or replaces the GCP workload identity provider `name` (its full resource name,
    /// `projects/N/locations/global/workloadIdentityPools/P/providers/X`) from its JSON `text`,
    /// with line numbers in its errors.
    pub fn put_gcp_provider_text(&self, name: &str, text: &str) -> Result<GcpProvider> {
        valid_provider_name(name)?;
        Document::parse(text, Some(Kind::Gcp))
            .map_err(|e| Error::invalid("policy", format!("provider {name}: {e}")))?;
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid("policy", format!("provider {name}: {e}")))?;
        self.put_gcp_provider(name, &value)
    }

    /// Adds or replaces the GCP workload identity provider `name` with document `provider`.
    pub fn put_gcp_provider(&self, name: &str, provider: &Value) -> Result<GcpProvider> {
        valid_provider_name(name)?;
        let doc = Document::from_value(provider, Some(Kind::Gcp))
            .map_err(|e| Error::invalid("provider", format!("provider {name}: {e}")))?;
        let entry = GcpProvider {
            name: name.to_string(),
            provider: provider.clone(),
            doc,
        };
        let mut all = self
            .gcp
            .write()
            .map_err(|_| Error::invalid("providers", "the provider table is poisoned"))?;
        if all.len() >= MAX_ROLES && !all.contains_key(name) {
            return Err(Error::invalid(
                "providers",
                format!("at most {MAX_ROLES} providers"),
            ));
        }
        all.insert(name.to_string(), entry.clone());
        Ok(entry)
    }

    /// Removes the GCP provider `name`; whether it was there.
    pub fn delete_gcp_provider(&self, name: &str) -> bool {
        self.gcp
            .write()
            .map(|mut r| r.remove(name).is_some())
            .unwrap_or(false)
    }

    /// The GCP provider named `name`.
    pub fn gcp_provider(&self, name: &str) -> Option<GcpProvider> {
        self.gcp.read().ok()?.get(name).cloned()
    }

    /// Every GCP provider's name.
    pub fn gcp_providers(&self) -> Vec<String> {
        self.gcp
            .read()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every GCP provider, by name.
    pub fn gcp_provider_list(&self) -> Vec<GcpProvider> {
        self.gcp
            .read()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Remembers credentials `access_key_id`, forgetting the oldest past [`MAX_SESSIONS`].
    pub fn remember(&self, access_key_id: String, session: Session) {
        let Ok(mut guard) = self.sessions.lock() else {
            return;
        };
        let s = &mut *guard;
        while s.by_key.len() >= MAX_SESSIONS {
            match s.order.pop_front() {
                Some(oldest) => {
                    s.by_key.remove(&oldest);
                }
                None => break,
            }
        }
        // Access key IDs are random; one seen again replaces its session and keeps one place.
        if s.by_key.insert(access_key_id.clone(), session).is_none() {
            s.order.push_back(access_key_id);
        }
    }

    /// The session of `access_key_id`, when this server issued it.
    pub fn session(&self, access_key_id: &str) -> Option<Session> {
        self.sessions
            .lock()
            .ok()?
            .by_key
            .get(access_key_id)
            .cloned()
    }
}

impl Session {
    /// A session for `role` named `name`, expiring at `expires`.
    pub fn new(role: &AwsRole, role_id: &str, name: &str, expires: i64) -> Session {
        Session {
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/{name}",
                role.account, role.name
            ),
            user_id: format!("{role_id}:{name}"),
            account: role.account.clone(),
            expires,
        }
    }
}

/// `arn:aws:iam::ACCOUNT:role/[PATH/]NAME` into its account and name.
pub fn parse_role_arn(arn: &str) -> Result<(String, String)> {
    let bad = || {
        Error::invalid(
            "role",
            format!("{arn:?} is not a role ARN (arn:aws:iam::123456789012:role/NAME)"),
        )
    };
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(bad)?;
    let (account, resource) = rest.split_once(':').ok_or_else(bad)?;
    let path = resource.strip_prefix("role/").ok_or_else(bad)?;
    let name = path.rsplit('/').next().unwrap_or_default();
    if account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || name.is_empty()
        || arn.len() > 2048
    {
        return Err(bad());
    }
    Ok((account.to_string(), name.to_string()))
}

/// `projects/N/locations/global/workloadIdentityPools/P/providers/X`, as Google names one.
pub fn valid_provider_name(name: &str) -> Result<()> {
    let parts: Vec<&str> = name.split('/').collect();
    let ok = parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "workloadIdentityPools"
        && parts[6] == "providers"
        && [1, 3, 5, 7].iter().all(|&i| {
            !parts[i].is_empty()
                && parts[i].len() <= 64
                && parts[i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "provider",
            format!(
                "{name:?} is not a provider's resource name (projects/123456789/locations/global/workloadIdentityPools/POOL/providers/PROVIDER)"
            ),
        ))
    }
}

/// A token verified and judged: the decision, and the claims when the signature held.
pub struct Judged {
    /// What the relying party decided.
    pub decision: Decision,
    /// The verified claims (empty when the signature failed).
    pub claims: Map<String, Value>,
}

/// Verifies `token` with the keys of the workspace its `iss` names (else the first), as
/// `policy eval` does, then judges it by `doc` with `registration` at `now`.
pub fn judge(
    issuer: &Issuer,
    doc: &Document,
    token: &str,
    registration: &Context,
    now: i64,
) -> Result<Judged> {
    let token = token.trim();
    let decoded = crate::inspect::decode_unverified(token)?;
    let Value::Object(claims) = decoded.claims else {
        return Err(Error::malformed("the payload is not a JSON object"));
    };
    let header = match decoded.header {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let iss = claims.get("iss").and_then(Value::as_str);
    let ws = match issuer
        .workspaces()
        .into_iter()
        .find(|w| Some(w.issuer.as_str()) == iss)
    {
        Some(w) => w,
        None => issuer.workspace_or_first(None)?,
    };
    let mut check = Policy::signature_only(&[
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ]);
    check.require_kid = true;
    let report = validate::verify(token, ws.keyset(), &check, now);
    if !report.accepted {
        let why = report
            .reason
            .clone()
            .unwrap_or_else(|| report.verdict.clone());
        let decision = Decision {
            allowed: false,
            kind: doc.kind(),
            decided_by: "signature".into(),
            reason: why,
            trace: Vec::new(),
        };
        return Ok(Judged {
            decision,
            claims: Map::new(),
        });
    }
    let mut ctx = registration.clone();
    ctx.claims = claims.clone();
    ctx.header = header;
    ctx.now = now;
    Ok(Judged {
        decision: doc.evaluate(&ctx),
        claims,
    })
}

/// `n` random bytes from the system's generator.
pub fn random(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    // The system generator failing leaves zeros; these are emulated credentials for tests.
    let _ = aws_lc_rs::rand::fill(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_sessions_are_forgotten_first() {
        let role = AwsRole {
            arn: "arn:aws:iam::123456789012:role/r".into(),
            account: "123456789012".into(),
            name: "r".into(),
            policy: Value::Null,
            doc: Document::parse(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]}"#,
                Some(Kind::Aws),
            )
            .unwrap(),
        };
        let ex = Exchanges::default();
        for i in 0..MAX_SESSIONS + 2 {
            ex.remember(format!("K{i}"), Session::new(&role, "AROA", "s", 0));
        }
        assert!(ex.session("K0").is_none() && ex.session("K1").is_none());
        assert!(ex.session("K2").is_some());
        assert!(ex.session(&format!("K{}", MAX_SESSIONS + 1)).is_some());
        // Issuing a key again keeps the count bounded and evicts no one.
        ex.remember("K2".into(), Session::new(&role, "AROA", "t", 0));
        assert_eq!(ex.session("K2").map(|s| s.user_id), Some("AROA:t".into()));
        assert!(ex.session("K3").is_some());
        let s = ex.sessions.lock().unwrap();
        assert_eq!(
            (s.by_key.len(), s.order.len()),
            (MAX_SESSIONS, MAX_SESSIONS)
        );
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/deploy").unwrap(),
            ("123456789012".into(), "deploy".into())
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/ci/deploy")
                .unwrap()
                .1,
            "deploy"
        );
        for bad in [
            "deploy",
            "arn:aws:iam::12:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(parse_role_arn(bad).is_err(), "{bad}");
        }
    }
}
