//! Planted violations of the rules about the tree and the other crates: circles between files
//! of one module, modules without a layer, files no crate declares, and front ends reaching
//! past the core's public surface. The base crate is [`super::planted`]'s.

use super::planted::{judge, judge_with};

#[test]
fn files_of_one_module_in_a_circle_are_caught() {
    let mid = "mod inner;\nmod a;\nmod b;\npub struct M;\n";
    let a = "use super::b::B;\npub struct A;\n";
    let b = "pub struct B;\npub fn f() {\n    let _ = super::a::A;\n}\n";
    assert_eq!(
        judge(&[
            ("src/mid/mod.rs", mid),
            ("src/mid/a.rs", a),
            ("src/mid/b.rs", b)
        ]),
        [
            "files in a circle: src/mid/a.rs -> src/mid/b.rs -> src/mid/a.rs (src/mid/a.rs:1 uses super::b::B; src/mid/b.rs:3 uses super::a::A)"
        ]
    );
}

#[test]
fn a_child_importing_its_parent_is_a_circle() {
    // mid/mod.rs re-exports from inner.rs, and inner.rs names an item of mid/mod.rs.
    let inner = "mod deep;\npub struct Thing(pub super::M);\n";
    assert_eq!(
        judge(&[("src/mid/inner.rs", inner)]),
        [
            "files in a circle: src/mid/inner.rs -> src/mid/mod.rs -> src/mid/inner.rs (src/mid/inner.rs:2 uses super::M; src/mid/mod.rs:2 uses self::inner::Thing)"
        ]
    );
}

#[test]
fn every_module_has_a_layer_and_every_file_a_crate() {
    let lib = "mod low;\nmod mid;\nmod high;\nmod extra;\nmod ghost;\n";
    assert_eq!(
        judge(&[
            ("src/lib.rs", lib),
            ("src/extra.rs", "pub fn e() {}\n"),
            ("src/orphan.rs", "pub fn o() {}\n"),
            ("src/high/api.rs", "pub struct Health;\n"),
        ]),
        [
            "src/lib.rs:5: mod ghost has neither of src/ghost.rs and src/ghost/mod.rs",
            "src/lib.rs: module `extra` is in no layer (add it to LAYERS and ARCHITECTURE.md)",
            "LAYERS names `util`, which src/lib.rs does not declare",
            "src/orphan.rs is part of no crate: no `mod` declares it",
            "src/util.rs is part of no crate: no `mod` declares it",
        ]
    );
}

#[test]
fn other_crates_use_only_the_public_surface_and_have_no_circles() {
    let main = "mod a;\nmod b;\n\
                fn main() {\n\
                \x20   let _ = (planted::H, planted::api::Health, planted::L);\n\
                \x20   let _ = planted::high::H;\n\
                \x20   a::run();\n\
                }\n";
    let a = "use planted::mid::M;\npub fn run() {\n    crate::b::go();\n}\n";
    let b = "pub fn go() {}\npub fn back() {\n    crate::a::run();\n}\n";
    assert_eq!(
        judge_with(
            &[
                ("src/bin/tool/main.rs", main),
                ("src/bin/tool/a.rs", a),
                ("src/bin/tool/b.rs", b)
            ],
            &[("tool", "src/bin/tool/main.rs")],
        ),
        [
            "src/bin/tool/a.rs:1 uses planted::mid::M: `mid` in planted is not public",
            "src/bin/tool/main.rs:5 uses planted::high::H: `high` in planted is not public",
            "modules in a circle: a -> b -> a (src/bin/tool/a.rs:3 uses crate::b::go; src/bin/tool/b.rs:3 uses crate::a::run)",
            "files in a circle: src/bin/tool/a.rs -> src/bin/tool/b.rs -> src/bin/tool/a.rs (src/bin/tool/a.rs:3 uses crate::b::go; src/bin/tool/b.rs:3 uses crate::a::run)",
        ]
    );
}

#[test]
fn path_attributes_and_crates_using_crates_are_followed() {
    // Two targets share common.rs through #[path], as the fuzz targets do; an app's main.rs
    // uses its own library crate, which uses the core.
    let one = "#[path = \"common.rs\"]\nmod common;\nfn main() {\n    common::go();\n}\n";
    let two = "#[path = \"common.rs\"]\nmod common;\nfn main() {}\n";
    let common =
        "pub fn go() {\n    let _ = planted::api::Health;\n    let _ = planted::Kind::A;\n}\n";
    let app = "mod state;\npub use state::run;\n";
    let state = "pub fn run() {}\npub(crate) fn hidden() {}\n";
    let app_main = "fn main() {\n    app::run();\n    app::state::hidden();\n}\n";
    assert_eq!(
        judge_with(
            &[
                ("fuzz/targets/one.rs", one),
                ("fuzz/targets/two.rs", two),
                ("fuzz/targets/common.rs", common),
                ("app/src/lib.rs", app),
                ("app/src/state.rs", state),
                ("app/src/main.rs", app_main),
            ],
            &[
                ("fuzz-one", "fuzz/targets/one.rs"),
                ("fuzz-two", "fuzz/targets/two.rs"),
                ("app", "app/src/lib.rs"),
                ("app-main", "app/src/main.rs"),
            ],
        ),
        [
            "fuzz/targets/common.rs:3 uses planted::Kind::A: planted has no `Kind`",
            "app/src/main.rs:3 uses app::state::hidden: `state` in app is not public",
        ]
    );
}
