//! What a rule states about a convention (its package manager, its indentation), read from
//! its words; the checks and the writer's conflicts both start here.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::memory::{Polarity, Stance};

pub(super) const MANAGERS: [&str; 4] = ["npm", "pnpm", "yarn", "bun"];

pub(super) fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(str::to_string)
        .collect()
}

/// What a rule says about one convention, for checks and for the writer's conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub key: &'static str,
    pub value: String,
}

pub(super) static SPACES: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(\d|two|four|eight)([- ])spaces?\b").ok());
pub(super) static TABS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\btabs?\b").ok());

fn number_word(word: &str) -> Option<u32> {
    match word.to_lowercase().as_str() {
        "two" => Some(2),
        "four" => Some(4),
        "eight" => Some(8),
        digit => digit.parse().ok().filter(|n| (1..=8).contains(n)),
    }
}

/// The conventions a rule states: its package manager and its indentation.
pub fn claims(rule: &str) -> Vec<Claim> {
    let mut out = Vec::new();
    if Stance::of(rule).polarity == Polarity::Negative {
        return out;
    }
    let lower = rule.to_lowercase();
    if lower.contains("indent") {
        let spaces = SPACES.as_ref().and_then(|re| re.captures(rule));
        let tabs = TABS.as_ref().is_some_and(|re| re.is_match(rule));
        match (spaces, tabs) {
            (Some(caps), false) => {
                if let Some(n) = caps.get(1).and_then(|m| number_word(m.as_str())) {
                    out.push(Claim {
                        key: "format.indent",
                        value: format!("spaces:{n}"),
                    });
                }
            }
            (None, true) => out.push(Claim {
                key: "format.indent",
                value: "tabs".into(),
            }),
            _ => {}
        }
    }
    let named: BTreeSet<&str> = MANAGERS
        .iter()
        .copied()
        .filter(|m| words_of(rule).iter().any(|w| w == m))
        .collect();
    if named.len() == 1 {
        out.extend(named.into_iter().map(|m| Claim {
            key: "stack.package_manager",
            value: m.to_string(),
        }));
    }
    out
}
