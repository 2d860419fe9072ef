//! Reading a real `bitbucket-pipelines.yml`: every step, wherever it sits (`default`,
//! `branches`, `tags`, `pull-requests`, `custom`, inside `parallel` groups and `stages`), with
//! whether Bitbucket would give it an OIDC token, its deployment environment, and the custom
//! audiences that apply (the step's `oidc.audiences`, else the global `options.oidc.audiences`).

use std::path::Path;

use serde_yaml_ng::Value;

use crate::error::{ErrorKind, Result};

mod names;
mod step;
mod walk;

pub use names::{closest, example_ref};
pub use step::{PipelineStep, Warning};
use walk::{Walk, audiences};

/// Parses a pipelines file's text. `path` is for messages only.
pub fn parse(text: &str, path: &Path) -> Result<Vec<PipelineStep>> {
    parse_checked(text, path).map(|(steps, _)| steps)
}

/// Parses a pipelines file's text, with a warning for each likely mistake (unknown keys under a
/// step, values of the wrong type, a step whose keys are not indented under it).
pub fn parse_checked(text: &str, path: &Path) -> Result<(Vec<PipelineStep>, Vec<Warning>)> {
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
    let mut walk = Walk {
        global: global_audiences,
        steps: Vec::new(),
        warnings: Vec::new(),
        trigger: None,
    };
    for section in [
        "default",
        "branches",
        "tags",
        "bookmarks",
        "pull-requests",
        "custom",
    ] {
        let Some(node) = pipelines.get(section) else {
            continue;
        };
        if section == "default" {
            walk.trigger = None;
            walk.pipeline(node, section.to_string());
        } else if let Some(map) = node.as_mapping() {
            if section == "bookmarks" {
                walk.warn(
                    "`bookmarks` pipelines are for Mercurial repositories, which Bitbucket Cloud no \
                     longer hosts: their steps are listed as if a branch of that name ran them"
                        .into(),
                );
            }
            for (key, items) in map {
                let key = key
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{key:?}"));
                walk.trigger = Some((section, key.clone()));
                walk.pipeline(items, format!("{section}.{key:?}"));
            }
        }
    }
    let mut warnings = walk.warnings;
    place(&mut warnings, text);
    Ok((walk.steps, warnings))
}

/// Gives each warning about a key the line and column where that key is written (in file
/// order, one occurrence per warning: the parsed tree keeps no positions).
fn place(warnings: &mut [Warning], text: &str) {
    let mut used: Vec<(usize, usize)> = Vec::new();
    for w in warnings.iter_mut() {
        let Some(key) = w.message.split('`').nth(1).map(str::to_string) else {
            continue;
        };
        let found = text.lines().enumerate().find_map(|(i, l)| {
            let body = l.trim_start().trim_start_matches("- ");
            let col = l.len() - body.len() + 1;
            (body.starts_with(&format!("{key}:")) && !used.contains(&(i, col))).then_some((i, col))
        });
        if let Some((i, col)) = found {
            used.push((i, col));
            w.line = Some(i + 1);
            w.column = Some(col);
        }
    }
}

/// The largest pipelines file read: Bitbucket's own limit on a configuration is far below it.
pub const MAX_FILE_LEN: u64 = 4 * 1024 * 1024;

/// Reads and parses a pipelines file (at most [`MAX_FILE_LEN`] bytes).
pub fn parse_file(path: &Path) -> Result<Vec<PipelineStep>> {
    parse_file_checked(path).map(|(steps, _)| steps)
}

/// [`parse_file`] with the warnings of [`parse_checked`].
pub fn parse_file_checked(path: &Path) -> Result<(Vec<PipelineStep>, Vec<Warning>)> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| crate::error::Error::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::error::Error::io("read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(crate::error::Error::invalid(
            "pipelines",
            format!(
                "{} is larger than {} MiB; a bitbucket-pipelines.yml is far smaller",
                path.display(),
                MAX_FILE_LEN / (1024 * 1024)
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        crate::error::Error::invalid("pipelines", format!("{} is not UTF-8 text", path.display()))
    })?;
    parse_checked(&text, path)
}

/// The step `which` names: its location (`default[1].parallel[0]`, as `stepmint steps` lists
/// them), or its name when exactly one step has it.
pub fn find<'a>(steps: &'a [PipelineStep], which: &str) -> Result<&'a PipelineStep> {
    if let Some(s) = steps.iter().find(|s| s.location == which) {
        return Ok(s);
    }
    let named: Vec<&PipelineStep> = steps
        .iter()
        .filter(|s| s.name.as_deref() == Some(which))
        .collect();
    match named.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut names: Vec<&str> = steps.iter().filter_map(|s| s.name.as_deref()).collect();
            names.sort_unstable();
            names.dedup();
            let hint = closest(which, names.iter().copied())
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            Err(crate::error::Error::invalid(
                "step",
                format!(
                    "no step named `{which}`{hint}; the file has: {} (or choose one by its location, as `stepmint steps` shows)",
                    names.join(", ")
                ),
            ))
        }
        many => Err(crate::error::Error::invalid(
            "step",
            format!(
                "{} steps are named `{which}`: choose one by its location ({})",
                many.len(),
                many.iter()
                    .map(|s| s.location.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
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
    fn triggers_as_bitbucket_runs_them() {
        let text = r#"
pipelines:
  branches:
    '{main,release/*}':
      - step: { name: Brace, oidc: true, script: [x] }
  tags:
    'v*':
      - step: { name: Tag, oidc: true, script: [t] }
  bookmarks:
    bm:
      - step: { name: Bookmark, oidc: true, script: [b] }
  custom:
    shared:
      import: other-repo:main:deploy
    manual:
      - variables:
          - name: X
      - step: { name: Custom, oidc: true, script: [c] }
"#;
        let (steps, warnings) = parse_checked(text, Path::new("p.yml")).unwrap();
        let by = |n: &str| find(&steps, n).unwrap().clone();
        assert_eq!(by("Brace").example_branch("dev").as_deref(), Some("main"));
        // A tag build has no branch, so its token has no branchName.
        assert!(by("Tag").tag);
        assert_eq!(by("Tag").example_branch("dev"), None);
        assert_eq!(by("Bookmark").branch.as_deref(), Some("bm"));
        assert_eq!(by("Custom").example_branch("dev").as_deref(), Some("dev"));
        let import = warnings
            .iter()
            .find(|w| w.message.contains("import"))
            .expect("an import warning");
        assert!(
            import.message.contains("other-repo:main:deploy") && import.line == Some(14),
            "{import}"
        );
        assert!(warnings.iter().any(|w| w.message.contains("Mercurial")));
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
