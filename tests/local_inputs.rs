//! What reaches Stepmint from the local machine and must not turn against its user: values in
//! a `probe --shell` command (never shell syntax), and recipe files (`--recipes DIR`,
//! `mint --recipe`) that are links out of their directory, FIFOs or oversized.

use std::process::Output;

use crate::util;

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_shell_command_gets_a_hostile_audience_byte_for_byte_and_runs_none_of_it() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let canary = work.path().join("ran");
    let c = canary.display();
    // Command substitutions alone; then every metacharacter.
    let audiences = [
        format!("x$(touch {c})`touch {c}`y"),
        format!("x'\"$(touch {c})`touch {c}`;touch {c}|cat&*?[a-z] $HOME \\ {{ca}}"),
    ];
    let out = |n: u8| work.path().join(format!("aud{n}"));
    // The placeholder bare, in double quotes and in single quotes, as people write them.
    let script = format!(
        "printf '%s' {{audience}} > '{}'; printf '%s' \"{{audience}}\" > '{}'; printf '%s' '{{audience}}' > '{}'; exit 0",
        out(1).display(),
        out(2).display(),
        out(3).display()
    );
    for audience in &audiences {
        let run = util::run(&[
            "probe",
            "--shell",
            "--exec",
            &script,
            "--audience",
            audience,
            "--cases",
            "alg-none",
            "--json",
            "--data-dir",
            d,
        ]);
        assert!(
            !canary.exists(),
            "the audience ran as a command:\n{}",
            text(&run)
        );
        // alg-none accepted by `exit 0`: a finding, so 1.
        assert_eq!(run.status.code(), Some(1), "{}", text(&run));
        for n in 1..=3 {
            let got = std::fs::read_to_string(out(n)).unwrap();
            assert_eq!(got, *audience, "quoting {n}");
        }
    }
}

/// Runs the CLI, failing the test (and killing it) if it has not finished within a minute: a
/// blocking read of a FIFO never would.
fn run_bounded(args: &[&str]) -> Output {
    let child = std::process::Command::new(util::bin())
        .args(args)
        .env_remove("STEPMINT_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("stepmint {args:?} blocked");
        }
    }
}

#[cfg(unix)]
#[test]
fn recipe_links_out_and_fifos_are_skipped_said_and_never_read() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("credentials");
    std::fs::write(&secret, "root:$6$SECRET-hash:19000:0:99999:7:::\n").unwrap();
    let recipes = tempfile::tempdir().unwrap();
    let r = recipes.path();
    std::fs::write(
        r.join("good.toml"),
        "name = \"no-sub\"\n[[edits]]\nop = \"remove_claim\"\nname = \"sub\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, r.join("leak.toml")).unwrap();
    let fifo = r.join("pipe.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = run_bounded(&[
        "probe",
        "--exec",
        "true",
        "--no-catalogue",
        "--recipes",
        r.to_str().unwrap(),
        "--json",
        "--data-dir",
        d,
    ]);
    let all = text(&out);
    assert!(!all.contains("SECRET"), "{all}");
    assert!(
        all.contains("skipped") && all.contains("leak.toml: a symbolic link that leads out"),
        "{all}"
    );
    assert!(
        all.contains("pipe.toml: not a regular file (a FIFO)"),
        "{all}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["case"] == "no-sub"), "{report}");
    // Named directly: refused at once, never blocked on.
    let out = run_bounded(&["mint", "--recipe", fifo.to_str().unwrap(), "--data-dir", d]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a regular file (a FIFO)"),
        "{}",
        text(&out)
    );
    // A secret named directly is not shown either.
    let out = run_bounded(&[
        "mint",
        "--recipe",
        secret.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert!(!out.status.success());
    assert!(!text(&out).contains("SECRET"), "{}", text(&out));
}
