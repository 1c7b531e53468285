//! Per-file counts summed into convention memories. A value is stated only when it is
//! dominant ([`DOMINANCE`] of the cases, and at least a key's minimum number of cases);
//! otherwise the memory says the habit is mixed and gives the split.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::memory::{short_hash, Entry, Evidence, Layer, Source};
use crate::workspace::common_dir;

use super::analyze::{FileFacts, Tally, MAX_TRACKED_LENGTH};

mod crates;
mod derived;
mod wording;

use crates::{crate_kind_errors, note_crate, CrateErrors, CrateKind};
use derived::{
    declarations, license_convention, line_length, naming_convention, receiver_consistency,
    scoped_home, set_convention,
};
pub use wording::display;
use wording::{mixed, stated, subject};

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
        | "logging.library"
        | "naming.test_file"
        | "test.assertions"
        | "test.regressions"
        | "headers.license"
        | "imports.grouping" => 3,
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
    /// The same counts per top-level directory, for habits that differ between them.
    by_dir: BTreeMap<(&'static str, String), BTreeMap<&'static str, ValueTotal>>,
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
    let mut crate_kinds: BTreeMap<String, CrateKind> = BTreeMap::new();
    // Per language, the directory every one of its files is under ("" once two differ).
    let mut homes: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut crate_errors: BTreeMap<String, CrateErrors> = BTreeMap::new();
    for (path, facts) in files {
        let rel = path
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .collect::<Vec<_>>()
            .join("/");
        if facts.language == "rust" {
            note_crate(&rel, facts, &mut crate_kinds, &mut crate_errors);
        }
        let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        homes
            .entry(facts.language)
            .and_modify(|home| *home = common_dir(home, dir).to_string())
            .or_insert_with(|| dir.to_string());
        let lang = totals.entry(facts.language).or_default();
        let top = top_dir(&rel);
        for ((key, value), tally) in &facts.tallies {
            let total = lang.keys.entry(key).or_default().entry(value).or_default();
            add_tally(total, tally, &rel);
            if let Some(top) = top {
                let by_dir = lang.by_dir.entry((key, top.to_string())).or_default();
                add_tally(by_dir.entry(value).or_default(), tally, &rel);
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
            let found = match *key {
                // Read into the receiver memory, not a memory of its own.
                "naming.receiver_consistency" => None,
                "errors.library" if *language == "rust" => {
                    crate_kind_errors(&crate_errors, &crate_kinds)
                }
                "errors.library" => set_convention(language, key, values),
                "headers.license" => license_convention(language, values),
                "naming.receiver" => vote(language, key, values).map(|mut found| {
                    receiver_consistency(lang, &mut found);
                    found
                }),
                k if k.starts_with("naming.")
                    && !matches!(
                        k,
                        "naming.catch_parameter" | "naming.test_file" | "naming.test"
                    ) =>
                {
                    naming_convention(language, key, values)
                }
                _ => counted(language, key, values).map(|found| {
                    if found.value == "mixed" {
                        directory_split(language, key, lang).unwrap_or(found)
                    } else {
                        found
                    }
                }),
            };
            if let Some(mut found) = found {
                if let Some(home) = scoped_home(language, &homes) {
                    found.sentence.push_str(&format!(
                        " ({} is written only under `{home}/`.)",
                        display(language)
                    ));
                }
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

fn add_tally(total: &mut ValueTotal, tally: &Tally, rel: &str) {
    total.count += u64::from(tally.count);
    if total.examples.len() < MAX_EXAMPLES {
        if let Some(line) = tally.lines.first() {
            total.examples.push(format!("{rel}:{line}"));
        }
    }
}

/// The directories whose habits are compared: the top-level one (`src`, `test`), or the
/// package inside a monorepo's container directory (`packages/cli`).
fn top_dir(rel: &str) -> Option<&str> {
    let (first, rest) = rel.split_once('/')?;
    if matches!(
        first,
        "packages" | "crates" | "apps" | "libs" | "editors" | "plugins"
    ) {
        if let Some((second, _)) = rest.split_once('/') {
            return Some(&rel[..first.len() + 1 + second.len()]);
        }
    }
    Some(first)
}

/// A key's memory from its counts: declarations have a reading of their own, the rest vote.
fn counted(
    language: &str,
    key: &str,
    values: &BTreeMap<&'static str, ValueTotal>,
) -> Option<Found> {
    match key {
        "declarations" => declarations(language, values),
        _ => vote(language, key, values),
    }
}

/// A habit mixed across the repository that is dominant, with different values, in two or
/// more top-level directories (`src/` single quotes, `test/` double quotes): stated per
/// directory rather than as one split. Directories with too few cases are left out; one that
/// is itself mixed leaves the repository-wide split standing.
fn directory_split(language: &str, key: &str, lang: &LanguageTotals) -> Option<Found> {
    let mut parts: Vec<(&str, Found)> = Vec::new();
    for ((dir_key, dir), values) in &lang.by_dir {
        if *dir_key != key {
            continue;
        }
        let Some(found) = counted(language, key, values) else {
            continue;
        };
        if found.value == "mixed" {
            return None;
        }
        parts.push((dir, found));
    }
    let first = &parts.first()?.1.value;
    if parts.iter().all(|(_, found)| found.value == *first) {
        return None;
    }
    let stated: Vec<String> = parts
        .iter()
        .map(|(dir, found)| format!("`{dir}/`: {}", found.sentence))
        .collect();
    Some(Found {
        value: parts
            .iter()
            .map(|(dir, found)| format!("{dir}:{}", found.value))
            .collect::<Vec<_>>()
            .join(";"),
        sentence: format!(
            "{} {} differ by directory. {}",
            display(language),
            subject(key),
            stated.join(" ")
        ),
        matching: parts.iter().map(|(_, f)| f.matching).sum(),
        total: parts.iter().map(|(_, f)| f.total).sum(),
        examples: parts
            .iter()
            .filter_map(|(_, f)| f.examples.first().cloned())
            .take(MAX_EXAMPLES)
            .collect(),
    })
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

/// The statement of a slot where no value dominates: every value with its share, and an
/// example of each.
fn mixed_values(
    language: &str,
    key: &str,
    values: &BTreeMap<&'static str, ValueTotal>,
    total: u64,
) -> Found {
    let parts: Vec<(&str, u64)> = values.iter().map(|(v, t)| (*v, t.count)).collect();
    mixed(language, key, &parts, total, examples_per_value(values))
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
        let mut sentence = stated(language, key, value, top.count, total);
        // The exceptions, so that a reader can judge the rule and a copilot sees them.
        let exceptions: Vec<&String> = values
            .iter()
            .filter(|(v, _)| *v != value)
            .flat_map(|(_, t)| t.examples.iter())
            .take(MAX_EXAMPLES)
            .collect();
        if !exceptions.is_empty() && key_has_exceptions(key) {
            let list = exceptions
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ");
            sentence.push_str(&format!(" Exceptions: {list}."));
        }
        return Some(Found {
            value: value.to_string(),
            sentence,
            matching: top.count,
            total,
            examples: top.examples.clone(),
        });
    }
    Some(mixed_values(language, key, values, total))
}

/// Whether the exceptions to a dominant value are worth listing: per-file layout facts
/// (final newline, line endings) are better fixed by the formatter than read.
fn key_has_exceptions(key: &str) -> bool {
    !matches!(key, "format.final_newline" | "format.line_endings")
}
