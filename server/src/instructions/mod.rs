//! Instruction files (`AGENTS.md`, `CLAUDE.md`, Copilot, Cursor, Windsurf, Cline, Continue
//! and aider rules): read as a source of rules, checked against what tacit measured, and
//! written from memory.
//!
//! - [`formats`]: which files, their frontmatter and the part of the tree each applies to.
//! - [`read`]: rules and procedures with `file:line` evidence, as entries for the indexer.
//! - [`check`]: findings where a rule contradicts strong evidence from the code.
//! - [`write`]: tacit's own section of each format's file, within a token budget.
//!
//! Nothing here writes or reads the store: entries go through the indexer like every
//! extractor's, and the engine (`engine/instructions.rs`) hands stored entries in.

pub mod check;
pub mod formats;
pub mod read;
pub mod write;

pub use formats::{Format, Problem};
pub use read::{read_all, Document, Reading, Rule};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::memory::Entry;

/// What checking a workspace's instruction files found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub root: PathBuf,
    /// The instruction files read, relative to the root.
    pub files: Vec<String>,
    pub findings: Vec<check::Finding>,
    /// Files that could not be read as their format requires.
    #[serde(serialize_with = "problems_as_text")]
    pub problems: Vec<Problem>,
}

fn problems_as_text<S: serde::Serializer>(p: &[Problem], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        p.iter()
            .map(|p| format!("{}:{}: {}", p.file, p.line, p.message)),
    )
}

/// Checks the instruction files of `root` against its configuration and code. Without
/// `code_facts` (the CLI, which needs no index) the source files are parsed here.
pub fn check_workspace(root: &Path, code_facts: Option<Vec<Entry>>) -> CheckReport {
    let walk = crate::workspace::walk(root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
    let reading = read_all(root, &walk.files);
    let mut report = CheckReport {
        root: root.to_path_buf(),
        files: reading.documents.iter().map(|d| d.rel.clone()).collect(),
        problems: reading.problems.clone(),
        ..Default::default()
    };
    report.files.extend(reading.unread.iter().cloned());
    report.files.sort();
    if reading.documents.is_empty() {
        return report;
    }
    let code = code_facts.unwrap_or_else(|| check::scan_code_facts(root, &walk.files));
    let measured = check::Measured::gather(root, &walk.files, code);
    report.findings = check::check(&reading, &measured);
    report
}
