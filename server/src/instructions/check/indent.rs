//! The indentation check: a rule that states an indent where at least 90 % of at least 5
//! files of every language it can mean indent otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::claims::{claims, SPACES, TABS};
use super::{finding, Finding, Kind, Measured};
use crate::instructions::read::{Document, Rule};
use crate::memory::Source;

/// Share of files that must agree before an indentation rule is called wrong.
const INDENT_SHARE: f64 = 0.9;
/// Files of a language needed before its indentation is trusted.
const INDENT_FILES: u32 = 5;

/// Languages tacit measures, by the words people use for them.
fn language_named(word: &str, original: &str) -> Option<Option<&'static str>> {
    let measured = match word {
        "rust" => Some("rust"),
        "python" => Some("python"),
        "typescript" | "ts" | "tsx" => Some("typescript"),
        "javascript" | "js" | "jsx" => Some("javascript"),
        "golang" => Some("go"),
        // "go" is also a verb; only the capitalised name counts.
        "go" if original == "Go" => Some("go"),
        "java" => Some("java"),
        _ => None,
    };
    if measured.is_some() {
        return Some(measured);
    }
    const UNMEASURED: &[&str] = &[
        "yaml",
        "yml",
        "json",
        "toml",
        "markdown",
        "md",
        "html",
        "css",
        "scss",
        "sql",
        "shell",
        "bash",
        "makefile",
        "makefiles",
        "c",
        "c++",
        "cpp",
        "ruby",
        "php",
        "kotlin",
        "swift",
        "terraform",
        "hcl",
        "xml",
        "lua",
        "proto",
        "protobuf",
        "nix",
        "dockerfile",
        "vue",
        "svelte",
        "scala",
        "elixir",
        "haskell",
        "zig",
        "dart",
        "csharp",
        "c#",
    ];
    UNMEASURED.contains(&word).then_some(None)
}

/// The languages a rule can be about: those it names, else those of its file's scope.
fn languages_meant(
    doc: &Document,
    rule: &str,
    measured: &Measured,
) -> Option<BTreeSet<&'static str>> {
    let mut named = BTreeSet::new();
    for original in rule.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#')) {
        match language_named(&original.to_lowercase(), original) {
            Some(Some(language)) => {
                named.insert(language);
            }
            // A rule about YAML or CSS says nothing about the code tacit measures.
            Some(None) => return None,
            None => {}
        }
    }
    if !named.is_empty() {
        return Some(named);
    }
    if !doc.scope.globs.is_empty() {
        return doc
            .scope
            .globs
            .iter()
            .map(|g| crate::instructions::formats::glob_language(g))
            .collect::<Option<BTreeSet<_>>>();
    }
    let dir = &doc.scope.dir;
    let mut inside: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for file in &measured.files {
        if let Some(language) = crate::workspace::language_of(Path::new(file)) {
            let counts = inside.entry(language).or_default();
            counts.1 += 1;
            if dir.is_empty() || file.starts_with(&format!("{dir}/")) {
                counts.0 += 1;
            }
        }
    }
    // A nested file's rule is judged only on languages written nowhere else: the counts are
    // for the whole repository.
    Some(
        inside
            .into_iter()
            .filter(|(_, (here, all))| *here > 0 && here == all)
            .map(|(l, _)| l)
            .collect(),
    )
}

fn describe_indent(value: &str) -> String {
    match value.strip_prefix("spaces:") {
        Some(n) => format!("{n} spaces"),
        None => "tabs".into(),
    }
}

pub(super) fn check_indent(doc: &Document, rule: &Rule, measured: &Measured) -> Vec<Finding> {
    let Some(claim) = claims(&rule.text)
        .into_iter()
        .find(|c| c.key == "format.indent")
    else {
        return Vec::new();
    };
    let Some(languages) = languages_meant(doc, &rule.text, measured) else {
        return Vec::new();
    };
    if languages.is_empty() {
        return Vec::new();
    }
    let mut evidence = Vec::new();
    let mut values = BTreeSet::new();
    let mut shown = None;
    for language in &languages {
        let strong = measured.facts.iter().find(|e| {
            e.source == Source::Code
                && e.key.as_deref() == Some("format.indent")
                && e.language.as_deref() == Some(language)
        });
        let Some(fact) = strong else {
            return Vec::new();
        };
        let (Some(value), Some(ev)) = (fact.value.as_deref(), fact.evidence) else {
            return Vec::new();
        };
        let strong = value != "mixed"
            && ev.total >= INDENT_FILES
            && f64::from(ev.matching) >= INDENT_SHARE * f64::from(ev.total);
        if !strong || value == claim.value {
            return Vec::new();
        }
        values.insert(value.to_string());
        shown = shown.or_else(|| fact.examples.first().cloned());
        let example = fact
            .examples
            .first()
            .map(|x| format!(", e.g. `{x}`"))
            .unwrap_or_default();
        evidence.push(format!(
            "{} files indent with {} ({} of {} files{example})",
            crate::code::language_name(language),
            describe_indent(value),
            ev.matching,
            ev.total
        ));
    }
    // The words to replace: the first indentation phrase of the rule's lines.
    for line in rule.line..=rule.end_line {
        let text = doc.line(line);
        let hit = SPACES
            .as_ref()
            .and_then(|re| re.find(text))
            .or_else(|| TABS.as_ref().and_then(|re| re.find(text)));
        let Some(hit) = hit else { continue };
        let replacement = (values.len() == 1)
            .then(|| values.iter().next().map(|v| indent_words(hit.as_str(), v)))
            .flatten();
        let mut found = finding(
            doc,
            line,
            hit.start(),
            hit.as_str(),
            Kind::Indentation,
            format!(
                "The rule says {}, but {}.",
                describe_indent(&claim.value),
                evidence.join("; ")
            ),
            replacement,
        );
        found.example = shown;
        return vec![found];
    }
    Vec::new()
}

/// The measured indent in the grammatical form of the words it replaces: "2-space" →
/// "4-space" or "tab", "2 spaces" → "4 spaces" or "tabs", "tabs" → "4 spaces".
fn indent_words(written: &str, measured: &str) -> String {
    let adjective = written.contains('-') || (!written.ends_with('s') && !written.ends_with('S'));
    match (measured.strip_prefix("spaces:"), adjective) {
        (Some(n), true) => format!("{n}-space"),
        (Some(n), false) => format!("{n} spaces"),
        (None, true) => "tab".into(),
        (None, false) => "tabs".into(),
    }
}
