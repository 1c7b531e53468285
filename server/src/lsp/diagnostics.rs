//! Instruction-file diagnostics: each finding of [`crate::instructions::check`] as a warning
//! on the rule's line (its evidence and counts in the message), an unreadable frontmatter as
//! an error, and the quick fix that puts the measured value in place of the written one.
//!
//! The fix travels in the diagnostic's `data`, so a code action needs no state of its own:
//! the client sends the diagnostics back and each carries its replacement and the example
//! that shows the measured value (opened through `tacit.openExample`, which asks the editor
//! with `window/showDocument`). The example is also the diagnostic's related information,
//! which editors show as a link.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::json;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use crate::engine::Engine;
use crate::instructions::CheckReport;

/// The instruction files each root has diagnostics on, so that a file whose findings are
/// gone (or that was deleted) gets an empty list.
#[derive(Default)]
pub(super) struct Published {
    by_root: std::sync::Mutex<HashMap<PathBuf, HashSet<Uri>>>,
}

/// The UTF-16 column of byte `at` of `line`, as LSP counts positions.
fn utf16_column(line: &str, at: usize) -> u32 {
    let at = at.min(line.len());
    let at = (0..=at)
        .rev()
        .find(|i| line.is_char_boundary(*i))
        .unwrap_or(0);
    line[..at].encode_utf16().count() as u32
}

fn range_on(text: &str, line: usize, start: usize, end: usize) -> Range {
    let number = line.saturating_sub(1);
    let content = text.lines().nth(number).unwrap_or("");
    Range {
        start: Position::new(number as u32, utf16_column(content, start)),
        end: Position::new(number as u32, utf16_column(content, end)),
    }
}

/// Where a `file:line` example (relative to `root`) is, as a location on that line.
fn example_location(root: &Path, example: &str) -> Option<Location> {
    let (file, line) = example
        .rsplit_once(':')
        .and_then(|(file, line)| Some((file, line.parse::<u32>().ok()?)))
        .unwrap_or((example, 1));
    let uri = Uri::from_file_path(root.join(file))?;
    let at = Position::new(line.max(1) - 1, 0);
    Some(Location::new(uri, Range::new(at, at)))
}

/// The diagnostics of each instruction file of a check report.
fn diagnostics(report: &CheckReport) -> HashMap<String, Vec<Diagnostic>> {
    let mut by_file: HashMap<String, Vec<Diagnostic>> = report
        .files
        .iter()
        .map(|f| (f.clone(), Vec::new()))
        .collect();
    let mut texts: HashMap<String, String> = HashMap::new();
    let mut text_of = |file: &str| -> String {
        texts
            .entry(file.to_string())
            .or_insert_with(|| std::fs::read_to_string(report.root.join(file)).unwrap_or_default())
            .clone()
    };
    for f in &report.findings {
        let text = text_of(&f.file);
        let example = f
            .example
            .as_deref()
            .and_then(|x| example_location(&report.root, x));
        let mut data = serde_json::Map::new();
        if let Some(r) = &f.replacement {
            data.insert("replacement".into(), json!(r));
            data.insert("found".into(), json!(f.found));
        }
        if let (Some(x), Some(location)) = (&f.example, &example) {
            data.insert(
                "example".into(),
                json!({ "label": x, "uri": location.uri, "line": location.range.start.line + 1 }),
            );
        }
        by_file.entry(f.file.clone()).or_default().push(Diagnostic {
            range: range_on(&text, f.line, f.start, f.end),
            severity: Some(DiagnosticSeverity::WARNING),
            code: Some(NumberOrString::String(
                serde_json::to_value(f.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            )),
            source: Some("tacit".into()),
            message: f.message.clone(),
            related_information: example.map(|location| {
                vec![DiagnosticRelatedInformation {
                    location,
                    message: "an example of what the repository does".into(),
                }]
            }),
            data: (!data.is_empty()).then_some(serde_json::Value::Object(data)),
            ..Default::default()
        });
    }
    for p in &report.problems {
        let text = text_of(&p.file);
        let line = text.lines().nth(p.line.saturating_sub(1)).unwrap_or("");
        by_file.entry(p.file.clone()).or_default().push(Diagnostic {
            range: range_on(&text, p.line, 0, line.len()),
            severity: Some(DiagnosticSeverity::ERROR),
            source: Some("tacit".into()),
            message: format!("{}; the rules of this file are not read", p.message),
            ..Default::default()
        });
    }
    by_file
}

/// Checks `root`'s instruction files and publishes their diagnostics, clearing those of files
/// that have none left.
pub(super) async fn publish(client: &Client, engine: &Engine, root: &Path, published: &Published) {
    let report = match engine.check_instructions(root).await {
        Ok(report) => report,
        Err(e) => {
            tracing::debug!("instruction files of {} not checked: {e}", root.display());
            return;
        }
    };
    let mut now = HashSet::new();
    let mut sends = Vec::new();
    for (file, diagnostics) in diagnostics(&report) {
        if let Some(uri) = Uri::from_file_path(report.root.join(&file)) {
            now.insert(uri.clone());
            sends.push((uri, diagnostics));
        }
    }
    let before = published
        .by_root
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(root.to_path_buf(), now.clone())
        .unwrap_or_default();
    for uri in before.difference(&now) {
        sends.push((uri.clone(), Vec::new()));
    }
    tracing::debug!(
        "{} instruction findings in {}",
        report.findings.len(),
        root.display()
    );
    for (uri, diagnostics) in sends {
        client.publish_diagnostics(uri, diagnostics, None).await;
    }
}

/// Whether a path is an instruction file of one of `roots`.
pub(super) fn is_instruction_file(roots: &[PathBuf], path: &Path) -> bool {
    roots.iter().any(|root| {
        path.strip_prefix(root)
            .ok()
            .and_then(|rel| rel.to_str())
            .and_then(crate::instructions::formats::recognise)
            .is_some()
    })
}

/// The command of the "open an example" code action, answered with `window/showDocument`.
pub(super) const OPEN_EXAMPLE: &str = "tacit.openExample";

/// The quick fixes for tacit's diagnostics in the requested range: put the measured value in
/// place of the written one, and open an example of it.
pub(super) fn code_actions(params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    // By line: Neovim asks at the cursor with every diagnostic of its line in the context.
    let overlaps =
        |r: &Range| r.start.line <= params.range.end.line && params.range.start.line <= r.end.line;
    let mut actions = Vec::new();
    for d in params
        .context
        .diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some("tacit") && overlaps(&d.range))
    {
        let data = d.data.as_ref();
        if let Some(replacement) = data
            .and_then(|data| data.get("replacement"))
            .and_then(|r| r.as_str())
        {
            let edit = TextEdit {
                range: d.range,
                new_text: replacement.to_string(),
            };
            let changes = HashMap::from([(params.text_document.uri.clone(), vec![edit])]);
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with `{replacement}` (what the repository shows)"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
        if let Some(example) = data.and_then(|data| data.get("example")) {
            let label = example.get("label").and_then(|l| l.as_str()).unwrap_or("");
            let title = format!("Open an example: {label}");
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                command: Some(Command {
                    title,
                    command: OPEN_EXAMPLE.into(),
                    arguments: Some(vec![json!({
                        "uri": example.get("uri"),
                        "line": example.get("line"),
                    })]),
                }),
                ..Default::default()
            }));
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        assert_eq!(utf16_column("- `npm`", 3), 3);
        assert_eq!(utf16_column("é `npm`", 4), 3);
        assert_eq!(utf16_column("😀 `npm`", 6), 4);
        assert_eq!(utf16_column("ab", 10), 2);
    }

    #[test]
    fn an_example_is_a_location_at_the_start_of_its_line() {
        let root = Path::new("/repo");
        let at = example_location(root, "src/a b.ts:3").unwrap();
        assert_eq!(at.uri.as_str(), "file:///repo/src/a%20b.ts");
        assert_eq!(at.range.start, Position::new(2, 0));
        let lock = example_location(root, "pnpm-lock.yaml").unwrap();
        assert_eq!(lock.range.start, Position::new(0, 0));
    }
}
