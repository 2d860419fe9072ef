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
