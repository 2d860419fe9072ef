//! Workspaces are created only by `stepmint workspaces`: a typo creates nothing.

use crate::util::{self, ServeProcess};

#[test]
fn a_typo_in_a_workspace_creates_nothing_and_workspaces_are_managed_explicitly() {
    let dir = util::data_dir();
    let d = dir.path().to_str().unwrap();
    assert!(
        util::run(&["mint", "--data-dir", d]).status.success(),
        "the default workspace"
    );
    for args in [
        vec!["mint", "--workspace", "nope"],
        vec!["run", "--workspace", "nope"],
        vec!["verify", "x.y.z", "--workspace", "nope"],
        vec!["keys", "list", "--workspace", "nope"],
    ] {
        let mut args = args.clone();
        args.extend(["--data-dir", d]);
        if args[0] == "run" {
            args.extend(["--", "true"]);
        }
        let out = util::run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", util::text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no workspace `nope`") && err.contains("known: stepmint"),
            "{err}"
        );
    }
    let list = util::json(&util::run(&[
        "workspaces",
        "list",
        "--json",
        "--data-dir",
        d,
    ]));
    let slugs: Vec<&str> = list["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["stepmint"], "nothing was created");
    assert!(!dir.path().join("workspaces/nope").exists());

    let uuid = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
    let out = util::run(&[
        "workspaces",
        "add",
        &format!("acme={uuid}"),
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    let out = util::run(&["workspaces", "add", "acme", "--data-dir", d]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "added twice: {}",
        util::text(&out)
    );
    let minted = util::json(&util::run(&[
        "mint",
        "--workspace",
        "acme",
        "--json",
        "--data-dir",
        d,
    ]));
    assert_eq!(minted["claims"]["workspaceUuid"], uuid);
    let out = util::run(&[
        "mint",
        "--workspace",
        &format!("acme={uuid}"),
        "--data-dir",
        d,
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a UUID is given once, by `workspaces add`"
    );
    // Removing asks first, and refuses while a server serves the workspace.
    assert_eq!(
        util::run(&["workspaces", "remove", "acme", "--data-dir", d])
            .status
            .code(),
        Some(2)
    );
    {
        let _serve = ServeProcess::start(dir.path(), &[]).expect("serve");
        let out = util::run(&["workspaces", "remove", "acme", "--yes", "--data-dir", d]);
        assert_eq!(out.status.code(), Some(2), "{}", util::text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("running server serves"));
    }
    let out = util::run(&["workspaces", "remove", "acme", "--yes", "--data-dir", d]);
    assert!(out.status.success(), "{}", util::text(&out));
    assert!(!dir.path().join("workspaces/acme").exists());
}
