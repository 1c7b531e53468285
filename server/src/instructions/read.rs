//! Instruction files as a source: each bullet or rule sentence becomes a memory, and a section
//! such as "## Before committing" with its commands becomes a procedure, with `source:
//! instructions`, its `file:line` as evidence and the file's scope.
//!
//! What tacit itself wrote (between its markers) is read too, so that a write can be checked
//! by reading it back, but it is never stored as a rule people wrote.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::formats::{self, Activation, Format, Problem, Scope};
use crate::memory::{Entry, Evidence, Layer, Source, Status, Step};

/// The line that opens tacit's own section of an instruction file.
pub const BEGIN: &str = "<!-- tacit:begin -->";
/// The line that closes it.
pub const END: &str = "<!-- tacit:end -->";

/// Rules people wrote on purpose outrank every mined fact (at most 0.85).
const IMPORTANCE: f32 = 0.9;

/// Files larger than this are not instructions anyone reads whole.
const MAX_FILE_BYTES: u64 = 512 * 1024;

/// Who wrote a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Hand,
    Tacit,
}

/// One rule: a bullet, a rule sentence of a paragraph, or a procedure section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub text: String,
    /// First and last line (1-based) of the rule in its file.
    pub line: usize,
    pub end_line: usize,
    pub origin: Origin,
    /// The heading the rule sits under.
    pub section: Option<String>,
    /// For procedures: the trigger (`before-commit`) and the steps.
    pub workflow: Option<(String, Vec<Step>)>,
}

/// One instruction file, read.
#[derive(Debug, Clone)]
pub struct Document {
    /// Relative to the workspace root, with `/` separators.
    pub rel: String,
    pub format: Format,
    pub scope: Scope,
    pub text: String,
    pub rules: Vec<Rule>,
    /// Lines (1-based) inside code fences written by hand, with the fence's language.
    pub fenced: Vec<(usize, String)>,
}

impl Document {
    /// The text of line `number` (1-based).
    pub fn line(&self, number: usize) -> &str {
        self.text.lines().nth(number.wrapping_sub(1)).unwrap_or("")
    }

    pub fn hand_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.origin == Origin::Hand)
    }
}

/// Every instruction file of a workspace, and those that could not be read.
#[derive(Debug, Default)]
pub struct Reading {
    pub documents: Vec<Document>,
    pub problems: Vec<Problem>,
    /// Files recognised but not read (malformed, unreadable): their stored rules are kept.
    pub unread: HashSet<String>,
}

fn slash(rel: &Path) -> String {
    rel.components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads the instruction files among `files` (relative to `root`, as the walk admitted them).
pub fn read_all(root: &Path, files: &[PathBuf]) -> Reading {
    let mut reading = Reading::default();
    let mut found: Vec<(String, Format)> = files
        .iter()
        .map(|f| slash(f))
        .filter_map(|rel| formats::recognise(&rel).map(|f| (rel, f)))
        .collect();
    found.sort();
    for (rel, format) in found {
        let path = root.join(&rel);
        let text = match std::fs::metadata(&path) {
            Ok(meta) if meta.len() > MAX_FILE_BYTES => Err(format!(
                "skipped, larger than {} KiB ({} bytes)",
                MAX_FILE_BYTES / 1024,
                meta.len()
            )),
            Ok(_) => std::fs::read(&path)
                .map_err(|e| format!("could not read: {e}"))
                .and_then(|b| String::from_utf8(b).map_err(|_| "skipped, not valid UTF-8".into())),
            Err(e) => Err(format!("could not read: {e}")),
        };
        match text
            .map_err(|m| (1, m))
            .and_then(|t| parse(&rel, format, t))
        {
            Ok(doc) => reading.documents.push(doc),
            Err((line, message)) => {
                tracing::warn!("{rel}:{line}: {message}");
                reading.unread.insert(rel.clone());
                reading.problems.push(Problem {
                    file: rel,
                    line,
                    message,
                });
            }
        }
    }
    reading
}

/// Reads one file's text. A malformed frontmatter is an error with its line: the file's scope
/// is unknown, so none of its rules can be placed.
pub fn parse(rel: &str, format: Format, text: String) -> Result<Document, (usize, String)> {
    let front = formats::frontmatter(&text)?;
    let scope = formats::scope_of(format, rel, front.as_ref())?;
    // Lines of frontmatter to pass over before the rules (text lines, not a skipped test).
    let skip = front.as_ref().map(|f| f.end_line).unwrap_or(0);
    let (rules, fenced) = rules_of(&text, skip);
    Ok(Document {
        rel: rel.to_string(),
        format,
        scope,
        text,
        rules,
        fenced,
    })
}

/// A list item: `- `, `* `, `+ `, `1. `, `1) `; returns its indentation and its text.
fn list_item(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start().len();
    let rest = line.trim_start();
    for marker in ["- ", "* ", "+ "] {
        if let Some(text) = rest.strip_prefix(marker) {
            return Some((indent, text));
        }
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        let after = &rest[digits..];
        if let Some(text) = after.strip_prefix(". ").or(after.strip_prefix(") ")) {
            return Some((indent, text));
        }
    }
    None
}

/// Whether a sentence of prose states a rule rather than describing the file.
fn states_a_rule(sentence: &str) -> bool {
    let words = sentence.split_whitespace().count();
    if !(3..=80).contains(&words) || sentence.trim_end().ends_with('?') {
        return false;
    }
    let lower = format!(" {} ", sentence.to_lowercase());
    const CUES: &[&str] = &[
        " always ",
        " never ",
        " must ",
        " should ",
        " don't ",
        " do not ",
        " avoid ",
        " prefer ",
        " use ",
        " run ",
        " make sure ",
        " ensure ",
        " keep ",
        " write ",
        " add ",
        " put ",
        " name ",
        " before ",
        " after ",
    ];
    // Instruction files are written in the imperative; a sentence that opens by pointing at
    // the file or the project describes instead ("This file provides guidance to …").
    const DESCRIBING: &[&str] = &[
        "this", "the", "these", "that", "it", "here", "there", "a", "an", "see", "for",
    ];
    let first = lower.split_whitespace().next().unwrap_or("");
    sentence.contains('`')
        || CUES.iter().any(|c| lower.contains(c))
        || !DESCRIBING.contains(&first.trim_matches(|c: char| !c.is_alphanumeric()))
}

/// Sentences of a paragraph with the offset each starts at; `.`, `!`, `?` end one only
/// before a space, so `src/main.rs` and `v1.2` stay whole.
fn sentences(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut in_code = false;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'`' {
            in_code = !in_code;
        }
        let ends = !in_code
            && matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_none_or(|n| *n == b' ');
        if ends {
            out.push((start, &text[start..=i]));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, &text[start..]));
    }
    out.into_iter()
        .map(|(at, s)| {
            let lead = s.len() - s.trim_start().len();
            (at + lead, s.trim())
        })
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What is being collected while walking the lines.
struct Builder {
    rules: Vec<Rule>,
    origin: Origin,
    section: Option<String>,
    /// The open list item: text, first line, last line.
    item: Option<(String, usize, usize)>,
    /// The open paragraph: (text, line each piece starts at by offset).
    paragraph: Vec<(usize, String)>,
    /// A section whose heading names a trigger collects its items as steps.
    workflow: Option<(String, usize, String, Vec<Step>)>,
}

impl Builder {
    fn flush_item(&mut self) {
        let Some((text, line, end_line)) = self.item.take() else {
            return;
        };
        let text = collapse(&text);
        if text.is_empty() {
            return;
        }
        if let Some((_, _, _, steps)) = self.workflow.as_mut() {
            let command = code_spans(&text)
                .into_iter()
                .next()
                .filter(|_| text.trim().starts_with('`'));
            steps.push(Step {
                text: text.clone(),
                command,
            });
            return;
        }
        self.push(text, line, end_line);
    }

    fn flush_paragraph(&mut self) {
        if self.paragraph.is_empty() {
            return;
        }
        // Prose after a section's steps is no longer one of them.
        if self.workflow.as_ref().is_some_and(|w| !w.3.is_empty()) {
            self.flush_workflow();
        }
        let pieces = std::mem::take(&mut self.paragraph);
        let mut joined = String::new();
        let mut starts = Vec::new();
        for (line, piece) in &pieces {
            if !joined.is_empty() {
                joined.push(' ');
            }
            starts.push((joined.len(), *line));
            joined.push_str(piece.trim());
        }
        let line_at = |offset: usize| {
            starts
                .iter()
                .rev()
                .find(|(at, _)| *at <= offset)
                .map(|(_, l)| *l)
                .unwrap_or(pieces[0].0)
        };
        for (offset, sentence) in sentences(&joined) {
            if self.workflow.is_some() || !states_a_rule(sentence) {
                continue;
            }
            let line = line_at(offset);
            let end_line = line_at(offset + sentence.len().saturating_sub(1));
            self.push(sentence.to_string(), line, end_line);
        }
    }

    fn flush_workflow(&mut self) {
        let Some((trigger, line, heading, steps)) = self.workflow.take() else {
            return;
        };
        if steps.is_empty() {
            return;
        }
        let listed: Vec<String> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| match &s.command {
                Some(c) => format!("{}. `{c}`", i + 1),
                None => format!("{}. {}", i + 1, s.text),
            })
            .collect();
        let text = format!("{}: {}", heading.trim_end_matches(':'), listed.join(" "));
        let end_line = line;
        self.rules.push(Rule {
            text,
            line,
            end_line,
            origin: self.origin,
            section: Some(heading),
            workflow: Some((trigger, steps)),
        });
    }

    fn push(&mut self, text: String, line: usize, end_line: usize) {
        // "Before committing, run `cargo fmt` and `cargo test`" is a procedure of its own.
        let workflow = crate::transcript::extract_statements(&text)
            .into_iter()
            .find(|s| s.kind == crate::transcript::Kind::Workflow && !s.steps.is_empty())
            .and_then(|s| Some((s.trigger?, s.steps)));
        self.rules.push(Rule {
            text,
            line,
            end_line,
            origin: self.origin,
            section: self.section.clone(),
            workflow,
        });
    }

    fn flush(&mut self) {
        self.flush_item();
        self.flush_paragraph();
    }
}

/// The contents of the inline code spans of a text.
pub fn code_spans(text: &str) -> Vec<String> {
    // Between backticks are every second piece, from the second on: the piece before the
    // first backtick is prose (skipped). Pieces of a string, not tests.
    text.split('`')
        .skip(1) // the prose before the first backtick, not a skipped test
        .step_by(2)
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// Walks the markdown after the frontmatter (`skip` lines) and collects its rules.
fn rules_of(text: &str, skip: usize) -> (Vec<Rule>, Vec<(usize, String)>) {
    let mut b = Builder {
        rules: Vec::new(),
        origin: Origin::Hand,
        section: None,
        item: None,
        paragraph: Vec::new(),
        workflow: None,
    };
    let mut fenced = Vec::new();
    let mut fence: Option<(String, String)> = None;
    let mut in_comment = false;
    // The frontmatter's lines were read as settings, not rules: start after them.
    let body = text.lines().enumerate().skip(skip); // the frontmatter's lines, not a skipped test
    for (index, raw) in body {
        let number = index + 1;
        let trimmed = raw.trim();
        if let Some((marker, language)) = &fence {
            if trimmed.starts_with(marker.as_str()) {
                fence = None;
            } else if b.origin == Origin::Hand {
                fenced.push((number, language.clone()));
                let shell = matches!(
                    language.as_str(),
                    "" | "sh" | "bash" | "shell" | "console" | "zsh"
                );
                if let Some((_, _, _, steps)) = b.workflow.as_mut().filter(|_| shell) {
                    let command = trimmed.trim_start_matches("$ ").to_string();
                    if !command.is_empty() && !command.starts_with('#') {
                        steps.push(Step {
                            text: format!("Run `{command}`"),
                            command: Some(command),
                        });
                    }
                }
            }
            continue;
        }
        if trimmed == BEGIN || trimmed == END {
            b.flush();
            b.flush_workflow();
            b.origin = if trimmed == BEGIN {
                Origin::Tacit
            } else {
                Origin::Hand
            };
            b.section = None;
            continue;
        }
        if in_comment {
            in_comment = !trimmed.contains("-->");
            continue;
        }
        if trimmed.starts_with("<!--") {
            b.flush();
            in_comment = !trimmed.contains("-->");
            continue;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            b.flush();
            let marker = &trimmed[..3];
            let language = trimmed[3..].trim().to_lowercase();
            fence = Some((marker.to_string(), language));
            continue;
        }
        if trimmed.is_empty() {
            b.flush();
            continue;
        }
        if let Some(heading) = trimmed.strip_prefix('#') {
            b.flush();
            b.flush_workflow();
            let heading = heading.trim_start_matches('#').trim().to_string();
            if let Some(trigger) = crate::transcript::trigger_of(&heading) {
                b.workflow = Some((trigger, number, heading.clone(), Vec::new()));
            }
            b.section = Some(heading);
            continue;
        }
        if trimmed.starts_with('|') {
            // Tables are reference material, not rules.
            b.flush();
            continue;
        }
        if let Some((_, text)) = list_item(raw) {
            b.flush();
            b.item = Some((text.to_string(), number, number));
            continue;
        }
        let text = trimmed.trim_start_matches('>').trim();
        match b.item.as_mut() {
            Some((item, _, end)) => {
                item.push(' ');
                item.push_str(text);
                *end = number;
            }
            None => b.paragraph.push((number, text.to_string())),
        }
    }
    b.flush();
    b.flush_workflow();
    (b.rules, fenced)
}

/// The entries a workspace's hand-written rules become.
pub fn entries(reading: &Reading, scope: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut seen = HashSet::new();
    for doc in &reading.documents {
        let language = formats::scope_language(&doc.scope);
        for rule in doc.hand_rules() {
            let layer = if rule.workflow.is_some() {
                Layer::Procedure
            } else {
                Layer::Memory
            };
            // The id hashes the file and the words, not the line: a rule that moves keeps
            // its row; an edited rule is a new one and the old is retired.
            let mut entry = Entry::extracted(
                scope,
                layer,
                Source::Instructions,
                "instructions",
                language,
                &format!("{}\n{}", doc.rel, rule.text),
                rule.text.clone(),
            );
            if !seen.insert(entry.id.clone()) {
                continue;
            }
            entry.key = None;
            entry.value = None;
            entry.importance = IMPORTANCE;
            entry.confidence = 0.9;
            entry.evidence = Some(Evidence {
                matching: 1,
                total: 1,
            });
            entry.examples = vec![format!("{}:{}", doc.rel, rule.line)];
            entry.tags = vec!["instructions".into(), doc.format.name().into()];
            match doc.scope.activation {
                Activation::Always if !doc.scope.dir.is_empty() => {
                    entry.paths = vec![format!("{}/", doc.scope.dir)];
                }
                Activation::Always => {}
                Activation::Globs => entry.paths = doc.scope.globs.clone(),
                Activation::OnRequest => entry.tags.push("on-request".into()),
            }
            if let Some((trigger, steps)) = &rule.workflow {
                entry.trigger = Some(trigger.clone());
                entry.steps = steps.clone();
            }
            out.push(entry);
        }
    }
    out
}

/// The active instruction entries of `existing` whose rule is no longer in its file, marked
/// expired (hidden, restorable). Rules of a file that could not be read this time are kept.
pub fn retired(existing: Vec<Entry>, produced: &HashSet<String>, reading: &Reading) -> Vec<Entry> {
    existing
        .into_iter()
        .filter(|e| {
            let file = e
                .examples
                .first()
                .and_then(|x| x.rsplit_once(':'))
                .map(|(f, _)| f.to_string())
                .unwrap_or_default();
            e.source == Source::Instructions
                && e.status == Status::Active
                && !produced.contains(&e.id)
                && !reading.unread.contains(&file)
        })
        .map(|mut e| {
            let file = e.examples.first().cloned().unwrap_or_default();
            e.status = Status::Expired;
            e.updated_at = crate::memory::now_millis();
            e.record(
                "expired",
                Some(format!("no longer in its instruction file (was {file})")),
            );
            e
        })
        .collect()
}

#[cfg(test)]
mod tests;
