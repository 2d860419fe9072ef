//! `stepmint probe` as users run it: every example in `probe --help` and in the README works
//! when pasted; command relying parties get the placeholders and variables the docs promise;
//! recipes replay and findings save as recipes; a relying party that cannot be tested says why
//! (exit 3), and a malformed call is a usage error (exit 2).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use serde_json::Value;
use stepmint::validate::{self, Policy, RemoteKeys};
use stepmint::{Clock, SystemClock};

use crate::util::{self, ServeProcess};

struct StrictRp {
    keys: RemoteKeys,
    policy: Policy,
}

async fn handle(State(rp): State<Arc<StrictRp>>, headers: HeaderMap) -> StatusCode {
    let (token, keys) = util::bearer_and_keys(&rp.keys, &headers).await;
    let Some(keys) = keys else {
        return StatusCode::UNAUTHORIZED;
    };
    if validate::verify(&token, &keys, &rp.policy, SystemClock.now()).accepted {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// A strict HTTP relying party for `issuer` accepting its default audience or `api://deploy`.
async fn strict_rp(issuer: &str, default_audience: &str, ca: &[u8]) -> SocketAddr {
    let rp = Arc::new(StrictRp {
        keys: RemoteKeys::new(issuer, ca).unwrap(),
        policy: Policy {
            issuer: Some(issuer.into()),
            audiences: vec![default_audience.into(), "api://deploy".into()],
            ..Policy::default()
        },
    });
    let app = Router::new().fallback(any(handle)).with_state(rp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

struct Setup {
    served: util::Served,
    rp: SocketAddr,
    /// A folder to run commands in: `examples` links to the repository's, `bin/python3` to a
    /// Python with PyJWT.
    work: tempfile::TempDir,
}

fn setup() -> Setup {
    let served = util::served();
    let rp = served
        .runtime
        .block_on(strict_rp(&served.issuer, &served.aud, &served.ca));
    let work = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(repo.join("examples"), work.path().join("examples")).unwrap();
    // The console's `node` is on PATH as it is.
    std::fs::create_dir(work.path().join("bin")).unwrap();
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let py = which(&py).unwrap_or_else(|| PathBuf::from(&py));
    // A wrapper, not a link: a virtualenv's Python finds its packages from its own path.
    let wrapper = work.path().join("bin/python3");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{}' \"$@\"\n", py.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    Setup { served, rp, work }
}

fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

impl Setup {
    /// Runs `stepmint ARGS --data-dir D` in the work folder, with its `bin` first on PATH.
    fn probe(&self, args: &[String]) -> Output {
        let path = format!(
            "{}:{}",
            self.work.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(util::bin())
            .args(args)
            .args(["--data-dir", &self.served.d])
            .current_dir(self.work.path())
            .env("PATH", path)
            .env_remove("STEPMINT_DATA_DIR")
            .output()
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `stepmint probe ...` example lines: from `probe --help`, README code blocks and table cells.
fn examples() -> Vec<(String, String)> {
    let help = util::run(&["probe", "--help"]);
    let help = String::from_utf8(help.stdout).unwrap();
    let mut out: Vec<(String, String)> = help
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("stepmint probe "))
        .map(|l| ("--help".to_string(), l.to_string()))
        .collect();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut in_code = false;
    for line in readme.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if in_code && line.starts_with("stepmint probe ") {
            out.push(("README".into(), line.to_string()));
        }
        // The table of example relying parties: its "Probe it" column.
        if line.starts_with("| `examples/") {
            for cell in line.split('`').filter(|c| c.starts_with("stepmint probe ")) {
                out.push(("README table".into(), cell.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_documented_probe_example_works_as_pasted() {
    let s = setup();
    let all = examples();
    assert!(
        all.iter().filter(|(w, _)| w == "--help").count() >= 5,
        "{all:?}"
    );
    assert!(
        all.iter().filter(|(w, _)| w != "--help").count() >= 5,
        "{all:?}"
    );
    let mut ran = 0;
    for (source, line) in all {
        // The Node example needs `npm ci` in examples/node-jose (scripts/test runs it; a CI run
        // without it is a failure, a developer's run without it leaves the example out).
        let node_ready = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/node-jose/node_modules")
            .is_dir();
        if line.contains("node ") && !node_ready {
            assert!(
                std::env::var("CI").is_err(),
                "examples/node-jose has no node_modules: run `npm ci` there"
            );
            continue;
        }
        let line = line.split(" # ").next().unwrap_or(&line);
        let argv = stepmint::probe::split_command(line).unwrap();
        assert_eq!(argv[0], "stepmint");
        let args: Vec<String> = argv[1..]
            .iter()
            .map(|a| a.replace("127.0.0.1:9000", &s.rp.to_string()))
            .collect();
        let out = s.probe(&args);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{source}: `{line}` did not run as documented:\n{}",
            text(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("probe: baseline accepted"),
            "{source}: `{line}`:\n{}",
            text(&out)
        );
        ran += 1;
    }
    assert!(ran >= 10, "{ran}");
    // The saving example wrote recipes that mint again.
    let saved = s.work.path().join("findings");
    if saved.exists() {
        for entry in std::fs::read_dir(&saved).unwrap() {
            let p = entry.unwrap().path();
            let out = util::run(&[
                "mint",
                "--recipe",
                p.to_str().unwrap(),
                "--data-dir",
                &s.served.d,
            ]);
            assert!(out.status.success(), "{}: {}", p.display(), text(&out));
        }
    }
}

#[test]
fn a_command_gets_the_documented_placeholders_and_variables() {
    let s = setup();
    let issuer = s.served.serve.info["workspaces"][0]["issuer"]
        .as_str()
        .unwrap()
        .to_string();
    let ca = s.served.serve.info["ca"].as_str().unwrap().to_string();
    let seen = s.work.path().join("seen");
    // The command records what it got, then lets Stepmint's own validator decide.
    let script = format!(
        "printf '%s\\n' {{issuer}} {{audience}} {{ca}} \"$STEPMINT_ISSUER\" \"$STEPMINT_AUDIENCE\" \"$SSL_CERT_FILE\" \"$NODE_EXTRA_CA_CERTS\" > {} ; {} verify --issuer {{issuer}} --audience {{audience}} --ca {{ca}} --data-dir {} \"$BITBUCKET_STEP_OIDC_TOKEN\" >/dev/null 2>&1",
        seen.display(),
        util::bin().display(),
        s.served.d
    );
    let out = s.probe(&[
        "probe".into(),
        "--shell".into(),
        "--exec".into(),
        script,
        "--cases".into(),
        "alg-none".into(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines: Vec<String> = std::fs::read_to_string(&seen)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let aud = &lines[1];
    assert!(
        aud.starts_with("ari:cloud:bitbucket::workspace/"),
        "{lines:?}"
    );
    assert_eq!(lines[0], issuer);
    assert_eq!(lines[2], ca);
    assert_eq!(lines[3], issuer);
    assert_eq!(&lines[4], aud);
    assert!(lines[5].ends_with("bundle.pem"), "{lines:?}");
    assert_eq!(lines[6], ca);

    // Without --shell the text is split into words: `;` and `>` are plain arguments, and the
    // placeholders in arguments are filled as they are.
    let out = s.probe(&[
        "probe".into(),
        "--exec".into(),
        format!(
            "{} verify --issuer {{issuer}} --audience {{audience}} --ca {{ca}} --data-dir {} {{token}}",
            util::bin().display(),
            s.served.d
        ),
        "--cases".into(),
        "expired,alg-none".into(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn recipes_replay_and_findings_are_saved_as_recipes() {
    let s = setup();
    let recipes = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/recipes");
    // Each example recipe mints.
    let mut n = 0;
    for entry in std::fs::read_dir(&recipes).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let out = util::run(&[
                "mint",
                "--recipe",
                p.to_str().unwrap(),
                "--json",
                "--data-dir",
                &s.served.d,
            ]);
            assert!(out.status.success(), "{}: {}", p.display(), text(&out));
            n += 1;
        }
    }
    assert!(n >= 5);
    let out = util::run(&[
        "mint",
        "--recipe",
        recipes.join("aud-suffix.toml").to_str().unwrap(),
        "--json",
        "--data-dir",
        &s.served.d,
    ]);
    let minted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(minted["claims"]["aud"], "api://deploy-evil");

    // A strict relying party passes the example suite; `true` accepts the refuse ones.
    let strict = format!(
        "{} verify --issuer {{issuer}} --audience {{audience}} --ca {{ca}} --data-dir {} {{token}}",
        util::bin().display(),
        s.served.d
    );
    let run = |exec: &str, extra: &[&str]| {
        let mut args: Vec<String> = [
            "probe",
            "--exec",
            exec,
            "--recipes",
            recipes.to_str().unwrap(),
            "--no-catalogue",
            "--json",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.extend(extra.iter().map(|a| a.to_string()));
        s.probe(&args)
    };
    let out = run(&strict, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rows"].as_array().unwrap().len(), n, "{report}");
    assert!(
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["family"] == "recipe")
    );
    let out = run("true", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // `true` accepts everything: findings, saved as recipes, each of which mints again and
    // replays to the same verdict.
    let saved = s.work.path().join("saved");
    let out = s.probe(&[
        "probe".into(),
        "--exec".into(),
        "true".into(),
        "--no-catalogue".into(),
        "--fuzz".into(),
        "200".into(),
        "--seed".into(),
        "3".into(),
        "--save-findings".into(),
        saved.to_str().unwrap().into(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("fuzz-1 ACCEPTED"), "{stdout}");
    assert!(
        stdout.contains("reproduce:     stepmint mint --workspace"),
        "{stdout}"
    );
    let files: Vec<PathBuf> = std::fs::read_dir(&saved)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty());
    for f in &files {
        let out = util::run(&[
            "mint",
            "--recipe",
            f.to_str().unwrap(),
            "--data-dir",
            &s.served.d,
        ]);
        assert!(out.status.success(), "{}: {}", f.display(), text(&out));
    }
    let out = run(&strict, &[]);
    assert_eq!(out.status.code(), Some(0));
    let replay = s.probe(&[
        "probe".into(),
        "--exec".into(),
        "true".into(),
        "--recipes".into(),
        saved.to_str().unwrap().into(),
        "--no-catalogue".into(),
    ]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
}

#[test]
fn an_untestable_relying_party_says_why_and_bad_calls_are_usage_errors() {
    let s = setup();
    let p = |args: &[&str]| s.probe(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
    // Nothing listens: connection refused, exit 3.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = p(&["probe", "--url", &format!("http://{closed}/")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not be tested") && err.contains("cannot connect"),
        "{err}"
    );
    // A command that does not exist, or crashes.
    let out = p(&["probe", "--exec", "no-such-command-anywhere {token}"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("command not found: no-such-command-anywhere")
    );
    let out = p(&[
        "probe",
        "--shell",
        "--exec",
        "echo about to crash >&2; kill -SEGV $$",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("signal 11 (SIGSEGV)"),
        "{}",
        text(&out)
    );
    // A refusing command: its last stderr line is shown.
    let out = p(&[
        "probe",
        "--shell",
        "--exec",
        "echo nope: wrong audience >&2; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exit 4: nope: wrong audience"),
        "{}",
        text(&out)
    );
    // Usage errors, before anything is sent.
    for args in [
        vec!["probe", "--url", "localhost:8080/check"],
        vec![
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--header",
            "no colon",
        ],
        vec![
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--cases",
            "no-such-case",
        ],
        vec![
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--concurrency",
            "2305843009213693952",
        ],
        vec!["probe", "--url", "http://127.0.0.1:9/", "--no-catalogue"],
        vec!["probe", "--exec", "true", "--shell", "--url", "http://x/"],
    ] {
        let out = p(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}

#[test]
fn a_chatty_relying_party_cannot_exhaust_the_probe() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    // `yes` writes without end and never exits: the probe keeps a few KiB and times it out.
    // The probe's peak memory, measured by the kernel for the child, stays small.
    let script = "import resource, subprocess, sys\n\
        r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let out = Command::new(py)
        .args(["-c", script])
        .arg(util::bin())
        .args(["probe", "--exec", "yes", "--timeout", "3", "--data-dir", d])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let mut parts = said.split_whitespace();
    let code: i32 = parts.next().unwrap().parse().unwrap();
    let max_kib: u64 = parts.next().unwrap().parse().unwrap();
    assert_eq!(
        code, 3,
        "a relying party that never answers cannot be tested: {said}"
    );
    assert!(max_kib < 200 * 1024, "peak RSS {max_kib} KiB");
}

#[test]
fn junit_is_xml_whatever_the_relying_party_says_and_the_exit_status_decides() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let junit = dir.path().join("j.xml");
    // Accepts everything and says something XML cannot hold.
    let out = util::run(&[
        "probe",
        "--shell",
        "--exec",
        "printf 'ok \\357\\277\\276 \\001 <&>' >&2; exit 0",
        "--cases",
        "alg-none,expired",
        "--junit",
        junit.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    let py = std::env::var("STEPMINT_PYTHON").unwrap_or_else(|_| "python3".into());
    let parsed = Command::new(py)
        .args(["-c", "import sys, xml.etree.ElementTree as E; s = E.parse(sys.argv[1]).getroot(); print(s.get('failures'))", junit.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{}", util::text(&parsed));
    assert_eq!(String::from_utf8_lossy(&parsed.stdout).trim(), "2");
    // Exits 0 at once, leaving a child that holds its output open: accepted, not a timeout.
    let out = util::run(&[
        "probe",
        "--shell",
        "--exec",
        "sleep 30 & exit 0",
        "--cases",
        "alg-none",
        "--timeout",
        "20",
        "--json",
        "--data-dir",
        d,
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["baseline"]["observed"], "accepted", "{report}");
    assert_eq!(report["rows"][0]["observed"], "accepted", "{report}");
}
