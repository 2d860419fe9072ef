//! The baseline's step: what the declared policy pins (audiences, a branch, the repository and
//! environment a `sub` pattern names, custom claims) taken into the step the probe mints for,
//! so the genuine token satisfies the declared policy.

use serde_json::Value;

use crate::token::StepRequest;
use crate::validate::{Policy, Test};

/// Sets the step values the policy pins and the request leaves open, so the baseline satisfies
/// the declared policy.
pub(super) fn pin_step(step: &mut StepRequest, policy: &Policy, default_audience: &str) {
    for aud in &policy.audiences {
        if aud != default_audience && !step.audiences.contains(aud) {
            step.audiences.push(aud.clone());
        }
    }
    for cond in &policy.conditions {
        let value = match &cond.test {
            Test::Equals(v) => v.clone(),
            Test::OneOf(vs) => match vs.first() {
                Some(v) => v.clone(),
                None => continue,
            },
            // A pattern: the shortest plain value it takes (`release/*` gives `release/1`).
            Test::Like(p) => Value::from(p.replace(['*', '?'], "1")),
        };
        let text = value.as_str().map(str::to_string);
        match (cond.claim.as_str(), text) {
            ("branchName", Some(t)) if step.branch.is_none() => step.branch = Some(t),
            ("repositoryUuid", Some(t)) if step.repository_uuid.is_none() => {
                step.repository_uuid = Some(t)
            }
            ("deploymentEnvironmentUuid", Some(t))
                if step.deployment_environment_uuid.is_none() =>
            {
                step.deployment_environment_uuid = Some(t)
            }
            ("branchName" | "repositoryUuid" | "deploymentEnvironmentUuid", _) => {}
            (name, _) if !step.claims.contains_key(name) && !is_registered(name) => {
                step.claims.insert(name.to_string(), value);
            }
            _ => {}
        }
    }
    // A `sub` pattern naming the repository (and environment) in braces: `{REPO}:{ENV}:*`.
    if let Some(p) = policy.sub_like.first() {
        let segs: Vec<&str> = p.split(':').collect();
        let uuid = |s: &str| {
            (s.starts_with('{') && s.ends_with('}') && !s.contains(['*', '?']))
                .then(|| s.to_string())
        };
        if step.repository_uuid.is_none()
            && let Some(r) = segs.first().and_then(|s| uuid(s))
        {
            step.repository_uuid = Some(r);
        }
        if segs.len() == 3
            && step.deployment_environment_uuid.is_none()
            && let Some(e) = uuid(segs[1])
        {
            step.deployment_environment_uuid = Some(e);
        }
    }
}

fn is_registered(name: &str) -> bool {
    matches!(
        name,
        "iss"
            | "aud"
            | "sub"
            | "exp"
            | "iat"
            | "nbf"
            | "workspaceUuid"
            | "pipelineUuid"
            | "stepUuid"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Policy;

    #[test]
    fn the_step_takes_what_the_policy_pins() {
        let repo = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
        let env = "{11111111-2f3a-4d4b-9a55-1b2c3d4e5f60}";
        let policy = Policy {
            audiences: vec!["ari".into(), "api://x".into()],
            sub_like: vec![format!("{repo}:{env}:*")],
            conditions: vec![
                crate::validate::Condition {
                    claim: "branchName".into(),
                    test: Test::Equals("release".into()),
                },
                crate::validate::Condition {
                    claim: "team".into(),
                    test: Test::Equals("blue".into()),
                },
            ],
            ..Policy::default()
        };
        let mut step = StepRequest::default();
        pin_step(&mut step, &policy, "ari");
        assert_eq!(step.audiences, ["api://x"]);
        let mut wild = StepRequest::default();
        let like = Policy {
            conditions: vec![crate::validate::Condition {
                claim: "branchName".into(),
                test: Test::Like("release/*".into()),
            }],
            ..Policy::default()
        };
        pin_step(&mut wild, &like, "ari");
        assert_eq!(wild.branch.as_deref(), Some("release/1"));
        assert!(like.conditions[0].holds(Some(&Value::from("release/1"))));
        assert_eq!(step.branch.as_deref(), Some("release"));
        assert_eq!(step.repository_uuid.as_deref(), Some(repo));
        assert_eq!(step.deployment_environment_uuid.as_deref(), Some(env));
        assert_eq!(step.claims["team"], "blue");
        // What the caller set wins.
        let mut step = StepRequest {
            branch: Some("main".into()),
            ..StepRequest::default()
        };
        pin_step(&mut step, &policy, "ari");
        assert_eq!(step.branch.as_deref(), Some("main"));
    }
}
