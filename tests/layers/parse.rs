//! From tokens to what the guard needs of one file: per module (the file's own, then any inline
//! `mod x { }`), the child modules it declares, the names it defines, every leaf of every `use`
//! tree and every path in code (`crate::a::f()`, `super::x`, `child::y`, `$crate::z`, and the
//! paths serde reads from attribute strings); those two are read in `uses`. Items under
//! `#[cfg(test)]` are skipped: test code is not part of the layering.

use super::lex::{Tok, Token};
use super::model::{Body, ModDecl, ModSrc, Path, Ref, Vis};

/// A file's modules: its own first, then its inline modules.
pub fn parse(t: &[Token]) -> Vec<ModSrc> {
    let mut p = Parser {
        t,
        i: 0,
        out: vec![ModSrc::default()],
        scopes: vec![(0, 0)],
        depth: 0,
        vis: None,
        path_attr: None,
    };
    p.run();
    p.out
}

/// Attribute keys whose string value is a Rust path.
const STRING_PATHS: &[&str] = &[
    "with",
    "serialize_with",
    "deserialize_with",
    "default",
    "skip_serializing_if",
    "from",
    "try_from",
    "into",
    "remote",
    "as",
];

const ITEMS: &[&str] = &[
    "fn", "struct", "enum", "union", "trait", "type", "const", "static",
];

pub(super) struct Parser<'a> {
    pub(super) t: &'a [Token],
    pub(super) i: usize,
    pub(super) out: Vec<ModSrc>,
    /// Open modules: (index in `out`, brace depth of its body).
    pub(super) scopes: Vec<(usize, usize)>,
    pub(super) depth: usize,
    pub(super) vis: Option<Vis>,
    pub(super) path_attr: Option<String>,
}

impl Parser<'_> {
    pub(super) fn tok(&self, k: usize) -> Option<&Tok> {
        self.t.get(self.i + k).map(|t| &t.tok)
    }

    pub(super) fn ident(&self, k: usize) -> Option<&str> {
        match self.tok(k) {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }

    pub(super) fn is(&self, k: usize, c: char) -> bool {
        self.tok(k) == Some(&Tok::Punct(c))
    }

    pub(super) fn line(&self) -> usize {
        let last = self.t.last().map_or(0, |t| t.line);
        self.t.get(self.i).map_or(last, |t| t.line)
    }

    pub(super) fn here(&mut self) -> &mut ModSrc {
        let m = self.scopes.last().map_or(0, |s| s.0);
        &mut self.out[m]
    }

    pub(super) fn at_item_level(&self) -> bool {
        self.scopes.last().is_some_and(|s| s.1 == self.depth)
    }

    fn run(&mut self) {
        while let Some(tok) = self.tok(0).cloned() {
            let prev = self.i.checked_sub(1).map(|k| &self.t[k].tok);
            let starts_path = !matches!(prev, Some(Tok::Sep | Tok::Punct('.' | '$')));
            match tok {
                Tok::Punct('#') => self.attribute(),
                Tok::Punct('{') => {
                    self.depth += 1;
                    self.clear();
                    self.i += 1;
                }
                Tok::Punct('}') => {
                    self.depth = self.depth.saturating_sub(1);
                    while self.scopes.len() > 1
                        && self.scopes.last().is_some_and(|s| s.1 > self.depth)
                    {
                        self.scopes.pop();
                    }
                    self.clear();
                    self.i += 1;
                }
                Tok::Punct(';' | ',') => {
                    self.clear();
                    self.i += 1;
                }
                Tok::Punct('$')
                    if self.ident(1) == Some("crate") && self.tok(2) == Some(&Tok::Sep) =>
                {
                    self.i += 1;
                    self.expr_path();
                }
                Tok::Sep
                    if starts_path && !matches!(prev, Some(Tok::Ident(_) | Tok::Punct('>'))) =>
                {
                    self.expr_path();
                }
                Tok::Ident(w) => match w.as_str() {
                    "pub" => self.visibility(),
                    "use" => self.use_decl(),
                    "mod" if self.ident(1).is_some() => self.mod_decl(),
                    "macro_rules" if self.is(1, '!') && self.ident(2).is_some() => {
                        let name = self.ident(2).unwrap_or_default().to_string();
                        self.define(name);
                        self.i += 3;
                    }
                    w if ITEMS.contains(&w) && starts_path => {
                        let k = if self.ident(1) == Some("mut") { 2 } else { 1 };
                        match self.ident(k) {
                            Some("fn" | "unsafe" | "async" | "extern") | None => self.i += 1,
                            Some(name) => {
                                let name = name.to_string();
                                self.define(name);
                                self.i += k + 1;
                            }
                        }
                    }
                    _ if starts_path && self.tok(1) == Some(&Tok::Sep) => self.expr_path(),
                    _ => self.i += 1,
                },
                _ => self.i += 1,
            }
        }
    }

    pub(super) fn clear(&mut self) {
        self.vis = None;
        self.path_attr = None;
    }

    fn define(&mut self, name: String) {
        let vis = self.vis.take().unwrap_or(Vis::Private);
        if self.at_item_level() {
            self.here().items.entry(name).or_insert(vis);
        }
    }

    /// `#[...]` or `#![...]`: notes `#[path = "..."]`, skips the item under `#[cfg(test)]`.
    fn attribute(&mut self) {
        let open = if self.is(1, '!') { 2 } else { 1 };
        if !self.is(open, '[') {
            self.i += 1;
            return;
        }
        let end = self.close(self.i + open);
        let inner: Vec<Tok> = self.t[self.i + open + 1..end - 1]
            .iter()
            .map(|t| t.tok.clone())
            .collect();
        if open == 1
            && matches!(inner.as_slice(), [Tok::Ident(c), Tok::Punct('('), Tok::Ident(t), Tok::Punct(')')] if c == "cfg" && t == "test")
        {
            self.i = end;
            self.skip_test_item();
            return;
        }
        self.path_attr = path_value(&inner).or(self.path_attr.take());
        // Paths serde and ts-rs read from strings (`with = "crate::x"`) are code.
        let line = self.line();
        for w in inner.windows(3) {
            if let [Tok::Ident(key), Tok::Punct('='), Tok::Str(text)] = w
                && STRING_PATHS.contains(&key.as_str())
                && let Some(path) = Path::parse(text)
            {
                self.here().refs.push(Ref { path, line });
            }
        }
        // Paths written in the attribute (`#[derive(crate::x::Y)]`) are read as code.
        self.i += open + 1;
    }

    /// The index just past the bracket matching the one at `open`.
    fn close(&self, open: usize) -> usize {
        let mut depth = 0usize;
        for (k, t) in self.t.iter().enumerate().skip(open) {
            match t.tok {
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']' | '}') => {
                    depth -= 1;
                    if depth == 0 {
                        return k + 1;
                    }
                }
                _ => {}
            }
        }
        self.t.len()
    }

    /// The item after `#[cfg(test)]`; a `mod x;` among them is noted, so its file is known.
    fn skip_test_item(&mut self) {
        let line = self.line();
        let mut path_attr = None;
        while self.is(0, '#') && self.is(1, '[') {
            let end = self.close(self.i + 1);
            let inner: Vec<Tok> = self.t[self.i + 2..end - 1]
                .iter()
                .map(|t| t.tok.clone())
                .collect();
            path_attr = path_value(&inner).or(path_attr);
            self.i = end;
        }
        if self.ident(0) == Some("pub") {
            self.visibility();
        }
        if self.ident(0) == Some("mod")
            && let Some(name) = self.ident(1).map(str::to_string)
        {
            let file = self.is(2, ';').then_some(path_attr);
            self.here().mods.push(ModDecl {
                name,
                vis: Vis::Private,
                line,
                body: Body::Test(file),
            });
        }
        let mut depth = 0usize;
        while let Some(tok) = self.tok(0).cloned() {
            self.i += 1;
            match tok {
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']') => depth = depth.saturating_sub(1),
                Tok::Punct('}') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                Tok::Punct(';') if depth == 0 => break,
                _ => {}
            }
        }
        self.clear();
    }

    /// `pub`, `pub(crate)`, `pub(super)`, `pub(in path)`.
    fn visibility(&mut self) {
        if self.is(1, '(') {
            self.i = self.close(self.i + 1);
            self.vis = Some(Vis::Restricted);
        } else {
            self.i += 1;
            self.vis = Some(Vis::Pub);
        }
    }

    /// `mod x;` (a file, perhaps with `#[path]`) or `mod x { ... }` (read on, as module x).
    fn mod_decl(&mut self) {
        let line = self.line();
        let name = self.ident(1).unwrap_or_default().to_string();
        let vis = self.vis.take().unwrap_or(Vis::Private);
        let mut body = Body::File(self.path_attr.take());
        self.i += 2;
        if self.is(0, '{') {
            self.i += 1;
            self.depth += 1;
            self.out.push(ModSrc::default());
            body = Body::Inline(self.out.len() - 1);
        }
        let inline = matches!(body, Body::Inline(_));
        self.here().mods.push(ModDecl {
            name,
            vis,
            line,
            body,
        });
        if inline {
            self.scopes.push((self.out.len() - 1, self.depth));
        }
    }
}

/// The file of `#[path = "file"]`, given the tokens inside the brackets.
fn path_value(inner: &[Tok]) -> Option<String> {
    match inner {
        [Tok::Ident(p), Tok::Punct('='), Tok::Str(file)] if p == "path" => Some(file.clone()),
        _ => None,
    }
}
