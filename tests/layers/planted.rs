//! The guard proven able to fail: small in-memory crates, each with one trick or one planted
//! violation, and the exact messages the guard must give. A clean base crate comes first, so
//! every message below is caused by the planted change alone.

use super::lex::{Tok, tokens};
use super::rules::Layers;
use super::tree::Files;
use super::{Spec, check};

const LAYERS: Layers = &[
    ("low", &["low", "util"]),
    ("mid", &["mid"]),
    ("high", &["high"]),
];

/// Three layers; `mid` re-exports from a child with `pub(crate) use`, `high` through a glob, and
/// lib.rs re-exports `high::api` as `api` (a facade, like the core's).
const BASE: &[(&str, &str)] = &[
    (
        "src/lib.rs",
        "mod low;\nmod util;\nmod mid;\nmod high;\npub use high::{H, api};\npub use low::L;\n",
    ),
    ("src/low.rs", "pub struct L;\n"),
    ("src/util.rs", "pub fn u() {}\n"),
    (
        "src/mid/mod.rs",
        "mod inner;\npub(crate) use self::inner::Thing;\npub struct M;\n",
    ),
    ("src/mid/inner.rs", "mod deep;\npub struct Thing;\n"),
    ("src/mid/inner/deep.rs", "pub fn d() {}\n"),
    (
        "src/high/mod.rs",
        "pub mod api;\nmod kinds;\npub use kinds::*;\npub struct H;\n",
    ),
    (
        "src/high/api.rs",
        "pub use crate::util::u;\npub struct Health;\n",
    ),
    ("src/high/kinds.rs", "pub enum Kind { A }\n"),
];

/// The violations in the base crate with `changes` (a path's new text; new paths are added).
pub fn judge(changes: &[(&str, &str)]) -> Vec<String> {
    judge_with(changes, &[])
}

/// As [`judge`], with other crates (name, root) beside the core, which is called `planted`.
pub fn judge_with(changes: &[(&str, &str)], others: &[(&str, &str)]) -> Vec<String> {
    let mut files: Files = BASE
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    for (p, s) in changes {
        files.insert(p.to_string(), s.to_string());
    }
    let spec = Spec {
        layers: LAYERS,
        core: ("planted", "src/lib.rs"),
        others: others
            .iter()
            .map(|(n, r)| (n.to_string(), r.to_string()))
            .collect(),
    };
    check(&files, &spec).0
}

fn none() -> Vec<String> {
    Vec::new()
}

#[test]
fn the_base_crate_is_clean() {
    assert_eq!(judge(&[]), none());
}

#[test]
fn comments_of_every_kind_are_not_code() {
    let low = "//! Docs naming crate::high::H.\n\
               /// crate::high::H\n\
               /* crate::high::H /* nested crate::high::H */ still a comment: crate::high::H */\n\
               /** crate::high::H */\n\
               pub struct L; // crate::high::H\n";
    assert_eq!(judge(&[("src/low.rs", low)]), none());
}

#[test]
fn strings_and_char_literals_are_not_code() {
    let low = r###"pub struct L;
pub fn f<'a>(x: &'a str) -> &'a str {
    let _ = r#"use crate::high::H; "#;
    let _ = r##"a "# crate::high::H"##;
    let _ = (b"crate::high::H", br#"crate::high::H"#, c"crate::high::H");
    let _ = "escaped \" crate::high::H";
    let _ = ('"', '\'', b'"', '\u{22}', '\\');
    let _ = "crate::high::H";
    x
}
"###;
    assert_eq!(judge(&[("src/low.rs", low)]), none());
}

#[test]
fn paths_in_attributes_count_even_in_strings_serde_reads() {
    let low = "#[doc = \"crate::high::H is only named here\"]\n\
               #[derive(crate::mid::Derive)]\n\
               pub struct L {\n\
               \x20   #[serde(rename = \"crate::high\", serialize_with = \"crate::high::api::ser\")]\n\
               \x20   x: u8,\n\
               }\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        [
            "src/low.rs:2 uses crate::mid::Derive: planted::mid has no `Derive`",
            "src/low.rs:4 uses crate::high::api::ser: planted::high::api has no `ser`",
        ]
    );
    let mid = "mod inner;\npub struct M;\npub fn ser() {}\n";
    let high = "pub mod api;\nmod kinds;\npub use kinds::*;\npub struct H;\npub fn ser() {}\n";
    let low = "pub struct L {\n    #[serde(serialize_with = \"crate::high::ser\", default = \"crate::mid::ser\")]\n    x: u8,\n}\n";
    assert_eq!(
        judge(&[
            ("src/low.rs", low),
            ("src/mid/mod.rs", mid),
            ("src/high/mod.rs", high)
        ]),
        [
            "src/low.rs:2 uses crate::high::ser = high (high) from low (low)",
            "src/low.rs:2 uses crate::mid::ser = mid (mid) from low (low)",
        ]
    );
}

#[test]
fn a_path_in_an_expression_is_an_import() {
    let low = "pub struct L;\n\
               pub fn f() {\n\
               \x20   let _q = '\"';\n\
               \x20   let _h = crate::high::H;\n\
               \x20   let _n = std::mem::size_of::<crate::mid::M>();\n\
               }\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        [
            "src/low.rs:4 uses crate::high::H = high (high) from low (low)",
            "src/low.rs:5 uses crate::mid::M = mid (mid) from low (low)",
        ]
    );
}

#[test]
fn an_upward_import_hidden_in_nested_groups_is_caught() {
    let low = "use crate::{util::{self, u}, low::L as _, mid::{self as m, M}, high::{H}};\n\
               pub struct L;\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        [
            "src/low.rs:1 uses crate::mid = mid (mid) from low (low)",
            "src/low.rs:1 uses crate::mid::M = mid (mid) from low (low)",
            "src/low.rs:1 uses crate::high::H = high (high) from low (low)",
        ]
    );
}

#[test]
fn a_facade_re_export_chain_closing_a_circle_is_caught() {
    // The review's finding in miniature: a foundation names `crate::api::Health`, which lib.rs
    // re-exports from the serving layer, whose `api` re-exports from the foundation.
    let util =
        "pub fn u() {}\npub fn health() -> crate::api::Health {\n    crate::api::Health\n}\n";
    assert_eq!(
        judge(&[("src/util.rs", util)]),
        [
            "src/util.rs:2 uses crate::api::Health through lib.rs's re-exports: import it from high::api",
            "src/util.rs:2 uses crate::api::Health = high::api (high) from util (low)",
            "src/util.rs:3 uses crate::api::Health through lib.rs's re-exports: import it from high::api",
            "src/util.rs:3 uses crate::api::Health = high::api (high) from util (low)",
            "modules in a circle: high -> util -> high (src/high/api.rs:1 uses crate::util::u; src/util.rs:2 uses crate::api::Health)",
            "files in a circle: src/high/api.rs -> src/util.rs -> src/high/api.rs (src/high/api.rs:1 uses crate::util::u; src/util.rs:2 uses crate::api::Health)",
        ]
    );
}

#[test]
fn a_facade_import_of_an_allowed_item_is_still_caught() {
    let mid = "mod inner;\npub struct M(pub crate::L);\n";
    assert_eq!(
        judge(&[("src/mid/mod.rs", mid)]),
        ["src/mid/mod.rs:2 uses crate::L through lib.rs's re-exports: import it from low"]
    );
}

#[test]
fn re_exports_resolve_to_the_defining_module() {
    // `pub(crate) use self::inner::Thing` in mid/mod.rs; `pub use kinds::*` in high/mod.rs.
    let low = "use crate::mid::Thing;\nuse crate::high::Kind;\npub struct L;\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        [
            "src/low.rs:1 uses crate::mid::Thing = mid::inner (mid) from low (low)",
            "src/low.rs:2 uses crate::high::Kind = high::kinds (high) from low (low)",
        ]
    );
}

#[test]
fn renames_and_local_imports_hide_nothing() {
    let low = "use crate::high as h;\n\
               pub struct L;\n\
               pub fn f() {\n\
               \x20   let _ = h::H;\n\
               \x20   use crate::mid::M as Harmless;\n\
               \x20   let _ = Harmless;\n\
               }\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        [
            "src/low.rs:1 uses crate::high = high (high) from low (low)",
            "src/low.rs:4 uses h::H = high (high) from low (low)",
            "src/low.rs:5 uses crate::mid::M = mid (mid) from low (low)",
        ]
    );
}

#[test]
fn super_and_self_paths_are_followed() {
    // deep.rs is mid::inner::deep: two `super`s are mid, three the crate root.
    let deep = "use super::super::M;\n\
                pub fn d() {\n\
                \x20   let _ = (M, self::helper(), super::super::super::high::H);\n\
                }\n\
                fn helper() {}\n";
    assert_eq!(
        judge(&[("src/mid/inner/deep.rs", deep)]),
        [
            "src/mid/inner/deep.rs:3 uses super::super::super::high::H = high (high) from mid::inner::deep (mid)"
        ]
    );
    let too_far = "pub fn d() {\n    super::super::super::super::x();\n}\n";
    assert_eq!(
        judge(&[("src/mid/inner/deep.rs", too_far)]),
        [
            "src/mid/inner/deep.rs:2 uses super::super::super::super::x: `super` goes above the crate root"
        ]
    );
}

#[test]
fn macros_paths_count_and_test_code_does_not() {
    let low = "pub struct L;\n\
               macro_rules! h { () => { $crate::high::H }; }\n\
               #[cfg(test)]\n\
               mod tests {\n\
               \x20   use crate::high::H;\n\
               }\n\
               #[cfg(test)]\n\
               use crate::mid::M as _;\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        ["src/low.rs:2 uses crate::high::H = high (high) from low (low)"]
    );
}

#[test]
fn a_crate_naming_itself_is_a_crate_path() {
    let lib = "extern crate self as planted;\nmod low;\nmod util;\nmod mid;\nmod high;\n";
    let low = "use planted::high::H;\npub struct L;\n";
    let api = "pub struct Health;\n";
    assert_eq!(
        judge(&[
            ("src/lib.rs", lib),
            ("src/low.rs", low),
            ("src/high/api.rs", api)
        ]),
        ["src/low.rs:1 uses planted::high::H = high (high) from low (low)"]
    );
}

#[test]
fn a_path_that_names_nothing_is_an_error() {
    let low =
        "use crate::nowhere::X;\npub struct L;\npub fn f() {\n    crate::mid::Nothing::new();\n}\n";
    assert_eq!(
        judge(&[("src/low.rs", low)]),
        [
            "src/low.rs:1 uses crate::nowhere::X: planted has no `nowhere`",
            "src/low.rs:4 uses crate::mid::Nothing::new: planted::mid has no `Nothing`",
        ]
    );
}

#[test]
fn the_tokenizer_reads_rust() {
    let idents = |src: &str| -> Vec<String> {
        tokens(src)
            .unwrap()
            .into_iter()
            .filter_map(|t| match t.tok {
                Tok::Ident(s) => Some(s),
                _ => None,
            })
            .collect()
    };
    assert_eq!(idents("r#type /* a /* b */ c */ 'a' 'b x"), ["type", "x"]);
    assert_eq!(idents("b'x' br\"y\" r##\"z\"# w\"## v"), ["v"]);
    assert_eq!(idents("1.max(2) 0x1F_u8 3..4"), ["max"]);
    let lines: Vec<usize> = tokens("a\n/* \n */ b\n\"\n\" c")
        .unwrap()
        .iter()
        .map(|t| t.line)
        .collect();
    assert_eq!(lines, [1, 3, 4, 5]);
    assert_eq!(
        tokens("a \"open"),
        Err("1: unterminated string".to_string())
    );
    assert_eq!(
        tokens("/* /* */"),
        Err("1: unterminated block comment".to_string())
    );
    assert_eq!(
        judge(&[(
            "src/mid/inner/deep.rs",
            "pub fn d() {}\nconst S: &str = r#\"open;\n"
        )]),
        ["src/mid/inner/deep.rs:2: unterminated raw string"]
    );
}
