//! Secret detection: every text that enters the store or its side files passes through here.
//!
//! Memories are built from config files, CI scripts, commit messages and chat transcripts,
//! any of which can hold a credential. Each secret found is replaced with
//! `[REDACTED:<rule>]`, so the surrounding sentence still reads and the user can see that
//! something was removed. The rules come from two places ([`rules`]):
//! - a maintained rule set, converted by `scripts/update-secret-rules` into `rules.toml`
//!   with its origin and licence (detect-secrets' plugin patterns);
//! - tacit's own [`detectors`], for secrets known by their context (assignments, command-line
//!   flags, URLs, sentences) and for token shapes the rule set lacks.
//!
//! Detectors aim at shapes that are secrets with high probability: ordinary prose ("token
//! budget"), type annotations (`api_key: String`), git hashes and UUIDs must pass unchanged,
//! or memories would fill with noise. Redacting a redacted text changes nothing.

mod detectors;
mod rules;

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use crate::memory::Entry;
use rules::{Finding, RuleSet};

/// The converted rule set, compiled into the binary.
const RULE_FILE: &str = include_str!("rules.toml");

static RULES: OnceLock<RuleSet> = OnceLock::new();

fn rule_set() -> &'static RuleSet {
    rules::cached(&RULES, RULE_FILE, detectors::all)
}

/// Text with its secrets replaced, and the rule that found each secret replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub text: String,
    pub found: Vec<&'static str>,
}

const MARKER: &str = "[REDACTED:";

/// Where earlier redactions left their markers: nothing found inside one is a secret, which
/// makes redaction idempotent.
fn marker_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(MARKER) {
        let start = from + at;
        let end = text[start..]
            .find(']')
            .map_or(text.len(), |close| start + close + 1);
        spans.push(start..end);
        from = end;
    }
    spans
}

/// Values that are obviously not real credentials: documentation and template stand-ins,
/// variable references.
fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let first = lower.chars().next().unwrap_or('x');
    let variable = |v: &str| {
        let name = v.trim_start_matches('$');
        !name.is_empty()
            && name.len() < v.len()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && (name == name.to_ascii_uppercase() || name == name.to_ascii_lowercase())
    };
    lower.starts_with(MARKER.to_ascii_lowercase().as_str())
        || lower.starts_with('<')
        || lower.starts_with("${")
        || lower.starts_with("$(")
        || lower.starts_with("{{")
        || lower.starts_with("%(")
        || variable(value)
        || lower.starts_with("your-")
        || lower.starts_with("your_")
        || lower.starts_with("changeme")
        || lower.starts_with("change-me")
        || lower.starts_with("change_me")
        || lower.contains("example")
        || lower.contains("placeholder")
        || lower.contains("dummy")
        || lower.contains("...")
        || lower.chars().all(|c| c == first)
        || lower
            .chars()
            .all(|c| c == 'x' || c == '*' || c == '-' || c == '_')
        || matches!(
            lower.as_str(),
            "password" | "pass" | "secret" | "token" | "undefined" | "none" | "null" | "redacted"
        )
}

/// Overlapping findings merged into one span each, named by the first rule of the set among
/// them (the maintained rules before tacit's own), in text order.
fn merge(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.span.end.cmp(&a.span.end))
    });
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        match merged.last_mut() {
            Some(last) if f.span.start < last.span.end => {
                last.span.end = last.span.end.max(f.span.end);
                if f.rank < last.rank {
                    last.rank = f.rank;
                    last.rule = f.rule;
                }
            }
            _ => merged.push(f),
        }
    }
    merged
}

/// Replaces every secret in `text` with `[REDACTED:<rule>]`.
pub fn redact_text(text: &str) -> Redaction {
    let markers = marker_spans(text);
    let findings: Vec<Finding> = rule_set()
        .find(text)
        .into_iter()
        .filter(|f| {
            !is_placeholder(&text[f.span.clone()])
                && !markers
                    .iter()
                    .any(|m| f.span.start < m.end && m.start < f.span.end)
        })
        .collect();
    if findings.is_empty() {
        return Redaction {
            text: text.to_string(),
            found: Vec::new(),
        };
    }
    let merged = merge(findings);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in &merged {
        out.push_str(&text[at..f.span.start]);
        out.push_str(MARKER);
        out.push_str(f.rule);
        out.push(']');
        at = f.span.end;
    }
    out.push_str(&text[at..]);
    Redaction {
        text: out,
        found: merged.iter().map(|f| f.rule).collect(),
    }
}

/// Redacts `text` in place and returns how many secrets it held.
pub fn redact_in_place(text: &mut String) -> usize {
    let redaction = redact_text(text);
    if !redaction.found.is_empty() {
        *text = redaction.text;
    }
    redaction.found.len()
}

/// Redacts every text an entry holds: its sentence, slot (key, language, value), trigger,
/// examples, tags, paths, scope, the steps' sentences and commands, and the details of its
/// audit trail. Ids stay: they are hashes or UUIDs that tacit makes, and an entry is found by
/// them. Returns the number of secrets removed.
pub fn redact_entry(entry: &mut Entry) -> usize {
    // Destructured field by field, so that a text field added to `Entry` does not compile
    // until it is redacted here (or said not to need it).
    let Entry {
        id,
        scope,
        layer: _,
        text,
        vector: _,
        importance: _,
        confidence: _,
        access_count: _,
        created_at: _,
        updated_at: _,
        last_accessed_at: _,
        source: _,
        status: _,
        superseded_by: _,
        tags,
        key,
        language,
        value,
        evidence: _,
        examples,
        steps,
        trigger,
        period: _,
        commits: _,
        paths,
        history,
    } = entry;
    let mut count = redact_in_place(text) + redact_in_place(scope);
    for field in [key, language, value, trigger].into_iter().flatten() {
        count += redact_in_place(field);
    }
    for text in examples
        .iter_mut()
        .chain(tags.iter_mut())
        .chain(paths.iter_mut())
    {
        count += redact_in_place(text);
    }
    for step in steps {
        count += redact_in_place(&mut step.text);
        if let Some(command) = &mut step.command {
            count += redact_in_place(command);
        }
    }
    for event in history {
        count += redact_in_place(&mut event.action);
        if let Some(detail) = &mut event.detail {
            count += redact_in_place(detail);
        }
    }
    if count > 0 {
        tracing::debug!(id = %id, count, "redacted secrets from entry");
    }
    count
}

/// Whether a file is one whose contents should never be read into memories at all:
/// environment files, keys and certificates, credential stores.
pub fn is_secret_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();

    if name == ".env" || name == ".envrc" || name.ends_with(".env") {
        return true;
    }
    if let Some(suffix) = name.strip_prefix(".env.") {
        // Templates are committed on purpose so that people know which variables to set.
        let templates = ["example", "sample", "template", "dist", "defaults"];
        return !suffix.split('.').any(|part| templates.contains(&part));
    }
    if name.starts_with("id_rsa")
        || name.starts_with("id_dsa")
        || name.starts_with("id_ecdsa")
        || name.starts_with("id_ed25519")
    {
        return !name.ends_with(".pub");
    }
    let exact = [
        ".npmrc",
        ".pypirc",
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".htpasswd",
        ".pgpass",
        ".dockercfg",
        "credentials",
        "credentials.json",
        "credentials.yml",
        "credentials.yaml",
        "secrets.json",
        "secrets.yml",
        "secrets.yaml",
        "secrets.toml",
        "terraform.tfvars",
    ];
    if exact.contains(&name.as_str()) {
        return true;
    }
    if name.starts_with("client_secret") && name.ends_with(".json") {
        return true;
    }
    let extensions = [
        "pem", "key", "p12", "pfx", "jks", "keystore", "ppk", "kdbx", "tfstate",
    ];
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests;
