//! What a new user met in the first hour, each with a test through the real binary: typo'd
//! workspaces, hidden duplicate members, mints that disagreed with the running server, steps
//! run for the wrong branch, pipelines mistakes taken silently, messages that misled, flags the
//! README promised, fault commands that took nonsense, shell exit codes, silent scenario steps;
//! and what a command-line tool is expected to have (completions, a man page, `log`).

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, ServeProcess};

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn a_typo_in_a_workspace_creates_nothing_and_workspaces_are_managed_explicitly() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(
        util::run(&["mint", "--data-dir", d]).status.success(),
        "the default workspace"
    );
    for args in [
        vec!["mint", "--workspace", "nope"],
        vec!["run", "--workspace", "nope"],
        vec!["verify", "x.y.z", "--workspace", "nope"],
        vec!["keys", "list", "--workspace", "nope"],
    ] {
        let mut args = args.clone();
        args.extend(["--data-dir", d]);
        if args[0] == "run" {
            args.extend(["--", "true"]);
        }
        let out = util::run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no workspace `nope`") && err.contains("known: stepmint"),
            "{err}"
        );
    }
    let list = json(&util::run(&[
        "workspaces",
        "list",
        "--json",
        "--data-dir",
        d,
    ]));
    let slugs: Vec<&str> = list["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["stepmint"], "nothing was created");
    assert!(!dir.path().join("workspaces/nope").exists());

    let uuid = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    let out = util::run(&[
        "workspaces",
        "add",
        &format!("acme={uuid}"),
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = util::run(&["workspaces", "add", "acme", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "added twice: {}", text(&out));
    let minted = json(&util::run(&[
        "mint",
        "--workspace",
        "acme",
        "--json",
        "--data-dir",
        d,
    ]));
    assert_eq!(minted["claims"]["workspaceUuid"], uuid);
    let out = util::run(&[
        "mint",
        "--workspace",
        &format!("acme={uuid}"),
        "--data-dir",
        d,
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a UUID is given once, by `workspaces add`"
    );
    // Removing asks first, and refuses while a server serves the workspace.
    assert_eq!(
        util::run(&["workspaces", "remove", "acme", "--data-dir", d])
            .status
            .code(),
        Some(2)
    );
    {
        let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
        let out = util::run(&["workspaces", "remove", "acme", "--yes", "--data-dir", d]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("running server serves"));
    }
    let out = util::run(&["workspaces", "remove", "acme", "--yes", "--data-dir", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!dir.path().join("workspaces/acme").exists());
}

#[test]
fn decode_shows_members_given_twice_and_the_raw_json() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let token = util::run(&["mint", "--case", "duplicate-aud-good-last", "--data-dir", d]);
    let token = String::from_utf8(token.stdout).unwrap();
    let out = util::run(&["decode", token.trim()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("`aud` 2 times") && stdout.contains("https://attacker.invalid"),
        "{stdout}"
    );
    let raw = util::run(&["decode", "--raw", token.trim()]);
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert!(
        raw.contains(r#"{"aud":"https://attacker.invalid""#),
        "{raw}"
    );
    let as_json = json(&util::run(&["decode", "--json", token.trim()]));
    assert!(
        as_json["raw_payload"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"aud":"https://attacker.invalid""#)
    );
}

#[test]
fn cli_tokens_follow_the_running_servers_lifetime() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &["--lifetime", "900"]).expect("serve");
    let minted = json(&util::run(&["mint", "--json", "--data-dir", d]));
    let c = &minted["claims"];
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    let out = util::run(&[
        "run",
        "--data-dir",
        d,
        "--",
        "sh",
        "-c",
        "printf %s \"$BITBUCKET_STEP_OIDC_TOKEN\"",
    ]);
    let claims = stepmint::decode_unverified(&String::from_utf8_lossy(&out.stdout))
        .unwrap()
        .claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
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

#[test]
fn pipelines_mistakes_are_warned_and_any_step_can_be_chosen() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let yml = dir.path().join("bitbucket-pipelines.yml");
    std::fs::write(&yml, PIPELINES).unwrap();
    let y = yml.to_str().unwrap();
    let out = util::run(&["steps", y]);
    assert!(out.status.success(), "{}", text(&out));
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
    assert!(out.status.success(), "{}", text(&out));
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
        assert!(o.status.success(), "git {args:?}: {}", text(&o));
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
        assert!(out.status.success(), "{}", text(&out));
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

#[test]
fn messages_say_things_once_plainly_and_examples_paste() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // The validator's details are JSON values, not Rust debug text.
    let token = String::from_utf8(util::run(&["mint", "--data-dir", d]).stdout).unwrap();
    let wrong = util::run(&[
        "verify",
        token.trim(),
        "--workspace",
        "stepmint",
        "--audience",
        "someone-else",
        "--data-dir",
        d,
    ]);
    let shown = String::from_utf8_lossy(&wrong.stdout);
    assert!(
        !shown.contains("Some(") && !shown.contains("String("),
        "{shown}"
    );
    assert!(shown.contains("none of"), "{shown}");
    // An OS error is said once.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let out = util::run(&["serve", "--port", &port, "--data-dir", d]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("Address already in use").count(), 1, "{err}");
    // Help: defaults said once, examples one pasteable line each.
    for cmd in [
        "mint",
        "verify",
        "run",
        "probe",
        "serve",
        "keys",
        "fault",
        "workspaces",
    ] {
        let help = String::from_utf8(util::run(&[cmd, "--help"]).stdout).unwrap();
        assert!(!help.contains("[default: GET] [default: GET]"), "{cmd}");
        let examples = help.split("Examples:").nth(1).unwrap_or_default();
        for line in examples.lines().take_while(|l| !l.trim().is_empty()) {
            let line = line.trim();
            assert!(
                line.starts_with("stepmint ")
                    || line.starts_with("eval ")
                    || line.starts_with("stepmint"),
                "{cmd}: a wrapped example: {line:?}"
            );
            stepmint::probe::split_command(line.split(" # ").next().unwrap_or(line))
                .unwrap_or_else(|e| panic!("{cmd}: {line:?}: {e}"));
        }
    }
    // Keys: times as RFC 3339; a staged key whose time has come reads as published; any case.
    let out = util::run(&[
        "keys",
        "add",
        "--alg",
        "es256",
        "--publish-in",
        "1",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let listing =
        String::from_utf8_lossy(&util::run(&["keys", "list", "--data-dir", d]).stdout).to_string();
    assert!(listing.contains("publish at 20"), "{listing}");
    assert!(
        !listing
            .split_whitespace()
            .any(|w| w.len() == 10 && w.bytes().all(|b| b.is_ascii_digit())),
        "{listing}"
    );
}

#[test]
fn the_staged_key_reads_as_published_once_its_time_has_come() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let out = util::run(&[
        "keys",
        "add",
        "--alg",
        "ES256",
        "--publish-in",
        "60",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let now = json(&util::run(&["keys", "list", "--json", "--data-dir", d]));
    let staged = now["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256")
        .unwrap()
        .clone();
    assert_eq!(staged["state"], "staged");
    // The same ring read after its publish time.
    let keys_json = dir.path().join("workspaces/stepmint/keys.json");
    let mut ring: Value = serde_json::from_slice(&std::fs::read(&keys_json).unwrap()).unwrap();
    for k in ring["keys"].as_array_mut().unwrap() {
        if k["state"] == "staged" {
            k["publish_at"] = 1_000.into();
        }
    }
    stepmint::write_atomic(&keys_json, ring.to_string().as_bytes()).unwrap();
    let then = json(&util::run(&["keys", "list", "--json", "--data-dir", d]));
    let published = then["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256")
        .unwrap()
        .clone();
    assert_eq!(published["state"], "published", "{then}");
    assert_eq!(published["published"], true);
}

#[test]
fn data_dir_is_accepted_everywhere_and_before_the_command() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let out = util::run(&["--data-dir", d, "mint", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let token = json(&out)["token"].as_str().unwrap().to_string();
    assert!(
        util::run(&["decode", &token, "--data-dir", d])
            .status
            .success()
    );
    assert!(util::run(&["cases", "--data-dir", d]).status.success());
    let yml = dir.path().join("p.yml");
    std::fs::write(
        &yml,
        "pipelines:\n  default:\n    - step: { name: A, script: [a] }\n",
    )
    .unwrap();
    assert!(
        util::run(&["--data-dir", d, "steps", yml.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn fault_commands_refuse_nonsense_and_speak_plainly() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let out = util::run(&["fault", "set", "--endpoint", "jwks", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--reset",
        "--hang",
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = util::run(&[
        "fault",
        "set",
        "--endpoint",
        "jwks",
        "--status",
        "503",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("stepmint")
            && human.contains("jwks")
            && !human.trim_start().starts_with('{'),
        "{human}"
    );
    let listed = json(&util::run(&["fault", "list", "--json", "--data-dir", d]));
    assert_eq!(listed["faults"][0]["fault"]["status"], 503);
    // The README's fault examples are lines to paste, not pipelines.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for line in readme.lines().filter(|l| l.starts_with("stepmint fault")) {
        assert!(!line.contains(" | "), "{line}");
    }
}

#[test]
fn scenario_steps_say_when_they_fire() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[[step]]\nat = 0\nendpoint = \"jwks\"\nfault = { status = 503 }\n",
    )
    .unwrap();
    let serve = ServeProcess::start(dir.path(), &["--scenario", scenario.to_str().unwrap()])
        .expect("serve");
    let line = serve
        .stderr
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a line for the step");
    assert!(
        line.contains("EVENT") && line.contains("scenario at 0 s: fault on Jwks"),
        "{line}"
    );
    let log = util::run(&["log", "--json", "--data-dir", d]);
    assert!(log.status.success(), "{}", text(&log));
    let events: Vec<Value> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["method"] == "EVENT")
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    let human = util::run(&["log", "--data-dir", d]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("scenario at 0 s"));
}

#[test]
fn completions_and_man_pages() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = util::run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("workspaces") && script.contains("probe"),
            "{shell}"
        );
    }
    let man = util::run(&["man"]);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH stepmint 1"),
        "{page}"
    );
    let dir = util::data_dir();
    let out = util::run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(dir.path().join("stepmint-probe.1").is_file());
}
