//! The parser's paths: `use` trees (nested groups, `self`, globs, `as` renames, each leaf with
//! the declaration's visibility) and paths in code, from their first segment to their last name.

use super::lex::Tok;
use super::model::{Anchor, Bind, Path, Ref, Use, Vis};
use super::parse::Parser;

impl Parser<'_> {
    /// A path in code, from its first segment to the last name (`crate::a::B::<T>` is `a::B`).
    pub(super) fn expr_path(&mut self) {
        let mut path = Path {
            anchor: Anchor::Plain,
            segs: vec![],
        };
        let mut line = self.line();
        if self.tok(0) == Some(&Tok::Sep) {
            path.anchor = Anchor::Extern;
            self.i += 1;
        }
        while let Some(name) = self.ident(0).map(str::to_string) {
            line = self.line();
            self.i += 1;
            path.push(name);
            if self.tok(0) == Some(&Tok::Sep) && self.ident(1).is_some() {
                self.i += 1;
            } else {
                break;
            }
        }
        self.here().refs.push(Ref { path, line });
    }

    pub(super) fn use_decl(&mut self) {
        let vis = self.vis.take().unwrap_or(Vis::Private);
        let local = !self.at_item_level();
        self.i += 1;
        let mut leaves = Vec::new();
        self.tree(
            Path {
                anchor: Anchor::Plain,
                segs: vec![],
            },
            &mut leaves,
        );
        for (bind, path, line) in leaves {
            self.here().uses.push(Use {
                vis,
                bind,
                path,
                line,
                local,
            });
        }
        self.clear();
    }

    /// One use tree under `path`: `a::b`, `a::{b, c::{self, d as e}}`, `a::*`, `::a`.
    fn tree(&mut self, mut path: Path, out: &mut Vec<(Bind, Path, usize)>) {
        if self.tok(0) == Some(&Tok::Sep) && path.segs.is_empty() && path.anchor == Anchor::Plain {
            path.anchor = Anchor::Extern;
            self.i += 1;
        }
        loop {
            let line = self.line();
            if self.is(0, '$') && self.ident(1) == Some("crate") {
                self.i += 1;
            }
            if self.is(0, '*') {
                self.i += 1;
                out.push((Bind::Glob, path, line));
                return;
            }
            if self.is(0, '{') {
                self.i += 1;
                while !self.is(0, '}') && self.i < self.t.len() {
                    let before = self.i;
                    self.tree(path.clone(), out);
                    if self.is(0, ',') || self.i == before {
                        self.i += 1;
                    }
                }
                self.i += 1;
                return;
            }
            let Some(name) = self.ident(0).map(str::to_string) else {
                return;
            };
            self.i += 1;
            if self.tok(0) == Some(&Tok::Sep) {
                self.i += 1;
                path.push(name);
                continue;
            }
            let mut bind = match name.as_str() {
                "self" => Bind::Name(path.segs.last().cloned().unwrap_or_default()),
                _ => {
                    path.push(name.clone());
                    Bind::Name(name)
                }
            };
            if self.ident(0) == Some("as") {
                bind = match self.ident(1) {
                    Some("_") | None => Bind::Hidden,
                    Some(n) => Bind::Name(n.to_string()),
                };
                self.i += 2;
            }
            out.push((bind, path, line));
            return;
        }
    }
}
