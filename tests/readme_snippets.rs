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
