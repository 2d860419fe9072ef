//! `stepmint::refname` against git itself: for generated names (dots, slashes, `.lock`, `@{`,
//! control characters, look-alikes), `branch_problem` agrees with `git check-ref-format
//! --branch`, run outside any repository so that `@{-1}` is not expanded.

use std::process::Command;

use proptest::prelude::*;
use stepmint::refname::{branch_problem, is_branch_name};

use crate::arb::arb_ref_name;

fn git_accepts(dir: &std::path::Path, name: &str) -> bool {
    let out = Command::new("git")
        .args(["check-ref-format", "--branch", name])
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env("GIT_CEILING_DIRECTORIES", dir)
        .output()
        .expect("git is installed");
    out.status.success()
}

fn scratch() -> &'static tempfile::TempDir {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn agrees_with_git_check_ref_format(name in arb_ref_name()) {
        let git = git_accepts(scratch().path(), &name);
        prop_assert_eq!(is_branch_name(&name), git, "{:?}: ours says {:?}", name, branch_problem(&name));
    }
}

#[test]
fn the_issues_examples_agree_with_git() {
    for (name, valid) in [
        ("main-evil", true),
        ("release/../main", false),
        ("m\u{430}in", true),
        ("main\n", false),
        ("ma\u{200b}in", true),
        (" main ", false),
        ("MAIN", true),
    ] {
        assert_eq!(is_branch_name(name), valid, "{name:?}");
        assert_eq!(
            git_accepts(scratch().path(), name),
            valid,
            "git on {name:?}"
        );
    }
    // A NUL cannot reach git as an argument; it is no branch name either.
    assert!(!is_branch_name("main\u{0}evil"));
}
