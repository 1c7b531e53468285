//! The package-manager check: a rule that installs or runs with npm, yarn, pnpm or bun where
//! every lock file of the repository belongs to another one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::claims::{words_of, MANAGERS};
use super::{finding, inline_spans, Finding, Kind, Measured, Span};
use crate::instructions::read::Document;

/// The one package manager every lock file (and `packageManager` field) names, with the lock
/// files as evidence and the first of them as an example; `None` when there are none or they
/// disagree.
pub(super) fn package_manager(measured: &Measured) -> Option<(&'static str, String, String)> {
    let mut managers: BTreeMap<&'static str, Vec<&str>> = BTreeMap::new();
    for (lock, manager) in crate::config::node::LOCK_FILES {
        for path in measured.has_file_named(&[lock]) {
            managers.entry(manager).or_default().push(path);
        }
    }
    let declared: BTreeSet<&str> = measured
        .facts
        .iter()
        .filter(|e| e.key.as_deref() == Some("stack.package_manager"))
        .filter_map(|e| e.value.as_deref())
        .collect();
    if managers.len() != 1 || declared.iter().any(|d| !managers.contains_key(d)) {
        return None;
    }
    let (manager, locks) = managers.into_iter().next()?;
    let others: Vec<&str> = crate::config::node::LOCK_FILES
        .iter()
        .filter(|(_, m)| *m != manager)
        .map(|(lock, _)| *lock)
        .collect();
    let shown: Vec<String> = locks.iter().take(3).map(|l| format!("`{l}`")).collect();
    let evidence = format!(
        "{} {} checked in, and no {}",
        shown.join(", "),
        if locks.len() == 1 { "is" } else { "are" },
        others.join(", ")
    );
    let example = locks.first()?.to_string();
    Some((manager, evidence, example))
}

static MANAGER_PROSE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:use|using|with|via)\s+(npm|pnpm|yarn|bun)\b").ok());

pub(super) fn check_manager(
    doc: &Document,
    line: usize,
    text: &str,
    rule: &str,
    manager: &str,
    evidence: &str,
) -> Vec<Finding> {
    // A rule that names the measured manager too ("pnpm, not npm") is about the choice itself.
    if words_of(rule).iter().any(|w| w == manager) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for span in inline_spans(text) {
        out.extend(manager_in_span(doc, line, &span, manager, evidence));
    }
    if let Some(re) = MANAGER_PROSE.as_ref() {
        for caps in re.captures_iter(text) {
            let Some(word) = caps.get(1) else { continue };
            let inside_code = text[..word.start()].matches('`').count() % 2 == 1;
            let named = word.as_str().to_lowercase();
            if inside_code || named == manager {
                continue;
            }
            out.push(finding(
                doc,
                line,
                word.start(),
                word.as_str(),
                Kind::PackageManager,
                format!(
                    "The rule says {named}, but this repository installs with {manager}: {evidence}."
                ),
                Some(manager.to_string()),
            ));
        }
    }
    out
}

pub(super) fn manager_in_span(
    doc: &Document,
    line: usize,
    span: &Span,
    manager: &str,
    evidence: &str,
) -> Option<Finding> {
    let words: Vec<&str> = span.text.split_whitespace().collect();
    let named = *words.first()?;
    if !MANAGERS.contains(&named) || named == manager || words.len() < 2 {
        return None;
    }
    // A global install puts a tool on the machine, not a dependency in the repository.
    if words.iter().any(|w| matches!(*w, "-g" | "--global")) {
        return None;
    }
    let command = span.text.trim();
    Some(finding(
        doc,
        line,
        span.start + (span.text.len() - span.text.trim_start().len()),
        command,
        Kind::PackageManager,
        format!(
            "`{command}` uses {named}, but this repository installs with {manager}: {evidence}."
        ),
        translate(&words, manager),
    ))
}

/// The same command for another package manager, where the translation is certain.
pub(super) fn translate(words: &[&str], manager: &str) -> Option<String> {
    let sub = *words.get(1)?;
    let rest = &words[2..];
    let packages: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|w| !w.starts_with('-'))
        .collect();
    let flags: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|w| w.starts_with('-'))
        .collect();
    let join = |parts: &[&str]| parts.join(" ");
    let translated = match sub {
        "install" | "i" if packages.is_empty() && flags.is_empty() => format!("{manager} install"),
        "install" | "i" | "add" => {
            let dev = flags
                .iter()
                .all(|f| matches!(*f, "-D" | "--save-dev" | "--dev"));
            if !dev {
                return None;
            }
            let dev = if flags.is_empty() { "" } else { " -D" };
            format!("{manager} add{dev} {}", join(&packages))
        }
        "ci" if rest.is_empty() => format!("{manager} install --frozen-lockfile"),
        // `bun test` is bun's own test runner, not the `test` script.
        "test" | "start" if manager == "bun" => format!("bun run {sub} {}", join(rest)),
        "run" | "test" | "start" | "exec" => format!("{manager} {sub} {}", join(rest)),
        "uninstall" | "remove" | "rm" if flags.is_empty() => {
            format!("{manager} remove {}", join(&packages))
        }
        _ => return None,
    };
    Some(translated.trim_end().to_string())
}
