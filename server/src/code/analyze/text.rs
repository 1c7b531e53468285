//! Measures read from a file's text and path alone, without its syntax tree: indentation,
//! line endings and lengths, license headers, test file names, issue references.

use std::collections::BTreeMap;

use super::{intern, naming, FileFacts, MAX_TRACKED_LENGTH};

/// The holder named on the copyright line of a file's opening comment (`Google Inc.`), or
/// the licence line itself when there is no copyright line (`SPDX-License-Identifier: MIT`).
pub(super) fn license_header(text: &str) -> Option<&str> {
    static COPYRIGHT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let copyright = COPYRIGHT.get_or_init(|| {
        regex::Regex::new(r"Copyright\s*(?:\([cC]\)|©)?\s*(?:[\d,\s-]+)?\s*(.*?)\s*(?:\*/)?$")
            .expect("static regex")
    });
    let text = text.trim_start_matches('\u{feff}');
    let mut end = text.len().min(600);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    if !head.trim_start().starts_with(['/', '#']) {
        return None;
    }
    for line in head.lines().take(12) {
        if let Some(holder) = copyright.captures(line).and_then(|c| c.get(1)) {
            let holder = holder.as_str().trim_end_matches('.');
            if !holder.is_empty() {
                return Some(holder);
            }
        }
        if line.contains("SPDX-License-Identifier") || line.contains("Licensed under") {
            return Some(
                line.trim_matches(|c: char| c == '/' || c == '*' || c == '#' || c.is_whitespace()),
            );
        }
    }
    None
}

/// Whether the `await` at byte `at` of a line of JS/TS code is the keyword (`await x`, not
/// `awaited`).
pub(super) fn is_await_at(code: &str, at: usize) -> bool {
    let before = code[..at].chars().next_back();
    let after = code.get(at + 5..).and_then(|rest| rest.chars().next());
    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        && after.is_some_and(char::is_whitespace)
}

/// Indentation, line endings, final newline and line lengths: read from the text alone, in
/// one pass over its lines.
pub(super) fn measure_text(text: &str, facts: &mut FileFacts) {
    if text.is_empty() {
        return;
    }
    let mut tab_lines = 0u32;
    let mut space_lines = 0u32;
    let mut first_tab = 0u32;
    let mut deltas: BTreeMap<usize, (u32, u32)> = BTreeMap::new();
    let mut previous = 0usize;
    let mut lines = 0u32;
    let mut newlines = 0usize;
    let mut crlf = 0usize;
    // `split_inclusive` keeps each line's ending; `str::lines` would hide how it ends.
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let number = i as u32 + 1;
        lines = number;
        let line = match raw.strip_suffix('\n') {
            Some(line) => {
                newlines += 1;
                match line.strip_suffix('\r') {
                    Some(line) => {
                        crlf += 1;
                        line
                    }
                    None => line,
                }
            }
            None => raw,
        };
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        let length = if line.is_ascii() {
            line.trim_end().len()
        } else {
            line.trim_end().chars().count()
        };
        *facts
            .line_lengths
            .entry(length.min(MAX_TRACKED_LENGTH) as u16)
            .or_default() += 1;
        if length as u32 > facts.longest.0 {
            facts.longest = (length as u32, number);
        }
        // Block-comment continuation lines (` * text`) sit one column off the grid.
        if trimmed.starts_with('*') {
            continue;
        }
        let leading = &line[..line.len() - trimmed.len()];
        if leading.starts_with('\t') {
            tab_lines += 1;
            if first_tab == 0 {
                first_tab = number;
            }
            previous = 0;
            continue;
        }
        let width = leading.len();
        if width > 0 {
            space_lines += 1;
        }
        if width > previous {
            let d = deltas.entry(width - previous).or_insert((0, number));
            d.0 += 1;
        }
        previous = width;
    }
    facts.add(
        "format.final_newline",
        if text.ends_with('\n') { "yes" } else { "no" },
        lines.max(1),
    );
    if newlines > 0 {
        facts.add(
            "format.line_endings",
            if crlf * 2 > newlines { "crlf" } else { "lf" },
            1,
        );
    }
    if tab_lines > space_lines {
        facts.add("format.indent", "tabs", first_tab);
    } else if space_lines > 0 {
        // The most common step between a line and a more indented next line is the unit.
        let unit = deltas
            .iter()
            .filter(|(d, _)| matches!(**d, 2 | 3 | 4 | 8))
            .max_by_key(|(d, (n, _))| (*n, std::cmp::Reverse(**d)));
        if let Some((width, (_, line))) = unit {
            let value = match width {
                2 => "spaces:2",
                3 => "spaces:3",
                4 => "spaces:4",
                _ => "spaces:8",
            };
            facts.add("format.indent", value, *line);
        }
    }
}

/// The naming style of a file's name, without extensions and test suffixes.
pub(super) fn file_name_style(language: &str, rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next()?;
    let stem = name.split('.').next()?;
    let stem = if language == "go" {
        stem.strip_suffix("_test").unwrap_or(stem)
    } else {
        stem
    };
    if stem.is_empty() {
        return None;
    }
    let style = naming::classify(stem);
    // Go file names are lower-case words joined by underscores; MixedCaps is for identifiers.
    Some(style)
}

/// The naming pattern of a test file: `test_*.py`, `*.test.ts`, `*Test.java`, `*_test.go`,
/// or `test/<name>.js` for a file that only its directory marks as a test.
pub(super) fn test_file_name(language: &str, rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next()?;
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match language {
        "python" if name.starts_with("test_") => Some("test_*.py"),
        "python" if name.ends_with("_test.py") => Some("*_test.py"),
        "go" => Some("*_test.go"),
        "java" if name.ends_with("Test.java") => Some("*Test.java"),
        "java" if name.ends_with("Tests.java") => Some("*Tests.java"),
        "java" if name.starts_with("Test") => Some("Test*.java"),
        "typescript" | "javascript" => {
            let marker = [".test.", ".spec."].into_iter().find(|m| name.contains(m));
            match marker {
                Some(m) => Some(intern(&format!("*{m}{extension}"))),
                None => Some(intern(&format!("test/<name>.{extension}"))),
            }
        }
        _ => None,
    }
}

/// The first line (1-based) that cites an issue: `#1301`, `issues/1852`, `Issue 272`,
/// `test_issue_777`, `testIssue1107`. Two digits at least, so that `#1` in a string or a
/// list numbering does not count; `#[derive]`, `&#123;` and a changelog's `[#1613](…)`
/// link are not tests citing an issue either.
pub(super) fn issue_reference(text: &str) -> Option<u32> {
    let digits_at = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let cites = |line: &str| {
        let lower = line.to_ascii_lowercase();
        let bytes = lower.as_bytes();
        lower.match_indices('#').any(|(i, _)| {
            let before = i.checked_sub(1).map(|b| bytes[b]);
            let after = &lower[i + 1..];
            let n = digits_at(after);
            n >= 2
                && !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'&' || b == b'[')
                && !after[n..].starts_with(|c: char| c.is_ascii_alphanumeric())
        }) || lower
            .match_indices("issues/")
            .any(|(i, _)| digits_at(&lower[i + 7..]) >= 1)
            || lower.match_indices("issue").any(|(i, _)| {
                let rest = lower[i + 5..].trim_start_matches([' ', '_', '-']);
                digits_at(rest.trim_start_matches('#')) >= 2
            })
    };
    // Only lines holding a `#` or an `issue` can cite one, where lower-casing every line of
    // a test file cost a copy each.
    static MARKS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let marks = MARKS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["#", "issue"])
            .expect("static marks")
    });
    lines_holding(text, |bytes| marks.find(bytes).map(|m| m.start()))
        .find(|line| cites(line.text))
        .map(|line| line.number)
}

/// A line of a file's text that holds a needle.
pub(super) struct NeedleLine<'t> {
    /// 1-based.
    pub number: u32,
    /// Byte offset of its first character.
    pub start: usize,
    /// Without its `\n`.
    pub text: &'t str,
}

/// The lines of `text` that hold a match `find` reports (the offset of the first match in
/// the bytes given), in order, each once: one search finds them, where a search per needle per
/// line set up a searcher each time.
pub(super) fn lines_holding<'t>(
    text: &'t str,
    find: impl Fn(&[u8]) -> Option<usize> + 't,
) -> impl Iterator<Item = NeedleLine<'t>> + 't {
    let bytes = text.as_bytes();
    let mut from = 0;
    let mut counted_to = 0;
    let mut number = 1u32;
    std::iter::from_fn(move || {
        let at = from + find(bytes.get(from..)?)?;
        let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        number += memchr::memchr_iter(b'\n', &bytes[counted_to..start]).count() as u32;
        counted_to = start;
        from = end;
        Some(NeedleLine {
            number,
            start,
            text: text.get(start..end)?,
        })
    })
}

/// Whether a test file is a home for regression tests of its own (`tests/regression/`,
/// `test_issues.py`, `bugs/`) rather than the test file of some feature.
pub(super) fn regression_home(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let stem = lower.rsplit('/').next().unwrap_or(&lower);
    components(&lower).any(|d| d.contains("regress") || d == "issues" || d == "bugs")
        || stem.contains("regress")
        || stem.contains("issue")
}

pub(super) fn components(rel: &str) -> impl Iterator<Item = &str> {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::issue_reference;

    #[test]
    fn the_first_line_citing_an_issue_is_found_in_any_case_and_line_ending() {
        assert_eq!(issue_reference("fn a() {}\n// fixes #1301\n"), Some(2));
        assert_eq!(issue_reference("a\r\nb\r\nsee issues/1852\r\n"), Some(3));
        assert_eq!(issue_reference("x\n\n  ISSUE 272: wrong\n"), Some(3));
        assert_eq!(issue_reference("def test_issue_777():\n"), Some(1));
        assert_eq!(issue_reference("@Test void testIssue1107() {}"), Some(1));
        // Marks that cite nothing come first; the line that cites is still found.
        assert_eq!(
            issue_reference("#[derive(Debug)]\n// step #1\n&#123;\n[#1613](link)\nissue\n// #42\n"),
            Some(6)
        );
        assert_eq!(issue_reference("#1 and issues and #a12\n"), None);
        assert_eq!(issue_reference(""), None);
    }
}
