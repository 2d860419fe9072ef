//! The README's relying-party snippets run as pasted: its set-up block (`ca env`, `ISSUER`,
//! `AUDIENCE`, `TOKEN`) against a real `stepmint serve`, then the PyJWT and Node `jose` blocks
//! verify the token it minted, and refuse it when the audience they are told differs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;

use crate::util::{self, ServeProcess};

const SECTION: &str = "## Pointing relying parties at it";

/// The first fenced block of `lang` in the README's relying-party section.
fn block(lang: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find(SECTION)
        .expect("the README's relying-party section");
    let section = &readme[start..];
    let end = section[SECTION.len()..]
        .find("\n## ")
        .map_or(section.len(), |i| i + SECTION.len());
    let fence = format!("```{lang}\n");
    let from = section[..end]
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{lang} block in the section"))
        + fence.len();
    let len = section[from..].find("```").expect("closing fence");
    section[from..from + len].to_string()
}

/// Runs the set-up block (the issuer's URL made this server's) and then `then`, in bash, with
/// this `stepmint` first on PATH and the server's data dir as the default.
fn with_setup(serve: &ServeProcess, data: &Path, extra: &str, then: &str) -> Output {
    let setup = block("sh").replace("https://localhost:8443", serve.listening());
    let bin_dir = util::bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{setup}\n{extra}\n{then}"))
        .env("PATH", path)
        .env("STEPMINT_DATA_DIR", data)
        .output()
        .expect("bash")
}

fn token_sub(out: &Output) -> String {
    let token = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("TOKEN="))
        .expect("the token on stderr")
        .to_string();
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sub"].as_str().unwrap().to_string()
}

/// Runs `command FILE` with the snippet in FILE: as the README says, then with the audience
/// changed after the token was minted (the relying party must refuse it).
fn check(file: &Path, command: &str) {
    let data = util::data_dir();
    let serve = ServeProcess::start(data.path(), &[]).unwrap();
    let run = format!("echo \"TOKEN=$TOKEN\" >&2\n{command} '{}'", file.display());
    let ok = with_setup(&serve, data.path(), "", &run);
    assert!(ok.status.success(), "{}", util::text(&ok));
    let printed = String::from_utf8_lossy(&ok.stdout).trim().to_string();
    assert_eq!(printed, token_sub(&ok), "{}", util::text(&ok));
    assert!(printed.starts_with('{'), "{printed}");

    let refused = with_setup(
        &serve,
        data.path(),
        "",
        &format!("export AUDIENCE=api://other\n{run}"),
    );
    assert!(
        !refused.status.success(),
        "accepted another audience: {}",
        util::text(&refused)
    );
}

#[test]
fn the_pyjwt_snippet_verifies_the_token_the_setup_mints() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("verify.py");
    std::fs::write(&file, block("python")).unwrap();
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    check(&file, &py);
}

#[test]
fn the_node_jose_snippet_verifies_the_token_the_setup_mints() {
    // The README says `npm install jose`; the suite uses the Node example's install of it
    // (scripts/test runs `npm ci` there), linked beside the snippet so `import "jose"` finds it.
    let modules: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/node-jose/node_modules");
    assert!(
        modules.join("jose").is_dir(),
        "examples/node-jose has no node_modules: run `npm ci` there"
    );
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
    let file = dir.path().join("verify.mjs");
    std::fs::write(&file, block("js")).unwrap();
    check(&file, "node");
}

/// The README's worked STS example, as printed, with the real AWS CLI (the venv's): the
/// workspace added, `serve --aws-role ...=examples/policies/aws-local.json` (on port 0 here, so
/// the role's policy then gets the one substitution the README documents, `localhost:8443` to
/// this server's port, through the control API), and `stepmint run ... --step 'Deploy to
/// production' -- aws sts get-caller-identity` assuming the role. The same step for another
/// repository (no `--repo-uuid`) gets `AccessDenied`.
#[test]
fn the_readme_sts_example_assumes_the_local_role() {
    use stepmint::http::api::AwsRoleRequest;
    use stepmint::http::calls::{self, NoQuery};

    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_cli = Command::new(&py)
        .args(["-c", "import awscli"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cli {
        eprintln!("skipped: {py} has no awscli (scripts/test installs it in target/py)");
        return;
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("## Will my pipeline get the role?").unwrap()..];
    let block = section
        .split("```sh\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .find(|b| b.contains("--aws-role "))
        .expect("the README's STS example");
    let commands: Vec<String> = block
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();

    let data = util::data_dir();
    let home = util::data_dir();
    let bin_dirs = [
        util::bin().parent().unwrap().to_path_buf(),
        Path::new(&py).parent().unwrap().to_path_buf(),
    ];
    let path = std::env::join_paths(
        bin_dirs
            .iter()
            .cloned()
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let shell = |line: &str| {
        Command::new("bash")
            .arg("-c")
            .arg(format!("set -euo pipefail\n{line}"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("STEPMINT_DATA_DIR", data.path())
            .env("AWS_CONFIG_FILE", home.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join("credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .output()
            .expect("bash")
    };
    let mut serve = None;
    let mut ran = None;
    for line in &commands {
        if let Some(args) = line.strip_prefix("stepmint serve ") {
            let args: Vec<&str> = args.split_whitespace().filter(|a| *a != "&").collect();
            let started = ServeProcess::start(data.path(), &args).expect("serve");
            // The one substitution: this server's issuer has its own port.
            let authority = started
                .listening()
                .trim_start_matches("https://")
                .to_string();
            let (arn, file) = args[args.iter().position(|a| *a == "--aws-role").unwrap() + 1]
                .split_once('=')
                .unwrap();
            let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap()
                .replace("localhost:8443", &authority);
            let request = AwsRoleRequest {
                arn: arn.to_string(),
                policy: serde_json::from_str(&text).unwrap(),
            };
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let control = stepmint::ControlClient::find_running(
                    &stepmint::DataDir::open(data.path()).unwrap(),
                )
                .await
                .unwrap()
                .expect("running");
                control
                    .call::<calls::PutAwsRole>(&[], &NoQuery {}, &request)
                    .await
                    .expect("role replaced");
            });
            serve = Some(started);
            continue;
        }
        let out = shell(line);
        assert!(out.status.success(), "{line}: {}", util::text(&out));
        if line.starts_with("stepmint run ") {
            ran = Some((line.clone(), out));
        }
    }
    assert!(serve.is_some(), "the example starts a server");
    let (line, out) = ran.expect("the example runs a step");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Account"], "123456789012", "{v}");
    assert!(
        v["Arn"].as_str().is_some_and(
            |a| a.starts_with("arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-")
        ),
        "{v}"
    );

    let start = line.find("--repo-uuid ").unwrap();
    let end = start + line[start..].find("} ").unwrap() + 2;
    let other_repository = format!("{}{}", &line[..start], &line[end..]);
    let out = shell(&other_repository);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("AccessDenied"),
        "{other_repository}: {}",
        util::text(&out)
    );
}
