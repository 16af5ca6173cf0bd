//! The import graph of the library's modules, read from their source, so that the split into
//! crates stays mechanical: no two modules import each other, and the layers below the node
//! import nothing above them.
//!
//! A module is a file (`pulse/store.rs` is `pulse::store`, `pulse/mod.rs` is `pulse`). A
//! module imports another when its code outside `#[cfg(test)] mod tests` names it or an item
//! of it by path (`use crate::pulse::store`, `super::Job`, `crate::clock::now_ms()`); a name
//! a module imports or re-exports (`pub use job::Job` in `pulse/mod.rs`) counts as the module
//! that defines it. A parent naming its own children (declaring or re-exporting them) is not
//! an import. Several crates can be read as one graph ([`Crate`]): each is mounted at a module
//! path, and their names (`qntx_core::pulse`) resolve to their modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A crate whose modules are read into the graph.
struct Crate<'a> {
    /// Its name in paths: `qntx_core`.
    name: &'a str,
    /// The module path its modules get: `""` for `ats`, `pulse`, ...; `runtime` for a crate
    /// that others see as `runtime`.
    mount: &'a str,
    /// Its `src` directory.
    src: &'a Path,
}

/// One module: its crate, the path its children join to, its parent, and its code outside
/// its tests.
struct Module {
    krate: String,
    prefix: String,
    parent: Option<String>,
    code: String,
}

/// Every module of a crate (not the binary's `main.rs`), by id: its module path, or
/// `<crate>` for the root of a crate mounted at `""`.
fn read_modules(krate: &Crate<'_>, modules: &mut BTreeMap<String, Module>) {
    let root = root_id(krate);
    let mut dirs = vec![krate.src.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let relative = path.strip_prefix(krate.src).unwrap().with_extension("");
            let relative = relative.to_str().unwrap().replace('\\', "/");
            if relative == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let (id, prefix, parent) = if relative == "lib" {
                (root.clone(), krate.mount.to_owned(), None)
            } else {
                let inner = relative.trim_end_matches("/mod").replace('/', "::");
                let id = join(krate.mount, &inner);
                let parent = match inner.rsplit_once("::") {
                    Some((up, _)) => join(krate.mount, up),
                    None => root.clone(),
                };
                (id.clone(), id, Some(parent))
            };
            let module = Module {
                krate: krate.name.to_owned(),
                prefix,
                parent,
                code: code(&text),
            };
            modules.insert(id, module);
        }
    }
}

fn root_id(krate: &Crate<'_>) -> String {
    if krate.mount.is_empty() {
        format!("<{}>", krate.name)
    } else {
        krate.mount.to_owned()
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}::{name}")
    }
}

/// The code of a file: without its test module (last in a file, by the style guide) and
/// without comments that take a whole line.
fn code(text: &str) -> String {
    let end = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..end]
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a `use` tree names, each as its segments (`a::{b, c::d as e}` gives `a::b` and
/// `a::c::d`), with the name each is imported as.
fn expand_use(tree: &str) -> Vec<(Vec<String>, String)> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    expand_into(&tree, &[], &mut out);
    out
}

fn expand_into(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut path = prefix.to_vec();
        path.extend(segments(&tree[..open]));
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        for part in split_top_level(inner) {
            expand_into(part, &path, out);
        }
        return;
    }
    let (path_text, alias) = match tree.split_once(" as ") {
        Some((path, alias)) => (path, Some(alias.trim())),
        None => (tree, None),
    };
    let mut path = prefix.to_vec();
    path.extend(segments(path_text));
    if path.last().is_some_and(|last| last == "self") {
        path.pop();
    }
    if let Some(name) = alias.map(str::to_owned).or_else(|| path.last().cloned()) {
        out.push((path, name));
    }
}

fn segments(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split("::")
        .map(str::trim)
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
}

/// `a, b::{c, d}, e` split at the commas outside braces.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The trees of the `use` statements of some code, and the code without them.
fn uses(code: &str) -> (Vec<String>, String) {
    let mut found = Vec::new();
    let mut rest = String::new();
    let mut remaining = code;
    while let Some(at) = find_use(remaining) {
        let end = at + remaining[at..].find(';').unwrap();
        let statement = &remaining[at..end];
        let tree = &statement[statement.find("use ").unwrap() + 4..];
        found.push(tree.to_owned());
        rest.push_str(&remaining[..at]);
        remaining = &remaining[end + 1..];
    }
    rest.push_str(remaining);
    (found, rest)
}

/// Where the next `use` statement starts (`use`, `pub use`, `pub(crate) use`, `pub(super) use`).
fn find_use(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = code[from..].find("use ") {
        let at = from + found;
        let line_start = code[..at].rfind('\n').map_or(0, |i| i + 1);
        let before = code[line_start..at].trim();
        let tree_start = code[at + 4..].chars().next();
        let a_tree = tree_start.is_some_and(|c| c.is_alphabetic() || c == '{' || c == ':');
        if a_tree && matches!(before, "" | "pub" | "pub(crate)" | "pub(super)") {
            return Some(line_start + code[line_start..].find(|c: char| !c.is_whitespace())?);
        }
        from = at + 4;
    }
    None
}

/// The module graph: modules, what each imports, and the imports between them.
struct Graph {
    modules: BTreeMap<String, Module>,
    /// Crate name → the id of its root.
    roots: BTreeMap<String, String>,
    /// By module: name → the path it imports under that name, as written there.
    names: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Importer → imported.
    edges: BTreeSet<(String, String)>,
}

impl Graph {
    fn read(crates: &[Crate<'_>]) -> Self {
        let mut modules = BTreeMap::new();
        for krate in crates {
            read_modules(krate, &mut modules);
        }
        let mut graph = Self {
            roots: crates
                .iter()
                .map(|krate| (krate.name.to_owned(), root_id(krate)))
                .collect(),
            modules,
            names: BTreeMap::new(),
            edges: BTreeSet::new(),
        };
        let mut named = Vec::new();
        for (id, module) in &graph.modules {
            let (statements, rest) = uses(&module.code);
            for tree in statements {
                for (path, name) in expand_use(&tree) {
                    named.push((id.clone(), path.clone()));
                    graph
                        .names
                        .entry(id.clone())
                        .or_default()
                        .insert(name, path);
                }
            }
            for path in inline_paths(&rest) {
                named.push((id.clone(), path));
            }
        }
        for (module, path) in named {
            if let Some(target) = graph.resolve(&module, &path, 0)
                && target != module
                && !graph.is_descendant(&target, &module)
            {
                graph.edges.insert((module, target));
            }
        }
        graph
    }

    /// The child module `name` of module `at`, if there is one.
    fn child(&self, at: &str, name: &str) -> Option<String> {
        let parent = self.modules.get(at)?;
        let id = join(&parent.prefix, name);
        (self.modules.get(&id)?.krate == parent.krate).then_some(id)
    }

    fn is_descendant(&self, module: &str, of: &str) -> bool {
        let (Some(module), Some(ancestor)) = (self.modules.get(module), self.modules.get(of))
        else {
            return false;
        };
        module.krate == ancestor.krate
            && (ancestor.prefix.is_empty()
                || module.prefix.starts_with(&format!("{}::", ancestor.prefix)))
    }

    /// The module `path`, named in `module`, stands for; `None` for a crate not read.
    fn resolve(&self, module: &str, path: &[String], depth: usize) -> Option<String> {
        let first = path.first()?;
        if depth > 8 {
            return None;
        }
        let (mut at, mut rest) = match first.as_str() {
            "crate" => (self.roots[&self.modules[module].krate].clone(), &path[1..]),
            "self" => (module.to_owned(), &path[1..]),
            "super" => (self.modules[module].parent.clone()?, &path[1..]),
            name if self.roots.contains_key(name) => (self.roots[name].clone(), &path[1..]),
            name if self.child(module, name).is_some() => (module.to_owned(), path),
            name => {
                // A name this module imported: `use super::store;` then `store::get`.
                let imported = self.names.get(module)?.get(name)?;
                if imported.first() == Some(first) {
                    return None;
                }
                let mut full = imported.clone();
                full.extend(path[1..].iter().cloned());
                return self.resolve(module, &full, depth + 1);
            }
        };
        while let Some(first) = rest.first() {
            if first == "super" {
                at = self.modules[&at].parent.clone()?;
            } else if let Some(child) = self.child(&at, first) {
                at = child;
            } else {
                break;
            }
            rest = &rest[1..];
        }
        // An item `at` imports or re-exports counts as the module that defines it.
        if let Some(name) = rest.first()
            && let Some(imported) = self.names.get(&at).and_then(|names| names.get(name))
        {
            let mut full = imported.clone();
            full.extend(rest[1..].iter().cloned());
            return self.resolve(&at, &full, depth + 1).or(Some(at));
        }
        Some(at)
    }

    /// Pairs of modules that import each other.
    fn mutual(&self) -> Vec<(String, String)> {
        self.edges
            .iter()
            .filter(|(a, b)| a < b && self.edges.contains(&(b.clone(), a.clone())))
            .cloned()
            .collect()
    }
}

/// `crate::a::b`, `super::c` and `self::d` paths in code that are not in `use` statements.
fn inline_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(start) {
            let at = from + found;
            from = at + start.len();
            let word_before = code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            if word_before {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            paths.push(segments(&code[at..end]).collect());
        }
    }
    paths
}

/// The top-level module of a module path.
fn layer(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

/// The crates under `host/`: this one and the libraries (`qntx-core`, `qntx-sqlite`,
/// `qntx-runtime`, `qntx-node`), each mounted where the `qntx` crate re-exports it.
fn library() -> Graph {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = [
        ("qntx_core", "", "core/src"),
        ("qntx_sqlite", "sqlite", "sqlite/src"),
        ("qntx_runtime", "runtime", "runtime/src"),
        ("qntx_node", "", "node/src"),
        ("qntx", "", "src"),
    ];
    let dirs: Vec<(&str, &str, std::path::PathBuf)> = layout
        .into_iter()
        .map(|(name, mount, src)| (name, mount, host.join(src)))
        .filter(|(_, _, src)| src.join("lib.rs").is_file())
        .collect();
    let crates: Vec<Crate<'_>> = dirs
        .iter()
        .map(|(name, mount, src)| Crate { name, mount, src })
        .collect();
    Graph::read(&crates)
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = library();
    assert!(
        graph.edges.len() > 100,
        "the graph is read: {}",
        graph.edges.len()
    );
    let mutual: Vec<String> = graph
        .mutual()
        .iter()
        .map(|(a, b)| format!("  {a} <-> {b}\n"))
        .collect();
    assert!(
        mutual.is_empty(),
        "modules that import each other (move what both need into one of them, or a third):\n{}",
        mutual.concat()
    );
}

#[test]
fn the_layers_below_the_node_import_nothing_above_them() {
    let graph = library();
    let below = ["storage", "sqlite", "ats", "pulse", "clock"];
    let above = [
        "runtime",
        "plugins",
        "handlers",
        "toolchain",
        "node",
        "cli",
        "bench",
    ];
    let upward: Vec<String> = graph
        .edges
        .iter()
        .filter(|(from, to)| below.contains(&layer(from)) && above.contains(&layer(to)))
        .map(|(from, to)| format!("  {from} -> {to}\n"))
        .collect();
    assert!(
        upward.is_empty(),
        "imports against the arrows:\n{}",
        upward.concat()
    );
}

#[test]
fn paths_resolve_through_use_trees_and_re_exports() {
    assert_eq!(
        expand_use("super::{self, a::{b as c, d}, e}"),
        [
            (vec!["super".into()], "super".into()),
            (vec!["super".into(), "a".into(), "b".into()], "c".into()),
            (vec!["super".into(), "a".into(), "d".into()], "d".into()),
            (vec!["super".into(), "e".into()], "e".into()),
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let write = |file: &str, text: &str| {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("top/lib.rs", "pub mod p;\npub mod q;\nuse lower as low;\n");
    write(
        "top/p/mod.rs",
        "mod a;\nmod b;\npub use a::{A, B as Bee};\n",
    );
    write(
        "top/p/a.rs",
        "use super::b::helper;\npub struct A;\npub struct B;\n",
    );
    write(
        "top/p/b.rs",
        "// use crate::q; is a comment\npub fn helper() -> super::A { crate::q::f() }\n\
         #[cfg(test)]\nmod tests {\n    use super::super::a::B;\n}\n",
    );
    write(
        "top/q.rs",
        "use crate::p::Bee;\npub fn f() {\n    crate::low::x::f();\n}\n",
    );
    write("lower/lib.rs", "pub mod x;\n");
    write("lower/x.rs", "pub fn f() {}\n");
    let (top, lower) = (dir.path().join("top"), dir.path().join("lower"));
    let graph = Graph::read(&[
        Crate {
            name: "top",
            mount: "",
            src: &top,
        },
        Crate {
            name: "lower",
            mount: "low",
            src: &lower,
        },
    ]);
    let edges: Vec<(&str, &str)> = graph
        .edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        edges,
        [
            ("<top>", "low"),
            ("p::a", "p::b"),
            ("p::b", "p::a"),
            ("p::b", "q"),
            ("q", "low::x"),
            ("q", "p::a"),
        ]
    );
    assert_eq!(graph.mutual(), [("p::a".into(), "p::b".into())]);
}
