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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::read::{Document, Reading};
use crate::config::FoundCommand;
use crate::memory::{Entry, Polarity, Stance};

mod claims;
mod commands;
mod indent;
mod manager;
mod paths;

pub use claims::{claims, Claim};
use commands::check_command;
use indent::check_indent;
use manager::{check_manager, manager_in_span, package_manager};
use paths::check_path;

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
