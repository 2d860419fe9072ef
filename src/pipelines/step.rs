//! What reading a pipelines file yields: its steps, each with what Bitbucket would put in its
//! token, and the warnings about what Bitbucket would ignore or refuse.

use serde::Serialize;

use super::names::example_ref;

/// One step of a pipelines file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineStep {
    /// The step's `name`, if it has one.
    pub name: Option<String>,
    /// Where it is: `default[0]`, `branches."main"[1].parallel[0]`, `custom."deploy"[0].stage.steps[2]`.
    pub location: String,
    /// Whether Bitbucket gives this step a token (`oidc: true`, or an `oidc:` mapping).
    pub oidc: bool,
    /// The `deployment` environment name.
    pub deployment: Option<String>,
    /// Custom audiences for the token.
    pub audiences: Vec<String>,
    /// The branch (or tag, or pull-request source pattern) a `branches:`, `tags:` or
    /// `pull-requests:` pipeline runs it for; `None` under `default` and `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Whether a `tags:` pipeline runs it: Bitbucket builds a tag with no branch
    /// (`BITBUCKET_BRANCH` is unset), so its token carries no `branchName`.
    #[serde(skip)]
    pub tag: bool,
}

impl PipelineStep {
    /// The branch a run of this step is on, for minting its token: a name the trigger's pattern
    /// matches (`feature/*` gives `feature/x`), `default_branch` under `default` and `custom`,
    /// and `None` for a tag pipeline, whose token has no `branchName`.
    pub fn example_branch(&self, default_branch: &str) -> Option<String> {
        if self.tag {
            return None;
        }
        Some(match &self.branch {
            Some(pattern) => example_ref(pattern),
            None => default_branch.to_string(),
        })
    }
}

/// Something in a pipelines file that is likely a mistake: Bitbucket would ignore it or refuse it,
/// and the step would silently not be what its author meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// 1-based line, when the text shows where.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong, and the fix.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l} column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}
