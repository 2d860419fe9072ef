//! What the parser makes of a file, and what the resolver and rules read: visibilities, paths
//! with their anchor, `use` leaves, paths in code, and module declarations.

use std::collections::BTreeMap;

/// How far a name is visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vis {
    Private,
    /// `pub(crate)`, `pub(super)`, `pub(in ...)`.
    Restricted,
    Pub,
}

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `crate::` or `$crate::`.
    Crate,
    /// `super::` repeated n times.
    Super(usize),
    /// `self::`.
    SelfMod,
    /// A name looked up in the module's scope (a child, an import, an item, or another crate).
    Plain,
    /// `::name`: another crate.
    Extern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub anchor: Anchor,
    pub segs: Vec<String>,
}

impl Path {
    /// Adds `name`: `crate`, `super` and `self` at the start set the anchor instead.
    pub fn push(&mut self, name: String) {
        let fresh = self.segs.is_empty();
        match (name.as_str(), self.anchor) {
            ("crate", Anchor::Plain) if fresh => self.anchor = Anchor::Crate,
            ("self", Anchor::Plain) if fresh => self.anchor = Anchor::SelfMod,
            ("super", Anchor::Plain | Anchor::SelfMod) if fresh => self.anchor = Anchor::Super(1),
            ("super", Anchor::Super(n)) if fresh => self.anchor = Anchor::Super(n + 1),
            _ => self.segs.push(name),
        }
    }

    /// A path written as a string (`"crate::a::f"`, `"nullable"`), if it is one.
    pub fn parse(text: &str) -> Option<Path> {
        let (anchor, rest) = match text.strip_prefix("::") {
            Some(rest) => (Anchor::Extern, rest),
            None => (Anchor::Plain, text),
        };
        let mut path = Path {
            anchor,
            segs: vec![],
        };
        for seg in rest.split("::") {
            let mut chars = seg.chars();
            let start = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic());
            if !start || !chars.all(|c| c == '_' || c.is_alphanumeric()) {
                return None;
            }
            path.push(seg.to_string());
        }
        Some(path)
    }

    /// The path as written (`super::super::x::Y`).
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = match self.anchor {
            Anchor::Crate => vec!["crate".into()],
            Anchor::Super(n) => vec!["super".into(); n],
            Anchor::SelfMod => vec!["self".into()],
            Anchor::Plain => vec![],
            Anchor::Extern => vec![String::new()],
        };
        parts.extend(self.segs.iter().cloned());
        parts.join("::")
    }
}

/// What a `use` leaf binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Name(String),
    Glob,
    /// `as _`.
    Hidden,
}

#[derive(Debug, Clone)]
pub struct Use {
    pub vis: Vis,
    pub bind: Bind,
    pub path: Path,
    pub line: usize,
    /// Inside a function or block: visible to this module's own paths only.
    pub local: bool,
}

#[derive(Debug, Clone)]
pub struct Ref {
    pub path: Path,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// `mod x;` (with its `#[path]`, if any).
    File(Option<String>),
    /// `mod x { ... }`: this file's module at that index.
    Inline(usize),
    /// `#[cfg(test)] mod x;` or `{ ... }`: not read (a file's path kept so it counts as known).
    Test(Option<Option<String>>),
}

#[derive(Debug, Clone)]
pub struct ModDecl {
    pub name: String,
    pub vis: Vis,
    pub line: usize,
    pub body: Body,
}

/// One module's contents as written in one file.
#[derive(Debug, Clone, Default)]
pub struct ModSrc {
    pub mods: Vec<ModDecl>,
    pub items: BTreeMap<String, Vis>,
    pub uses: Vec<Use>,
    pub refs: Vec<Ref>,
}
