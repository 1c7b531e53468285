//! Per-file counts summed into convention memories. A value is stated only when it is
//! dominant ([`DOMINANCE`] of the cases, and at least a key's minimum number of cases);
//! otherwise the memory says the habit is mixed and gives the split.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::memory::{short_hash, Entry, Evidence, Layer, Source};

use super::analyze::{FileFacts, MAX_TRACKED_LENGTH};
use super::naming;

/// The share of cases a value needs to be stated as the convention.
pub const DOMINANCE: f64 = 0.8;
/// Cases needed before anything is said about most keys.
pub const MIN_CASES: u64 = 5;
/// How many `file:line` examples a memory keeps.
const MAX_EXAMPLES: usize = 3;

/// Fewer cases suffice where each case is a whole file or a deliberate definition.
fn min_cases(key: &str) -> u64 {
    match key {
        "naming.file"
        | "format.indent"
        | "format.final_newline"
        | "format.line_endings"
        | "logging.library" => 3,
        // One test file importing its framework says which it is.
        "test.framework" => 1,
        "test.placement" | "async.runtime" | "errors.custom" | "errors.sentinel"
        | "errors.library" => 2,
        _ => MIN_CASES,
    }
}

#[derive(Debug, Default, Clone)]
struct ValueTotal {
    count: u64,
    examples: Vec<String>,
}

/// Everything counted for one language.
#[derive(Debug, Default)]
struct LanguageTotals {
    keys: BTreeMap<&'static str, BTreeMap<&'static str, ValueTotal>>,
    lengths: Vec<u64>,
    longest: (u32, String),
}

/// The conventions found, as `(language, key)` → `(value, entry)`.
pub type Conventions = BTreeMap<(&'static str, &'static str), (String, Entry)>;

/// Sums per-file facts (visited in path order, so examples are stable) into entries.
pub fn conventions<'a>(
    files: impl Iterator<Item = (&'a PathBuf, &'a FileFacts)>,
    scope: &str,
) -> Conventions {
    let mut files: Vec<(&PathBuf, &FileFacts)> = files.collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut totals: BTreeMap<&'static str, LanguageTotals> = BTreeMap::new();
    for (path, facts) in files {
        let rel = path
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .collect::<Vec<_>>()
            .join("/");
        let lang = totals.entry(facts.language).or_default();
        for ((key, value), tally) in &facts.tallies {
            let total = lang.keys.entry(key).or_default().entry(value).or_default();
            total.count += u64::from(tally.count);
            if total.examples.len() < MAX_EXAMPLES {
                if let Some(line) = tally.lines.first() {
                    total.examples.push(format!("{rel}:{line}"));
                }
            }
        }
        if lang.lengths.is_empty() {
            lang.lengths = vec![0; MAX_TRACKED_LENGTH + 1];
        }
        for (length, n) in &facts.line_lengths {
            lang.lengths[usize::from(*length).min(MAX_TRACKED_LENGTH)] += u64::from(*n);
        }
        if facts.longest.0 > lang.longest.0 {
            lang.longest = (facts.longest.0, format!("{rel}:{}", facts.longest.1));
        }
    }

    let mut out = Conventions::new();
    for (language, lang) in &totals {
        for (key, values) in &lang.keys {
            let found = if key.starts_with("naming.") && *key != "naming.test" {
                naming_convention(language, key, values)
            } else if *key == "errors.library" {
                set_convention(language, key, values)
            } else {
                vote(language, key, values)
            };
            if let Some(found) = found {
                out.insert(
                    (language, key),
                    (found.value.clone(), found.entry(scope, language, key)),
                );
            }
        }
        if let Some(found) = line_length(language, lang) {
            out.insert(
                (language, "format.line_length"),
                (
                    found.value.clone(),
                    found.entry(scope, language, "format.line_length"),
                ),
            );
        }
    }
    out
}

struct Found {
    value: String,
    sentence: String,
    matching: u64,
    total: u64,
    examples: Vec<String>,
}

impl Found {
    fn entry(&self, scope: &str, language: &str, key: &str) -> Entry {
        let mut entry = Entry::extracted(
            scope,
            Layer::Memory,
            Source::Code,
            key,
            Some(language),
            &self.value,
            self.sentence.clone(),
        );
        // Configuration can state the same slot and value (prettier's `singleQuote` and the
        // quotes actually written): a source of its own in the id keeps the two rows apart
        // instead of overwriting each other on every run.
        entry.id = short_hash(&[
            scope,
            Layer::Memory.as_str(),
            key,
            language,
            &self.value,
            Source::Code.as_str(),
        ]);
        entry.evidence = Some(Evidence {
            matching: self.matching.min(u64::from(u32::MAX)) as u32,
            total: self.total.min(u64::from(u32::MAX)) as u32,
        });
        entry.examples = self.examples.clone();
        entry.tags = vec![key.split('.').next().unwrap_or("code").to_string()];
        entry.importance = match key.split('.').next() {
            Some("naming" | "errors" | "test" | "async" | "logging") => 0.6,
            _ => 0.45,
        };
        // Counted evidence is firmer when there is a lot of it.
        entry.confidence = if self.value == "mixed" {
            0.6
        } else if self.total >= 50 {
            0.85
        } else {
            0.75
        };
        entry
    }
}

fn percent(part: u64, total: u64) -> u64 {
    (part * 100 + total / 2).checked_div(total).unwrap_or(0)
}

fn split(values: &[(&str, u64)], total: u64) -> String {
    values
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{} {}%", shown(v), percent(*n, total)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shown(value: &str) -> String {
    match value {
        "?" => "`?`".into(),
        "unwrap" => "unwrap/expect".into(),
        "panic" => "panic!".into(),
        other => other.to_string(),
    }
}

fn mixed(
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

/// One example per value, most common first, for a mixed memory.
fn examples_per_value(values: &BTreeMap<&'static str, ValueTotal>) -> Vec<String> {
    let mut ordered: Vec<(&&str, &ValueTotal)> = values.iter().collect();
    ordered.sort_by_key(|(_, t)| std::cmp::Reverse(t.count));
    ordered
        .iter()
        .filter_map(|(_, t)| t.examples.first().cloned())
        .take(MAX_EXAMPLES)
        .collect()
}

fn vote(language: &str, key: &str, values: &BTreeMap<&'static str, ValueTotal>) -> Option<Found> {
    let total: u64 = values.values().map(|v| v.count).sum();
    if total < min_cases(key) {
        return None;
    }
    let (value, top) = values
        .iter()
        .max_by(|a, b| a.1.count.cmp(&b.1.count).then(b.0.cmp(a.0)))?;
    if top.count as f64 >= DOMINANCE * total as f64 {
        return Some(Found {
            value: value.to_string(),
            sentence: stated(language, key, value, top.count, total),
            matching: top.count,
            total,
            examples: top.examples.clone(),
        });
    }
    let parts: Vec<(&str, u64)> = values.iter().map(|(v, t)| (*v, t.count)).collect();
    Some(mixed(
        language,
        key,
        &parts,
        total,
        examples_per_value(values),
    ))
}

/// Naming: a one-word name fits several styles and counts for each it fits.
fn naming_convention(
    language: &str,
    key: &str,
    values: &BTreeMap<&'static str, ValueTotal>,
) -> Option<Found> {
    let total: u64 = values.values().map(|v| v.count).sum();
    let unambiguous: u64 = values
        .iter()
        .filter(|(v, _)| naming::STATED.contains(v))
        .map(|(_, t)| t.count)
        .sum();
    if total < min_cases(key) || unambiguous == 0 {
        return None;
    }
    let fitting = |candidate: &str| -> u64 {
        values
            .iter()
            .filter(|(v, _)| naming::fits(v, candidate))
            .map(|(_, t)| t.count)
            .sum()
    };
    let candidates: Vec<&str> = naming::STATED
        .iter()
        .copied()
        .filter(|c| language == "go" || *c != naming::MIXED_CAPS)
        .filter(|c| language != "go" || !matches!(*c, naming::CAMEL | naming::PASCAL))
        .collect();
    let best = candidates.iter().copied().max_by(|a, b| {
        fitting(a)
            .cmp(&fitting(b))
            .then_with(|| direct(values, a).cmp(&direct(values, b)))
    })?;
    // One-word names fit camelCase and snake_case alike: a style is only named when at least
    // two names are written in it unmistakably.
    if direct(values, best) < 2 && !(language == "go" && fitting(best) == total) {
        return None;
    }
    let matching = fitting(best);
    if matching as f64 >= DOMINANCE * total as f64 {
        // Names written in the style itself first, then one-word names that fit it.
        let mut examples: Vec<String> = values
            .get(best)
            .map(|t| t.examples.clone())
            .unwrap_or_default();
        for (v, t) in values {
            if *v != best && naming::fits(v, best) {
                for e in &t.examples {
                    if examples.len() < MAX_EXAMPLES && !examples.contains(e) {
                        examples.push(e.clone());
                    }
                }
            }
        }
        return Some(Found {
            value: best.to_string(),
            sentence: stated(language, key, best, matching, total),
            matching,
            total,
            examples,
        });
    }
    let parts: Vec<(&str, u64)> = values.iter().map(|(v, t)| (*v, t.count)).collect();
    Some(mixed(
        language,
        key,
        &parts,
        total,
        examples_per_value(values),
    ))
}

fn direct(values: &BTreeMap<&'static str, ValueTotal>, style: &str) -> u64 {
    values.get(style).map(|t| t.count).unwrap_or(0)
}

/// Libraries used side by side (anyhow in binaries, thiserror in libraries): every one used
/// by at least a fifth of the files that use any is part of the value.
fn set_convention(
    language: &str,
    key: &str,
    values: &BTreeMap<&'static str, ValueTotal>,
) -> Option<Found> {
    let total: u64 = values.values().map(|v| v.count).sum();
    if total < min_cases(key) {
        return None;
    }
    let mut used: Vec<(&str, &ValueTotal)> = values
        .iter()
        .filter(|(_, t)| t.count * 5 >= total)
        .map(|(v, t)| (*v, t))
        .collect();
    used.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    let mut names: Vec<&str> = used.iter().map(|(v, _)| *v).collect();
    names.sort();
    let value = names.join("+");
    let counts = used
        .iter()
        .map(|(v, t)| format!("{v} in {} files", t.count))
        .collect::<Vec<_>>()
        .join(", ");
    let matching: u64 = used.iter().map(|(_, t)| t.count).sum();
    let examples = used
        .iter()
        .filter_map(|(_, t)| t.examples.first().cloned())
        .take(MAX_EXAMPLES)
        .collect();
    Some(Found {
        sentence: format!(
            "{} error handling uses {} ({counts}).",
            display(language),
            used.iter()
                .map(|(v, _)| *v)
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        value,
        matching,
        total,
        examples,
    })
}

/// The common line limits; the value is the smallest that 95% of lines keep within, so that
/// it changes only when the habit does, not with every long line.
const LIMITS: &[u64] = &[80, 100, 120, 140, 160];

fn line_length(language: &str, lang: &LanguageTotals) -> Option<Found> {
    let total: u64 = lang.lengths.iter().sum();
    if total < 50 {
        return None;
    }
    let mut seen = 0;
    let mut p95 = 0;
    for (length, n) in lang.lengths.iter().enumerate() {
        seen += n;
        if seen * 100 >= total * 95 {
            p95 = length as u64;
            break;
        }
    }
    let limit = LIMITS.iter().copied().find(|l| *l >= p95)?;
    let within: u64 = lang.lengths.iter().take(limit as usize + 1).sum();
    Some(Found {
        value: limit.to_string(),
        sentence: format!(
            "{} lines stay within {limit} characters (95% are at most {p95}; the longest is {}).",
            display(language),
            lang.longest.0
        ),
        matching: within,
        total,
        examples: vec![lang.longest.1.clone()],
    })
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
fn subject(key: &str) -> &'static str {
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
        "test.framework" => "test frameworks",
        "test.placement" => "test locations",
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
        _ => "habits",
    }
}

/// The sentence for a dominant value: short, human, with the evidence in brackets.
fn stated(language: &str, key: &str, value: &str, matching: u64, total: u64) -> String {
    let l = display(language);
    let of = format!("({matching} of {total})");
    match (key, value) {
        ("naming.function", naming::MIXED_CAPS) => format!(
            "{l} functions use MixedCaps: camelCase, PascalCase when exported {of}."
        ),
        ("naming.type", naming::MIXED_CAPS) => {
            format!("{l} types use MixedCaps: camelCase, PascalCase when exported {of}.")
        }
        ("naming.function", v) => format!("{l} functions are named in {v} {of}."),
        ("naming.type", v) => format!("{l} types are named in {v} {of}."),
        ("naming.constant", v) => format!("{l} constants are named in {v} {of}."),
        ("naming.variable", v) => format!("{l} variables and fields are named in {v} {of}."),
        ("naming.file", v) => format!("{l} file names use {v} {of}."),
        ("naming.test", "test_prefix") => {
            format!("{l} test functions are named with a `test` prefix {of}.")
        }
        ("naming.test", "should") => format!("{l} tests are named `should …` {of}."),
        ("naming.test", _) => format!(
            "{l} tests are named after the behaviour they check, without a `test` prefix {of}."
        ),
        ("format.indent", "tabs") => format!("{l} code is indented with tabs ({matching} of {total} files)."),
        ("format.indent", v) => format!(
            "{l} code is indented with {} spaces ({matching} of {total} files).",
            v.trim_start_matches("spaces:")
        ),
        ("format.quotes", v) => format!("{l} strings use {v} quotes {of}."),
        ("format.semicolons", "semicolons") => format!("{l} statements end with semicolons {of}."),
        ("format.semicolons", _) => format!("{l} statements omit semicolons {of}."),
        ("format.trailing_commas", "trailing") => {
            format!("Multi-line {l} lists end with a trailing comma {of}.")
        }
        ("format.trailing_commas", _) => {
            format!("Multi-line {l} lists have no trailing comma {of}.")
        }
        ("format.final_newline", "yes") => {
            format!("{l} files end with a newline ({matching} of {total} files).")
        }
        ("format.final_newline", _) => {
            format!("{l} files do not end with a newline ({matching} of {total} files).")
        }
        ("format.line_endings", v) => format!(
            "{l} files use {} line endings ({matching} of {total} files).",
            v.to_uppercase()
        ),
        ("errors.propagation", "?") => format!(
            "{l} code propagates errors with `?`; unwrap/expect and panic! are rare outside tests ({matching} of {total} error sites use `?`)."
        ),
        ("errors.propagation", "unwrap") => format!(
            "{l} code handles errors with unwrap/expect even outside tests ({matching} of {total} error sites)."
        ),
        ("errors.propagation", _) => {
            format!("{l} code panics on errors outside tests ({matching} of {total} error sites).")
        }
        ("errors.except", "typed") => format!(
            "{l} except clauses name the exceptions they catch; bare `except:` is avoided {of}."
        ),
        ("errors.except", _) => format!("{l} code catches everything with bare `except:` {of}."),
        ("errors.chaining", "raise-from") => format!(
            "{l} code chains exceptions raised inside except blocks with `raise … from err` {of}."
        ),
        ("errors.chaining", _) => format!(
            "{l} code raises new exceptions inside except blocks without `from` {of}."
        ),
        ("errors.custom", _) => match language {
            "python" | "java" => format!("{l} code defines its own exception classes ({total})."),
            _ => format!("{l} code defines its own Error subclasses ({total})."),
        },
        ("errors.wrapping", "%w") => format!(
            "{l} code wraps errors with fmt.Errorf and %w {of}."
        ),
        ("errors.wrapping", _) => format!(
            "{l} code formats errors into fmt.Errorf with %v rather than wrapping them with %w {of}."
        ),
        ("errors.sentinel", _) => format!(
            "{l} packages declare sentinel errors (`var ErrX = errors.New(…)`) ({total})."
        ),
        ("errors.async", "try/catch") => format!(
            "{l} code handles errors with try/catch rather than promise .catch() {of}."
        ),
        ("errors.async", _) => format!(
            "{l} code handles errors with promise .catch() rather than try/catch {of}."
        ),
        ("test.framework", v) => format!("{l} tests use {v} ({matching} of {total} test files)."),
        ("test.placement", "inline") => format!(
            "{l} tests live in inline #[cfg(test)] modules next to the code ({matching} of {total} files with tests)."
        ),
        ("test.placement", "tests/") => format!(
            "{l} tests live in a separate tests directory ({matching} of {total} test files)."
        ),
        ("test.placement", "__tests__") => format!(
            "{l} tests live in __tests__ directories ({matching} of {total} test files)."
        ),
        ("test.placement", _) => format!(
            "{l} test files sit next to the code they test ({matching} of {total} test files)."
        ),
        ("docs.coverage", "documented") => match language {
            "python" => format!("Public {l} functions and classes have docstrings {of}."),
            _ => format!("Public {l} items have doc comments {of}."),
        },
        ("docs.coverage", _) => format!(
            "Public {l} items are mostly undocumented ({matching} of {total} have no doc comment)."
        ),
        ("docs.style", "google") => format!("{l} docstrings use the Google style (Args:, Returns:) {of}."),
        ("docs.style", "numpy") => format!("{l} docstrings use the NumPy style (Parameters / ----) {of}."),
        ("docs.style", _) => format!("{l} docstrings use the reST style (:param x:) {of}."),
        ("imports.nesting", "nested") => format!(
            "{l} use declarations group items with braces, `use a::{{b, c}}` {of}."
        ),
        ("imports.nesting", _) => format!("{l} use declarations import one path each {of}."),
        ("imports.paths", "relative") => format!(
            "{l} code imports project files with relative paths (./x) {of}."
        ),
        ("imports.paths", _) => format!("{l} code imports project files through path aliases (@/x) {of}."),
        ("imports.wildcard", "explicit") => format!(
            "{l} imports name each class; wildcard imports are avoided {of}."
        ),
        ("imports.wildcard", _) => format!("{l} code uses wildcard imports {of}."),
        ("types.annotations", "annotated") => format!(
            "{l} functions are fully type-annotated {of}."
        ),
        ("types.annotations", _) => format!(
            "{l} functions are mostly not type-annotated ({matching} of {total} lack annotations)."
        ),
        ("types.any", "specific") => format!(
            "{l} code avoids `any`: {} of {total} type annotations use it.",
            total - matching
        ),
        ("types.any", _) => format!("{l} code uses `any` freely {of}."),
        ("types.visibility", "pub") => format!(
            "{l} items are made public with plain `pub` rather than `pub(crate)` {of}."
        ),
        ("types.visibility", _) => format!(
            "{l} code limits visibility with `pub(crate)` rather than plain `pub` {of}."
        ),
        ("async.runtime", v) => format!("{l} async code runs on {v} ({matching} of {total} files)."),
        ("logging.library", v) => format!("{l} code logs with {v} {of}."),
        (k, v) => format!("{l} {k}: {v} {of}."),
    }
}
