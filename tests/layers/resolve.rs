//! Name resolution over a crate's module tree: a path is followed through child modules, `use`
//! bindings and glob re-exports (chains of them, in any module, lib.rs included) to the module
//! that DEFINES what it names. [`Resolved::via`] lists every `use` passed on the way, so a rule
//! can tell an import through lib.rs's facade from a direct one.

use std::collections::BTreeSet;

use super::model::{Anchor, Bind, Path, Vis};
use super::tree::Crate;

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Module(usize),
    /// An item defined in that module (what follows it, a variant or method, is not followed).
    Item(usize),
    /// Not of this crate: another crate's path (`stepmint::api::Health`), a local or a prelude name.
    Extern(Vec<String>),
}

#[derive(Debug)]
pub struct Resolved {
    pub target: Target,
    /// The `use` bindings passed, as (module, index in its `uses`).
    pub via: Vec<(usize, usize)>,
}

impl Crate {
    /// `stepmint::http::api`: module `m` with the crate's name.
    fn module_name(&self, m: usize) -> String {
        let mut parts = vec![self.name.clone()];
        parts.extend(self.mods[m].path.iter().cloned());
        parts.join("::")
    }

    /// What `path`, written in module `from`, names.
    pub fn resolve(&self, from: usize, path: &Path) -> Result<Resolved, String> {
        let mut via = Vec::new();
        let target = self.resolve_in(from, path, &mut via, &mut BTreeSet::new())?;
        Ok(Resolved { target, via })
    }

    /// `segs` as seen from outside the crate (`stepmint::api::Health` is `["api", "Health"]`):
    /// every step must be `pub`.
    pub fn resolve_public(&self, segs: &[String]) -> Result<Target, String> {
        self.walk(
            Target::Module(0),
            segs,
            &mut Vec::new(),
            true,
            &mut BTreeSet::new(),
        )
    }

    fn resolve_in(
        &self,
        from: usize,
        path: &Path,
        via: &mut Vec<(usize, usize)>,
        seen: &mut Seen,
    ) -> Result<Target, String> {
        let segs = &path.segs[..];
        let start = match path.anchor {
            Anchor::Crate => Target::Module(0),
            Anchor::SelfMod => Target::Module(from),
            Anchor::Super(n) => {
                let mut m = from;
                for _ in 0..n {
                    m = self.mods[m]
                        .parent
                        .ok_or("`super` goes above the crate root")?;
                }
                Target::Module(m)
            }
            Anchor::Extern => Target::Extern(Vec::new()),
            Anchor::Plain => {
                let found = match segs.first() {
                    Some(first) => self.member(from, first, true, false, via, seen)?,
                    None => None,
                };
                match found {
                    Some((t, _)) => return self.walk(t, &segs[1..], via, false, seen),
                    // Not in scope: another crate, a local, a prelude name.
                    None => Target::Extern(Vec::new()),
                }
            }
        };
        self.walk(start, segs, via, false, seen)
    }

    /// Follows `segs` from `cur`; with `public`, every step must be `pub`.
    fn walk(
        &self,
        mut cur: Target,
        segs: &[String],
        via: &mut Vec<(usize, usize)>,
        public: bool,
        seen: &mut Seen,
    ) -> Result<Target, String> {
        for (k, seg) in segs.iter().enumerate() {
            match cur {
                Target::Module(m) => match self.member(m, seg, false, public, via, seen)? {
                    Some((_, vis)) if public && vis != Vis::Pub => {
                        return Err(format!("`{seg}` in {} is not public", self.module_name(m)));
                    }
                    Some((t, _)) => cur = t,
                    None => return Err(format!("{} has no `{seg}`", self.module_name(m))),
                },
                Target::Item(_) => break,
                Target::Extern(mut p) => {
                    p.extend(segs[k..].iter().cloned());
                    return Ok(Target::Extern(p));
                }
            }
        }
        Ok(cur)
    }

    /// `name` as a member of module `m` (with `local`, its `use`s inside functions too), and
    /// the visibility of that step. A module and a function may share a name (`mod verify;
    /// pub use verify::verify;`): with `public`, a `pub` one wins. `seen` holds the lookups in
    /// progress, so a loop of re-exports ends.
    fn member(
        &self,
        m: usize,
        name: &str,
        local: bool,
        public: bool,
        via: &mut Vec<(usize, usize)>,
        seen: &mut Seen,
    ) -> Result<Option<(Target, Vis)>, String> {
        let key = (m, name.to_string());
        if !seen.insert(key.clone()) {
            return Ok(None);
        }
        let found = self.candidates(m, name, local, public, seen);
        seen.remove(&key);
        Ok(found?.map(|(t, vis, steps)| {
            via.extend(steps);
            (t, vis)
        }))
    }

    fn candidates(
        &self,
        m: usize,
        name: &str,
        local: bool,
        public: bool,
        seen: &mut Seen,
    ) -> Result<Option<Found>, String> {
        let module = &self.mods[m];
        let mut first: Option<Found> = None;
        let mut offer = |found: Found| -> Option<Found> {
            if !public || found.1 == Vis::Pub {
                return Some(found);
            }
            first.get_or_insert(found);
            None
        };
        if let Some((c, vis)) = module.children.get(name)
            && let Some(f) = offer((Target::Module(*c), *vis, vec![]))
        {
            return Ok(Some(f));
        }
        let uses = || {
            module
                .src
                .uses
                .iter()
                .enumerate()
                .filter(|(_, u)| local || !u.local)
        };
        for (k, u) in uses().filter(|(_, u)| u.bind == Bind::Name(name.into())) {
            let mut steps = vec![(m, k)];
            let t = self.resolve_in(m, &u.path, &mut steps, seen)?;
            if let Some(f) = offer((t, u.vis, steps)) {
                return Ok(Some(f));
            }
        }
        if let Some(vis) = module.src.items.get(name)
            && let Some(f) = offer((Target::Item(m), *vis, vec![]))
        {
            return Ok(Some(f));
        }
        for (k, u) in uses().filter(|(_, u)| u.bind == Bind::Glob) {
            let mut steps = vec![(m, k)];
            // A glob that names nothing is reported at its own line.
            let Ok(Target::Module(g)) = self.resolve_in(m, &u.path, &mut steps, seen) else {
                continue;
            };
            if let Some((t, vis)) = self.member(g, name, false, public, &mut steps, seen)?
                && let Some(f) = offer((t, vis.min(u.vis), steps))
            {
                return Ok(Some(f));
            }
        }
        Ok(first)
    }
}

/// A member found: what it is, the visibility of the step, the `use`s passed.
type Found = (Target, Vis, Vec<(usize, usize)>);

type Seen = BTreeSet<(usize, String)>;
