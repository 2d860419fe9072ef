//! The layering rule of ARCHITECTURE.md, checked from the source: a module imports only from its
//! own layer or below, no two modules import each other in a circle, and no two files do.
//!
//! Imports are read as text: every `crate::a::b` and `super::x` path (with `use` groups
//! expanded), and in a `mod.rs` or `lib.rs` every path through a child it declares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom up, with the modules in each (ARCHITECTURE.md's table).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &["error", "clock", "encoding", "store", "paths", "client"],
    ),
    ("identity", &["ca", "keys", "workspace", "trust"]),
    ("validation", &["validate"]),
    ("policies", &["policy"]),
    ("tokens", &["token", "inspect", "hostile"]),
    ("issuer", &["config", "issuer", "history", "faults"]),
    ("probing", &["probe"]),
    ("serving", &["http", "server", "instance", "tls_faults"]),
    (
        "harness",
        &["step", "pipelines", "scenario", "policy_check"],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bin") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/hostile/cases.rs` is `["hostile", "cases"]`, a `mod.rs` is its
/// folder, `lib.rs` is `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file that defines module path `m`, or of its longest prefix that has one.
fn file_of(m: &[String], files: &BTreeMap<Vec<String>, PathBuf>) -> Option<PathBuf> {
    (0..=m.len())
        .rev()
        .find_map(|n| files.get(&m[..n]).cloned())
}

/// Code without comments and string contents (so `"crate::x"` in a message is no import).
fn code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                '\n' => out.push('\n'),
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                in_str = true;
                out.push('"');
            }
            // A char literal like '"' must not open a string.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\"'") || rest.starts_with("\\\"") {
                    out.push_str("' '");
                    chars.next();
                    chars.next();
                    if rest.starts_with("\\\"") {
                        chars.next();
                    }
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every path that starts at `root::` in `code`, as segments after the root (groups expanded
/// one level: `crate::{a, b::c}` gives `[a]`, `[b, c]`).
fn paths_from(code: &str, root: &str) -> Vec<Vec<String>> {
    let needle = format!("{root}::");
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(i) = code[start..].find(&needle) {
        let at = start + i;
        start = at + needle.len();
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut segs = Vec::new();
        let mut rest = &code[start..];
        loop {
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let item = item.trim();
                    let mut full = segs.clone();
                    full.extend(
                        item.split("::")
                            .map(ident)
                            .filter(|s| !s.is_empty() && s != "self"),
                    );
                    out.push(full);
                }
                segs.clear();
                break;
            }
            let id = ident(rest);
            if id.is_empty() {
                break;
            }
            segs.push(id.clone());
            rest = &rest[id.len()..];
            match rest.strip_prefix("::") {
                Some(r) => rest = r,
                None => break,
            }
        }
        if !segs.is_empty() {
            out.push(segs);
        }
    }
    out
}

struct Graph {
    /// File → files it imports from.
    files: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    /// Top-level module → top-level modules it imports from.
    modules: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let mut list = Vec::new();
    rust_files(&src(), &mut list);
    let files: BTreeMap<Vec<String>, PathBuf> =
        list.iter().map(|f| (module_of(f), f.clone())).collect();
    let mut g = Graph {
        files: BTreeMap::new(),
        modules: BTreeMap::new(),
    };
    for file in &list {
        let here = module_of(file);
        let text = code(&std::fs::read_to_string(file).unwrap());
        // Test modules may reach anywhere.
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        let mut targets: Vec<Vec<String>> = Vec::new();
        for p in paths_from(&text, "crate") {
            targets.push(p);
        }
        let is_mod = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        let parent: Vec<String> = if is_mod {
            here.clone()
        } else {
            here[..here.len().saturating_sub(1)].to_vec()
        };
        for p in paths_from(&text, "super") {
            // `super` of a file is its folder's module; of a mod.rs, the folder above.
            let mut m = if is_mod {
                here[..here.len().saturating_sub(1)].to_vec()
            } else {
                parent.clone()
            };
            m.extend(p);
            targets.push(m);
        }
        if is_mod {
            // Paths through a declared child: `cases::find`, `pub use ring::KeyRing`.
            let children: Vec<String> = text
                .lines()
                .filter_map(|l| {
                    let l = l.trim();
                    let l = l.strip_prefix("pub ").unwrap_or(l);
                    let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
                    l.strip_prefix("mod ")
                        .filter(|r| r.ends_with(';'))
                        .map(|r| r.trim_end_matches(';').trim().to_string())
                })
                .collect();
            for child in children {
                for p in paths_from(&text, &child) {
                    let mut m = here.clone();
                    m.push(child.clone());
                    m.extend(p);
                    targets.push(m);
                }
            }
        }
        for t in targets {
            let Some(to) = file_of(&t, &files) else {
                continue;
            };
            // lib.rs only declares modules and re-exports (`crate::Result`): no layer.
            if &to == file || to.ends_with("lib.rs") {
                continue;
            }
            g.files.entry(file.clone()).or_default().insert(to.clone());
            let (Some(a), Some(b)) = (here.first(), module_of(&to).first().cloned()) else {
                continue;
            };
            if *a != b {
                g.modules.entry(a.clone()).or_default().insert(b);
            }
        }
    }
    g
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// A circle in `edges`, as the path that closes it.
fn find_cycle<T: Ord + Clone + std::fmt::Debug>(
    edges: &BTreeMap<T, BTreeSet<T>>,
) -> Option<Vec<T>> {
    fn visit<T: Ord + Clone>(
        n: &T,
        edges: &BTreeMap<T, BTreeSet<T>>,
        state: &mut BTreeMap<T, u8>,
        stack: &mut Vec<T>,
    ) -> Option<Vec<T>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m) {
                Some(1) => {
                    let from = stack.iter().position(|x| x == m).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if !state.contains_key(n) {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, edges, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn every_module_has_a_layer_and_imports_only_its_own_or_lower() {
    let g = graph();
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut wrong = Vec::new();
    for line in lib.lines() {
        let l = line.trim();
        let l = l.strip_prefix("pub ").unwrap_or(l);
        if let Some(m) = l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';'))
            && layer(m).is_none()
        {
            wrong.push(format!("`{m}` is in no layer of tests/layers.rs"));
        }
    }
    for (from, tos) in &g.modules {
        let Some(lf) = layer(from) else { continue };
        for to in tos {
            if let Some(lt) = layer(to)
                && lt > lf
            {
                wrong.push(format!(
                    "{from} ({}) imports {to} ({}), a layer above",
                    LAYERS[lf].0, LAYERS[lt].0
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The graph is read at all: the issuer imports tokens, the probe imports the issuer.
    assert!(g.modules["issuer"].contains("hostile"), "{:?}", g.modules);
    assert!(g.modules["probe"].contains("issuer"), "{:?}", g.modules);
}

#[test]
fn no_modules_or_files_import_each_other_in_a_circle() {
    let g = graph();
    assert_eq!(find_cycle(&g.modules), None, "modules in a circle");
    let rel: BTreeMap<String, BTreeSet<String>> = g
        .files
        .iter()
        .map(|(k, v)| {
            let name = |p: &PathBuf| p.strip_prefix(src()).unwrap().display().to_string();
            (name(k), v.iter().map(name).collect())
        })
        .collect();
    assert_eq!(find_cycle(&rel), None, "files in a circle");
    assert!(
        rel["hostile/mod.rs"].contains("hostile/cases.rs"),
        "a mod.rs's paths through its children are read: {:?}",
        rel["hostile/mod.rs"]
    );
}

#[test]
fn the_checks_can_fail() {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    edges.entry("a").or_default().insert("b");
    edges.entry("b").or_default().insert("c");
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c").or_default().insert("a");
    assert_eq!(find_cycle(&edges), Some(vec!["a", "b", "c", "a"]));
    let text = code("use crate::{a, b::c}; // crate::d\nlet s = \"crate::e\"; super::f::g();");
    assert_eq!(
        paths_from(&text, "crate"),
        vec![vec!["a".to_string()], vec!["b".into(), "c".into()]]
    );
    assert_eq!(
        paths_from(&text, "super"),
        vec![vec!["f".to_string(), "g".into()]]
    );
    assert!(layer("probe") > layer("issuer") && layer("hostile") < layer("issuer"));
}
