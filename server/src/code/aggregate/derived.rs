//! Conventions that take more than one vote over a key: declarations, license headers,
//! receiver consistency, where regression tests live, naming and line length.

use std::collections::BTreeMap;

use super::wording::{display, percent, stated};
use super::{
    examples_per_value, min_cases, mixed_values, vote, Found, LanguageTotals, ValueTotal,
    DOMINANCE, MAX_EXAMPLES,
};
use crate::code::naming;

/// `const` and `let` without `var` is a habit of its own, even when neither of the two
/// dominates: `let` only where a variable is reassigned.
pub(super) fn declarations(
    language: &str,
    values: &BTreeMap<&'static str, ValueTotal>,
) -> Option<Found> {
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
pub(super) fn license_convention(
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
pub(super) fn receiver_consistency(lang: &LanguageTotals, found: &mut Found) {
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

/// Where a language lives when it is confined to one directory of a workspace that also
/// has other languages elsewhere: its conventions hold there, not for the whole repository
/// (a VS Code extension in `editors/vscode` of a Rust workspace).
pub(super) fn scoped_home<'h>(
    language: &str,
    homes: &'h BTreeMap<&'static str, String>,
) -> Option<&'h str> {
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

/// Naming: a one-word name fits several styles and counts for each it fits.
pub(super) fn naming_convention(
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
    Some(mixed_values(language, key, values, total))
}

pub(super) fn direct(values: &BTreeMap<&'static str, ValueTotal>, style: &str) -> u64 {
    values.get(style).map(|t| t.count).unwrap_or(0)
}

/// Libraries used side by side (anyhow in binaries, thiserror in libraries): every one used
/// by at least a fifth of the files that use any is part of the value.
pub(super) fn set_convention(
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
pub(super) const LIMITS: &[u64] = &[80, 100, 120, 140, 160];

pub(super) fn line_length(language: &str, lang: &LanguageTotals) -> Option<Found> {
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
