//! The rules, over loaded crates: every path is resolved to the module that defines what it
//! names, which gives edges between modules and between files. Then (a) no edge goes to a
//! higher layer, (b) neither graph has a circle, (c) nothing inside the core goes through
//! lib.rs's re-exports, (d) every top-level module has a layer; other crates reach the core
//! only through its public surface. Every message names a file and line and the path.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::model::{Anchor, Bind, Path};
use super::resolve::Target;
use super::tree::Crate;

/// The layers, bottom up, each with its top-level modules.
pub type Layers<'a> = &'a [(&'a str, &'a [&'a str])];

/// Edges of a graph, each with the first reference that made it.
pub type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// Every reference in a crate's (non-test) modules: (module, line, path as written).
fn references(c: &Crate) -> Vec<(usize, usize, Path, String)> {
    let mut out = Vec::new();
    for (m, module) in c.mods.iter().enumerate() {
        for u in &module.src.uses {
            let text = match u.bind {
                Bind::Glob => format!("{}::*", u.path.text()),
                _ => u.path.text(),
            };
            out.push((m, u.line, u.path.clone(), text));
        }
        for r in &module.src.refs {
            out.push((m, r.line, r.path.clone(), r.path.text()));
        }
    }
    out.sort_by_key(|(m, line, _, _)| (c.mods[*m].file.clone(), *line));
    out
}

fn layer_of(layers: Layers, top: &str) -> Option<usize> {
    layers.iter().position(|(_, ms)| ms.contains(&top))
}

/// What the guard found in one crate.
#[derive(Debug, Default)]
pub struct Analysis {
    pub wrong: Vec<String>,
    /// Top-level module → the top-level modules it imports (each with the first reference).
    pub modules: Graph,
    /// File → the files it imports.
    pub files: Graph,
}

/// Checks crate `c`. With `layers`, it is the core: rules (a), (c) and (d) apply. `deps` are
/// the crates it may reach by name, through their public surface only.
pub fn check(c: &Crate, layers: Option<Layers>, deps: &[&Crate]) -> Analysis {
    let mut wrong = c.errors.clone();
    let mut modules = Graph::new();
    let mut files = Graph::new();
    for (m, line, path, written) in references(c) {
        let here = &c.mods[m];
        let at = format!("{}:{line} uses {}", here.file, written);
        // `extern crate self as name;` would let a crate name itself: that is `crate::`.
        let path = match path.segs.split_first() {
            Some((first, rest))
                if *first == c.name && matches!(path.anchor, Anchor::Plain | Anchor::Extern) =>
            {
                Path {
                    anchor: Anchor::Crate,
                    segs: rest.to_vec(),
                }
            }
            _ => path,
        };
        let resolved = match c.resolve(m, &path) {
            Ok(r) => r,
            Err(e) => {
                wrong.push(format!("{at}: {e}"));
                continue;
            }
        };
        let to = match resolved.target {
            Target::Module(t) | Target::Item(t) => t,
            Target::Extern(segs) => {
                let dep = segs
                    .first()
                    .and_then(|n| deps.iter().find(|d| &d.name == n));
                if let Some(dep) = dep
                    && let Err(e) = dep.resolve_public(&segs[1..])
                {
                    wrong.push(format!("{at}: {e}"));
                }
                continue;
            }
        };
        if layers.is_some() && m != 0 && resolved.via.iter().any(|(vm, _)| *vm == 0) {
            wrong.push(format!(
                "{at} through lib.rs's re-exports: import it from {}",
                c.mods[to].name()
            ));
        }
        let (from_top, to_top) = (top(c, m), top(c, to));
        if let Some(layers) = layers
            && let (Some(lf), Some(lt)) = (layer_of(layers, &from_top), layer_of(layers, &to_top))
            && lt > lf
        {
            wrong.push(format!(
                "{at} = {} ({}) from {} ({})",
                c.mods[to].name(),
                layers[lt].0,
                here.name(),
                layers[lf].0
            ));
        }
        if from_top != to_top {
            modules
                .entry(from_top)
                .or_default()
                .entry(to_top)
                .or_insert_with(|| at.clone());
        }
        if here.file != c.mods[to].file {
            files
                .entry(here.file.clone())
                .or_default()
                .entry(c.mods[to].file.clone())
                .or_insert(at);
        }
    }
    for cycle in circles(&modules) {
        wrong.push(format!(
            "modules in a circle: {}",
            describe(&cycle, &modules)
        ));
    }
    for cycle in circles(&files) {
        wrong.push(format!("files in a circle: {}", describe(&cycle, &files)));
    }
    if let Some(layers) = layers {
        let root = &c.mods[0];
        for name in root.children.keys() {
            if layer_of(layers, name).is_none() {
                wrong.push(format!(
                    "{}: module `{name}` is in no layer (add it to LAYERS and ARCHITECTURE.md)",
                    root.file
                ));
            }
        }
        for name in layers.iter().flat_map(|(_, ms)| ms.iter()) {
            if !root.children.contains_key(*name) {
                wrong.push(format!(
                    "LAYERS names `{name}`, which {} does not declare",
                    root.file
                ));
            }
        }
    }
    Analysis {
        wrong,
        modules,
        files,
    }
}

/// The top-level module of module `m` (`crate` for the root).
fn top(c: &Crate, m: usize) -> String {
    c.mods[m]
        .path
        .first()
        .cloned()
        .unwrap_or_else(|| "crate".into())
}

/// `a -> b -> a (why a uses b; why b uses a)`.
fn describe(cycle: &[String], g: &Graph) -> String {
    let why: Vec<&str> = cycle.windows(2).map(|w| g[&w[0]][&w[1]].as_str()).collect();
    format!("{} ({})", cycle.join(" -> "), why.join("; "))
}

/// One circle per strongly connected part of `g`: the shortest through its first node.
pub fn circles(g: &Graph) -> Vec<Vec<String>> {
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<&String> = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            for m in g.get(n).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(m.clone()) {
                    queue.push_back(m);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = g.keys().map(|n| (n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for (n, r) in &reaches {
        if done.contains(*n) || !r.contains(*n) {
            continue;
        }
        let part: BTreeSet<&String> = r
            .iter()
            .filter(|m| reaches.get(m).is_some_and(|rm| rm.contains(*n)))
            .collect();
        done.extend(part.iter().map(|m| (*m).clone()));
        // Breadth first from n, inside its part, back to n.
        let mut prev: BTreeMap<&String, &String> = BTreeMap::new();
        let mut queue = VecDeque::from([*n]);
        'search: while let Some(a) = queue.pop_front() {
            for b in g[a].keys() {
                if b == *n {
                    let mut cycle = vec![a.clone()];
                    let mut at = a;
                    while let Some(p) = prev.get(at) {
                        cycle.push((*p).clone());
                        at = p;
                    }
                    cycle.reverse();
                    cycle.push((*n).clone());
                    out.push(cycle);
                    break 'search;
                }
                if part.contains(b) && b != *n && !prev.contains_key(b) {
                    prev.insert(b, a);
                    queue.push_back(b);
                }
            }
        }
    }
    out
}
