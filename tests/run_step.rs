//! `stepmint run` and `stepmint steps`: a child process gets what a Pipelines step gets, can
//! reach the issuer over HTTPS with nothing but that environment, and a real
//! bitbucket-pipelines.yml decides environment, audiences and whether there is a token at all.

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value;

use crate::util::{self, ServeProcess};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/pipelines/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs `stepmint run ARGS -- python3 -c 'print(json.dumps(dict(os.environ)))'`.
fn run_env(d: &str, args: &[&str]) -> (std::process::Output, HashMap<String, String>) {
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut all = vec!["run", "--data-dir", d];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--",
        &py,
        "-c",
        "import json, os; print(json.dumps(dict(os.environ)))",
    ]);
    let out = util::run(&all);
    let env = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, env)
}

fn claims(token: &str) -> Value {
    stepmint::decode_unverified(token).unwrap().claims
}

#[test]
fn the_child_sees_step_variables_consistent_with_its_token() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let (out, env) = run_env(
        d,
        &[
            "--env",
            "production",
            "--branch",
            "release/2",
            "--audience",
            "sts.amazonaws.com",
            "--aws-role-arn",
            "arn:aws:iam::123456789012:role/deploy",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = claims(&env["BITBUCKET_STEP_OIDC_TOKEN"]);
    assert_eq!(env["CI"], "true");
    assert_eq!(env["BITBUCKET_WORKSPACE"], "stepmint");
    assert_eq!(c["repositoryUuid"], env["BITBUCKET_REPO_UUID"]);
    assert_eq!(c["stepUuid"], env["BITBUCKET_STEP_UUID"]);
    assert_eq!(c["pipelineUuid"], env["BITBUCKET_PIPELINE_UUID"]);
    assert_eq!(c["branchName"], env["BITBUCKET_BRANCH"]);
    assert_eq!(env["BITBUCKET_BRANCH"], "release/2");
    assert_eq!(env["BITBUCKET_DEPLOYMENT_ENVIRONMENT"], "production");
    assert_eq!(
        c["deploymentEnvironmentUuid"],
        env["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"]
    );
    assert_eq!(
        c["sub"],
        format!(
            "{}:{}:{}",
            env["BITBUCKET_REPO_UUID"],
            env["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"],
            env["BITBUCKET_STEP_UUID"]
        )
    );
    assert_eq!(c["aud"][1], "sts.amazonaws.com");
    assert_eq!(
        env["BITBUCKET_REPO_FULL_NAME"],
        format!("stepmint/{}", env["BITBUCKET_REPO_SLUG"])
    );
    for var in [
        "BITBUCKET_BUILD_NUMBER",
        "BITBUCKET_PROJECT_KEY",
        "BITBUCKET_PROJECT_UUID",
        "BITBUCKET_STEP_TRIGGERER_UUID",
        "BITBUCKET_CLONE_DIR",
    ] {
        assert!(!env[var].is_empty(), "{var}");
    }
    assert_eq!(env["AWS_ROLE_ARN"], "arn:aws:iam::123456789012:role/deploy");
    let token_file = &env["AWS_WEB_IDENTITY_TOKEN_FILE"];
    assert!(
        !std::path::Path::new(token_file).exists(),
        "the token file is removed after the step"
    );
    assert!(
        env["SSL_CERT_FILE"].ends_with("ca/bundle.pem")
            && env["NODE_EXTRA_CA_CERTS"].ends_with("ca/ca.pem")
    );

    // The environment keeps its UUID across runs; the build number counts up.
    let (_, again) = run_env(d, &["--env", "production"]);
    assert_eq!(
        again["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"],
        env["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"]
    );
    assert_eq!(
        again["BITBUCKET_BUILD_NUMBER"].parse::<u64>().unwrap(),
        env["BITBUCKET_BUILD_NUMBER"].parse::<u64>().unwrap() + 1
    );
    let (_, other) = run_env(d, &["--env", "staging"]);
    assert_ne!(
        other["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"],
        env["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"]
    );

    // `--env NAME=UUID` gives the environment the UUID Bitbucket shows, in the token and the
    // variables, and the name keeps it; a UUID that is none is a usage error.
    let given = "{bd715740-c970-486b-b68a-b421ec2a1f8b}";
    let (_, pinned) = run_env(d, &["--env", &format!("production={given}")]);
    assert_eq!(pinned["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"], given);
    assert_eq!(pinned["BITBUCKET_DEPLOYMENT_ENVIRONMENT"], "production");
    assert_eq!(
        claims(&pinned["BITBUCKET_STEP_OIDC_TOKEN"])["deploymentEnvironmentUuid"],
        given
    );
    let (_, kept) = run_env(d, &["--env", "production"]);
    assert_eq!(kept["BITBUCKET_DEPLOYMENT_ENVIRONMENT_UUID"], given);
    for bad in ["production=nope", "=bd715740-c970-486b-b68a-b421ec2a1f8b"] {
        let (out, _) = run_env(d, &["--env", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", util::text(&out));
    }
}

#[test]
fn exit_codes_pass_through() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let out = util::run(&["run", "--data-dir", d, "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    // Not found: 127, as a shell says it; not runnable: 126.
    let out = util::run(&["run", "--data-dir", d, "--", "/nonexistent/program"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/program"));
    let plain = dir.path().join("not-a-program");
    std::fs::write(&plain, "data").unwrap();
    let out = util::run(&["run", "--data-dir", d, "--", plain.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126));
}

#[test]
fn the_child_reaches_the_issuer_over_https_with_only_its_environment() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let discovery = serve.info["workspaces"][0]["discovery"]
        .as_str()
        .unwrap()
        .to_string();
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))['issuer'])";

    let curl = util::run(&[
        "run",
        "--data-dir",
        d,
        "--",
        "curl",
        "-sS",
        "--fail",
        &discovery,
    ]);
    assert!(
        curl.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert!(String::from_utf8_lossy(&curl.stdout).contains("\"jwks_uri\""));
    let python = util::run(&["run", "--data-dir", d, "--", &py, "-c", script, &discovery]);
    assert!(
        python.status.success(),
        "python: {}",
        String::from_utf8_lossy(&python.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&python.stdout).trim(),
        serve.info["workspaces"][0]["issuer"].as_str().unwrap()
    );

    // Without the step environment the same requests fail: it is the environment that works.
    let bare = std::process::Command::new("curl")
        .args(["-sS", "--fail", &discovery])
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap();
    assert!(!bare.status.success());
    // And the token in that environment verifies against the live issuer.
    let (_, env) = run_env(d, &[]);
    let verify = util::run(&[
        "verify",
        &env["BITBUCKET_STEP_OIDC_TOKEN"],
        "--issuer",
        serve.info["workspaces"][0]["issuer"].as_str().unwrap(),
        "--audience",
        claims(&env["BITBUCKET_STEP_OIDC_TOKEN"])["aud"]
            .as_str()
            .unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn pipelines_file_decides_environment_audiences_and_token() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let file = fixture("bitbucket-pipelines.yml");
    let (out, env) = run_env(d, &["--pipelines", &file, "--step", "Deploy to staging"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env["BITBUCKET_DEPLOYMENT_ENVIRONMENT"], "staging");
    let c = claims(&env["BITBUCKET_STEP_OIDC_TOKEN"]);
    assert_eq!(
        c["aud"][1], "https://staging.example",
        "step-level audiences"
    );
    let (_, ship) = run_env(d, &["--pipelines", &file, "--step", "Ship"]);
    assert_eq!(
        ship["BITBUCKET_DEPLOYMENT_ENVIRONMENT"], "prod-eu",
        "stage deployment"
    );
    assert_eq!(
        claims(&ship["BITBUCKET_STEP_OIDC_TOKEN"])["aud"][1],
        "https://global.example",
        "options-level audiences"
    );

    let refused = util::run(&[
        "run",
        "--data-dir",
        d,
        "--pipelines",
        &file,
        "--step",
        "Unit tests",
        "--",
        "true",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("oidc: true"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let missing = util::run(&[
        "run",
        "--data-dir",
        d,
        "--pipelines",
        &file,
        "--step",
        "Nope",
        "--",
        "true",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Deploy to production"));

    let broken = util::run(&["steps", &fixture("broken.yml")]);
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(
        err.contains("broken.yml") && err.contains("line ") && err.contains("column "),
        "{err}"
    );

    let listed = util::run(&["steps", &file, "--json"]);
    let steps: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<(&str, bool)> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["oidc"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("Build", false),
            ("Lint", true),
            ("Unit tests", false),
            ("Deploy to production", true),
            ("Deploy to staging", true),
            ("Publish", true),
            ("PR checks", false),
            ("Ship", true)
        ]
    );
}

#[test]
fn inside_a_git_checkout_the_step_takes_its_commit_branch_and_name() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let repo = tempfile::Builder::new()
        .prefix("shop-api-")
        .tempdir()
        .unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["checkout", "-q", "-b", "feature/login"]);
    git(&["commit", "-q", "--allow-empty", "-m", "first"]);
    let head = git(&["rev-parse", "HEAD"]);
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(util::bin())
        .args(["run", "--data-dir", d, "--", &py, "-c"])
        .arg("import json, os; print(json.dumps(dict(os.environ)))")
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env: HashMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["BITBUCKET_COMMIT"], head);
    assert_eq!(env["BITBUCKET_BRANCH"], "feature/login");
    let name = repo.path().file_name().unwrap().to_str().unwrap();
    assert_eq!(env["BITBUCKET_REPO_SLUG"], name.to_lowercase());
    assert_eq!(
        claims(&env["BITBUCKET_STEP_OIDC_TOKEN"])["branchName"],
        "feature/login"
    );
}

#[test]
fn leftovers_are_cleaned_and_huge_pipelines_files_refused() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(util::run(&["mint", "--data-dir", d]).status.success());
    // What a kill -9 mid-write leaves: a temporary file of a process long gone.
    let ws = dir.path().join("workspaces/stepmint");
    let stale = [
        ws.join(".keys.json.4000000.3.tmp"),
        ws.join("keys/.abc.pem.4000001.1.tmp"),
    ];
    for s in &stale {
        std::fs::write(s, "partial").unwrap();
    }
    let keep = ws.join("notes.tmp");
    std::fs::write(&keep, "mine").unwrap();
    assert!(util::run(&["mint", "--data-dir", d]).status.success());
    for s in &stale {
        assert!(!s.exists(), "{} left behind", s.display());
    }
    assert!(keep.exists(), "only Stepmint's own temporary files go");

    let big = dir.path().join("big.yml");
    let mut f = std::fs::File::create(&big).unwrap();
    let line = format!("# {}\n", "x".repeat(1000));
    for _ in 0..5_000 {
        f.write_all(line.as_bytes()).unwrap();
    }
    drop(f);
    let out = util::run(&["steps", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 4 MiB"));
}

#[test]
fn pipelines_mistakes_are_warned_and_any_step_can_be_chosen() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let yml = dir.path().join("bitbucket-pipelines.yml");
    std::fs::write(&yml, PIPELINES).unwrap();
    let y = yml.to_str().unwrap();
    let out = util::run(&["steps", y]);
    assert!(out.status.success(), "{}", util::text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 6 column 9: `odic` is not a step key (did you mean `oidc`?)"),
        "{err}"
    );
    assert!(
        err.contains("`oidc` under step `Lint`") && err.contains("the string \"yes\""),
        "{err}"
    );
    assert!(
        err.contains("`name`, `script` beside it instead of under it"),
        "{err}"
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("default[3].parallel[1]"), "{listing}");

    // Two steps named Test: by name is refused with their locations; by location works.
    let out = util::run(&[
        "run",
        "--pipelines",
        y,
        "--step",
        "Test",
        "--data-dir",
        d,
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("default[3].parallel[0], default[3].parallel[1]")
    );
    let out = util::run(&[
        "run",
        "--pipelines",
        y,
        "--step",
        "default[3].parallel[1]",
        "--data-dir",
        d,
        "--",
        "true",
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    // A near miss is suggested, and the names are listed once each.
    let out = util::run(&[
        "run",
        "--pipelines",
        y,
        "--step",
        "Deploy to prod",
        "--data-dir",
        d,
        "--",
        "true",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did you mean `Deploy to production`?"),
        "{err}"
    );
    assert_eq!(err.matches("Test").count(), 1, "{err}");

    // A step under `branches: main` runs for main, whatever the checkout is on; --branch wins.
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", util::text(&o));
    };
    git(&["init", "-q", "-b", "feature/login"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    ]);
    let branch_of = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--pipelines",
            y,
            "--step",
            "Deploy to production",
            "--data-dir",
            d,
        ];
        args.extend(extra);
        args.extend(["--", "sh", "-c", "printf %s \"$BITBUCKET_BRANCH\""]);
        let out = std::process::Command::new(util::bin())
            .args(&args)
            .current_dir(repo.path())
            .env_remove("STEPMINT_DATA_DIR")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", util::text(&out));
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (branch, err) = branch_of(&[]);
    assert_eq!(branch, "main");
    assert!(err.contains("runs for branch `main`"), "{err}");
    assert_eq!(branch_of(&["--branch", "hotfix"]).0, "hotfix");
}

const PIPELINES: &str = r#"
pipelines:
  default:
    - step:
        name: Build
        odic: true
        script: [make]
    - step:
        name: Lint
        oidc: yes
        script: [lint]
    - step:
      name: Misplaced
      script: [oops]
    - parallel:
        - step: { name: Test, oidc: true, script: [t] }
        - step: { name: Test, oidc: true, script: [t2] }
  branches:
    main:
      - step:
          name: Deploy to production
          oidc: true
          deployment: production
          script: [./deploy.sh]
"#;
