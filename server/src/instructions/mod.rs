//! Instruction files (`AGENTS.md`, `CLAUDE.md`, Copilot, Cursor, Windsurf, Cline, Continue
//! and aider rules): read as a source of rules, checked against what tacit measured, and
//! written from memory.
//!
//! - [`formats`]: which files, their frontmatter and the part of the tree each applies to.
//! - [`read`]: rules and procedures with `file:line` evidence, as entries for the indexer.
//! - [`check`]: findings where a rule contradicts strong evidence from the code.
//! - [`write`]: tacit's own section of each format's file, within a token budget.
//!
//! Nothing here writes the store: entries go through the indexer like every extractor's.

pub mod check;
pub mod formats;
pub mod read;
pub mod write;

pub use formats::{Format, Problem};
pub use read::{read_all, Document, Reading, Rule};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::{Engine, EngineError, ListRequest};
use crate::memory::{Entry, Layer, Source, Status};

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

/// The active entries of `root`'s own scope (not `user`), as stored by the last index run.
async fn workspace_entries(
    engine: &Engine,
    root: &Path,
    key_prefix: Option<&str>,
    source: Option<Source>,
) -> Result<Vec<Entry>, EngineError> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let scope = engine
        .roots()
        .await
        .into_iter()
        .find(|(r, _)| *r == root)
        .map(|(_, s)| s)
        .ok_or_else(|| {
            EngineError::InvalidArgument(format!("{} is not a workspace root", root.display()))
        })?;
    let entries = engine
        .list(ListRequest {
            layers: Some(vec![Layer::Memory, Layer::Procedure]),
            statuses: Some(vec![Status::Active]),
            key_prefix: key_prefix.map(str::to_string),
            source,
            ..Default::default()
        })
        .await?;
    Ok(entries.into_iter().filter(|e| e.scope == scope).collect())
}

/// Checks `root` with the code conventions the store holds (the server, after indexing).
pub async fn check_indexed(engine: &Engine, root: &Path) -> Result<CheckReport, EngineError> {
    let code = workspace_entries(engine, root, Some("format.indent"), Some(Source::Code)).await?;
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || check_workspace(&root, Some(code)))
        .await
        .map_err(|e| EngineError::Task(e.to_string()))
}

/// What `write-instructions` would write for `root` from the store's active entries.
pub async fn plan_writing(
    engine: &Engine,
    root: &Path,
    target: write::Target,
    budget: usize,
) -> Result<write::Plan, EngineError> {
    let entries = workspace_entries(engine, root, None, None).await?;
    if entries.is_empty() {
        return Err(EngineError::InvalidArgument(format!(
            "nothing is stored for {} yet: index it first (`tacit index`)",
            root.display()
        )));
    }
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || write::plan(&root, target, &entries, budget))
        .await
        .map_err(|e| EngineError::Task(e.to_string()))
}
