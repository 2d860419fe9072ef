//! A newcomer's second round (#25): what the CLI says on a fresh data directory, what `serve`
//! does for good, and a dead server's record.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util;

/// Waits (up to a minute) for a stderr line of `serve` containing `needle`.
fn stderr_line(serve: &util::ServeProcess, needle: &str) -> String {
    let mut seen = Vec::new();
    while let Ok(line) = serve.stderr.recv_timeout(Duration::from_secs(60)) {
        if line.contains(needle) {
            return line;
        }
        seen.push(line);
    }
    panic!("no stderr line with {needle:?}: {seen:#?}");
}

#[test]
fn fresh_directory_errors_say_the_exact_next_step() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // An unknown workspace names the command that creates it, for this data directory.
    let out = util::run(&["mint", "--workspace", "acme", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("`stepmint workspaces add acme --data-dir {d}`")),
        "{err}"
    );
    // A TOML error's excerpt keeps its lines.
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "port = \"x\n").unwrap();
    let out = util::run(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TOML parse error"), "{err}");
    assert!(!err.contains("\\n"), "{err}");
    assert!(err.lines().count() > 2, "{err}");
    // A bare probe names every way to say what to probe.
    let out = util::run(&["probe", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--url") && err.contains("--exec"), "{err}");
}

#[test]
fn serve_says_what_it_created_and_every_listing_shows_the_default_audience() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(
        util::run(&["workspaces", "add", "stepmint", "--data-dir", d])
            .status
            .success()
    );
    let serve = util::ServeProcess::start(dir.path(), &["--workspace", "acme"]).expect("serve");
    let created = stderr_line(&serve, "created workspace `acme`");
    assert!(
        created.contains(&format!(
            "stepmint workspaces remove acme --yes --data-dir {d}"
        )),
        "{created}"
    );
    let moved = stderr_line(&serve, "now use `acme`");
    assert!(moved.contains("no longer `stepmint`"), "{moved}");
    let served = &serve.info["workspaces"][0];
    let uuid = served["uuid"].as_str().unwrap().trim_matches(['{', '}']);
    let audience = format!("ari:cloud:bitbucket::workspace/{uuid}");
    assert_eq!(served["default_audience"], audience.as_str());
    drop(serve);

    let list = util::run(&["workspaces", "list", "--data-dir", d]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains(&format!("default audience {audience}")),
        "{}",
        util::text(&list)
    );
    let list = util::json(&util::run(&[
        "workspaces",
        "list",
        "--json",
        "--data-dir",
        d,
    ]));
    assert_eq!(list["workspaces"][0]["default_audience"], audience.as_str());

    // The human banner too.
    let mut child = Command::new(util::bin())
        .args([
            "serve",
            "--port",
            "0",
            "--workspace",
            "acme",
            "--data-dir",
            d,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    for line in stdout.lines().map_while(Result::ok) {
        let last = line.contains("Ctrl-C");
        banner.push_str(&line);
        banner.push('\n');
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        banner.contains(&format!("audience:  {audience}")),
        "{banner}"
    );
}

#[test]
fn a_killed_servers_record_is_ignored_with_a_note() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let mut serve = util::ServeProcess::start(dir.path(), &[]).expect("serve");
    let port = serve.listening().rsplit(':').next().unwrap().to_string();
    // SIGKILL and no wait: the process stays a zombie until reaped, as under a careless parent.
    serve.child.kill().unwrap();
    let out = util::run(&["mint", "--json", "--data-dir", d]);
    assert!(out.status.success(), "{}", util::text(&out));
    let minted = util::json(&out);
    let iss = minted["claims"]["iss"].as_str().unwrap();
    assert!(iss.starts_with("https://localhost:8443/"), "{iss}");
    assert!(!iss.contains(&port), "{iss}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.json") && err.contains("not running"),
        "{err}"
    );
}

#[test]
fn probe_output_says_untested_lines_up_and_leaves_no_staged_key() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    // A refused baseline: the relying party could not be tested, not "strict".
    let out = util::run(&["probe", "--exec", "false", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(3), "{}", util::text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let baseline = table.lines().find(|l| l.starts_with("valid ")).unwrap();
    assert!(
        baseline.contains("UNTESTED") && !baseline.contains("STRICT"),
        "{table}"
    );

    // Long names: every column starts where its heading does.
    let recipes = dir.path().join("recipes");
    std::fs::create_dir(&recipes).unwrap();
    let long = "a-recipe-name-longer-than-the-case-column-of-the-table";
    let longer = format!("{long}-and-longer-than-any-column-should-ever-grow");
    for (file, name) in [("long.toml", long), ("longer.toml", longer.as_str())] {
        std::fs::write(
            recipes.join(file),
            format!("name = \"{name}\"\n[[edits]]\nop = \"remove_claim\"\nname = \"branchName\"\n"),
        )
        .unwrap();
    }
    let out = util::run(&[
        "probe",
        "--exec",
        "true",
        "--no-catalogue",
        "--recipes",
        recipes.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    let mut lines = table
        .lines()
        .take_while(|l| !l.is_empty() && !l.starts_with("probe: "));
    let heading = lines.next().unwrap();
    let at = heading[..heading.find("expected").unwrap()].chars().count();
    let mut rows = 0;
    for row in lines {
        let cells: String = row.chars().skip(at).take(6).collect();
        assert!(
            cells == "accept" || cells == "refuse",
            "misaligned at column {at}: {row:?}\n{table}"
        );
        rows += 1;
    }
    assert_eq!(rows, 3, "{table}");
    assert!(table.contains(long), "{table}");
    assert!(table.contains('…'), "{table}");

    // A case that stages a key takes it away; a key staged before the run stays.
    let keys = |d: &str| util::json(&util::run(&["keys", "list", "--json", "--data-dir", d]));
    let staged = |v: &serde_json::Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["state"] == "staged")
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let fresh = util::data_dir();
    let f = fresh.path().to_str().unwrap();
    let out = util::run(&[
        "probe",
        "--exec",
        "true",
        "--cases",
        "kid-not-yet-published",
        "--data-dir",
        f,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    assert_eq!(staged(&keys(f)), Vec::<String>::new(), "{}", keys(f));
    let out = util::run(&["keys", "add", "--alg", "RS256", "--staged", "--data-dir", f]);
    assert!(out.status.success(), "{}", util::text(&out));
    let before = staged(&keys(f));
    assert_eq!(before.len(), 1, "{}", keys(f));
    let out = util::run(&[
        "probe",
        "--exec",
        "true",
        "--cases",
        "kid-not-yet-published",
        "--data-dir",
        f,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    assert_eq!(staged(&keys(f)), before, "{}", keys(f));
}

#[test]
fn minting_for_a_workspace_the_server_does_not_serve_warns() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let serve = util::ServeProcess::start(dir.path(), &[]).expect("serve");
    let out = util::run(&["workspaces", "add", "late", "--data-dir", d]);
    assert!(out.status.success(), "{}", util::text(&out));
    let out = util::run(&["mint", "--workspace", "late", "--data-dir", d]);
    assert!(out.status.success(), "{}", util::text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not serve `late`") && err.contains("restarted"),
        "{err}"
    );
    let out = util::run(&["mint", "--workspace", "stepmint", "--data-dir", d]);
    assert!(out.status.success(), "{}", util::text(&out));
    assert!(out.stderr.is_empty(), "{}", util::text(&out));
    drop(serve);
}

#[test]
fn a_busy_port_names_port_0_and_who_holds_it() {
    let dir = util::data_dir();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let out = util::run(&[
        "serve",
        "--port",
        &port,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--port 0"), "{err}");
    if cfg!(target_os = "linux") {
        // This test's own process holds it.
        assert!(
            err.contains(&format!("held by pid {}:", std::process::id())),
            "{err}"
        );
    }
}
