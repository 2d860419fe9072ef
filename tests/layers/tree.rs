//! A crate's module tree, built from its root the way rustc does: `mod x;` is `x.rs` or
//! `x/mod.rs` beside a `mod.rs` or crate root, and under `foo/` beside `foo.rs`; `#[path]` is
//! honoured, inline `mod x { }` too. A file that cannot be read or found is an error, not a gap.

use std::collections::{BTreeMap, BTreeSet};

use super::lex::tokens;
use super::model::{Body, ModSrc, Vis};
use super::parse::parse;

/// Source files by path (`src/http/api.rs`), from disk or planted by a test.
pub type Files = BTreeMap<String, String>;

#[derive(Debug)]
pub struct Module {
    /// Path from the crate root (`["http", "api"]`; the root is `[]`).
    pub path: Vec<String>,
    pub file: String,
    pub parent: Option<usize>,
    pub children: BTreeMap<String, (usize, Vis)>,
    pub src: ModSrc,
}

impl Module {
    /// `http::api` (the root is `crate`).
    pub fn name(&self) -> String {
        if self.path.is_empty() {
            "crate".into()
        } else {
            self.path.join("::")
        }
    }
}

#[derive(Debug)]
pub struct Crate {
    /// The name other crates use for it (`stepmint`).
    pub name: String,
    /// Index 0 is the root.
    pub mods: Vec<Module>,
    /// Every file that is part of it (test modules' files included).
    pub files: BTreeSet<String>,
    /// Files that could not be read or found.
    pub errors: Vec<String>,
}

fn dir_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The crate rooted at `root` in `files`.
pub fn load(files: &Files, name: &str, root: &str) -> Crate {
    let mut c = Crate {
        name: name.into(),
        mods: Vec::new(),
        files: BTreeSet::new(),
        errors: Vec::new(),
    };
    c.load_file(files, root, Vec::new(), None, true, 0);
    c
}

impl Crate {
    fn load_file(
        &mut self,
        files: &Files,
        file: &str,
        path: Vec<String>,
        parent: Option<usize>,
        mod_rs: bool,
        line: usize,
    ) -> Option<usize> {
        let Some(text) = files.get(file) else {
            self.errors.push(format!("{file}: not found"));
            return None;
        };
        if !self.files.insert(file.to_string()) {
            self.errors.push(format!(
                "{file} is loaded twice (line {line} of its parent)"
            ));
            return None;
        }
        let srcs = match tokens(text) {
            Ok(t) => parse(&t),
            Err(e) => {
                self.errors.push(format!("{file}:{e}"));
                return None;
            }
        };
        let child_dir = if mod_rs {
            dir_of(file).to_string()
        } else {
            join(
                dir_of(file),
                file.rsplit('/')
                    .next()
                    .unwrap_or(file)
                    .trim_end_matches(".rs"),
            )
        };
        Some(self.add(files, &srcs, 0, file, path, parent, &child_dir))
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        files: &Files,
        srcs: &[ModSrc],
        at: usize,
        file: &str,
        path: Vec<String>,
        parent: Option<usize>,
        child_dir: &str,
    ) -> usize {
        let idx = self.mods.len();
        let src = srcs[at].clone();
        self.mods.push(Module {
            path: path.clone(),
            file: file.into(),
            parent,
            children: BTreeMap::new(),
            src: src.clone(),
        });
        for decl in &src.mods {
            let mut sub = path.clone();
            sub.push(decl.name.clone());
            let own_dir = join(child_dir, &decl.name);
            let child = match &decl.body {
                Body::Inline(k) => Some(self.add(files, srcs, *k, file, sub, Some(idx), &own_dir)),
                Body::File(attr) => match self.find(
                    files,
                    file,
                    child_dir,
                    &decl.name,
                    attr.as_deref(),
                    decl.line,
                ) {
                    Some((f, mod_rs)) => {
                        self.load_file(files, &f, sub, Some(idx), mod_rs, decl.line)
                    }
                    None => None,
                },
                Body::Test(Some(attr)) => {
                    if let Some((f, _)) = self.find(
                        files,
                        file,
                        child_dir,
                        &decl.name,
                        attr.as_deref(),
                        decl.line,
                    ) {
                        self.files.insert(f);
                    }
                    None
                }
                Body::Test(None) => None,
            };
            if let Some(c) = child {
                self.mods[idx]
                    .children
                    .insert(decl.name.clone(), (c, decl.vis));
            }
        }
        idx
    }

    /// The file of `mod name;` declared in `file`, and whether it is a `mod.rs`-style file.
    fn find(
        &mut self,
        files: &Files,
        file: &str,
        child_dir: &str,
        name: &str,
        attr: Option<&str>,
        line: usize,
    ) -> Option<(String, bool)> {
        if let Some(rel) = attr {
            let f = join(dir_of(file), rel);
            return Some((f, true));
        }
        let flat = join(child_dir, &format!("{name}.rs"));
        let nested = join(child_dir, &format!("{name}/mod.rs"));
        match (files.contains_key(&flat), files.contains_key(&nested)) {
            (true, false) => Some((flat, false)),
            (false, true) => Some((nested, true)),
            (both, _) => {
                let why = if both { "both" } else { "neither" };
                self.errors.push(format!(
                    "{file}:{line}: mod {name} has {why} of {flat} and {nested}"
                ));
                None
            }
        }
    }
}
