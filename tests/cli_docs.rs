//! What a command-line tool is expected to carry: shell completions and man pages.

use crate::util;

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
    // The whole manual: the root page, then every command's, examples kept line by line under
    // EXAMPLES (not reflowed under clap_mangen's "EXTRA").
    let man = util::run(&["man"]);
    assert!(man.status.success());
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH stepmint 1"), "{page}");
    assert!(!page.contains(".SH EXTRA"), "{page}");
    for command in ["stepmint mint", "stepmint probe", "stepmint fault set"] {
        assert!(page.contains(&format!(".SH \"{command}\"")), "{command}");
    }
    let examples = page.split(".SH EXAMPLES\n.nf\n").nth(1).unwrap_or_default();
    let first = examples.split("\n.fi").next().unwrap_or_default();
    assert!(first.lines().count() >= 3, "{first}");
    assert!(
        first
            .lines()
            .all(|l| l.starts_with("stepmint") || l.starts_with("eval")),
        "{first}"
    );

    let one = util::run(&["man", "fault set"]);
    assert!(one.status.success());
    let page = String::from_utf8_lossy(&one.stdout);
    assert!(page.contains(".TH stepmint-fault-set 1"), "{page}");
    assert!(page.contains("stepmint fault set"), "{page}");
    let unknown = util::run(&["man", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("probe"));

    let dir = util::data_dir();
    let out = util::run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    for page in ["stepmint.1", "stepmint-mint.1", "stepmint-policy-check.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(text.contains(".SH EXAMPLES"), "{page}");
    }
    assert!(dir.path().join("stepmint-fault-set.1").is_file());
}
