//! Findings: where a rule people wrote contradicts what tacit measured, with strong evidence
//! only. A wrong confident finding costs more trust than a missed one, so each check stays
//! silent unless the evidence is one-sided:
//!
//! - **package manager**: the rule installs or runs with npm, yarn, pnpm or bun, and every lock
//!   file of the repository belongs to another one;
//! - **indentation**: the rule states an indent, and at least 90 % of at least 5 files of every
//!   language it can mean indent otherwise;
//! - **commands**: `make X`, `just X`, `npm run X` where the Makefile, justfile or package.json
//!   has no such target or script (and nothing, such as an `include`, could add one);
//! - **paths**: a path into the repository that exists neither from the root nor from the
//!   file's directory, and that no ignore rule marks as a build output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::read::{Document, Reading};
use crate::config::{FoundCommand, Origin as CommandOrigin};
use crate::memory::{Entry, Polarity, Source, Stance};

/// Share of files that must agree before an indentation rule is called wrong.
const INDENT_SHARE: f64 = 0.9;
/// Files of a language needed before its indentation is trusted.
const INDENT_FILES: u32 = 5;

const MANAGERS: [&str; 4] = ["npm", "pnpm", "yarn", "bun"];

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    PackageManager,
    Indentation,
    Command,
    Path,
}

/// A rule that contradicts the repository, at the value that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The instruction file, relative to the root.
    pub file: String,
    /// 1-based line, and the byte range of the wrong value within it.
    pub line: usize,
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// The words that are wrong, as written.
    pub found: String,
    /// What is wrong, with the evidence and its counts.
    pub message: String,
    /// The measured value that can replace `found`, when there is exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// A `file:line` of the repository that shows the measured value (a lock file, a file
    /// indented the measured way), for an editor to open next to the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// What the repository shows, gathered once for every file checked.
pub struct Measured {
    root: PathBuf,
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
    facts: Vec<Entry>,
    commands: Vec<FoundCommand>,
    ignored: ignore::gitignore::Gitignore,
}

fn slash(path: &Path) -> String {
    path.components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect::<Vec<_>>()
        .join("/")
}

impl Measured {
    /// Reads the configuration of `files` (relative to `root`, as the walk admitted them) and
    /// takes the code conventions already counted (`code_facts`, from the store or a scan).
    pub fn gather(root: &Path, files: &[PathBuf], code_facts: Vec<Entry>) -> Measured {
        let extraction = crate::config::extract(root, files, "check");
        let files: BTreeSet<String> = files.iter().map(|f| slash(f)).collect();
        let mut dirs = BTreeSet::new();
        for file in &files {
            let mut dir = file.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if !dirs.insert(parent.to_string()) {
                    break;
                }
                dir = parent;
            }
        }
        let mut facts = extraction.entries;
        facts.extend(code_facts);
        let (ignored, _) = ignore::gitignore::Gitignore::new(root.join(".gitignore"));
        Measured {
            root: root.to_path_buf(),
            files,
            dirs,
            facts,
            commands: extraction.commands,
            ignored,
        }
    }

    fn has_file_named(&self, names: &[&str]) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                names.contains(&name)
            })
            .map(String::as_str)
            .collect()
    }
}

/// The code conventions a check needs, counted by parsing the workspace (for the CLI, which
/// runs without an index).
pub fn scan_code_facts(root: &Path, files: &[PathBuf]) -> Vec<Entry> {
    match crate::code::registry() {
        Ok(registry) => {
            let (index, _) = crate::code::CodeIndex::scan(
                registry,
                root,
                files,
                &[],
                crate::workspace::DEFAULT_MAX_FILE_BYTES,
                &|_, _| {},
            );
            index
                .entries("check")
                .into_iter()
                .filter(|e| e.key.as_deref() == Some("format.indent"))
                .collect()
        }
        Err(e) => {
            tracing::error!("{e}");
            Vec::new()
        }
    }
}

/// Every finding of every hand-written rule in `reading`, in file and line order.
pub fn check(reading: &Reading, measured: &Measured) -> Vec<Finding> {
    let manager = package_manager(measured);
    let mut findings = Vec::new();
    for doc in &reading.documents {
        for rule in doc.hand_rules() {
            let stance = Stance::of(&rule.text);
            if stance.polarity == Polarity::Negative {
                // "Never use npm" agrees with a pnpm lock file; only positive rules are checked.
                continue;
            }
            for line in rule.line..=rule.end_line {
                let text = doc.line(line);
                if let Some((m, evidence, _)) = &manager {
                    findings.extend(check_manager(doc, line, text, &rule.text, m, evidence));
                }
                for span in inline_spans(text) {
                    findings.extend(check_command(doc, line, &span, measured));
                    findings.extend(check_path(doc, line, &span, measured));
                }
            }
            findings.extend(check_indent(doc, rule, measured));
        }
        for (line, language) in &doc.fenced {
            if !matches!(
                language.as_str(),
                "" | "sh" | "bash" | "shell" | "console" | "zsh"
            ) {
                continue;
            }
            let text = doc.line(*line);
            let start = text.len() - text.trim_start().len();
            let start = start
                + if text[start..].starts_with("$ ") {
                    2
                } else {
                    0
                };
            let span = Span {
                start,
                text: text[start..].trim_end().to_string(),
            };
            findings.extend(check_command(doc, *line, &span, measured));
            if let Some((m, evidence, _)) = &manager {
                findings.extend(manager_in_span(doc, *line, &span, m, evidence));
            }
        }
    }
    if let Some((_, _, lock)) = &manager {
        findings
            .iter_mut()
            .filter(|f| f.kind == Kind::PackageManager)
            .for_each(|f| f.example = Some(format!("{lock}:1")));
    }
    findings.sort_by(|a, b| (&a.file, a.line, a.start).cmp(&(&b.file, b.line, b.start)));
    findings.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.start == b.start);
    findings
}

/// An inline code span's contents and where they start in the line.
struct Span {
    start: usize,
    text: String,
}

fn inline_spans(line: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut rest = 0;
    while let Some(open) = line[rest..].find('`') {
        let from = rest + open + 1;
        let Some(close) = line[from..].find('`') else {
            break;
        };
        if close > 0 {
            spans.push(Span {
                start: from,
                text: line[from..from + close].to_string(),
            });
        }
        rest = from + close + 1;
    }
    spans
}

fn finding(
    doc: &Document,
    line: usize,
    start: usize,
    found: &str,
    kind: Kind,
    message: String,
    replacement: Option<String>,
) -> Finding {
    Finding {
        file: doc.rel.clone(),
        line,
        start,
        end: start + found.len(),
        kind,
        found: found.to_string(),
        message,
        replacement,
        example: None,
    }
}

// ---------------------------------------------------------------------------------------
// Package manager

/// The one package manager every lock file (and `packageManager` field) names, with the lock
/// files as evidence and the first of them as an example; `None` when there are none or they
/// disagree.
fn package_manager(measured: &Measured) -> Option<(&'static str, String, String)> {
    let mut managers: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    for (lock, manager) in crate::config::node::LOCK_FILES {
        for path in measured.has_file_named(&[lock]) {
            managers.entry(manager).or_default().push(path);
        }
    }
    let declared: BTreeSet<&str> = measured
        .facts
        .iter()
        .filter(|e| e.key.as_deref() == Some("stack.package_manager"))
        .filter_map(|e| e.value.as_deref())
        .collect();
    if managers.len() != 1 || declared.iter().any(|d| !managers.contains_key(d)) {
        return None;
    }
    let (manager, locks) = managers.into_iter().next()?;
    let others: Vec<&str> = crate::config::node::LOCK_FILES
        .iter()
        .filter(|(_, m)| *m != manager)
        .map(|(lock, _)| *lock)
        .collect();
    let shown: Vec<String> = locks.iter().take(3).map(|l| format!("`{l}`")).collect();
    let evidence = format!(
        "{} {} checked in, and no {}",
        shown.join(", "),
        if locks.len() == 1 { "is" } else { "are" },
        others.join(", ")
    );
    let example = locks.first()?.to_string();
    Some((manager, evidence, example))
}

static MANAGER_PROSE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:use|using|with|via)\s+(npm|pnpm|yarn|bun)\b").ok());

fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(str::to_string)
        .collect()
}

fn check_manager(
    doc: &Document,
    line: usize,
    text: &str,
    rule: &str,
    manager: &str,
    evidence: &str,
) -> Vec<Finding> {
    // A rule that names the measured manager too ("pnpm, not npm") is about the choice itself.
    if words_of(rule).iter().any(|w| w == manager) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for span in inline_spans(text) {
        out.extend(manager_in_span(doc, line, &span, manager, evidence));
    }
    if let Some(re) = MANAGER_PROSE.as_ref() {
        for caps in re.captures_iter(text) {
            let Some(word) = caps.get(1) else { continue };
            let inside_code = text[..word.start()].matches('`').count() % 2 == 1;
            let named = word.as_str().to_lowercase();
            if inside_code || named == manager {
                continue;
            }
            out.push(finding(
                doc,
                line,
                word.start(),
                word.as_str(),
                Kind::PackageManager,
                format!(
                    "The rule says {named}, but this repository installs with {manager}: {evidence}."
                ),
                Some(manager.to_string()),
            ));
        }
    }
    out
}

fn manager_in_span(
    doc: &Document,
    line: usize,
    span: &Span,
    manager: &str,
    evidence: &str,
) -> Option<Finding> {
    let words: Vec<&str> = span.text.split_whitespace().collect();
    let named = *words.first()?;
    if !MANAGERS.contains(&named) || named == manager || words.len() < 2 {
        return None;
    }
    // A global install puts a tool on the machine, not a dependency in the repository.
    if words.iter().any(|w| matches!(*w, "-g" | "--global")) {
        return None;
    }
    let command = span.text.trim();
    Some(finding(
        doc,
        line,
        span.start + (span.text.len() - span.text.trim_start().len()),
        command,
        Kind::PackageManager,
        format!(
            "`{command}` uses {named}, but this repository installs with {manager}: {evidence}."
        ),
        translate(&words, manager),
    ))
}

/// The same command for another package manager, where the translation is certain.
fn translate(words: &[&str], manager: &str) -> Option<String> {
    let sub = *words.get(1)?;
    let rest = &words[2..];
    let packages: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|w| !w.starts_with('-'))
        .collect();
    let flags: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|w| w.starts_with('-'))
        .collect();
    let join = |parts: &[&str]| parts.join(" ");
    let translated = match sub {
        "install" | "i" if packages.is_empty() && flags.is_empty() => format!("{manager} install"),
        "install" | "i" | "add" => {
            let dev = flags
                .iter()
                .all(|f| matches!(*f, "-D" | "--save-dev" | "--dev"));
            if !dev {
                return None;
            }
            let dev = if flags.is_empty() { "" } else { " -D" };
            format!("{manager} add{dev} {}", join(&packages))
        }
        "ci" if rest.is_empty() => format!("{manager} install --frozen-lockfile"),
        // `bun test` is bun's own test runner, not the `test` script.
        "test" | "start" if manager == "bun" => format!("bun run {sub} {}", join(rest)),
        "run" | "test" | "start" | "exec" => format!("{manager} {sub} {}", join(rest)),
        "uninstall" | "remove" | "rm" if flags.is_empty() => {
            format!("{manager} remove {}", join(&packages))
        }
        _ => return None,
    };
    Some(translated.trim_end().to_string())
}

// ---------------------------------------------------------------------------------------
// Indentation

/// What a rule says about one convention, for checks and for the writer's conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub key: &'static str,
    pub value: String,
}

static SPACES: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(\d|two|four|eight)([- ])spaces?\b").ok());
static TABS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?i)\btabs?\b").ok());

fn number_word(word: &str) -> Option<u32> {
    match word.to_lowercase().as_str() {
        "two" => Some(2),
        "four" => Some(4),
        "eight" => Some(8),
        digit => digit.parse().ok().filter(|n| (1..=8).contains(n)),
    }
}

/// The conventions a rule states: its package manager and its indentation.
pub fn claims(rule: &str) -> Vec<Claim> {
    let mut out = Vec::new();
    if Stance::of(rule).polarity == Polarity::Negative {
        return out;
    }
    let lower = rule.to_lowercase();
    if lower.contains("indent") {
        let spaces = SPACES.as_ref().and_then(|re| re.captures(rule));
        let tabs = TABS.as_ref().is_some_and(|re| re.is_match(rule));
        match (spaces, tabs) {
            (Some(caps), false) => {
                if let Some(n) = caps.get(1).and_then(|m| number_word(m.as_str())) {
                    out.push(Claim {
                        key: "format.indent",
                        value: format!("spaces:{n}"),
                    });
                }
            }
            (None, true) => out.push(Claim {
                key: "format.indent",
                value: "tabs".into(),
            }),
            _ => {}
        }
    }
    let named: BTreeSet<&str> = MANAGERS
        .iter()
        .copied()
        .filter(|m| words_of(rule).iter().any(|w| w == m))
        .collect();
    if named.len() == 1 {
        out.extend(named.into_iter().map(|m| Claim {
            key: "stack.package_manager",
            value: m.to_string(),
        }));
    }
    out
}

/// Languages tacit measures, by the words people use for them.
fn language_named(word: &str, original: &str) -> Option<Option<&'static str>> {
    let measured = match word {
        "rust" => Some("rust"),
        "python" => Some("python"),
        "typescript" | "ts" | "tsx" => Some("typescript"),
        "javascript" | "js" | "jsx" => Some("javascript"),
        "golang" => Some("go"),
        // "go" is also a verb; only the capitalised name counts.
        "go" if original == "Go" => Some("go"),
        "java" => Some("java"),
        _ => None,
    };
    if measured.is_some() {
        return Some(measured);
    }
    const UNMEASURED: &[&str] = &[
        "yaml",
        "yml",
        "json",
        "toml",
        "markdown",
        "md",
        "html",
        "css",
        "scss",
        "sql",
        "shell",
        "bash",
        "makefile",
        "makefiles",
        "c",
        "c++",
        "cpp",
        "ruby",
        "php",
        "kotlin",
        "swift",
        "terraform",
        "hcl",
        "xml",
        "lua",
        "proto",
        "protobuf",
        "nix",
        "dockerfile",
        "vue",
        "svelte",
        "scala",
        "elixir",
        "haskell",
        "zig",
        "dart",
        "csharp",
        "c#",
    ];
    UNMEASURED.contains(&word).then_some(None)
}

/// The languages a rule can be about: those it names, else those of its file's scope.
fn languages_meant(
    doc: &Document,
    rule: &str,
    measured: &Measured,
) -> Option<BTreeSet<&'static str>> {
    let mut named = BTreeSet::new();
    for original in rule.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#')) {
        match language_named(&original.to_lowercase(), original) {
            Some(Some(language)) => {
                named.insert(language);
            }
            // A rule about YAML or CSS says nothing about the code tacit measures.
            Some(None) => return None,
            None => {}
        }
    }
    if !named.is_empty() {
        return Some(named);
    }
    if !doc.scope.globs.is_empty() {
        return doc
            .scope
            .globs
            .iter()
            .map(|g| super::formats::glob_language(g))
            .collect::<Option<BTreeSet<_>>>();
    }
    let dir = &doc.scope.dir;
    let mut inside: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for file in &measured.files {
        if let Some(language) = crate::workspace::language_of(Path::new(file)) {
            let counts = inside.entry(language).or_default();
            counts.1 += 1;
            if dir.is_empty() || file.starts_with(&format!("{dir}/")) {
                counts.0 += 1;
            }
        }
    }
    // A nested file's rule is judged only on languages written nowhere else: the counts are
    // for the whole repository.
    Some(
        inside
            .into_iter()
            .filter(|(_, (here, all))| *here > 0 && here == all)
            .map(|(l, _)| l)
            .collect(),
    )
}

fn describe_indent(value: &str) -> String {
    match value.strip_prefix("spaces:") {
        Some(n) => format!("{n} spaces"),
        None => "tabs".into(),
    }
}

fn check_indent(doc: &Document, rule: &super::read::Rule, measured: &Measured) -> Vec<Finding> {
    let Some(claim) = claims(&rule.text)
        .into_iter()
        .find(|c| c.key == "format.indent")
    else {
        return Vec::new();
    };
    let Some(languages) = languages_meant(doc, &rule.text, measured) else {
        return Vec::new();
    };
    if languages.is_empty() {
        return Vec::new();
    }
    let mut evidence = Vec::new();
    let mut values = BTreeSet::new();
    let mut shown = None;
    for language in &languages {
        let strong = measured.facts.iter().find(|e| {
            e.source == Source::Code
                && e.key.as_deref() == Some("format.indent")
                && e.language.as_deref() == Some(language)
        });
        let Some(fact) = strong else {
            return Vec::new();
        };
        let (Some(value), Some(ev)) = (fact.value.as_deref(), fact.evidence) else {
            return Vec::new();
        };
        let strong = value != "mixed"
            && ev.total >= INDENT_FILES
            && f64::from(ev.matching) >= INDENT_SHARE * f64::from(ev.total);
        if !strong || value == claim.value {
            return Vec::new();
        }
        values.insert(value.to_string());
        shown = shown.or_else(|| fact.examples.first().cloned());
        let example = fact
            .examples
            .first()
            .map(|x| format!(", e.g. `{x}`"))
            .unwrap_or_default();
        evidence.push(format!(
            "{} files indent with {} ({} of {} files{example})",
            crate::code::language_name(language),
            describe_indent(value),
            ev.matching,
            ev.total
        ));
    }
    // The words to replace: the first indentation phrase of the rule's lines.
    for line in rule.line..=rule.end_line {
        let text = doc.line(line);
        let hit = SPACES
            .as_ref()
            .and_then(|re| re.find(text))
            .or_else(|| TABS.as_ref().and_then(|re| re.find(text)));
        let Some(hit) = hit else { continue };
        let replacement = (values.len() == 1)
            .then(|| values.iter().next().map(|v| indent_words(hit.as_str(), v)))
            .flatten();
        let mut found = finding(
            doc,
            line,
            hit.start(),
            hit.as_str(),
            Kind::Indentation,
            format!(
                "The rule says {}, but {}.",
                describe_indent(&claim.value),
                evidence.join("; ")
            ),
            replacement,
        );
        found.example = shown;
        return vec![found];
    }
    Vec::new()
}

/// The measured indent in the grammatical form of the words it replaces: "2-space" →
/// "4-space" or "tab", "2 spaces" → "4 spaces" or "tabs", "tabs" → "4 spaces".
fn indent_words(written: &str, measured: &str) -> String {
    let adjective = written.contains('-') || (!written.ends_with('s') && !written.ends_with('S'));
    match (measured.strip_prefix("spaces:"), adjective) {
        (Some(n), true) => format!("{n}-space"),
        (Some(n), false) => format!("{n} spaces"),
        (None, true) => "tab".into(),
        (None, false) => "tabs".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Commands

/// Whether a Makefile or justfile declares `target`: on a rule's header line (`lint: deps`,
/// `@lint:`, `lint arg:`), in `.PHONY`, or as a just alias.
fn declares(text: &str, target: &str) -> bool {
    text.lines().any(|line| {
        if line.starts_with([' ', '\t']) {
            return false;
        }
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("alias ") {
            return rest.split_whitespace().next() == Some(target);
        }
        let Some((head, after)) = line.split_once(':') else {
            return false;
        };
        if after.starts_with('=') || head.contains('=') {
            return false;
        }
        let head = head.strip_prefix(".PHONY").unwrap_or(head);
        head.split_whitespace()
            .any(|word| word.trim_start_matches('@') == target)
    })
}

/// The targets of every Makefile or justfile, or `None` when some may come from elsewhere
/// (an `include`, a pattern rule, a generated Makefile).
fn runner_files(measured: &Measured, runner: &str) -> Option<Vec<(String, String)>> {
    let names: &[&str] = if runner == "make" {
        &["Makefile", "makefile", "GNUmakefile"]
    } else {
        &["justfile", "Justfile", ".justfile"]
    };
    if runner == "make" {
        let generators = [
            "CMakeLists.txt",
            "configure",
            "Makefile.am",
            "Makefile.in",
            "meson.build",
        ];
        let generated = names
            .iter()
            .any(|n| measured.root.join(n).exists() && !measured.files.contains(*n));
        if generated || !measured.has_file_named(&generators).is_empty() {
            return None;
        }
    }
    let mut out = Vec::new();
    for path in measured.has_file_named(names) {
        let text = std::fs::read_to_string(measured.root.join(path)).ok()?;
        let open = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("include ")
                || l.starts_with("-include ")
                || l.starts_with("import ")
                || l.starts_with("mod ")
                || l.starts_with("sinclude ")
                || (l.contains(':') && l.split(':').next().is_some_and(|h| h.contains(['%', '$'])))
        });
        if open {
            return None;
        }
        out.push((path.to_string(), text));
    }
    Some(out)
}

/// The scripts of every package.json, from the commands the configuration reader found.
fn scripts(measured: &Measured) -> BTreeSet<String> {
    measured
        .commands
        .iter()
        .filter(|c| c.origin == CommandOrigin::TaskEntry)
        .filter(|c| c.at.file.ends_with("package.json"))
        .filter_map(|c| {
            let words: Vec<&str> = c.command.split_whitespace().collect();
            match words.as_slice() {
                [_, "test"] => Some("test".to_string()),
                [_, "run", name] => Some(name.to_string()),
                _ => None,
            }
        })
        .collect()
}

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The one existing name that is the missing one spelled differently (`type-check` for
/// `typecheck`, `lint:fix` for `lint-fix`).
fn respelled<'a>(missing: &str, names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let want = normalized(missing);
    let matches: Vec<&str> = names
        .into_iter()
        .filter(|n| normalized(n) == want)
        .collect();
    (matches.len() == 1).then(|| matches[0].to_string())
}

fn listed<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let shown: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 10 {
        format!(" and {} more", names.len() - 10)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

fn check_command(doc: &Document, line: usize, span: &Span, measured: &Measured) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut offset = span.start;
    for part in span.text.split("&&") {
        let lead = part.len() - part.trim_start().len();
        let words: Vec<(usize, &str)> = word_offsets(part.trim_start());
        let at = |i: usize| offset + lead + words[i].0;
        match words.iter().map(|(_, w)| *w).collect::<Vec<_>>().as_slice() {
            [runner @ ("make" | "just"), targets @ ..] if !targets.is_empty() => {
                if targets
                    .iter()
                    .any(|t| t.starts_with('-') || t.contains(['=', '$', '/']))
                {
                    offset += part.len() + 2;
                    continue;
                }
                // `just recipe arg` passes arguments; only the recipe is a name.
                let targets = if *runner == "just" {
                    &targets[..1]
                } else {
                    targets
                };
                let Some(files) = runner_files(measured, runner) else {
                    offset += part.len() + 2;
                    continue;
                };
                let kind = if *runner == "make" {
                    "Makefile"
                } else {
                    "justfile"
                };
                for (i, target) in targets.iter().enumerate() {
                    if files.iter().any(|(_, text)| declares(text, target)) {
                        continue;
                    }
                    let message = if files.is_empty() {
                        format!("`{runner} {target}`: the repository has no {kind}.")
                    } else {
                        let declared: BTreeSet<String> =
                            files.iter().flat_map(|(_, t)| headers(t)).collect();
                        let places: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
                        format!(
                            "`{runner} {target}`: no {kind} target `{target}` in {} (targets: {}).",
                            places.join(", "),
                            listed(declared.iter().map(String::as_str))
                        )
                    };
                    let replacement = respelled(
                        target,
                        files
                            .iter()
                            .flat_map(|(_, t)| headers(t))
                            .collect::<BTreeSet<_>>()
                            .iter()
                            .map(String::as_str),
                    );
                    out.push(finding(
                        doc,
                        line,
                        at(i + 1),
                        target,
                        Kind::Command,
                        message,
                        replacement,
                    ));
                }
            }
            [manager, rest @ ..] if MANAGERS.contains(manager) && !rest.is_empty() => {
                let (script, index) = match rest {
                    ["run" | "run-script", name, ..] if !name.starts_with('-') => (*name, 2),
                    ["test" | "t", ..] if *manager != "bun" => ("test", 1),
                    _ => {
                        offset += part.len() + 2;
                        continue;
                    }
                };
                let manifests = measured.has_file_named(&["package.json"]);
                let known = scripts(measured);
                if known.contains(script) {
                    offset += part.len() + 2;
                    continue;
                }
                let message = if manifests.is_empty() {
                    format!(
                        "`{manager} {}`: the repository has no package.json.",
                        rest.join(" ")
                    )
                } else if known.is_empty() {
                    format!(
                        "`{manager} {}`: no package.json of the repository has scripts.",
                        rest.join(" ")
                    )
                } else {
                    format!(
                        "`{manager} {}`: no package.json script `{script}` (scripts: {}).",
                        rest.join(" "),
                        listed(known.iter().map(String::as_str))
                    )
                };
                let replacement = respelled(script, known.iter().map(String::as_str));
                let found_at = if index == 1 { at(1) } else { at(2) };
                out.push(finding(
                    doc,
                    line,
                    found_at,
                    words[index].1,
                    Kind::Command,
                    message,
                    replacement,
                ));
            }
            _ => {}
        }
        offset += part.len() + 2;
    }
    out
}

/// The target names declared on header lines of a Makefile or justfile.
fn headers(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '.']))
        .filter_map(|l| {
            let (head, after) = l.split_once(':')?;
            (!after.starts_with('=') && !head.contains('=')).then_some(head)
        })
        .flat_map(|h| {
            h.split_whitespace()
                .map(|w| w.trim_start_matches('@').to_string())
        })
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)))
        .collect()
}

fn word_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for word in text.split(' ') {
        if !word.is_empty() {
            out.push((at, word));
        }
        at += word.len() + 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Paths

/// Directories that hold what a build writes, never what people check in.
const OUTPUTS: &[&str] = &[
    "target",
    "dist",
    "build",
    "out",
    "node_modules",
    ".venv",
    "venv",
    "coverage",
    "bin",
    "obj",
    ".next",
    "__pycache__",
    ".git",
];

fn looks_like_repo_path(text: &str, measured: &Measured) -> bool {
    let forbidden = [
        '*', '?', '[', ']', '{', '}', '<', '>', '$', '~', '%', '|', ' ', ':', '=', '@', '\\', '(',
        ')', ',', '#', '"', '\'',
    ];
    if !text.contains('/')
        || text.contains(forbidden)
        || text.contains("...")
        || text.starts_with(['/', '-'])
    {
        return false;
    }
    let path = text.trim_start_matches("./");
    let first = path.split('/').next().unwrap_or("");
    if OUTPUTS.contains(&first) || first == ".." {
        return false;
    }
    // `github.com/x/y`, `net/http`, `owner/repo`: only a path whose first directory exists
    // here, or that names a file (`docs/guide.md`), is about this repository.
    let named_file = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(stem, ext)| {
            !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    let domain_like = first.contains('.') && !first.starts_with('.');
    !domain_like && (named_file || measured.dirs.contains(first))
}

fn check_path(doc: &Document, line: usize, span: &Span, measured: &Measured) -> Option<Finding> {
    let text = span.text.trim();
    if !looks_like_repo_path(text, measured) {
        return None;
    }
    let path = text.trim_start_matches("./").trim_end_matches('/');
    let doc_dir = doc.rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let candidates = [
        path.to_string(),
        if doc_dir.is_empty() {
            path.to_string()
        } else {
            format!("{doc_dir}/{path}")
        },
    ];
    let exists = candidates.iter().any(|c| {
        measured.root.join(c).exists() || measured.files.contains(c) || measured.dirs.contains(c)
    }) || measured
        .files
        .iter()
        .chain(measured.dirs.iter())
        .any(|f| f.ends_with(&format!("/{path}")));
    let is_dir = text.ends_with('/');
    if exists
        || measured
            .ignored
            .matched_path_or_any_parents(path, is_dir)
            .is_ignore()
    {
        return None;
    }
    // A file of that name elsewhere is where it went.
    let name = path.rsplit('/').next().unwrap_or(path);
    let moved: Vec<&String> = measured
        .files
        .iter()
        .filter(|f| !is_dir && f.rsplit('/').next() == Some(name))
        .collect();
    let replacement = (moved.len() == 1).then(|| moved[0].clone());
    let hint = replacement
        .as_ref()
        .map(|m| format!("; a file of that name is at `{m}`"))
        .unwrap_or_default();
    let from = if doc_dir.is_empty() {
        "the repository root".to_string()
    } else {
        format!("the repository root or `{doc_dir}/`")
    };
    Some(finding(
        doc,
        line,
        span.start + (span.text.len() - span.text.trim_start().len()),
        text,
        Kind::Path,
        format!("`{text}` does not exist (looked from {from}){hint}."),
        replacement,
    ))
}

/// One line per finding, as compilers print them: `file:line:column: warning: message`.
pub fn render(finding: &Finding) -> String {
    format!(
        "{}:{}:{}: warning: {}",
        finding.file,
        finding.line,
        finding.start + 1,
        finding.message
    )
}

#[cfg(test)]
mod tests;
