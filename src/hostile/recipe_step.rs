//! The step a recipe's token describes: the context a probe declared (workspace, repository,
//! environment, branch, audiences, lifetime, pinned claims, a fixed clock). Edits alone are not
//! enough to reproduce a finding: minted for the default audience and no environment, the
//! same edits are refused by the relying party for another reason. So a saved recipe carries
//! this context, and every reproduce line spells it out as `stepmint mint` flags.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::encoding::shell_quote;
use crate::token::{Edit, StepRequest};

/// The step context of a recipe (its `[step]` table). Every field is optional; what is unset
/// takes `stepmint mint`'s default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecipeStep {
    /// Workspace slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Repository UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_uuid: Option<String>,
    /// Deployment environment UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_environment_uuid: Option<String>,
    /// Branch name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Custom audiences appended to the workspace's default one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Token lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<u64>,
    /// Claims the declared policy pinned (custom conditions), merged over the defaults.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
    /// The fixed instant (Unix seconds) the issuer minted at, when its clock was fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<i64>,
}

impl RecipeStep {
    /// The context of `step` (as a probe minted it), with the lifetime the issuer used and its
    /// clock's instant when fixed.
    pub fn of(step: &StepRequest, lifetime: u64, now: Option<i64>) -> RecipeStep {
        RecipeStep {
            workspace: step.workspace.clone(),
            repository_uuid: step.repository_uuid.clone(),
            deployment_environment_uuid: step.deployment_environment_uuid.clone(),
            branch: step.branch.clone(),
            audiences: step.audiences.clone(),
            lifetime: Some(step.lifetime.unwrap_or(lifetime)),
            claims: step.claims.clone(),
            now,
        }
    }

    /// Whether it says nothing (an older recipe, or a hand-written one).
    pub fn is_empty(&self) -> bool {
        *self == RecipeStep::default()
    }

    /// Fills what `req` leaves unset from this context: what a caller gives explicitly wins.
    pub fn fill(&self, req: &mut StepRequest) {
        fn or(slot: &mut Option<String>, v: &Option<String>) {
            if slot.is_none() {
                slot.clone_from(v);
            }
        }
        or(&mut req.workspace, &self.workspace);
        or(&mut req.repository_uuid, &self.repository_uuid);
        or(
            &mut req.deployment_environment_uuid,
            &self.deployment_environment_uuid,
        );
        or(&mut req.branch, &self.branch);
        if req.audiences.is_empty() {
            req.audiences.clone_from(&self.audiences);
        }
        if req.lifetime.is_none() {
            req.lifetime = self.lifetime;
        }
        for (k, v) in &self.claims {
            if !req.claims.contains_key(k) {
                req.claims.insert(k.clone(), v.clone());
            }
        }
    }

    /// The `stepmint mint` flags that set this context, shell-quoted.
    pub fn mint_flags(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut flag = |name: &str, value: &str| {
            out.push(name.to_string());
            out.push(shell_quote(value));
        };
        if let Some(w) = &self.workspace {
            flag("--workspace", w);
        }
        if let Some(r) = &self.repository_uuid {
            flag("--repo-uuid", r);
        }
        if let Some(e) = &self.deployment_environment_uuid {
            flag("--env-uuid", e);
        }
        if let Some(b) = &self.branch {
            flag("--branch", b);
        }
        for a in &self.audiences {
            flag("--audience", a);
        }
        if let Some(l) = self.lifetime {
            flag("--lifetime", &l.to_string());
        }
        for (k, v) in &self.claims {
            flag("--claim", &format!("{k}={v}"));
        }
        if let Some(n) = self.now {
            flag("--now", &n.to_string());
        }
        out
    }

    /// A command that mints the token `edits` make in this context.
    pub fn reproduce(&self, edits: &[Edit]) -> String {
        let json = serde_json::to_string(edits).unwrap_or_default();
        let mut words = vec!["stepmint".to_string(), "mint".to_string()];
        words.extend(self.mint_flags());
        if !edits.is_empty() {
            words.push("--edits".into());
            words.push(shell_quote(&json));
        }
        words.join(" ")
    }

    /// A command that mints catalogue case `case` in this context.
    pub fn reproduce_case(&self, case: &str) -> String {
        let mut words = vec!["stepmint".to_string(), "mint".to_string()];
        words.extend(self.mint_flags());
        words.push("--case".into());
        words.push(shell_quote(case));
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_fills_only_what_is_unset_and_spells_itself_as_flags() {
        let ctx = RecipeStep {
            workspace: Some("acme".into()),
            deployment_environment_uuid: Some("{e}".into()),
            branch: Some("main".into()),
            audiences: vec!["api://deploy".into()],
            lifetime: Some(600),
            claims: [("team".to_string(), Value::from("blue"))]
                .into_iter()
                .collect(),
            now: Some(1_700_000_000),
            ..RecipeStep::default()
        };
        let mut req = StepRequest {
            branch: Some("dev".into()),
            ..StepRequest::default()
        };
        ctx.fill(&mut req);
        assert_eq!(req.branch.as_deref(), Some("dev"));
        assert_eq!(req.workspace.as_deref(), Some("acme"));
        assert_eq!(req.audiences, ["api://deploy"]);
        assert_eq!(req.lifetime, Some(600));
        assert_eq!(req.claims["team"], "blue");
        let line = ctx.reproduce(&[Edit::RemoveClaim { name: "x".into() }]);
        assert_eq!(
            line,
            "stepmint mint --workspace acme --env-uuid '{e}' --branch main --audience api://deploy \
             --lifetime 600 --claim 'team=\"blue\"' --now 1700000000 \
             --edits '[{\"op\":\"remove_claim\",\"name\":\"x\"}]'"
        );
        assert!(ctx.reproduce_case("alg-none").ends_with("--case alg-none"));
        assert!(RecipeStep::default().is_empty());
    }
}
