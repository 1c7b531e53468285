//! Decisions over time: a tool or library of one kind (logging, tests, formatting …) removed
//! and another of the same kind added in one commit is a decision ("`log` was replaced by
//! `tracing`"). The newest choice is an active memory; the choices it replaced are kept as
//! superseded memories of the same slot, pointing at their successor. A `git revert` of the
//! switching commit undoes the decision.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::walk::CommitInfo;
use super::{date, short};
use crate::memory::{Entry, Evidence, Layer, Source, Status};

/// A dependency or tool that appeared in or disappeared from a manifest or config file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DepChange {
    /// The language the manifest belongs to (`rust`, `javascript`, `python`, `go`).
    pub lang: String,
    pub name: String,
    pub added: bool,
}

/// Kinds of choice, per language: a member removed and another added is a decision.
/// Only well-known alternatives are listed: two unrelated packages swapped in one commit are
/// not a decision of one for the other.
const CATEGORIES: &[(&str, &str, &[&str])] = &[
    ("rust", "logging", &["log", "tracing", "slog"]),
    (
        "rust",
        "errors",
        &["anyhow", "eyre", "color-eyre", "failure", "error-chain"],
    ),
    (
        "rust",
        "error_types",
        &["thiserror", "snafu", "quick-error"],
    ),
    ("rust", "async_runtime", &["tokio", "async-std", "smol"]),
    (
        "rust",
        "http_client",
        &["reqwest", "ureq", "surf", "isahc", "attohttpc"],
    ),
    (
        "rust",
        "web_framework",
        &["actix-web", "axum", "rocket", "warp", "tide", "poem"],
    ),
    (
        "rust",
        "cli",
        &["clap", "structopt", "argh", "pico-args", "gumdrop"],
    ),
    ("rust", "time", &["chrono", "time", "jiff"]),
    ("rust", "lazy_init", &["lazy_static", "once_cell"]),
    ("rust", "bench", &["criterion", "divan"]),
    (
        "javascript",
        "testing",
        &["jest", "vitest", "mocha", "ava", "jasmine", "tap", "uvu"],
    ),
    (
        "javascript",
        "linting",
        &[
            "eslint", "tslint", "biome", "rome", "oxlint", "standard", "xo",
        ],
    ),
    (
        "javascript",
        "formatting",
        &["prettier", "biome", "rome", "dprint"],
    ),
    (
        "javascript",
        "bundler",
        &[
            "webpack",
            "vite",
            "rollup",
            "parcel",
            "esbuild",
            "tsup",
            "rspack",
            "browserify",
            "snowpack",
        ],
    ),
    (
        "javascript",
        "http_client",
        &["axios", "node-fetch", "got", "superagent", "request", "ky"],
    ),
    (
        "javascript",
        "logging",
        &["winston", "pino", "bunyan", "log4js", "loglevel"],
    ),
    (
        "javascript",
        "dates",
        &["moment", "dayjs", "date-fns", "luxon"],
    ),
    (
        "python",
        "formatting",
        &["black", "yapf", "autopep8", "ruff"],
    ),
    (
        "python",
        "linting",
        &["flake8", "pylint", "ruff", "pyflakes", "pycodestyle"],
    ),
    ("python", "testing", &["pytest", "nose", "nose2"]),
    ("python", "type_checking", &["mypy", "pyright", "pytype"]),
    (
        "python",
        "http_client",
        &["requests", "httpx", "aiohttp", "urllib3"],
    ),
    (
        "python",
        "web_framework",
        &[
            "flask",
            "django",
            "fastapi",
            "starlette",
            "tornado",
            "bottle",
        ],
    ),
    ("python", "logging", &["loguru", "structlog"]),
    (
        "python",
        "packaging",
        &["poetry", "setuptools", "hatchling", "pdm", "flit"],
    ),
    (
        "go",
        "logging",
        &[
            "github.com/sirupsen/logrus",
            "go.uber.org/zap",
            "github.com/rs/zerolog",
        ],
    ),
    (
        "go",
        "http_router",
        &[
            "github.com/gorilla/mux",
            "github.com/gin-gonic/gin",
            "github.com/labstack/echo",
            "github.com/go-chi/chi",
            "github.com/gofiber/fiber",
        ],
    ),
    (
        "go",
        "testing",
        &[
            "github.com/stretchr/testify",
            "github.com/onsi/ginkgo",
            "gotest.tools",
        ],
    ),
    (
        "go",
        "cli",
        &["github.com/spf13/cobra", "github.com/urfave/cli"],
    ),
];

fn categories_of<'a>(lang: &'a str, name: &'a str) -> impl Iterator<Item = &'static str> + 'a {
    CATEGORIES
        .iter()
        .filter(move |(l, _, members)| *l == lang && members.contains(&name))
        .map(|(_, c, _)| *c)
}

fn known(lang: &str, name: &str) -> bool {
    categories_of(lang, name).next().is_some()
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

/// Known dependencies and tools that differ between two versions of a manifest. A version
/// that does not parse yields nothing: a broken file is not evidence that everything went.
pub fn manifest_changes(path: &str, before: &str, after: &str) -> Vec<DepChange> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (lang, parse): (&str, NameParser) = match name {
        "Cargo.toml" => ("rust", cargo_names),
        "package.json" => ("javascript", package_json_names),
        "pyproject.toml" => ("python", pyproject_names),
        "go.mod" => ("go", go_mod_names),
        _ => ("python", requirements_names),
    };
    let (Some(old), Some(new)) = (parse(before), parse(after)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in new.difference(&old).filter(|n| known(lang, n)) {
        out.push(DepChange {
            lang: lang.into(),
            name: n.clone(),
            added: true,
        });
    }
    for n in old.difference(&new).filter(|n| known(lang, n)) {
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

fn cargo_names(text: &str) -> Option<BTreeSet<String>> {
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

fn py_name(spec: &str) -> Option<String> {
    let name: String = spec
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then(|| name.to_lowercase().replace('_', "-"))
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
            out.extend(py_name(s));
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
            out.extend(names.iter().filter_map(|n| py_name(n)));
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
            .filter_map(py_name)
            .collect(),
    )
}

fn go_mod_names(text: &str) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut in_block = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        let module = if in_block {
            if line.starts_with(')') {
                in_block = false;
                continue;
            }
            line.split_whitespace().next()
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                continue;
            }
            rest.split_whitespace().next()
        } else {
            None
        };
        if let Some(m) = module {
            out.insert(strip_go_major(m));
        }
    }
    Some(out)
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

/// One switch from one choice to another.
#[derive(Debug, Clone)]
struct Switch<'a> {
    from: String,
    to: String,
    commit: &'a CommitInfo,
    reverted_by: Option<&'a CommitInfo>,
}

fn title(category: &str) -> String {
    let words = category.replace('_', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => words,
    }
}

/// Decision memories from the mined commits (newest first, as mined).
pub fn entries(scope: &str, commits: &[CommitInfo]) -> Vec<Entry> {
    let by_id: HashMap<&str, &CommitInfo> = commits.iter().map(|c| (c.id.as_str(), c)).collect();
    // Reverts name their target by a (possibly abbreviated) id.
    let reverted_by = |target: &CommitInfo| -> Option<&CommitInfo> {
        commits.iter().find(|c| {
            c.reverts
                .as_deref()
                .is_some_and(|r| target.id.starts_with(r))
        })
    };
    let mut switches: BTreeMap<(String, &str), Vec<Switch>> = BTreeMap::new();
    for commit in commits.iter().rev() {
        if commit.deps.is_empty() {
            continue;
        }
        // A revert of a mined switch undoes that switch; its own diff is not a new decision.
        if let Some(target) = commit.reverts.as_deref() {
            if by_id
                .iter()
                .any(|(id, c)| id.starts_with(target) && !c.deps.is_empty())
            {
                continue;
            }
        }
        for (lang, category, members) in CATEGORIES {
            let removed: Vec<&str> = commit
                .deps
                .iter()
                .filter(|d| !d.added && d.lang == *lang && members.contains(&d.name.as_str()))
                .map(|d| d.name.as_str())
                .collect();
            let added: Vec<&str> = commit
                .deps
                .iter()
                .filter(|d| d.added && d.lang == *lang && members.contains(&d.name.as_str()))
                .map(|d| d.name.as_str())
                .collect();
            let (Some(from), Some(to)) = (removed.first(), added.first()) else {
                continue;
            };
            if from == to {
                continue;
            }
            switches
                .entry((lang.to_string(), category))
                .or_default()
                .push(Switch {
                    from: from.to_string(),
                    to: to.to_string(),
                    commit,
                    reverted_by: reverted_by(commit),
                });
        }
    }

    // Whether `name` left the manifests after `since` and did not come back: the choice a
    // switch made is then history, not advice (koa chose jest over mocha in 2017, then
    // dropped jest for Node's built-in runner, which no manifest names).
    let dropped_after = |lang: &str, name: &str, since: &CommitInfo| {
        let newest_change = commits
            .iter()
            .take_while(|c| c.id != since.id)
            .find(|c| c.deps.iter().any(|d| d.lang == lang && d.name == name));
        newest_change.is_some_and(|c| {
            c.deps
                .iter()
                .any(|d| d.lang == lang && d.name == name && !d.added)
        })
    };
    let mut out = Vec::new();
    for ((lang, category), list) in switches {
        let key = format!("decision.{category}");
        let effective: Vec<&Switch> = list.iter().filter(|s| s.reverted_by.is_none()).collect();
        if let Some(last) = effective.last() {
            if dropped_after(&lang, &last.to, last.commit) {
                tracing::debug!(
                    chosen = %last.to,
                    "decision no longer current: the chosen tool was removed later"
                );
                continue;
            }
        }
        let make = |value: &str, text: String, commit: &CommitInfo| {
            let mut e = Entry::extracted(
                scope,
                Layer::Memory,
                Source::History,
                &key,
                Some(&lang),
                value,
                text,
            );
            e.importance = 0.7;
            e.confidence = 0.85;
            e.evidence = Some(Evidence {
                matching: 1,
                total: 1,
            });
            e.examples = vec![format!(
                "commit {} ({})",
                short(&commit.id),
                date(commit.time)
            )];
            e.tags = vec!["decision".into(), category.to_string()];
            e
        };
        // The chain of choices, oldest first, each with the switch that ended it.
        let mut active: Entry;
        let mut older: Vec<Entry> = Vec::new();
        if let Some(last) = effective.last() {
            active = make(
                &last.to,
                format!(
                    "{}: `{}` replaced `{}` on {} (commit {}: \"{}\"); use `{}`, not `{}`.",
                    title(category),
                    last.to,
                    last.from,
                    date(last.commit.time),
                    short(&last.commit.id),
                    last.commit.subject,
                    last.to,
                    last.from
                ),
                last.commit,
            );
            for s in &effective {
                older.push(make(
                    &s.from,
                    format!(
                        "{}: `{}` was used until {}, when commit {} replaced it with `{}`.",
                        title(category),
                        s.from,
                        date(s.commit.time),
                        short(&s.commit.id),
                        s.to
                    ),
                    s.commit,
                ));
            }
        } else {
            // Every switch was reverted: the original choice stands, and the reverted one is
            // what the repository tried and abandoned.
            let Some(first) = list.first() else { continue };
            let Some(revert) = list.last().and_then(|s| s.reverted_by) else {
                continue;
            };
            active = make(
                &first.from,
                format!(
                    "{}: `{}` stays; the switch to `{}` (commit {}, {}) was reverted in {} ({}).",
                    title(category),
                    first.from,
                    first.to,
                    short(&first.commit.id),
                    date(first.commit.time),
                    short(&revert.id),
                    date(revert.time)
                ),
                revert,
            );
            for s in &list {
                let Some(r) = s.reverted_by else { continue };
                older.push(make(
                    &s.to,
                    format!(
                        "{}: the switch from `{}` to `{}` in commit {} was reverted in {} ({}).",
                        title(category),
                        s.from,
                        s.to,
                        short(&s.commit.id),
                        short(&r.id),
                        date(r.time)
                    ),
                    s.commit,
                ));
            }
        }
        active.tags.push("current".into());
        // Each older choice points at the one that replaced it; the newest older one at the
        // active entry. A value chosen twice (log → tracing → log) keeps only its newest row.
        // The active entry goes first: the indexer lets a slot's first entry supersede
        // whatever held the slot before.
        let mut successor = active.id.clone();
        let mut group = vec![active];
        for mut e in older.into_iter().rev() {
            if group.iter().any(|g| g.id == e.id) {
                continue;
            }
            e.status = Status::Superseded;
            e.superseded_by = Some(successor.clone());
            successor = e.id.clone();
            group.push(e);
        }
        out.extend(group);
    }
    out
}
