//! The front end's types are generated from the control API's Rust types (`api::typescript`)
//! into `ui/src/generated/api.ts`; a stale file fails here, so a renamed field cannot silently
//! break a screen. `STEPMINT_BLESS=1` rewrites the file.

use std::path::Path;

fn generated() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/generated/api.ts")
}

#[test]
fn the_generated_typescript_is_current() {
    let want = stepmint::api::typescript();
    if std::env::var_os("STEPMINT_BLESS").is_some() {
        std::fs::write(generated(), want.as_bytes()).unwrap();
        return;
    }
    let have = std::fs::read_to_string(generated()).unwrap_or_default();
    assert!(
        have == want,
        "ui/src/generated/api.ts is stale: run `STEPMINT_BLESS=1 cargo test --test integration api_types` and commit it"
    );
}

#[test]
fn every_type_a_declaration_names_is_declared() {
    let ts = stepmint::api::typescript();
    let declared: std::collections::BTreeSet<&str> = ts
        .lines()
        .filter_map(|l| l.strip_prefix("export type "))
        .filter_map(|l| l.split([' ', '<']).next())
        .collect();
    for name in [
        "Status",
        "KeyView",
        "WorkspaceDetails",
        "RequestRecord",
        "FaultEntry",
        "Fault",
        "MintedToken",
        "MintRequest",
        "Inspection",
        "HistoryEntry",
        "ProbeReport",
        "ProbeOptions",
        "ProbeProgress",
        "CaseSummary",
        "JsonValue",
    ] {
        assert!(
            declared.contains(name),
            "{name} is not declared: {declared:?}"
        );
    }
    assert!(
        !ts.contains("bigint"),
        "JSON numbers are `number` in JavaScript"
    );
    // Every capitalised name used on a right-hand side (outside comments and string
    // literals) is declared in the same file.
    for decl in ts.split("export type ").skip(1) {
        let (name, rhs) = decl.split_once(" = ").unwrap();
        let mut code = String::new();
        let mut rest = rhs;
        while let Some(at) = rest.find("/**") {
            code.push_str(&rest[..at]);
            rest = rest[at..].split_once("*/").map_or("", |(_, after)| after);
        }
        code.push_str(rest);
        let mut word = String::new();
        let mut in_string = false;
        for c in code.chars().chain([' ']) {
            if c == '"' {
                in_string = !in_string;
                word.clear();
                continue;
            }
            if in_string {
                continue;
            }
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
                continue;
            }
            let ok = word.is_empty()
                || !word.starts_with(|ch: char| ch.is_ascii_uppercase())
                || declared.contains(word.as_str())
                || ["Array", "Record"].contains(&word.as_str());
            assert!(ok, "`{word}` in the declaration of {name} is not declared");
            word.clear();
        }
    }
}
