//! The path check: a path into the repository that exists neither from the root nor from
//! the file's directory, and that no ignore rule marks as a build output.

use super::{finding, Finding, Kind, Measured, Span};
use crate::instructions::read::Document;

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

pub(super) fn check_path(
    doc: &Document,
    line: usize,
    span: &Span,
    measured: &Measured,
) -> Option<Finding> {
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
