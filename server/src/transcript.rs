//! Rule-based extraction of memories from free text (a chat transcript, a review comment):
//! statements of preference, prohibition, decision and workflow, with their polarity, so
//! that copilots can hand over what a person told them.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

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
        for sentence in line.split_inclusive(['.', '!', '?', ';']) {
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
                    out.push(Statement {
                        text,
                        kind: *kind,
                        positive: *positive,
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
    }
}
