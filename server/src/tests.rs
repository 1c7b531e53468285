//! Tests of the crate's shape rather than its behaviour: the import graph of its modules.
//!
//! Two modules that import each other cannot be understood, tested or moved apart, and such a
//! cycle only ever grows. The test reads the paths every file names (`crate::x`, `super::x`,
//! grouped or not), builds for each module the graph of its child modules (the top level is
//! the children of the crate), and fails naming every cycle with the line that makes each
//! edge. Test code (`tests.rs`, the `#[cfg(test)] mod` at the end of a file) is left out: a
//! test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path from the crate root (`["store", "write"]`).
type ModulePath = Vec<String>;

/// The edge `from → to` between two children of one module, with the line that makes it.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `store/write.rs` → `store::write`, `history/mod.rs` → `history`.
fn module_of(relative: &Path) -> ModulePath {
    let mut parts: ModulePath = relative
        .with_extension("")
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// Whether a file is test code only, by the crate's conventions.
fn is_test_file(relative: &Path) -> bool {
    relative.file_name().is_some_and(|n| n == "tests.rs")
        || relative.components().any(|c| c.as_os_str() == "tests")
}

/// The file's text before its test module, without line comments.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() == "#[cfg(test)]" {
            let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            if next.is_some_and(|l| {
                let l = l.trim_start();
                l.starts_with("mod ") || l.starts_with("pub mod ")
            }) {
                break;
            }
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push((i + 1, code));
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The leading identifiers of a path, up to `max`: `a::b::C` → `[a, b]` for `max` 2, and
/// `f(x)` → `[f]`.
fn path_idents(path: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for segment in path.split("::").take(max) {
        let segment = segment.trim_start();
        let ident: String = segment.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            break;
        }
        let whole = ident.len() == segment.len();
        out.push(ident);
        if !whole {
            break;
        }
    }
    out
}

/// The absolute module paths a line names, as seen from `module`: each `crate::` or
/// `super::` path, and each member of a `crate::{a, b::c}` group. Only the first two
/// segments after the anchor matter, since an edge joins two children of one module.
fn paths_named(module: &[String], line: &str) -> Vec<ModulePath> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(['c', 's']) {
        let before_ok = rest[..at].chars().next_back().is_none_or(|c| !is_ident(c));
        let tail = &rest[at..];
        let (base, after) = if before_ok && tail.starts_with("crate::") {
            (Vec::new(), &tail["crate::".len()..])
        } else if before_ok && tail.starts_with("super::") {
            let mut after = tail;
            let mut up = 0;
            while let Some(t) = after.strip_prefix("super::") {
                after = t;
                up += 1;
            }
            let keep = module.len().saturating_sub(up);
            (module[..keep].to_vec(), after)
        } else {
            rest = &tail[1..];
            continue;
        };
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let mut path = base.clone();
                path.extend(path_idents(member, 2));
                out.push(path);
            }
        } else {
            let mut path = base;
            path.extend(path_idents(after, 2));
            out.push(path);
        }
        rest = &after[after.len().min(1)..];
        if after.is_empty() {
            break;
        }
    }
    out
}

/// For each module, the edges between its children, keyed by the parent's path.
fn sibling_edges() -> BTreeMap<String, Edges> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut graphs: BTreeMap<String, Edges> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src").to_path_buf();
        let module = module_of(&relative);
        if is_test_file(&relative) || module == ["lib"] || module == ["main"] {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        for (number, line) in code_lines(&text) {
            for target in paths_named(&module, line) {
                // The first segment where the two paths part: an edge between siblings.
                let shared = module
                    .iter()
                    .zip(&target)
                    .take_while(|(a, b)| a == b)
                    .count();
                if shared >= module.len() || shared >= target.len() {
                    continue;
                }
                let parent = module[..shared].join("::");
                graphs
                    .entry(parent)
                    .or_default()
                    .entry(module[shared].clone())
                    .or_default()
                    .entry(target[shared].clone())
                    .or_insert_with(|| format!("{}:{number}: {}", relative.display(), line.trim()));
            }
        }
    }
    graphs
}

/// One cycle through each strongly connected group of more than one node (Tarjan).
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    struct Search<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        groups: Vec<BTreeSet<&'a str>>,
    }
    fn visit<'a>(s: &mut Search<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in s.edges.get(v).into_iter().flat_map(|t| t.keys()) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                group.insert(w);
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                s.groups.push(group);
            }
        }
    }
    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        groups: Vec::new(),
    };
    for v in edges.keys() {
        if !search.index.contains_key(v.as_str()) {
            visit(&mut search, v);
        }
    }
    // Within a group every node reaches every other: walk from its first node back to it.
    search
        .groups
        .iter()
        .map(|group| {
            let start = *group.iter().next().expect("non-empty group");
            let mut path = vec![start];
            let mut seen = BTreeSet::from([start]);
            loop {
                let here = *path.last().expect("non-empty path");
                let next = edges[here]
                    .keys()
                    .map(String::as_str)
                    .filter(|n| group.contains(n))
                    .find(|n| *n == start || !seen.contains(n))
                    .or_else(|| {
                        edges[here]
                            .keys()
                            .map(String::as_str)
                            .find(|n| group.contains(n))
                    })
                    .expect("a node of a cycle has an edge inside it");
                if next == start || seen.contains(next) {
                    let from = path.iter().position(|p| *p == next).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[from..].iter().map(|s| s.to_string()).collect();
                    cycle.push(next.to_string());
                    return cycle;
                }
                seen.insert(next);
                path.push(next);
            }
        })
        .collect()
}

fn describe(parent: &str, edges: &Edges, cycle: &[String]) -> String {
    let name = |m: &str| {
        if parent.is_empty() {
            m.to_string()
        } else {
            format!("{parent}::{m}")
        }
    };
    let mut out = cycle
        .iter()
        .map(|m| name(m))
        .collect::<Vec<_>>()
        .join(" → ");
    for pair in cycle.windows(2) {
        out.push_str(&format!(
            "\n    {} → {}: {}",
            name(&pair[0]),
            name(&pair[1]),
            edges[&pair[0]][&pair[1]]
        ));
    }
    out
}

#[test]
fn no_two_modules_import_each_other() {
    let graphs = sibling_edges();
    let found: Vec<String> = graphs
        .iter()
        .flat_map(|(parent, edges)| {
            cycles(edges)
                .into_iter()
                .map(move |c| describe(parent, edges, &c))
        })
        .collect();
    assert!(
        found.is_empty(),
        "import cycles between modules:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_reader_finds_grouped_relative_and_nested_paths() {
    let module: ModulePath = vec!["history".into(), "walk".into()];
    let named = paths_named(
        &module,
        "use crate::{memory::Entry, store}; let d = super::decisions::mine(super::super::vector::x);",
    );
    let named: Vec<String> = named.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        named,
        [
            "memory::Entry",
            "store",
            "history::decisions::mine",
            "vector::x"
        ]
    );
    // An identifier that merely ends in `crate` or `super` is not an anchor.
    assert!(paths_named(&module, "let supercrate::x = 1;").is_empty());
}

#[test]
fn a_cycle_is_named_with_the_line_of_each_edge() {
    let mut edges = Edges::new();
    let mut edge = |a: &str, b: &str| {
        edges
            .entry(a.to_string())
            .or_default()
            .insert(b.to_string(), format!("{a}.rs:1: use crate::{b};"));
    };
    edge("embed", "store");
    edge("store", "mirror");
    edge("mirror", "embed");
    edge("store", "memory");
    let found = cycles(&edges);
    assert_eq!(found, [["embed", "store", "mirror", "embed"]]);
    let text = describe("", &edges, &found[0]);
    assert!(text.starts_with("embed → store → mirror → embed"), "{text}");
    assert!(
        text.contains("mirror → embed: mirror.rs:1: use crate::embed;"),
        "{text}"
    );
    edges.get_mut("mirror").map(|t| t.remove("embed"));
    assert!(cycles(&edges).is_empty());
}
