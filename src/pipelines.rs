//! Reading a real `bitbucket-pipelines.yml`: every step, wherever it sits (`default`,
//! `branches`, `tags`, `pull-requests`, `custom`, inside `parallel` groups and `stages`), with
//! whether Bitbucket would give it an OIDC token, its deployment environment, and the custom
//! audiences that apply (the step's `oidc.audiences`, else the global `options.oidc.audiences`).

use std::path::Path;

use serde::Serialize;
use serde_yaml_ng::Value;

use crate::error::{ErrorKind, Result};

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
}

/// Parses a pipelines file's text. `path` is for messages only.
pub fn parse(text: &str, path: &Path) -> Result<Vec<PipelineStep>> {
    let config_err = |message: String| ErrorKind::Config {
        path: path.to_path_buf(),
        message,
    };
    let mut root: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        config_err(match e.location() {
            Some(l) => format!("line {} column {}: {e}", l.line(), l.column()),
            None => e.to_string(),
        })
    })?;
    root.apply_merge()
        .map_err(|e| config_err(format!("merge keys: {e}")))?;
    let global_audiences = audiences(root.get("options").and_then(|o| o.get("oidc")));
    let Some(pipelines) = root.get("pipelines") else {
        return Err(config_err("no `pipelines` section".into()).into());
    };
    let mut steps = Vec::new();
    for section in ["default", "branches", "tags", "pull-requests", "custom"] {
        let Some(node) = pipelines.get(section) else {
            continue;
        };
        if section == "default" {
            walk_items(node, section.to_string(), &global_audiences, &mut steps);
        } else if let Some(map) = node.as_mapping() {
            for (key, items) in map {
                let key = key
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{key:?}"));
                walk_items(
                    items,
                    format!("{section}.{key:?}"),
                    &global_audiences,
                    &mut steps,
                );
            }
        }
    }
    Ok(steps)
}

/// The largest pipelines file read: Bitbucket's own limit on a configuration is far below it.
pub const MAX_FILE_LEN: u64 = 4 * 1024 * 1024;

/// Reads and parses a pipelines file (at most [`MAX_FILE_LEN`] bytes).
pub fn parse_file(path: &Path) -> Result<Vec<PipelineStep>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| crate::Error::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::Error::io("read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(crate::Error::invalid(
            "pipelines",
            format!(
                "{} is larger than {} MiB; a bitbucket-pipelines.yml is far smaller",
                path.display(),
                MAX_FILE_LEN / (1024 * 1024)
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        crate::Error::invalid("pipelines", format!("{} is not UTF-8 text", path.display()))
    })?;
    parse(&text, path)
}

/// The step named `name`: the first one with that name, in file order.
pub fn find<'a>(steps: &'a [PipelineStep], name: &str) -> Result<&'a PipelineStep> {
    steps
        .iter()
        .find(|s| s.name.as_deref() == Some(name))
        .ok_or_else(|| {
            let names: Vec<&str> = steps.iter().filter_map(|s| s.name.as_deref()).collect();
            crate::Error::invalid(
                "step",
                format!("no step named `{name}`; the file has: {}", names.join(", ")),
            )
        })
}

fn walk_items(items: &Value, location: String, global: &[String], out: &mut Vec<PipelineStep>) {
    let Some(list) = items.as_sequence() else {
        return;
    };
    for (i, item) in list.iter().enumerate() {
        let here = format!("{location}[{i}]");
        if let Some(step) = item.get("step") {
            out.push(step_of(step, here, global, None));
        } else if let Some(parallel) = item.get("parallel") {
            // `parallel: [...]` or `parallel: { steps: [...], fail-fast: ... }`.
            let inner = parallel.get("steps").unwrap_or(parallel);
            walk_items(inner, format!("{here}.parallel"), global, out);
        } else if let Some(stage) = item.get("stage") {
            let deployment = stage
                .get("deployment")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(seq) = stage.get("steps").and_then(Value::as_sequence) {
                for (j, s) in seq.iter().enumerate() {
                    if let Some(step) = s.get("step") {
                        out.push(step_of(
                            step,
                            format!("{here}.stage.steps[{j}]"),
                            global,
                            deployment.clone(),
                        ));
                    }
                }
            }
        }
    }
}

fn step_of(
    step: &Value,
    location: String,
    global: &[String],
    stage_deployment: Option<String>,
) -> PipelineStep {
    let oidc_node = step.get("oidc");
    let oidc = match oidc_node {
        Some(Value::Bool(b)) => *b,
        Some(Value::Mapping(_)) => true,
        _ => false,
    };
    let own = audiences(oidc_node);
    PipelineStep {
        name: step.get("name").and_then(Value::as_str).map(str::to_string),
        location,
        oidc,
        deployment: step
            .get("deployment")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(stage_deployment),
        audiences: if own.is_empty() { global.to_vec() } else { own },
    }
}

fn audiences(oidc: Option<&Value>) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
definitions:
  steps:
    - step: &deploy
        name: Deploy
        oidc: true
        deployment: production
        script: [./deploy.sh]
options:
  oidc:
    audiences: [https://global.example]
pipelines:
  default:
    - step:
        name: Build
        script: [make]
    - parallel:
        - step: { name: Lint, oidc: true, script: [lint] }
        - step: { name: Test, script: [test] }
  branches:
    main:
      - step: *deploy
      - step:
          <<: *deploy
          name: Deploy staging
          deployment: staging
          oidc:
            audiences: [https://staging.example]
  tags:
    'v*':
      - parallel:
          fail-fast: true
          steps:
            - step: { name: Tag, oidc: true, script: [t] }
  pull-requests:
    '**':
      - step: { name: PR, oidc: false, script: [p] }
  custom:
    release:
      - stage:
          name: Release
          deployment: prod-eu
          steps:
            - step: { name: Ship, oidc: true, script: [s] }
"#;

    #[test]
    fn every_shape_is_found() {
        let steps = parse(FILE, Path::new("bitbucket-pipelines.yml")).unwrap();
        let by = |n: &str| find(&steps, n).unwrap().clone();
        assert!(!by("Build").oidc);
        assert_eq!(by("Lint").location, "default[1].parallel[0]");
        assert!(by("Lint").oidc && !by("Test").oidc);
        let deploy = by("Deploy");
        assert_eq!(
            (deploy.deployment.as_deref(), deploy.audiences.clone()),
            (
                Some("production"),
                vec!["https://global.example".to_string()]
            )
        );
        let staging = by("Deploy staging");
        assert!(staging.oidc);
        assert_eq!(staging.deployment.as_deref(), Some("staging"));
        assert_eq!(staging.audiences, ["https://staging.example"]);
        assert_eq!(by("Tag").location, "tags.\"v*\"[0].parallel[0]");
        assert!(!by("PR").oidc);
        let ship = by("Ship");
        assert_eq!(
            (ship.deployment.as_deref(), ship.location.as_str()),
            (Some("prod-eu"), "custom.\"release\"[0].stage.steps[0]")
        );
        assert!(
            find(&steps, "Nope")
                .unwrap_err()
                .to_string()
                .contains("Build")
        );
    }

    #[test]
    fn bad_yaml_has_line_and_column() {
        let err = parse(
            "pipelines:\n  default:\n    - step: [\n",
            Path::new("p.yml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("p.yml") && err.contains("line "), "{err}");
        let err = parse("image: x\n", Path::new("p.yml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `pipelines`"), "{err}");
    }
}
