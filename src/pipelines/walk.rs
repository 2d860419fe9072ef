//! The walk over a parsed pipelines file: every pipeline's steps, wherever they sit (in
//! `parallel` groups and `stage`s), each with its trigger, deployment, token and audiences, and
//! a warning for each likely mistake.

use serde_yaml_ng::Value;

use super::names::closest;
use super::step::{PipelineStep, Warning};

/// The keys Bitbucket knows under `step:`.
pub(super) const STEP_KEYS: [&str; 18] = [
    "name",
    "script",
    "image",
    "caches",
    "services",
    "artifacts",
    "trigger",
    "deployment",
    "size",
    "max-time",
    "clone",
    "oidc",
    "after-script",
    "condition",
    "runs-on",
    "runtime",
    "fail-fast",
    "output-variables",
];

/// The walk over a file's steps.
pub(super) struct Walk {
    pub(super) global: Vec<String>,
    pub(super) steps: Vec<PipelineStep>,
    pub(super) warnings: Vec<Warning>,
    /// The section and key being walked (`branches`, `main`), for the steps' branch.
    pub(super) trigger: Option<(&'static str, String)>,
}

impl Walk {
    pub(super) fn warn(&mut self, message: String) {
        self.warnings.push(Warning {
            line: None,
            column: None,
            message,
        });
    }

    /// One pipeline: a list of steps, or an `import:` of a pipeline another repository exports.
    pub(super) fn pipeline(&mut self, node: &Value, location: String) {
        if let Some(import) = node.get("import") {
            let what = import
                .as_str()
                .map_or_else(|| kind(import), |s| format!("`{s}`"));
            self.warn(format!(
                "`import` at {location} runs the pipeline {what} that another repository exports: \
                 its steps (and whether they set oidc: true) are not in this file, so they are not \
                 in the access table"
            ));
            return;
        }
        self.items(node, location);
    }

    fn items(&mut self, items: &Value, location: String) {
        let Some(list) = items.as_sequence() else {
            return;
        };
        for (i, item) in list.iter().enumerate() {
            let here = format!("{location}[{i}]");
            if let Some(step) = item.get("step") {
                if !step.is_mapping() {
                    let beside: Vec<String> = item
                        .as_mapping()
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, _)| k.as_str())
                        .filter(|k| *k != "step")
                        .map(|k| format!("`{k}`"))
                        .collect();
                    let what = if beside.is_empty() {
                        "nothing under it".to_string()
                    } else {
                        format!(
                            "{} beside it instead of under it (indent them under `step:`)",
                            beside.join(", ")
                        )
                    };
                    self.warn(format!("`step` at {here} has {what}"));
                }
                self.step(step, here, None);
            } else if let Some(parallel) = item.get("parallel") {
                // `parallel: [...]` or `parallel: { steps: [...], fail-fast: ... }`.
                let inner = parallel.get("steps").unwrap_or(parallel);
                self.items(inner, format!("{here}.parallel"));
            } else if let Some(stage) = item.get("stage") {
                let deployment = stage
                    .get("deployment")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(seq) = stage.get("steps").and_then(Value::as_sequence) {
                    for (j, s) in seq.iter().enumerate() {
                        if let Some(step) = s.get("step") {
                            self.step(step, format!("{here}.stage.steps[{j}]"), deployment.clone());
                        }
                    }
                }
            }
        }
    }

    fn step(&mut self, step: &Value, location: String, stage_deployment: Option<String>) {
        let name = step.get("name").and_then(Value::as_str).map(str::to_string);
        let which = match &name {
            Some(n) => format!("step `{n}` ({location})"),
            None => format!("the step at {location}"),
        };
        for (k, _) in step.as_mapping().into_iter().flatten() {
            let Some(k) = k.as_str() else { continue };
            if !STEP_KEYS.contains(&k) {
                let hint = closest(k, STEP_KEYS)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                self.warn(format!("`{k}` is not a step key{hint}, under {which}"));
            }
        }
        let oidc_node = step.get("oidc");
        let oidc = match oidc_node {
            Some(Value::Bool(b)) => *b,
            Some(Value::Mapping(_)) => true,
            None => false,
            Some(other) => {
                self.warn(format!(
                    "`oidc` under {which} is {}, not true, false or a mapping: Bitbucket gives this step no token",
                    kind(other)
                ));
                false
            }
        };
        for key in ["name", "deployment"] {
            if let Some(v) = step.get(key)
                && !v.is_string()
            {
                self.warn(format!(
                    "`{key}` under {which} is {}, not a string",
                    kind(v)
                ));
            }
        }
        let own = audiences(oidc_node);
        self.steps.push(PipelineStep {
            name,
            location,
            oidc,
            deployment: step
                .get("deployment")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(stage_deployment),
            audiences: if own.is_empty() {
                self.global.clone()
            } else {
                own
            },
            branch: match &self.trigger {
                Some(("branches" | "pull-requests" | "tags" | "bookmarks", key)) => {
                    Some(key.clone())
                }
                _ => None,
            },
            tag: matches!(self.trigger, Some(("tags", _))),
        });
    }
}

/// A YAML value's kind, for messages.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "empty".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

pub(super) fn audiences(oidc: Option<&Value>) -> Vec<String> {
    oidc.and_then(|o| o.get("audiences"))
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
