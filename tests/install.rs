//! What an installed binary and its packages rely on: the version line with its provenance,
//! `stepmint health` (the container's health check), `serve`'s settings from the environment
//! (how a container is configured), and a certificate that names the public URL's host.

use std::process::Command;

use serde_json::Value;

use crate::util::{self, ServeProcess};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_version_names_the_version_the_commit_and_the_build_date() {
    let short = stdout(&util::run(&["-V"]));
    let prefix = format!("stepmint {} (commit ", env!("CARGO_PKG_VERSION"));
    let rest = short.trim().strip_prefix(&prefix).expect(&short);
    let (commit, date) = rest.split_once(", built ").expect(&short);
    let date = date.strip_suffix(')').expect(&short);
    assert!(
        commit == "unknown" || commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "{short}"
    );
    let d: Vec<&str> = date.split('-').collect();
    assert!(
        d.len() == 3 && d.iter().all(|p| p.parse::<u32>().is_ok()) && d[0].len() == 4,
        "{short}"
    );
    let long = stdout(&util::run(&["--version"]));
    let field = |name: &str| {
        long.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no `{name}` in {long}"))
            .to_string()
    };
    assert_eq!(
        long.lines().next(),
        Some(&*format!("stepmint {}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(field("built: "), date);
    assert!(field("target: ").ends_with(", dynamic") || field("target: ").ends_with(", static"));
    // Built from this checkout: the commit is HEAD's (build.rs watches HEAD and the branch).
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(head) = head
        && head.status.success()
    {
        let head = stdout(&head).trim().to_string();
        assert_eq!(field("commit: "), head, "a stale commit in --version");
        assert!(head.starts_with(commit), "{short}");
    }
}

#[test]
fn health_says_whether_a_server_answers_on_the_data_directory() {
    let dir = util::data_dir();
    let missing = dir.path().join("not-yet");
    let o = util::run(&["health", "--data-dir", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("not ready: "), "{}", stdout(&o));
    assert!(
        !missing.exists(),
        "a health check created the data directory"
    );

    let serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let o = util::run(&[
        "health",
        "--json",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["public_url"], serve.listening());
    assert_eq!(v["health"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(serve.terminate().success());
    let o = util::run(&["health", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a stopped server still looks ready"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_its_public_url_from_the_environment_and_its_certificate_names_that_host() {
    let dir = util::data_dir();
    let public = "https://stepmint.test:9443";
    let serve = ServeProcess::start_with_env(dir.path(), &[], &[("STEPMINT_PUBLIC_URL", public)])
        .expect("serve");
    let issuer = format!("{public}/2.0/workspaces/stepmint/pipelines-config/identity/oidc");
    assert_eq!(serve.info["workspaces"][0]["issuer"], issuer);
    // A relying party that reaches the server under the public name (as through a container's
    // published port) gets a certificate for that name.
    let port: u16 = serve
        .listening()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let ca = std::fs::read(dir.path().join("ca/ca.pem")).unwrap();
    let client = util::client_builder(&ca)
        .resolve("stepmint.test", ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    let url = format!(
        "https://stepmint.test:{port}/2.0/workspaces/stepmint/pipelines-config/identity/oidc/.well-known/openid-configuration"
    );
    let discovery: Value = client
        .get(url)
        .send()
        .await
        .expect("TLS to the public name")
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer);
    assert!(serve.terminate().success());
}
