//! The layering rule of ARCHITECTURE.md, checked from the source of every crate: a module of the
//! core imports only from its own layer or below, no two modules and no two files import each
//! other in a circle, nothing inside the core imports through lib.rs's re-exports, and the CLI,
//! the desktop app, the fuzz targets, the examples, the benchmarks and these tests reach the core
//! only through its public surface.
//!
//! It reads Rust, not text: a tokenizer ([`lex`]) drops comments, strings and char literals; a
//! parser ([`parse`], into [`model`]) reads `use` trees with nested groups and every path in
//! code; [`tree`] builds each crate's modules as rustc does; a resolver ([`resolve`]) follows
//! `pub use` chains to the module that defines each name; [`rules`] judge the graph.
//! `planted` and `planted_crates` feed it small crates with planted violations, so it is seen
//! to fail.

mod lex;
mod model;
mod parse;
mod planted;
mod planted_crates;
mod resolve;
mod rules;
mod tree;
mod uses;

use std::path::Path;

use rules::{Analysis, Layers};
use tree::{Crate, Files, load};

/// The layers, bottom up, with the top-level modules in each (ARCHITECTURE.md's table).
const LAYERS: Layers = &[
    (
        "foundations",
        &[
            "error",
            "clock",
            "encoding",
            "store",
            "paths",
            "https",
            "pipelines",
            "refname",
            "ports",
        ],
    ),
    ("identity", &["ca", "keys", "workspace", "trust", "nss"]),
    ("validation", &["validate"]),
    ("policies", &["policy"]),
    ("tokens", &["token", "inspect", "hostile"]),
    ("issuer", &["config", "issuer", "history", "faults"]),
    ("probing", &["probe", "policy_check"]),
    ("serving", &["http", "server", "instance", "tls_faults"]),
    ("harness", &["step", "scenario"]),
];

/// What the guard reads.
pub struct Spec<'a> {
    pub layers: Layers<'a>,
    /// The core library: the name other crates use for it, and its root.
    pub core: (&'a str, &'a str),
    /// Every other crate: its name (if other crates use it) and root.
    pub others: Vec<(String, String)>,
}

/// What the guard found: every violation, and each crate's analysis (the core's first).
pub fn check(files: &Files, spec: &Spec) -> (Vec<String>, Vec<(Crate, Analysis)>) {
    let core = load(files, spec.core.0, spec.core.1);
    let others: Vec<Crate> = spec.others.iter().map(|(n, r)| load(files, n, r)).collect();
    let deps: Vec<&Crate> = std::iter::once(&core).chain(&others).collect();
    let mut found = vec![rules::check(&core, Some(spec.layers), &[])];
    found.extend(others.iter().map(|c| rules::check(c, None, &deps)));
    // A file shared by two crates (the fuzz targets' common.rs) is reported once.
    let mut seen = std::collections::BTreeSet::new();
    let mut wrong: Vec<String> = found
        .iter()
        .flat_map(|a| a.wrong.iter().cloned())
        .filter(|w| seen.insert(w.clone()))
        .collect();
    for f in files.keys() {
        if deps.iter().all(|c| !c.files.contains(f)) {
            wrong.push(format!("{f} is part of no crate: no `mod` declares it"));
        }
    }
    let crates = std::iter::once(core).chain(others).zip(found).collect();
    (wrong, crates)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_dir(dir: &str, files: &mut Files) {
    for entry in std::fs::read_dir(root().join(dir)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let rel = format!("{dir}/{name}");
        if path.is_dir() {
            read_dir(&rel, files);
        } else if name.ends_with(".rs") {
            files.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// This repository's crates, as the manifests declare them.
fn repository() -> (Files, Spec<'static>) {
    let mut files = Files::new();
    for dir in [
        "src",
        "src-tauri/src",
        "fuzz/fuzz_targets",
        "tests",
        "examples",
        "benches",
    ] {
        read_dir(dir, &mut files);
    }
    let mut others: Vec<(String, String)> = [
        ("stepmint-cli", "src/bin/stepmint/main.rs"),
        ("stepmint_desktop", "src-tauri/src/lib.rs"),
        ("stepmint-desktop-main", "src-tauri/src/main.rs"),
        ("integration-tests", "tests/tests.rs"),
        ("example-rust-rp", "examples/rust_rp.rs"),
        ("bench-core", "benches/core.rs"),
    ]
    .map(|(n, r)| (n.to_string(), r.to_string()))
    .into();
    let fuzz = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    for line in fuzz.lines() {
        if let Some(p) = line
            .strip_prefix("path = \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            others.push((format!("fuzz-{p}"), format!("fuzz/{p}")));
        }
    }
    let spec = Spec {
        layers: LAYERS,
        core: ("stepmint", "src/lib.rs"),
        others,
    };
    (files, spec)
}

/// File circles the guard found when it was made able to see them, inside modules whose
/// children import their parent; each is debt to pay, not a rule. The list may only shrink: an
/// entry that no longer matches fails the test too.
const KNOWN_FILE_CIRCLES: &[&str] = &[
    "files in a circle: src/http/api.rs -> src/http/calls.rs -> src/http/api.rs",
    "files in a circle: src/policy/aws/lint.rs -> src/policy/aws/mod.rs -> src/policy/aws/lint.rs",
    "files in a circle: src/policy/boundary.rs -> src/policy/mod.rs -> src/policy/check.rs -> src/policy/boundary.rs",
    "files in a circle: src/policy/vault/glob.rs -> src/policy/vault/mod.rs -> src/policy/vault/glob.rs",
    "files in a circle: src/policy_check/mod.rs -> src/policy_check/render.rs -> src/policy_check/mod.rs",
];

#[test]
fn every_crate_keeps_the_layers() {
    let (files, spec) = repository();
    let (wrong, _) = check(&files, &spec);
    let known = |w: &String| KNOWN_FILE_CIRCLES.iter().any(|k| w.starts_with(k));
    let new: Vec<&String> = wrong.iter().filter(|w| !known(w)).collect();
    assert!(
        new.is_empty(),
        "{}",
        new.iter()
            .map(|w| w.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for k in KNOWN_FILE_CIRCLES {
        assert!(
            wrong.iter().any(|w| w.starts_with(k)),
            "`{k}` is fixed: remove it from KNOWN_FILE_CIRCLES"
        );
    }
}

#[test]
fn the_guard_reads_the_whole_graph() {
    let (files, spec) = repository();
    let (_, crates) = check(&files, &spec);
    let (core, a) = &crates[0];
    // Every file of every crate is read, and the edges the code is known to have are seen.
    assert!(core.mods.len() > 60, "{} modules", core.mods.len());
    assert!(
        a.modules["issuer"].contains_key("hostile"),
        "{:?}",
        a.modules["issuer"]
    );
    assert!(
        a.modules["probe"].contains_key("issuer"),
        "{:?}",
        a.modules["probe"]
    );
    assert!(a.files["src/hostile/mod.rs"].contains_key("src/hostile/cases.rs"));
    let fuzz = crates
        .iter()
        .filter(|(c, _)| c.name.starts_with("fuzz-"))
        .count();
    assert!(fuzz >= 5, "{fuzz} fuzz targets");
    let (cli, a) = crates
        .iter()
        .find(|(c, _)| c.name == "stepmint-cli")
        .unwrap();
    assert!(cli.files.len() > 10 && a.files.len() > 5, "{:?}", a.files);
    assert!(
        crates
            .iter()
            .any(|(c, _)| c.files.contains("tests/layers/planted.rs"))
    );
}
