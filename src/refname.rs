//! Git's ref-name rules, as `git check-ref-format --branch` applies them: which branch names
//! anyone who can push to a repository can create. A Bitbucket step token's `branchName` is the
//! branch the pipeline ran for, so a value these rules refuse is one Bitbucket never issues,
//! and a value they allow is one any pusher can get signed.
//!
//! The rules work on bytes, as git's do: anything at or above 0x80 (every non-ASCII character,
//! look-alikes included) is allowed.

/// Why `name` is not a branch name git would create, or `None` when it is one. Follows git's
/// `check_refname_format` for `refs/heads/{name}` plus `--branch`'s own refusals (a leading
/// `-`, and `HEAD`).
pub fn branch_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.starts_with('-') {
        return Some("it starts with `-`");
    }
    if name == "HEAD" {
        return Some("it is `HEAD`");
    }
    for b in name.bytes() {
        match b {
            0..=0x1f | 0x7f => return Some("it holds a control character"),
            b' ' => return Some("it holds a space"),
            b'~' | b'^' | b':' => return Some("it holds `~`, `^` or `:`"),
            b'?' | b'*' | b'[' => return Some("it holds `?`, `*` or `[`"),
            b'\\' => return Some("it holds a backslash"),
            _ => {}
        }
    }
    if name.contains("..") {
        return Some("it holds `..`");
    }
    if name.contains("@{") {
        return Some("it holds `@{`");
    }
    if name.ends_with('.') {
        return Some("it ends with `.`");
    }
    for component in name.split('/') {
        if component.is_empty() {
            return Some("it has an empty `/` component (leading, trailing or doubled `/`)");
        }
        if component.starts_with('.') {
            return Some("a `/` component starts with `.`");
        }
        if component.ends_with(".lock") {
            return Some("a `/` component ends with `.lock`");
        }
    }
    None
}

/// Whether git would create a branch named `name` (see [`branch_problem`]).
pub fn is_branch_name(name: &str) -> bool {
    branch_problem(name).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_pusher_can_and_cannot_name_a_branch() {
        for ok in [
            "main",
            "main-evil",
            "release/1.2",
            "m\u{430}in",
            "@",
            "a/@",
            "x/HEAD",
            "a.lock.b",
            "ma\u{200b}in",
        ] {
            assert_eq!(branch_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "release/../main",
            "main\r\n",
            "main\u{0}evil",
            " main ",
            "-x",
            "HEAD",
            "x.lock",
            "a/.b",
            "a.",
            "a//b",
            "/a",
            "a/",
            "a@{b",
            "a\\b",
            "a~1",
            "a*",
        ] {
            assert!(branch_problem(bad).is_some(), "{bad:?}");
        }
    }
}
