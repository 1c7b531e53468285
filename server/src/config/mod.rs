//! Conventions read from manifests and tool configuration: the stack, formatters, linters,
//! editor settings, CI jobs and task runners.
//!
//! Every fact here was written down on purpose by the project's maintainers, so it is the
//! most reliable evidence tacit has. [`extract`] reads only the files it recognises, turns
//! each fact into a [`Entry`] of the memory layer (or a procedure with ordered steps), and
//! never fails as a whole: a file it cannot read or parse becomes a line in
//! [`Extraction::problems`] and the rest goes on.

mod commands;
mod contributing;
mod editorconfig;
mod go;
mod java;
pub(crate) mod node;
mod python;
mod rust;
mod source;
mod tasks;
mod workflows;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::memory::{Entry, Evidence, Layer, Source, Step};

use source::read_source;
pub(crate) use source::{ini_sections, yaml_scalar, yaml_to_json, SourceFile};

/// What [`extract`] found, and what it had to skip.
#[derive(Debug, Default)]
pub struct Extraction {
    pub entries: Vec<Entry>,
    pub problems: Vec<String>,
    /// Every command found in CI, scripts, hooks, docs and task runners: what instruction
    /// files are checked against.
    pub(crate) commands: Vec<FoundCommand>,
}

/// Files larger than this are generated or vendored, never hand-written configuration.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How many `file:line` references an entry keeps; more would only cost tokens.
const MAX_EXAMPLES: usize = 3;

/// Reads the recognised configuration files among `files` (paths relative to `root`, already
/// filtered by `.gitignore`) and returns the conventions they state.
///
/// Files nearer the root are read first, so that when a fact is found in several manifests
/// the root's wording and location come first and nested packages add evidence to it.
pub fn extract(root: &Path, files: &[PathBuf], scope: &str) -> Extraction {
    let mut ordered: Vec<&PathBuf> = files.iter().collect();
    ordered.sort_by_key(|path| (path.components().count(), path.to_path_buf()));
    let workspace = WorkspaceIndex::new(&ordered);
    let mut findings = Findings::new(scope);

    for rel in ordered {
        let Some(kind) = recognise(rel) else {
            continue;
        };
        let Some(file) = read_source(root, rel, &mut findings) else {
            continue;
        };
        match kind {
            FileKind::CargoManifest => rust::cargo_manifest(&file, &mut findings),
            FileKind::Rustfmt => rust::rustfmt(&file, &mut findings),
            FileKind::Clippy => rust::clippy(&file, &mut findings),
            FileKind::PackageJson => node::package_json(&file, &workspace, &mut findings),
            FileKind::Prettier => node::prettier(&file, &workspace, &mut findings),
            FileKind::Eslint => node::eslint(&file, &workspace, &mut findings),
            FileKind::Biome => node::biome(&file, &workspace, &mut findings),
            FileKind::Tsconfig => node::tsconfig(&file, &mut findings),
            FileKind::Pyproject => python::pyproject(&file, &mut findings),
            FileKind::SetupCfg => python::setup_cfg(&file, &mut findings),
            FileKind::Ruff => python::ruff_toml(&file, &mut findings),
            FileKind::Mypy => python::mypy_ini(&file, &mut findings),
            FileKind::Requirements => python::requirements(&file, &mut findings),
            FileKind::PytestIni => python::pytest_ini(&file, &mut findings),
            FileKind::GoMod => go::go_mod(&file, &mut findings),
            FileKind::Golangci => go::golangci(&file, &mut findings),
            FileKind::Maven | FileKind::Gradle => java::build_file(&file, &mut findings),
            FileKind::EditorConfig => editorconfig::editorconfig(&file, &mut findings),
            FileKind::GithubWorkflow => workflows::github_workflow(&file, &mut findings),
            FileKind::GitlabCi => workflows::gitlab_ci(&file, &mut findings),
            FileKind::PreCommit => workflows::pre_commit(&file, &mut findings),
            FileKind::ShellScript => workflows::shell_script(&file, &mut findings),
            FileKind::Makefile => tasks::makefile(&file, &mut findings),
            FileKind::Justfile => tasks::justfile(&file, &mut findings),
            FileKind::Contributing => contributing::contributing(&file, &mut findings),
        }
    }

    commands::infer_tools(&mut findings);
    commands::before_commit(&mut findings);
    commands::before_push(&mut findings);
    findings.finish()
}

/// The configuration files this module understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    CargoManifest,
    Rustfmt,
    Clippy,
    PackageJson,
    Prettier,
    Eslint,
    Biome,
    Tsconfig,
    Pyproject,
    SetupCfg,
    Ruff,
    Mypy,
    Requirements,
    PytestIni,
    GoMod,
    Golangci,
    Maven,
    Gradle,
    EditorConfig,
    GithubWorkflow,
    GitlabCi,
    PreCommit,
    ShellScript,
    Makefile,
    Justfile,
    Contributing,
}

/// Whether `extract` reads this file (relative to the root): a save of it refreshes the
/// configuration facts.
pub fn reads(rel: &Path) -> bool {
    recognise(rel).is_some()
}

fn recognise(rel: &Path) -> Option<FileKind> {
    let name = rel.file_name()?.to_str()?;
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    // Dependencies checked into the tree are someone else's conventions.
    if parts.iter().any(|p| {
        matches!(
            *p,
            "node_modules" | "vendor" | "third_party" | ".venv" | "target"
        )
    }) {
        return None;
    }
    let kind = match name {
        "Cargo.toml" => FileKind::CargoManifest,
        "rustfmt.toml" | ".rustfmt.toml" => FileKind::Rustfmt,
        "clippy.toml" | ".clippy.toml" => FileKind::Clippy,
        "package.json" => FileKind::PackageJson,
        ".prettierrc"
        | ".prettierrc.json"
        | ".prettierrc.json5"
        | ".prettierrc.yaml"
        | ".prettierrc.yml"
        | ".prettierrc.js"
        | ".prettierrc.cjs"
        | ".prettierrc.mjs"
        | ".prettierrc.toml"
        | "prettier.config.js"
        | "prettier.config.cjs"
        | "prettier.config.mjs"
        | "prettier.config.ts" => FileKind::Prettier,
        ".eslintrc" | ".eslintrc.json" | ".eslintrc.js" | ".eslintrc.cjs" | ".eslintrc.yaml"
        | ".eslintrc.yml" | "eslint.config.js" | "eslint.config.mjs" | "eslint.config.cjs"
        | "eslint.config.ts" => FileKind::Eslint,
        "biome.json" | "biome.jsonc" => FileKind::Biome,
        "tsconfig.json" => FileKind::Tsconfig,
        "pyproject.toml" => FileKind::Pyproject,
        "setup.cfg" => FileKind::SetupCfg,
        "ruff.toml" | ".ruff.toml" => FileKind::Ruff,
        "mypy.ini" | ".mypy.ini" => FileKind::Mypy,
        "pytest.ini" => FileKind::PytestIni,
        "go.mod" => FileKind::GoMod,
        ".golangci.yml" | ".golangci.yaml" => FileKind::Golangci,
        "pom.xml" => FileKind::Maven,
        "build.gradle" | "build.gradle.kts" => FileKind::Gradle,
        ".editorconfig" => FileKind::EditorConfig,
        ".gitlab-ci.yml" if parts.len() == 1 => FileKind::GitlabCi,
        ".pre-commit-config.yaml" | ".pre-commit-config.yml" => FileKind::PreCommit,
        "Makefile" | "makefile" | "GNUmakefile" => FileKind::Makefile,
        "justfile" | "Justfile" | ".justfile" => FileKind::Justfile,
        _ if name.eq_ignore_ascii_case("CONTRIBUTING.md") => {
            // Only the places GitHub itself looks: a CONTRIBUTING.md deep in a vendored
            // package describes someone else's workflow.
            let dir = &parts[..parts.len() - 1];
            if dir.is_empty() || dir == ["docs"] || dir == [".github"] {
                FileKind::Contributing
            } else {
                return None;
            }
        }
        _ if name.starts_with("requirements") && name.ends_with(".txt") => FileKind::Requirements,
        _ if is_github_workflow(&parts) => FileKind::GithubWorkflow,
        _ if workflows::is_task_script(&parts) => FileKind::ShellScript,
        _ => return None,
    };
    Some(kind)
}

/// GitHub only runs workflows from the repository root's `.github/workflows/`.
fn is_github_workflow(parts: &[&str]) -> bool {
    matches!(parts, [".github", "workflows", name] if name.ends_with(".yml") || name.ends_with(".yaml"))
}

/// Which files exist, so that a manifest can look at its siblings (a lock file, a tsconfig).
pub(crate) struct WorkspaceIndex {
    files: HashSet<String>,
}

impl WorkspaceIndex {
    fn new(files: &[&PathBuf]) -> WorkspaceIndex {
        WorkspaceIndex {
            files: files.iter().map(|p| slash_path(p)).collect(),
        }
    }

    /// Whether `name` exists in `dir` (relative, "" for the root).
    pub(crate) fn has(&self, dir: &str, name: &str) -> bool {
        self.files.contains(&join_rel(dir, name))
    }

    /// The directories below `dir` (relative, "" for the root) that hold a file of this
    /// name: the packages of a monorepo, by their `package.json`.
    pub(crate) fn dirs_below_with(&self, dir: &str, name: &str) -> Vec<&str> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.files
            .iter()
            .filter_map(|f| f.strip_prefix(prefix.as_str()))
            .filter_map(|f| f.strip_suffix(name)?.strip_suffix('/'))
            .filter(|d| !d.is_empty() && !d.split('/').any(|p| p == "node_modules"))
            .collect()
    }

    /// Whether a file of this name exists anywhere in the workspace.
    pub(crate) fn has_anywhere(&self, name: &str) -> bool {
        self.files
            .iter()
            .any(|f| f == name || f.ends_with(&format!("/{name}")))
    }
}

fn slash_path(path: &Path) -> String {
    path.components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// A `file:line` reference, the form examples take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A convention fact before it becomes an entry.
pub(crate) struct Fact {
    pub key: String,
    pub language: Option<&'static str>,
    pub value: String,
    pub text: String,
    pub importance: f32,
}

impl Fact {
    pub(crate) fn new(
        key: impl Into<String>,
        language: Option<&'static str>,
        value: impl Into<String>,
        text: impl Into<String>,
    ) -> Fact {
        let key = key.into();
        let importance = default_importance(&key);
        Fact {
            key,
            language,
            value: value.into(),
            text: text.into(),
            importance,
        }
    }

    pub(crate) fn importance(mut self, importance: f32) -> Fact {
        self.importance = importance;
        self
    }
}

/// Stack and test framework shape everything a copilot writes; tools matter when it formats
/// or lints; single settings are details.
fn default_importance(key: &str) -> f32 {
    match key.split('.').next().unwrap_or("") {
        "stack" | "test" => {
            if key.ends_with(".command") {
                0.6
            } else {
                0.8
            }
        }
        "types" => 0.6,
        "lint" if key == "lint.strict" => 0.6,
        "format" | "lint" if key.ends_with(".tool") => 0.6,
        _ => 0.4,
    }
}

/// A procedure before it becomes an entry.
pub(crate) struct Procedure {
    pub key: String,
    pub value: String,
    pub text: String,
    pub trigger: String,
    pub steps: Vec<Step>,
    pub tags: Vec<String>,
    pub importance: f32,
}

/// Where a command was found; also the order of preference when assembling the
/// before-commit procedure (CI is what the project actually enforces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Origin {
    Ci,
    PreCommit,
    Script,
    Contributing,
    /// `make lint`, `npm test`: entry points a person types.
    TaskEntry,
    /// The lines inside a Makefile target or package.json script: evidence of which tools
    /// are used, but not what a person types.
    Recipe,
}

/// A command found in CI, scripts, hooks, docs or task runners.
#[derive(Debug, Clone)]
pub(crate) struct FoundCommand {
    pub command: String,
    pub origin: Origin,
    pub at: Location,
}

/// Everything collected so far; deduplicates entries by id as they arrive.
pub(crate) struct Findings {
    scope: String,
    entries: Vec<Entry>,
    by_id: HashMap<String, usize>,
    problems: Vec<String>,
    pub(crate) commands: Vec<FoundCommand>,
}

impl Findings {
    fn new(scope: &str) -> Findings {
        Findings {
            scope: scope.to_string(),
            entries: Vec::new(),
            by_id: HashMap::new(),
            problems: Vec::new(),
            commands: Vec::new(),
        }
    }

    pub(crate) fn problem(&mut self, message: String) {
        tracing::debug!(%message, "config file skipped");
        self.problems.push(message);
    }

    /// Records a memory read from `file` at `line`.
    pub(crate) fn memory(&mut self, file: &SourceFile, line: usize, fact: Fact) {
        let tag = fact.key.split('.').next().unwrap_or("config").to_string();
        let mut entry = Entry::extracted(
            &self.scope,
            Layer::Memory,
            Source::Config,
            &fact.key,
            fact.language,
            &fact.value,
            fact.text,
        );
        entry.evidence = Some(Evidence {
            matching: 1,
            total: 1,
        });
        entry.examples = vec![file.at(line).to_string()];
        entry.tags = vec![tag];
        // A nested package's settings apply to part of the tree only.
        entry.importance = if file.is_root() {
            fact.importance
        } else {
            fact.importance * 0.9
        };
        self.insert(entry);
    }

    /// Records a procedure read from `file` at `line`.
    pub(crate) fn procedure(&mut self, file: &SourceFile, line: usize, procedure: Procedure) {
        self.procedure_at(vec![file.at(line)], procedure);
    }

    pub(crate) fn procedure_at(&mut self, locations: Vec<Location>, procedure: Procedure) {
        let mut entry = Entry::extracted(
            &self.scope,
            Layer::Procedure,
            Source::Config,
            &procedure.key,
            None,
            &procedure.value,
            procedure.text,
        );
        entry.evidence = Some(Evidence {
            matching: 1,
            total: 1,
        });
        entry.examples = locations
            .iter()
            .take(MAX_EXAMPLES)
            .map(Location::to_string)
            .collect();
        entry.tags = procedure.tags;
        entry.importance = procedure.importance;
        entry.steps = procedure.steps;
        // A one-step procedure whose sentence already names its step would show it twice.
        if let [step] = entry.steps.as_slice() {
            let named = step.command.as_deref().unwrap_or(step.text.as_str());
            if entry.text.contains(named) {
                entry.steps.clear();
            }
        }
        entry.trigger = Some(procedure.trigger);
        self.insert(entry);
    }

    pub(crate) fn command(&mut self, command: &str, origin: Origin, at: Location) {
        let command = command.trim();
        if !command.is_empty() {
            self.commands.push(FoundCommand {
                command: command.to_string(),
                origin,
                at,
            });
        }
    }

    /// The same fact found again adds evidence and examples to the first entry.
    fn insert(&mut self, entry: Entry) {
        if let Some(&index) = self.by_id.get(&entry.id) {
            let existing = &mut self.entries[index];
            // Evidence counts files that agree: a second mention in the same file (a
            // dependency and its tool section) is not a second witness.
            let file_of = |example: &String| example.rsplit_once(':').map(|(f, _)| f.to_string());
            let seen_files: Vec<Option<String>> = existing.examples.iter().map(file_of).collect();
            let new_file = entry
                .examples
                .iter()
                .any(|e| !seen_files.contains(&file_of(e)));
            if let (Some(old), Some(new), true) = (&mut existing.evidence, entry.evidence, new_file)
            {
                old.matching += new.matching;
                old.total += new.total;
            }
            for example in entry.examples {
                if existing.examples.len() < MAX_EXAMPLES && !existing.examples.contains(&example) {
                    existing.examples.push(example);
                }
            }
            for tag in entry.tags {
                if !existing.tags.contains(&tag) {
                    existing.tags.push(tag);
                }
            }
            existing.importance = existing.importance.max(entry.importance);
        } else {
            self.by_id.insert(entry.id.clone(), self.entries.len());
            self.entries.push(entry);
        }
    }

    fn finish(self) -> Extraction {
        Extraction {
            entries: self.entries,
            problems: self.problems,
            commands: self.commands,
        }
    }
}

/// Records a fact for every package of `ecosystem` in the libraries catalog that `deps`
/// (name → line where declared) holds.
pub(crate) fn apply_catalog(
    file: &SourceFile,
    findings: &mut Findings,
    ecosystem: &str,
    deps: &BTreeMap<String, usize>,
    language: Option<&'static str>,
) {
    for entry in crate::catalog::libraries_of(ecosystem) {
        let Some(&line) = deps.get(&entry.package) else {
            continue;
        };
        let present: Vec<&str> = entry
            .companions
            .iter()
            .map(String::as_str)
            .filter(|c| deps.contains_key(*c))
            .collect();
        let text = if present.is_empty() {
            entry.text.to_string()
        } else {
            format!(
                "{} (with {}).",
                entry.text.trim_end_matches('.'),
                present.join(", ")
            )
        };
        findings.memory(
            file,
            line,
            Fact::new(&entry.slot, language, &entry.name, text),
        );
    }
}

/// `1. \`a\` 2. \`b\`` — the inline list form procedures use in their text.
pub(crate) fn numbered_commands<'a>(commands: impl IntoIterator<Item = &'a str>) -> String {
    commands
        .into_iter()
        .enumerate()
        .map(|(i, c)| format!("{}. `{c}`", i + 1))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
pub(crate) mod tests;
