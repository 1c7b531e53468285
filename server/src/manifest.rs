//! What a project's manifests and tool configuration files say about its dependencies and
//! tools: the names a `Cargo.toml`, `package.json`, `pyproject.toml`, `requirements*.txt` or
//! `go.mod` lists, and the tools whose config files come and go. The history miner compares
//! them between a commit and its parent (the catalog says which names matter); the config
//! extractors read Python requirement names and `go.mod` requirements with it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::is_known_library;

/// A dependency or tool that appeared in or disappeared from a manifest or config file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DepChange {
    /// The language the manifest belongs to (`rust`, `javascript`, `python`, `go`).
    pub lang: String,
    pub name: String,
    pub added: bool,
}

/// The manifests whose dependency lists are compared between a commit and its parent.
pub fn is_manifest(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Cargo.toml" | "package.json" | "pyproject.toml" | "go.mod"
    ) || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// Tool config files whose creation or deletion says a tool came or went.
pub fn config_file_change(path: &str, status: git2::Delta) -> Option<Vec<DepChange>> {
    let added = match status {
        git2::Delta::Added => true,
        git2::Delta::Deleted => false,
        _ => return None,
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').find(|s| !s.is_empty()).unwrap_or(name);
    let found: &[(&str, &str)] = match stem {
        "jest" if name.starts_with("jest.config") => &[("javascript", "jest")],
        "vitest" if name.starts_with("vitest.config") => &[("javascript", "vitest")],
        "eslintrc" => &[("javascript", "eslint")],
        "eslint" if name.starts_with("eslint.config") => &[("javascript", "eslint")],
        "prettierrc" => &[("javascript", "prettier")],
        "prettier" if name.starts_with("prettier.config") => &[("javascript", "prettier")],
        "biome" if name.starts_with("biome.json") => &[("javascript", "biome")],
        "webpack" if name.starts_with("webpack.config") => &[("javascript", "webpack")],
        "vite" if name.starts_with("vite.config") => &[("javascript", "vite")],
        "rollup" if name.starts_with("rollup.config") => &[("javascript", "rollup")],
        "flake8" if name == ".flake8" => &[("python", "flake8")],
        "ruff" if name == "ruff.toml" || name == ".ruff.toml" => &[("python", "ruff")],
        "pylintrc" => &[("python", "pylint")],
        "pytest" if name == "pytest.ini" => &[("python", "pytest")],
        "mypy" if name == "mypy.ini" => &[("python", "mypy")],
        _ => return None,
    };
    Some(
        found
            .iter()
            .map(|(lang, tool)| DepChange {
                lang: lang.to_string(),
                name: tool.to_string(),
                added,
            })
            .collect(),
    )
}

/// Reads the dependency and tool names of one manifest format; `None` when it does not parse.
type NameParser = fn(&str) -> Option<BTreeSet<String>>;

/// The language of a manifest and how its names are read, by its file name.
fn format_of(path: &str) -> (&'static str, NameParser) {
    match path.rsplit('/').next().unwrap_or(path) {
        "Cargo.toml" => ("rust", cargo_names),
        "package.json" => ("javascript", package_json_names),
        "pyproject.toml" => ("python", pyproject_names),
        "go.mod" => ("go", go_mod_names),
        _ => ("python", requirements_names),
    }
}

/// The dependency and tool names one version of the manifest at `path` declares; `None` when
/// it does not parse. An empty text (the file did not exist) declares none.
pub fn names(path: &str, text: &str) -> Option<BTreeSet<String>> {
    (format_of(path).1)(text)
}

/// Known dependencies and tools that differ between two versions of a manifest. A version
/// that does not parse yields nothing: a broken file is not evidence that everything went.
pub fn changes(path: &str, before: &str, after: &str) -> Vec<DepChange> {
    changes_of_names(
        path,
        names(path, before).as_ref(),
        names(path, after).as_ref(),
    )
}

/// [`changes`] from the names each version declares ([`names`]).
pub fn changes_of_names(
    path: &str,
    old: Option<&BTreeSet<String>>,
    new: Option<&BTreeSet<String>>,
) -> Vec<DepChange> {
    let lang = format_of(path).0;
    let (Some(old), Some(new)) = (old, new) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in new.difference(old).filter(|n| is_known_library(lang, n)) {
        out.push(DepChange {
            lang: lang.into(),
            name: n.clone(),
            added: true,
        });
    }
    for n in old.difference(new).filter(|n| is_known_library(lang, n)) {
        out.push(DepChange {
            lang: lang.into(),
            name: n.clone(),
            added: false,
        });
    }
    out
}

fn parse_toml(text: &str) -> Option<toml::Table> {
    if text.trim().is_empty() {
        return Some(toml::Table::new());
    }
    text.parse::<toml::Table>().ok()
}

fn table_keys(value: Option<&toml::Value>, out: &mut BTreeSet<String>) {
    if let Some(t) = value.and_then(toml::Value::as_table) {
        out.extend(t.keys().cloned());
    }
}

/// The dependency names of a `Cargo.toml`: the keys of its dependency tables
/// (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, the same under
/// `[target.'cfg(…)']`, and `[workspace.dependencies]`) and the names of their
/// `[dependencies.NAME]` tables. Read line by line, not by a TOML parse: the miner reads every
/// version of every `Cargo.toml` in a history, and parsing them whole for these names was a
/// seventh of a Rust repository's mining (insta, under `perf`). Values are only scanned far
/// enough to know where they end (arrays, inline tables and strings over several lines).
/// `None` when a line is not TOML (a conflict marker, a stray word), as a parse would fail.
fn cargo_names(text: &str) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut in_dependencies = false;
    let mut value = ValueScan::default();
    for line in text.lines() {
        if value.open() {
            value.scan(line);
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            let path = header_path(line)?;
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            in_dependencies = false;
            match dependency_table(&path) {
                Some(None) => in_dependencies = true,
                Some(Some(name)) => {
                    out.insert(name.to_string());
                }
                None => {}
            }
            continue;
        }
        let (key, rest) = key_before_equals(line)?;
        if in_dependencies {
            out.insert(key);
        }
        value.scan(rest);
    }
    Some(out)
}

/// Where a header's path names a dependency table: `Some(None)` for the table itself,
/// `Some(Some(name))` for one dependency's own table, `None` for any other table.
fn dependency_table<'a>(path: &[&'a str]) -> Option<Option<&'a str>> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let rest = match path {
        ["workspace", rest @ ..] if rest.first() == Some(&"dependencies") => rest,
        ["target", _, rest @ ..] => rest,
        _ => path,
    };
    match rest {
        [kind] if KINDS.contains(kind) => Some(None),
        [kind, name] if KINDS.contains(kind) => Some(Some(name)),
        _ => None,
    }
}

/// The keys of a table header (`[target.'cfg(unix)'.dependencies]`, `[[bin]]`), unquoted;
/// `None` when it does not close.
fn header_path(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix("[[").or_else(|| line.strip_prefix('['))?;
    let mut path = Vec::new();
    let mut key = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    key.push(q);
                }
            }
            '.' => path.push(std::mem::take(&mut key)),
            ']' => {
                path.push(key);
                return Some(path);
            }
            c if c.is_whitespace() => {}
            c => key.push(c),
        }
    }
    None
}

/// The first key of `key = value` or `key.sub = value` (bare or quoted), and what follows the
/// `=`; `None` when the line is not a key-value pair.
fn key_before_equals(line: &str) -> Option<(String, &str)> {
    let (key, rest) = match line.chars().next()? {
        q @ ('"' | '\'') => {
            let end = line[1..].find(q)? + 1;
            (line[1..end].to_string(), &line[end + 1..])
        }
        _ => {
            let end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(line.len());
            if end == 0 {
                return None;
            }
            (line[..end].to_string(), &line[end..])
        }
    };
    // A dotted key's later parts (`serde.workspace`) do not change whose entry it is.
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '=') => return Some((key, &rest[i + 1..])),
            (None, c) if c == '.' || c.is_whitespace() || c.is_ascii_alphanumeric() => {}
            (None, '_' | '-') => {}
            (None, _) => return None,
        }
    }
    None
}

/// How far a TOML value has been read: the brackets and braces still open, and the
/// multi-line string it is inside of, if any.
#[derive(Default)]
struct ValueScan {
    depth: usize,
    string: Option<u8>,
}

impl ValueScan {
    /// True while the value continues on the next line.
    fn open(&self) -> bool {
        self.depth > 0 || self.string.is_some()
    }

    fn scan(&mut self, text: &str) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if let Some(q) = self.string {
                if b[i..].starts_with(&[q, q, q]) {
                    self.string = None;
                    i += 3;
                    // Up to two quotes of the string's own end right before the delimiter.
                    while i < b.len() && b[i] == q {
                        i += 1;
                    }
                } else {
                    i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                }
                continue;
            }
            match b[i] {
                b'#' => return,
                q @ (b'"' | b'\'') => {
                    if b[i..].starts_with(&[q, q, q]) {
                        self.string = Some(q);
                        i += 3;
                        continue;
                    }
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'[' | b'{' => self.depth += 1,
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
    }
}

fn package_json_names(text: &str) -> Option<BTreeSet<String>> {
    if text.trim().is_empty() {
        return Some(BTreeSet::new());
    }
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut out = BTreeSet::new();
    for section in ["dependencies", "devDependencies", "peerDependencies"] {
        if let Some(map) = v.get(section).and_then(|m| m.as_object()) {
            out.extend(map.keys().map(|k| js_name(k)));
        }
    }
    // Tool settings kept in package.json itself.
    for (key, tool) in [
        ("jest", "jest"),
        ("eslintConfig", "eslint"),
        ("prettier", "prettier"),
    ] {
        if v.get(key).is_some() {
            out.insert(tool.to_string());
        }
    }
    Some(out)
}

/// `@biomejs/biome` is biome, `@rspack/core` is rspack: one name per tool.
fn js_name(name: &str) -> String {
    match name {
        "@biomejs/biome" => "biome".into(),
        "@rspack/core" | "@rspack/cli" => "rspack".into(),
        "rome" => "rome".into(),
        _ => name.to_string(),
    }
}

/// The distribution name of a PEP 508 requirement (`requests[socks]>=2; python_version…`),
/// normalised as pip does.
pub fn requirement_name(requirement: &str) -> Option<String> {
    let name: String = requirement
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if name.is_empty() {
        None
    } else {
        Some(name.to_ascii_lowercase().replace(['_', '.'], "-"))
    }
}

fn pyproject_names(text: &str) -> Option<BTreeSet<String>> {
    let t = parse_toml(text)?;
    let mut out = BTreeSet::new();
    let mut specs = |v: Option<&toml::Value>| {
        for s in v
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
        {
            out.extend(requirement_name(s));
        }
    };
    if let Some(project) = t.get("project") {
        specs(project.get("dependencies"));
        if let Some(optional) = project
            .get("optional-dependencies")
            .and_then(toml::Value::as_table)
        {
            for v in optional.values() {
                specs(Some(v));
            }
        }
    }
    if let Some(groups) = t.get("dependency-groups").and_then(toml::Value::as_table) {
        for v in groups.values() {
            specs(Some(v));
        }
    }
    if let Some(tool) = t.get("tool").and_then(toml::Value::as_table) {
        // A `[tool.black]` table is as much a choice of black as a dependency on it.
        out.extend(tool.keys().map(|k| k.to_lowercase()));
        if let Some(poetry) = tool.get("poetry") {
            let mut names = BTreeSet::new();
            table_keys(poetry.get("dependencies"), &mut names);
            table_keys(poetry.get("dev-dependencies"), &mut names);
            if let Some(groups) = poetry.get("group").and_then(toml::Value::as_table) {
                for g in groups.values() {
                    table_keys(g.get("dependencies"), &mut names);
                }
            }
            out.extend(names.iter().filter_map(|n| requirement_name(n)));
        }
    }
    if let Some(backend) = t
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(toml::Value::as_str)
    {
        let tool = match backend.split('.').next().unwrap_or("") {
            "poetry" => "poetry",
            "setuptools" => "setuptools",
            "hatchling" => "hatchling",
            "pdm" => "pdm",
            "flit_core" => "flit",
            _ => "",
        };
        if !tool.is_empty() {
            out.insert(tool.to_string());
        }
    }
    Some(out)
}

fn requirements_names(text: &str) -> Option<BTreeSet<String>> {
    Some(
        text.lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty() && !l.starts_with('-'))
            .filter_map(requirement_name)
            .collect(),
    )
}

fn go_mod_names(text: &str) -> Option<BTreeSet<String>> {
    Some(
        go_required_modules(text)
            .keys()
            .map(|m| strip_go_major(m))
            .collect(),
    )
}

/// The modules a `go.mod` requires, inside `require ( … )` blocks or on single lines, with
/// the 1-based line of each.
pub fn go_required_modules(text: &str) -> BTreeMap<String, usize> {
    let mut modules = BTreeMap::new();
    let mut in_block = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        let spec = if in_block {
            if line.starts_with(')') {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        if let Some(path) = spec.split_whitespace().next() {
            modules.entry(path.to_string()).or_insert(index + 1);
        }
    }
    modules
}

/// `github.com/labstack/echo/v4` is still echo.
fn strip_go_major(module: &str) -> String {
    match module.rsplit_once("/v") {
        Some((base, v)) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) => {
            base.to_string()
        }
        _ => module.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names a full TOML parse finds, the way they were read before the line scan.
    fn parsed_cargo_names(text: &str) -> Option<BTreeSet<String>> {
        let t = parse_toml(text)?;
        let mut out = BTreeSet::new();
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            table_keys(t.get(section), &mut out);
        }
        if let Some(ws) = t.get("workspace") {
            table_keys(ws.get("dependencies"), &mut out);
        }
        if let Some(targets) = t.get("target").and_then(toml::Value::as_table) {
            for target in targets.values() {
                for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
                    table_keys(target.get(section), &mut out);
                }
            }
        }
        Some(out)
    }

    #[test]
    fn a_cargo_manifests_dependency_names_are_the_ones_a_toml_parse_finds() {
        let manifest = r#"
[package]
name = "demo"
description = """
A description that quotes a manifest:
[dependencies]
not-a-dependency = "1"
"""
keywords = ["a", "b"]

[dependencies]
serde = { version = "1", features = [
    "derive",  # trailing comment, and a ] in a comment
    "rc",
] }
"tokio" = "1"
anyhow.workspace = true
regex = "an \" = inside a string" # and in a comment: x = "y"

[dependencies.clap]
version = "4"
features = [
  "derive",
]

[dev-dependencies]
insta = "1" # snapshots

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[target."cfg(target_os = \"linux\")".build-dependencies.cc]
version = "1"

[workspace.dependencies]
tracing = { version = "0.1" }

[[bin]]
name = "demo"
path = "src/main.rs"

[features]
default = ["serde"]
"#;
        let want: BTreeSet<String> = [
            "anyhow", "cc", "clap", "insta", "libc", "regex", "serde", "tokio", "tracing",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(parsed_cargo_names(manifest), Some(want.clone()));
        assert_eq!(cargo_names(manifest), Some(want));
        assert_eq!(cargo_names(""), Some(BTreeSet::new()));
    }

    #[test]
    fn a_cargo_manifest_that_is_not_toml_has_no_names_rather_than_wrong_ones() {
        let conflicted =
            "[dependencies]\n<<<<<<< HEAD\nserde = \"1\"\n=======\nserde = \"2\"\n>>>>>>> theirs\n";
        assert_eq!(parsed_cargo_names(conflicted), None);
        assert_eq!(cargo_names(conflicted), None);
        assert_eq!(cargo_names("[dependencies\nserde = \"1\"\n"), None);
    }
}
