//! Rust error handling per crate kind: which error libraries binaries and library crates use,
//! told apart by where each crate's files live.

use std::collections::BTreeMap;

use super::wording::split_shares;
use super::{examples_per_value, Found, ValueTotal, DOMINANCE, MAX_EXAMPLES};
use crate::code::analyze::FileFacts;

/// What a Rust crate's `src/` shows it is: `main.rs` or `src/bin/` make a binary, `lib.rs`
/// a library (a crate with both is a library with a thin binary on top).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct CrateKind {
    pub(super) bin: bool,
    pub(super) lib: bool,
}

/// The error libraries a crate's sources use, with the first place each is seen.
#[derive(Debug, Default)]
pub(super) struct CrateErrors {
    pub(super) libraries: BTreeMap<&'static str, String>,
}

/// The crate a Rust file belongs to: the directory above its last `src/` component.
pub(super) fn crate_of(rel: &str) -> Option<(&str, &str)> {
    let slashed = rel.strip_prefix("src/").map(|tail| ("", tail));
    slashed.or_else(|| {
        let at = rel.rfind("/src/")?;
        Some((&rel[..at], &rel[at + 5..]))
    })
}

pub(super) fn note_crate(
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
pub(super) fn crate_kind_errors(
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
