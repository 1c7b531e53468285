//! How a convention is worded: the sentence that states a value, the split of a mixed habit,
//! the names of languages and of what each key is about.

use std::sync::OnceLock;

use serde::Deserialize;

use super::Found;

pub(super) fn percent(part: u64, total: u64) -> u64 {
    (part * 100 + total / 2).checked_div(total).unwrap_or(0)
}

pub(super) fn split_shares(values: &[(&str, u64)], total: u64) -> String {
    let mut values = values.to_vec();
    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    split(&values, total)
}

pub(super) fn split(values: &[(&str, u64)], total: u64) -> String {
    values
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{} {}%", shown(v), percent(*n, total)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn shown(value: &str) -> String {
    match value {
        "?" => "`?`".into(),
        "unwrap" => "unwrap/expect".into(),
        "panic" => "panic!".into(),
        other => other.to_string(),
    }
}

pub(super) fn mixed(
    language: &str,
    key: &str,
    parts: &[(&str, u64)],
    total: u64,
    examples: Vec<String>,
) -> Found {
    let mut parts = parts.to_vec();
    parts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Found {
        value: "mixed".into(),
        sentence: format!(
            "{} {} are mixed: {} (of {total}).",
            display(language),
            subject(key),
            split(&parts, total)
        ),
        matching: parts.first().map(|p| p.1).unwrap_or(0),
        total,
        examples,
    }
}

pub fn display(language: &str) -> &str {
    match language {
        "rust" => "Rust",
        "python" => "Python",
        "typescript" => "TypeScript",
        "javascript" => "JavaScript",
        "go" => "Go",
        "java" => "Java",
        other => other,
    }
}

/// What a mixed memory is about, as the subject of "… are mixed".
pub(super) fn subject(key: &str) -> &'static str {
    match key {
        "naming.function" => "function names",
        "naming.type" => "type names",
        "naming.constant" => "constant names",
        "naming.variable" => "variable and field names",
        "naming.file" => "file names",
        "naming.test" => "test names",
        "format.indent" => "indentation styles",
        "format.quotes" => "string quotes",
        "format.semicolons" => "statement endings (semicolons)",
        "format.trailing_commas" => "trailing commas in multi-line lists",
        "format.final_newline" => "final newlines",
        "format.line_endings" => "line endings",
        "errors.propagation" => "error handling sites outside tests",
        "errors.except" => "except clauses",
        "errors.chaining" => "raises inside except blocks",
        "errors.wrapping" => "fmt.Errorf calls with an error",
        "errors.async" => "error handling styles",
        "errors.matching" => "ways of matching errors",
        "errors.middleware" => "middleware error idioms",
        "test.framework" => "test frameworks",
        "test.placement" => "test locations",
        "test.regressions" => "regression test locations",
        "docs.coverage" => "doc comments on public items",
        "docs.style" => "docstring styles",
        "imports.nesting" => "use declarations",
        "imports.paths" => "import paths",
        "imports.wildcard" => "imports",
        "types.annotations" => "type annotations on functions",
        "types.any" => "type annotations",
        "types.visibility" => "visibility modifiers",
        "async.runtime" => "async runtimes",
        "logging.library" => "logging calls",
        "declarations" => "declarations",
        "naming.catch_parameter" => "catch-clause parameter names",
        "naming.receiver" => "method receiver names",
        "naming.test_file" => "test file names",
        "test.assertions" => "test assertion styles",
        "errors.raises" => "raised exceptions",
        "headers.license" => "license headers",
        "imports.grouping" => "import groupings",
        "async.callbacks" => "asynchronous styles",
        _ => "habits",
    }
}

/// The sentences of [`stated`], as data (see the file's header).
const SENTENCES: &str = include_str!("sentences.toml");

#[derive(Deserialize)]
struct Sentences {
    sentence: Vec<Sentence>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sentence {
    key: String,
    value: Option<String>,
    value_contains: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
    text: String,
}

impl Sentence {
    fn states(&self, language: &str, key: &str, value: &str) -> bool {
        self.key == key
            && self.value.as_deref().is_none_or(|v| v == value)
            && self
                .value_contains
                .as_deref()
                .is_none_or(|c| value.contains(c))
            && (self.languages.is_empty() || self.languages.iter().any(|l| l == language))
    }
}

fn sentences() -> &'static [Sentence] {
    static PARSED: OnceLock<Vec<Sentence>> = OnceLock::new();
    PARSED.get_or_init(|| {
        toml::from_str::<Sentences>(SENTENCES)
            .expect("sentences.toml parses (see its unit test)")
            .sentence
    })
}

/// `text` with each `{name}` that `fill` knows replaced, in one pass: a value that itself
/// holds braces is never read as a placeholder.
fn render(text: &str, mut fill: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, fill(&after[..close])?)))
        {
            Some((close, filled)) => {
                out.push_str(&filled);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What the placeholder `name` of a sentence stands for (see `sentences.toml`'s header);
/// `None` for any other name, which stays text.
fn placeholder(
    name: &str,
    language: &str,
    value: &str,
    matching: u64,
    total: u64,
) -> Option<String> {
    Some(match name {
        "l" => display(language).to_string(),
        "v" => value.to_string(),
        "V" => value.to_uppercase(),
        "spaces" => value.trim_start_matches("spaces:").to_string(),
        "matching" => matching.to_string(),
        "total" => total.to_string(),
        "unmatched" => total.saturating_sub(matching).to_string(),
        "of" => format!("({matching} of {total})"),
        _ => return None,
    })
}

/// The sentence for a dominant value: short, human, with the evidence in brackets.
pub(super) fn stated(language: &str, key: &str, value: &str, matching: u64, total: u64) -> String {
    let Some(sentence) = sentences().iter().find(|s| s.states(language, key, value)) else {
        let l = display(language);
        return format!("{l} {key}: {value} ({matching} of {total}).");
    };
    render(&sentence.text, |name| {
        placeholder(name, language, value, matching, total)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentences_parse_use_known_placeholders_and_reach_every_case() {
        let parsed: Sentences = toml::from_str(SENTENCES).unwrap_or_else(|e| panic!("{e}"));
        for (i, s) in parsed.sentence.iter().enumerate() {
            // Literal braces hold code (`use a::{b, c}`), never a bare word.
            let mut unknown = Vec::new();
            render(&s.text, |name| {
                let filled = placeholder(name, "rust", "x", 1, 2);
                if filled.is_none() && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    unknown.push(name.to_string());
                }
                filled
            });
            assert!(
                unknown.is_empty(),
                "{}: unknown placeholders {unknown:?}",
                s.key
            );
            // A catch-all hides every later entry of its key.
            let catch_all =
                s.value.is_none() && s.value_contains.is_none() && s.languages.is_empty();
            if catch_all {
                assert!(
                    parsed.sentence[i + 1..]
                        .iter()
                        .all(|later| later.key != s.key),
                    "{}: an entry after its catch-all is never used",
                    s.key
                );
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn a_sentence_is_chosen_by_value_language_and_content_and_filled_in() {
        let mixed_caps = crate::code::naming::MIXED_CAPS;
        for (language, key, value, (matching, total), expected) in [
            ("go", "naming.function", mixed_caps, (9, 10), "Go functions use MixedCaps: camelCase, PascalCase when exported (9 of 10)."),
            ("python", "errors.custom", "yes", (4, 4), "Python code defines its own exception classes (4)."),
            ("typescript", "errors.custom", "yes", (4, 4), "TypeScript code defines its own Error subclasses (4)."),
            ("typescript", "types.any", "specific", (97, 100), "TypeScript code avoids `any`: 3 of 100 type annotations use it."),
            ("go", "format.indent", "spaces:4", (8, 9), "Go code is indented with 4 spaces (8 of 9 files)."),
            ("rust", "format.line_endings", "crlf", (8, 9), "Rust files use CRLF line endings (8 of 9 files)."),
            ("rust", "imports.nesting", "nested", (5, 6), "Rust use declarations group items with braces, `use a::{b, c}` (5 of 6)."),
            // A value with braces is text, not a placeholder; an unknown key still reads.
            ("go", "declarations", "{v}", (3, 4), "Go declarations use `{v}` (3 of 4)."),
            ("go", "naming.unheard_of", "x", (3, 4), "Go naming.unheard_of: x (3 of 4)."),
        ] {
            assert_eq!(stated(language, key, value, matching, total), expected);
        }
    }
}
