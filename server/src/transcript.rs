//! Rule-based extraction of memories from free text (a chat transcript, a review comment):
//! statements of preference, prohibition, decision and workflow, with their polarity, so
//! that copilots can hand over what a person told them.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::memory::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Preference,
    Prohibition,
    Decision,
    Workflow,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Preference => "preference",
            Kind::Prohibition => "prohibition",
            Kind::Decision => "decision",
            Kind::Workflow => "workflow",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub text: String,
    pub kind: Kind,
    /// False for "never", "don't", "avoid".
    pub positive: bool,
    /// For workflows: when they apply, e.g. `before-commit`.
    pub trigger: Option<String>,
    /// For workflows: the steps in order.
    pub steps: Vec<Step>,
}

static TRIGGER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(before|after|whenever|when)\s+(?:you\s+|we\s+)?(commit|push|merg|releas|open|deploy|edit|chang|touch|add)\w*(?:\s+(?:a\s+|the\s+)?([\w./`-]+))?",
    )
    .ok()
});

static RUN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(run|also update|update|regenerate|check|make sure)\b\s*(.*)$").ok()
});

/// `before-commit`, `after-editing:src/schema.rs`: the trigger a workflow sentence names.
pub(crate) fn trigger_of(sentence: &str) -> Option<String> {
    let caps = TRIGGER.as_ref()?.captures(sentence)?;
    let when = caps.get(1)?.as_str().to_lowercase();
    let verb = caps.get(2)?.as_str().to_lowercase();
    let when = if when == "before" { "before" } else { "after" };
    let event = match verb.as_str() {
        "commit" => "commit",
        "push" => "push",
        "merg" => "merge",
        "releas" => "release",
        "open" => "pull-request",
        "deploy" => "deploy",
        _ => {
            let object = caps
                .get(3)
                .map(|m| m.as_str().trim_matches('`').to_string())
                .filter(|o| o.contains('.') || o.contains('/'));
            return Some(match object {
                Some(path) => format!("after-editing:{path}"),
                None => "after-editing".to_string(),
            });
        }
    };
    Some(format!("{when}-{event}"))
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The steps after "run …": split on commas and "and"/"then"; a step that looks like a
/// shell command (in backticks, or lower-case words) keeps it as its command.
fn steps_of(sentence: &str) -> Vec<Step> {
    let Some(caps) = RUN.as_ref().and_then(|re| re.captures(sentence)) else {
        return Vec::new();
    };
    let verb = caps
        .get(1)
        .map(|m| m.as_str().to_lowercase())
        .unwrap_or_default();
    let verb = verb.trim_start_matches("also ").to_string();
    let rest = caps
        .get(2)
        .map(|m| m.as_str().trim_end_matches(['.', '!', ';']).to_string())
        .unwrap_or_default();
    rest.replace(", then ", ", ")
        .replace(" and then ", ", ")
        .replace(" then ", ", ")
        .replace(" and ", ", ")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            let unquoted = part.trim_matches('`');
            let looks_like_command = part.starts_with('`')
                || (verb == "run"
                    && unquoted.split_whitespace().count() <= 6
                    && unquoted.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || " -_./=:".contains(c)
                    }));
            // "… and regenerate the migrations": a part that is a sentence of its own keeps
            // its own verb.
            let own_verb = !part.starts_with('`')
                && part.split_whitespace().count() > 1
                && !looks_like_command;
            let text = if own_verb {
                capitalized(part)
            } else {
                format!("{} {part}", capitalized(&verb))
            };
            Step {
                text,
                command: (verb == "run" && looks_like_command).then(|| unquoted.to_string()),
            }
        })
        .collect()
}

static RULES: LazyLock<Vec<(Regex, Kind, bool)>> = LazyLock::new(|| {
    let rule = |pattern: &str, kind, positive| {
        // The patterns are literals of this file; a typo fails the unit tests at once.
        Regex::new(&format!("(?i){pattern}"))
            .map(|r| (r, kind, positive))
            .ok()
    };
    [
        rule(r"\b(never|don't|do not|avoid|must not|shouldn't|should not)\b", Kind::Prohibition, false),
        rule(r"\bbefore (you )?(commit|push|merg|releas|open)\w*\b.*\b(run|check|make sure)\b", Kind::Workflow, true),
        rule(r"\b(after|whenever|when) (you )?(edit|chang|touch|add)\w*\b.*\b(also|run|update|regenerate)\b", Kind::Workflow, true),
        rule(r"\b(we decided|decided to|we chose|we moved to|we switched|switched to|migrated to)\b", Kind::Decision, true),
        rule(r"\b(\w+) instead of (\w+)", Kind::Preference, true),
        rule(r"\bprefer\b", Kind::Preference, true),
        rule(r"\b(always|we use|use|should|must)\b", Kind::Preference, true),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Questions and chit-chat are not memories; a statement is a sentence of a few words.
fn is_candidate(sentence: &str) -> bool {
    let words = sentence.split_whitespace().count();
    (3..=60).contains(&words) && !sentence.trim_end().ends_with('?')
}

/// Sentences end at `.`, `!`, `?` or `;` followed by a space or the end of the line, so that
/// `src/schema.rs` and `v1.2` stay whole.
fn sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let ends = matches!(b, b'.' | b'!' | b'?' | b';')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
        if ends {
            out.push(&line[start..=i]);
            start = i + 1;
        }
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out
}

/// Splits text into sentences and keeps those that state a convention.
pub fn extract_statements(text: &str) -> Vec<Statement> {
    let mut out: Vec<Statement> = Vec::new();
    for line in text.lines() {
        // Transcripts prefix turns with a speaker; the rule is in what follows.
        let line = line
            .split_once(": ")
            .filter(|(speaker, _)| speaker.split_whitespace().count() <= 2 && speaker.len() < 20)
            .map(|(_, rest)| rest)
            .unwrap_or(line);
        for sentence in sentences(line) {
            let sentence = sentence.trim().trim_start_matches(['-', '*', '>', ' ']);
            if !is_candidate(sentence) {
                continue;
            }
            if let Some((_, kind, positive)) = RULES.iter().find(|(re, _, _)| re.is_match(sentence))
            {
                let mut text = sentence.trim_end_matches([';', ',']).to_string();
                if !text.ends_with(['.', '!']) {
                    text.push('.');
                }
                if !out.iter().any(|s| s.text.eq_ignore_ascii_case(&text)) {
                    let (trigger, steps) = if *kind == Kind::Workflow {
                        (trigger_of(&text), steps_of(&text))
                    } else {
                        (None, Vec::new())
                    };
                    out.push(Statement {
                        text,
                        kind: *kind,
                        positive: *positive,
                        trigger,
                        steps,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_preferences_prohibitions_decisions_and_workflows() {
        let transcript = "user: Can you fix the build?\n\
            assistant: Sure, done.\n\
            user: In this repo we always use tracing, never println for logs. \
            Use thiserror instead of anyhow in library code. \
            Before you commit, run cargo fmt and cargo clippy. \
            We decided to drop the Python 3.8 support last month.";
        let found = extract_statements(transcript);
        let kinds: Vec<(Kind, bool)> = found.iter().map(|s| (s.kind, s.positive)).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Prohibition, false),
                (Kind::Preference, true),
                (Kind::Workflow, true),
                (Kind::Decision, true)
            ],
            "{found:#?}"
        );
        assert!(found[0]
            .text
            .starts_with("In this repo we always use tracing"));
        assert!(found.iter().all(|s| !s.text.contains("fix the build")));
        let workflow = &found[2];
        assert_eq!(workflow.trigger.as_deref(), Some("before-commit"));
        let commands: Vec<_> = workflow
            .steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(commands, vec!["cargo fmt", "cargo clippy"]);
    }

    #[test]
    fn after_editing_a_file_names_the_file_as_trigger() {
        let found = extract_statements(
            "When you change src/schema.rs, also update `docs/schema.md` and regenerate the migrations.",
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].kind, Kind::Workflow);
        assert_eq!(
            found[0].trigger.as_deref(),
            Some("after-editing:src/schema.rs")
        );
        let steps: Vec<_> = found[0].steps.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            steps,
            vec!["Update `docs/schema.md`", "Regenerate the migrations"]
        );
        assert!(found[0].steps.iter().all(|s| s.command.is_none()));
    }
}
