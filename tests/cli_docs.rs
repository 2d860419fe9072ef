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
