//! Per-file counts summed into convention memories. A value is stated only when it is
//! dominant ([`DOMINANCE`] of the cases, and at least a key's minimum number of cases);
//! otherwise the memory says the habit is mixed and gives the split.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::memory::{short_hash, Entry, Evidence, Layer, Source};

use super::analyze::{FileFacts, Tally, MAX_TRACKED_LENGTH};
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

/// What a Rust crate's `src/` shows it is: `main.rs` or `src/bin/` make a binary, `lib.rs`
/// a library (a crate with both is a library with a thin binary on top).
#[derive(Debug, Default, Clone, Copy)]
struct CrateKind {
    bin: bool,
    lib: bool,
}

/// The error libraries a crate's sources use, with the first place each is seen.
#[derive(Debug, Default)]
struct CrateErrors {
    libraries: BTreeMap<&'static str, String>,
}

/// The crate a Rust file belongs to: the directory above its last `src/` component.
fn crate_of(rel: &str) -> Option<(&str, &str)> {
    let slashed = rel.strip_prefix("src/").map(|tail| ("", tail));
    slashed.or_else(|| {
        let at = rel.rfind("/src/")?;
        Some((&rel[..at], &rel[at + 5..]))
    })
}

fn note_crate(
    rel: &str,
    facts: &FileFacts,
    kinds: &mut BTreeMap<String, CrateKind>,
    errors: &mut BTreeMap<String, CrateErrors>,
) {
    let Some((root, tail)) = crate_of(rel) else {
        return;
    };
    let kind = kinds.entry(root.to_string()).or_default();
    kind.bin |= tail == "main.rs" || tail.starts_with("bin/");
    kind.lib |= tail == "lib.rs";
    for ((key, value), tally) in &facts.tallies {
        if *key == "errors.library" {
            let line = tally.lines.first().copied().unwrap_or(1);
            errors
                .entry(root.to_string())
                .or_default()
                .libraries
                .entry(value)
                .or_insert_with(|| format!("{rel}:{line}"));
        }
    }
}

/// Rust error handling split by crate kind: what binaries (the edge, where `anyhow` is at
/// home) and libraries (which callers match on, so own error types) do. Each crate counts
/// once, with `anyhow` if any of its files uses it, else `thiserror`, else its own
/// `impl Error`.
fn crate_kind_errors(
    errors: &BTreeMap<String, CrateErrors>,
    kinds: &BTreeMap<String, CrateKind>,
) -> Option<Found> {
    let mut per_kind: BTreeMap<&str, BTreeMap<&'static str, ValueTotal>> = BTreeMap::new();
    for (root, crate_errors) in errors {
        let kind = kinds.get(root).copied().unwrap_or_default();
        let kind = if kind.bin && !kind.lib {
            "binaries"
        } else {
            "libraries"
        };
        let used = ["anyhow", "thiserror", "std::error::Error"]
            .into_iter()
            .find_map(|l| crate_errors.libraries.get_key_value(l));
        let Some((library, example)) = used else {
            continue;
        };
        let value: &'static str = match *library {
            "anyhow" => "anyhow",
            "thiserror" => "thiserror",
            _ => "own error types",
        };
        let total = per_kind.entry(kind).or_default().entry(value).or_default();
        total.count += 1;
        if total.examples.len() < MAX_EXAMPLES {
            total.examples.push(example.clone());
        }
    }
    if per_kind.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let mut values = Vec::new();
    let (mut matching, mut total_crates, mut examples) = (0, 0, Vec::new());
    for (kind, values_of_kind) in &per_kind {
        let total: u64 = values_of_kind.values().map(|v| v.count).sum();
        let Some((value, top)) = values_of_kind
            .iter()
            .max_by(|a, b| a.1.count.cmp(&b.1.count).then(b.0.cmp(a.0)))
        else {
            continue;
        };
        total_crates += total;
        let of = format!("{} of {total} {kind}", top.count);
        if top.count as f64 >= DOMINANCE * total as f64 {
            matching += top.count;
            values.push(format!("{kind}:{value}"));
            parts.push(match *value {
                "anyhow" => format!("{kind} handle errors with anyhow ({of})"),
                "thiserror" => {
                    format!("{kind} define their own error types with thiserror ({of})")
                }
                _ => format!("{kind} define their own error types, implementing std::error::Error by hand ({of})"),
            });
            examples.extend(top.examples.iter().take(1).cloned());
        } else {
            values.push(format!("{kind}:mixed"));
            let split: Vec<(&str, u64)> =
                values_of_kind.iter().map(|(v, t)| (*v, t.count)).collect();
            parts.push(format!(
                "error handling in {kind} is mixed: {}",
                split_shares(&split, total)
            ));
            examples.extend(examples_per_value(values_of_kind));
        }
    }
    examples.truncate(MAX_EXAMPLES);
    let mut sentence = format!("Rust {}.", parts.join("; "));
    if per_kind.len() == 1 {
        sentence.push_str(
            " (Counted per crate: a crate with src/main.rs and no src/lib.rs is a binary.)",
        );
    }
    Some(Found {
        value: values.join(";"),
        sentence,
        matching,
        total: total_crates,
        examples,
    })
}

/// `const` and `let` without `var` is a habit of its own, even when neither of the two
/// dominates: `let` only where a variable is reassigned.
fn declarations(language: &str, values: &BTreeMap<&'static str, ValueTotal>) -> Option<Found> {
    let found = vote(language, "declarations", values)?;
    if found.value != "mixed" || language == "go" {
        return Some(found);
    }
    let count = |v: &str| values.get(v).map(|t| t.count).unwrap_or(0);
    let total = found.total;
    let var = count("var");
    if var as f64 > 0.02 * total as f64 {
        return Some(found);
    }
    let l = display(language);
    let (konst, is_let) = (count("const"), count("let"));
    let mut sentence = format!(
        "{l} declares with `const` and `let`, never `var`: const {}%, let {}% (of {total}); `let` only for variables that are reassigned.",
        percent(konst, total),
        percent(is_let, total)
    );
    if var > 0 {
        sentence.push_str(&format!(" `var` appears {var} times."));
    }
    Some(Found {
        value: "const+let".into(),
        sentence,
        matching: konst + is_let,
        total,
        examples: examples_per_value(values),
    })
}

/// A license header is a convention only where most files have one.
fn license_convention(
    language: &str,
    values: &BTreeMap<&'static str, ValueTotal>,
) -> Option<Found> {
    let total: u64 = values.values().map(|v| v.count).sum();
    let none = values.get("none").map(|t| t.count).unwrap_or(0);
    if none * 2 > total {
        return None;
    }
    vote(language, "headers.license", values)
}

/// Adds to a receiver memory how many types keep one receiver name in every method.
fn receiver_consistency(lang: &LanguageTotals, found: &mut Found) {
    let Some(consistency) = lang.keys.get("naming.receiver_consistency") else {
        return;
    };
    let count = |v: &str| consistency.get(v).map(|t| t.count).unwrap_or(0);
    let (same, varies) = (count("consistent"), count("varies"));
    let types = same + varies;
    if types == 0 {
        return;
    }
    found.sentence.push_str(&format!(
        " {same} of {types} types use the same receiver name in every method{}.",
        if varies == 0 { "" } else { " (of one file)" }
    ));
}

/// The longest directory both `a` and `b` are under.
fn common_dir<'s>(a: &'s str, b: &str) -> &'s str {
    let mut end = 0;
    for ((i, x), y) in a
        .split('/')
        .scan(0, |at, part| {
            let start = *at;
            *at += part.len() + 1;
            Some((start + part.len(), part))
        })
        .zip(b.split('/'))
    {
        if x != y {
            break;
        }
        end = i;
    }
    &a[..end]
}

/// Where a language lives when it is confined to one directory of a workspace that also
/// has other languages elsewhere: its conventions hold there, not for the whole repository
/// (a VS Code extension in `editors/vscode` of a Rust workspace).
fn scoped_home<'h>(language: &str, homes: &'h BTreeMap<&'static str, String>) -> Option<&'h str> {
    let home = homes.get(language)?;
    if home.is_empty() {
        return None;
    }
    let elsewhere = homes.iter().any(|(other, dir)| {
        *other != language
            && !(dir.starts_with(home.as_str())
                && (dir.len() == home.len() || dir.as_bytes().get(home.len()) == Some(&b'/')))
    });
    elsewhere.then_some(home.as_str())
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

fn split_shares(values: &[(&str, u64)], total: u64) -> String {
    let mut values = values.to_vec();
    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    split(&values, total)
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
    let parts: Vec<(&str, u64)> = values.iter().map(|(v, t)| (*v, t.count)).collect();
    Some(mixed(
        language,
        key,
        &parts,
        total,
        examples_per_value(values),
    ))
}

/// Whether the exceptions to a dominant value are worth listing: per-file layout facts
/// (final newline, line endings) are better fixed by the formatter than read.
fn key_has_exceptions(key: &str) -> bool {
    !matches!(key, "format.final_newline" | "format.line_endings")
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
        ("errors.middleware", "ctx.throw") => format!(
            "{l} middleware reports HTTP errors with `ctx.throw(status, message)` and lets them propagate to the error handler {of}."
        ),
        ("errors.middleware", "next(err)") => format!(
            "{l} middleware passes errors on with `next(err)` (error-first, Express style) {of}."
        ),
        ("errors.middleware", _) => format!(
            "{l} middleware handles errors from downstream with `try {{ await next() }} catch (err)` {of}."
        ),
        ("errors.matching", "errors.Is/As") => format!(
            "{l} code matches errors with errors.Is / errors.As, which see through wrapping, rather than == or type assertions {of}."
        ),
        ("errors.matching", _) => format!(
            "{l} code matches errors directly (`err == ErrX`, `err.(*T)`) rather than with errors.Is / errors.As {of}."
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
        ("test.regressions", "dedicated") => format!(
            "{l} regression tests have a place of their own, a regression file or directory (see the examples) ({matching} of {total} test files that cite an issue)."
        ),
        ("test.regressions", _) => format!(
            "{l} regression tests go into the test file of the code they fix, citing the issue (`#123`) in a comment or the test name ({matching} of {total} test files that cite an issue)."
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
        ("declarations", ":=") => format!(
            "{l} code declares local variables with `:=` rather than `var` {of}; `var` is kept for zero values and package-level variables."
        ),
        ("declarations", "var") if language == "go" => {
            format!("{l} code declares local variables with `var` rather than `:=` {of}.")
        }
        ("declarations", v) => format!("{l} declarations use `{v}` {of}."),
        ("naming.catch_parameter", v) => {
            format!("{l} catch clauses name the exception `{v}` {of}.")
        }
        ("naming.receiver", "one-letter") => format!(
            "{l} method receivers are named with one letter, usually the type's initial (`func (r *Router)`) {of}."
        ),
        ("naming.receiver", "short") => format!(
            "{l} method receivers are named with short abbreviations of the type (2–4 letters) {of}."
        ),
        ("naming.receiver", _) => format!("{l} method receivers are named with whole words {of}."),
        ("naming.test_file", v) => {
            format!("{l} test files are named `{v}` ({matching} of {total} test files).")
        }
        ("test.assertions", v) => {
            format!("{l} tests assert with {v} ({matching} of {total} test files).")
        }
        ("imports.grouping", "separated") => format!(
            "{l} files group their imports: the standard library first, then a blank line and the other modules ({matching} of {total} files that import both)."
        ),
        ("imports.grouping", _) => format!(
            "{l} files list standard-library and other imports in one group, without a blank line between them ({matching} of {total} files that import both)."
        ),
        ("async.callbacks", "promises") => format!(
            "{l} asynchronous code uses promises (async/await, .then) rather than Node-style error-first callbacks `function (err, result)` {of}."
        ),
        ("async.callbacks", _) => format!(
            "{l} asynchronous code passes Node-style error-first callbacks, `function (err, result)`, with the error first {of}."
        ),
        ("errors.raises", "custom") => format!(
            "{l} library code raises its own exception classes rather than built-ins {of}."
        ),
        ("errors.raises", _) => format!(
            "{l} library code raises built-in exceptions (ValueError, TypeError, …) rather than its own classes {of}."
        ),
        ("headers.license", v) if v.contains("License") => format!(
            "{l} files start with the license header `{v}` ({matching} of {total} files)."
        ),
        ("headers.license", v) => format!(
            "{l} files start with the license header `Copyright <year> {v}.` ({matching} of {total} files)."
        ),
        (k, v) => format!("{l} {k}: {v} {of}."),
    }
}
