//! Reading one configuration file: its text, where each key sits, and the formats tool
//! configuration is written in (TOML, JSON with comments, YAML, INI sections).

use std::path::Path;

use super::{slash_path, Findings, Location, MAX_FILE_BYTES};

/// One configuration file's text and where it sits.
pub(crate) struct SourceFile {
    /// The path relative to the root, with `/` separators, as shown in examples and problems.
    pub rel: String,
    /// The directory part of `rel`; empty at the root.
    pub dir: String,
    pub text: String,
}

impl SourceFile {
    pub(crate) fn name(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or(&self.rel)
    }

    pub(crate) fn is_root(&self) -> bool {
        self.dir.is_empty()
    }

    pub(crate) fn at(&self, line: usize) -> Location {
        Location {
            file: self.rel.clone(),
            line,
        }
    }

    /// The first line (1-based) containing `needle`, or 1 when it is nowhere: the fact was
    /// still read from this file.
    pub(crate) fn line_of(&self, needle: &str) -> usize {
        self.line_of_from(needle, 1)
    }

    /// The first line at or after `from` containing `needle`.
    pub(crate) fn line_of_from(&self, needle: &str, from: usize) -> usize {
        self.line_where_from(from, |line| line.contains(needle))
    }

    /// The first line (1-based) at or after `from` for which `matches` holds, or `from` (at
    /// least 1) when there is none.
    pub(crate) fn line_where_from(&self, from: usize, matches: impl Fn(&str) -> bool) -> usize {
        self.text
            .lines()
            .enumerate()
            .find(|(i, line)| i + 1 >= from && matches(line))
            .map(|(i, _)| i + 1)
            .unwrap_or(from.max(1))
    }

    /// The line where a TOML or INI key is assigned (`name = …`, `name.workspace = true`,
    /// `"name" = …`), or 1.
    pub(crate) fn line_of_key(&self, key: &str) -> usize {
        self.line_where_from(1, |line| {
            let line = line.trim_start().trim_start_matches('"');
            line.strip_prefix(key).is_some_and(|rest| {
                let rest = rest.trim_start_matches('"').trim_start();
                rest.starts_with('=') || rest.starts_with('.') || rest.starts_with(':')
            })
        })
    }

    /// The line where a JSON key appears (`"name":`), or 1.
    pub(crate) fn line_of_json_key(&self, key: &str) -> usize {
        self.line_of(&format!("\"{key}\""))
    }

    /// The line where a JSON key opens an object (`"prettier": {`), which tells a config
    /// section apart from a dependency of the same name; falls back to any mention.
    pub(crate) fn line_of_json_object(&self, key: &str) -> usize {
        let quoted = format!("\"{key}\"");
        self.text
            .lines()
            .position(|line| {
                line.split_once(&quoted).is_some_and(|(_, rest)| {
                    rest.trim_start().starts_with(':') && rest.contains('{')
                })
            })
            .map(|i| i + 1)
            .unwrap_or_else(|| self.line_of_json_key(key))
    }

    /// A key made unique per package: the root keeps the plain key, a nested package appends
    /// its directory so that two packages' tasks do not fight over one slot.
    pub(crate) fn scoped_key(&self, base: &str) -> String {
        if self.is_root() {
            base.to_string()
        } else {
            format!("{base}@{}", self.dir)
        }
    }

    pub(crate) fn parse_toml(&self, findings: &mut Findings) -> Option<toml::Table> {
        match self.text.parse::<toml::Table>() {
            Ok(table) => Some(table),
            Err(err) => {
                let line = err
                    .span()
                    .map(|span| line_at_offset(&self.text, span.start))
                    .unwrap_or(1);
                findings.problem(format!(
                    "{}: invalid TOML at line {line}: {}",
                    self.rel,
                    err.message().trim()
                ));
                None
            }
        }
    }

    /// Parses JSON, or JSON with comments and trailing commas (tsconfig, biome) when
    /// `lenient` is set.
    pub(crate) fn parse_json(
        &self,
        lenient: bool,
        findings: &mut Findings,
    ) -> Option<serde_json::Value> {
        let cleaned;
        let text = if lenient {
            cleaned = strip_json_comments(&self.text);
            cleaned.as_str()
        } else {
            self.text.as_str()
        };
        match serde_json::from_str(text) {
            Ok(value) => Some(value),
            Err(err) => {
                findings.problem(format!(
                    "{}: invalid JSON at line {}: {err}",
                    self.rel,
                    err.line()
                ));
                None
            }
        }
    }

    pub(crate) fn parse_yaml(&self, findings: &mut Findings) -> Option<serde_yaml_ng::Value> {
        match serde_yaml_ng::from_str(&self.text) {
            Ok(value) => Some(value),
            Err(err) => {
                let line = err.location().map(|l| l.line()).unwrap_or(1);
                findings.problem(format!("{}: invalid YAML at line {line}: {err}", self.rel));
                None
            }
        }
    }
}

pub(super) fn line_at_offset(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Removes `//` and `/* */` comments and trailing commas, keeping every newline so that
/// parse errors still point at the right line.
pub(crate) fn strip_json_comments(text: &str) -> String {
    let mut without_comments = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            without_comments.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    without_comments.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                without_comments.push(c);
            }
            ('/', Some('/')) => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        without_comments.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut previous = ' ';
                for next in chars.by_ref() {
                    if next == '\n' {
                        without_comments.push('\n');
                    }
                    if previous == '*' && next == '/' {
                        break;
                    }
                    previous = next;
                }
            }
            _ => without_comments.push(c),
        }
    }

    // A comma is trailing when only whitespace stands between it and a closing bracket.
    let mut result = String::with_capacity(without_comments.len());
    let chars: Vec<char> = without_comments.chars().collect();
    let mut in_string = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            result.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.get(i + 1) {
                    result.push(*escaped);
                    i += 1;
                }
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            result.push(c);
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if !matches!(next, Some('}') | Some(']')) {
                result.push(c);
            }
        } else {
            result.push(c);
        }
        i += 1;
    }
    result
}

pub(super) fn read_source(root: &Path, rel: &Path, findings: &mut Findings) -> Option<SourceFile> {
    let shown = slash_path(rel);
    let path = root.join(rel);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            findings.problem(format!(
                "{shown}: skipped, larger than 1 MiB ({} bytes)",
                meta.len()
            ));
            return None;
        }
        Ok(meta) if !meta.is_file() => return None,
        Ok(_) => {}
        Err(err) => {
            findings.problem(format!("{shown}: could not read: {err}"));
            return None;
        }
    }
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) => {
            findings.problem(format!("{shown}: could not read: {err}"));
            return None;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        findings.problem(format!("{shown}: skipped, not valid UTF-8"));
        return None;
    };
    let dir = shown
        .rsplit_once('/')
        .map(|(dir, _)| dir.to_string())
        .unwrap_or_default();
    Some(SourceFile {
        rel: shown,
        dir,
        text,
    })
}

/// One `key = value` line of an INI-style file (setup.cfg, mypy.ini, .editorconfig).
pub(crate) struct IniEntry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A `[section]` of an INI-style file and its entries in file order.
pub(crate) struct IniSection {
    pub name: String,
    pub line: usize,
    pub entries: Vec<IniEntry>,
}

impl IniSection {
    /// The last assignment of `key` (later lines win), compared case-insensitively.
    pub(crate) fn get(&self, key: &str) -> Option<&IniEntry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }
}

/// A minimal INI reader. With `continuations`, an indented line extends the previous value
/// (setup.cfg's multi-line lists); without, indentation is ignored (.editorconfig).
pub(crate) fn ini_sections(text: &str, continuations: bool) -> Vec<IniSection> {
    let mut sections: Vec<IniSection> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            sections.push(IniSection {
                name: line[1..line.len() - 1].trim().to_string(),
                line: index + 1,
                entries: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if continuations && raw.starts_with([' ', '\t']) {
            if let Some(last) = section.entries.last_mut() {
                last.value.push('\n');
                last.value.push_str(line);
            }
            continue;
        }
        let separator: &[char] = if continuations { &['=', ':'] } else { &['='] };
        if let Some((key, value)) = line.split_once(separator) {
            section.entries.push(IniEntry {
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                line: index + 1,
            });
        }
    }
    sections
}

/// A YAML or JSON scalar as text, for values that may be written as strings or numbers.
pub(crate) fn yaml_scalar(value: &serde_yaml_ng::Value) -> Option<String> {
    match value {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Converts a YAML document to JSON so that prettier and ESLint configs written in either
/// format are read by one code path.
pub(crate) fn yaml_to_json(value: &serde_yaml_ng::Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
