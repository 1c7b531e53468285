//! ESLint configuration, flat or legacy: what it extends, its strictness and the import order
//! its rules ask for.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::{config_object, display_language, language_for};
use crate::config::{Fact, Findings, SourceFile, WorkspaceIndex};

pub(super) static FLAT_CONFIG_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(js|eslint|tseslint|ts|typescriptEslint)\.configs\.([A-Za-z]+)")
        .unwrap_or_else(|err| panic!("invalid built-in pattern: {err}"))
});

/// The ESLint rules that order imports, and what each says in a sentence.
pub(super) const IMPORT_ORDER_RULES: &[(&str, &str)] = &[
    ("import/order", "ESLint `import/order`"),
    ("import-x/order", "ESLint `import-x/order`"),
    ("simple-import-sort/imports", "`simple-import-sort`"),
];

/// The text of the bracketed value starting at `text[0]` (`[ … ]`, nested brackets
/// included), or the rest of the line when the value is a plain string.
pub(super) fn bracketed(text: &str) -> &str {
    if !text.starts_with('[') {
        return text.lines().next().unwrap_or("");
    }
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    text
}

/// The string literals of the array that follows `key` (`groups: ['builtin', …]`),
/// flattening nested arrays; empty when there is none.
pub(super) fn array_after(options: &str, key: &str) -> Vec<String> {
    let Some(start) = options.find(key) else {
        return Vec::new();
    };
    let rest = options[start + key.len()..]
        .trim_start_matches(['\'', '"'])
        .trim_start()
        .trim_start_matches(':')
        .trim_start();
    if !rest.starts_with('[') {
        return Vec::new();
    }
    // Split on quotes, the quoted names are every second piece: the first piece is what
    // stands before the first quote (skipped), the next is a name. Pieces of a string, not tests.
    bracketed(rest)
        .split(['\'', '"'])
        .skip(1) // the piece before the first quote: string pieces, not a skipped test
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The option `key: value` (a string or a word), unquoted.
pub(super) fn option_after(options: &str, key: &str) -> Option<String> {
    let rest = &options[options.find(key)? + key.len()..];
    let rest = rest.trim_start_matches(['\'', '"']).trim_start();
    let value: String = rest
        .strip_prefix(':')?
        .trim_start()
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '-')
        .collect();
    (!value.is_empty()).then_some(value)
}

/// How imports are ordered, when an ESLint rule enforces it: the rule's groups, whether
/// each group is alphabetised, and blank lines between groups. Read from the text so that
/// flat configs (JavaScript) and JSON configs give the same answer.
pub(super) fn eslint_import_order(
    file: &SourceFile,
    language: &'static str,
    findings: &mut Findings,
) {
    for (rule, named) in IMPORT_ORDER_RULES {
        let quoted = [format!("'{rule}'"), format!("\"{rule}\"")];
        let Some(start) = quoted
            .iter()
            .filter_map(|q| file.text.find(q.as_str()))
            .min()
        else {
            continue;
        };
        let value_text = file.text[start + rule.len() + 2..]
            .trim_start()
            .trim_start_matches(':')
            .trim_start();
        let options = bracketed(value_text);
        let level = options
            .trim_start_matches(|c: char| c == '[' || c.is_whitespace())
            .trim_start_matches(['\'', '"']);
        if level.starts_with("off") || level.starts_with('0') {
            continue;
        }
        let mut parts = Vec::new();
        let mut value = vec![rule.to_string()];
        let groups = array_after(options, "groups");
        if !groups.is_empty() {
            parts.push(format!("groups in this order: {}", groups.join(", ")));
            value.push(format!("groups:{}", groups.join(",")));
        }
        if options.contains("alphabetize") {
            let order = option_after(options, "order").unwrap_or_else(|| "asc".into());
            let case = if option_after(options, "caseInsensitive").as_deref() == Some("true") {
                ", case-insensitive"
            } else {
                ""
            };
            let direction = if order == "desc" {
                "descending"
            } else {
                "ascending"
            };
            parts.push(format!("alphabetised {direction} within each group{case}"));
            value.push(format!("alphabetize:{order}"));
        } else if *rule == "simple-import-sort/imports" {
            parts.push("sorted alphabetically within each group".into());
        }
        if let Some(newlines) = option_after(options, "newlines-between") {
            parts.push(match newlines.as_str() {
                "never" => "no blank line between groups".to_string(),
                "always" => "a blank line between groups".to_string(),
                other => format!("blank lines between groups: {other}"),
            });
            value.push(format!("newlines:{newlines}"));
        }
        let shown = display_language(language);
        let mut text = format!("{shown} imports are ordered by {named}");
        if !parts.is_empty() {
            text.push_str(&format!(": {}", parts.join("; ")));
        }
        text.push_str(" (`eslint --fix` applies it).");
        let line = file.line_of(&quoted[0]).max(file.line_of(&quoted[1]));
        findings.memory(
            file,
            line,
            Fact::new("imports.order", Some(language), value.join(";"), text).importance(0.5),
        );
        return;
    }
}

pub(crate) fn eslint(file: &SourceFile, workspace: &WorkspaceIndex, findings: &mut Findings) {
    let language = language_for(workspace, &file.dir);
    eslint_import_order(file, language, findings);
    let name = file.name();
    if name.starts_with("eslint.config") || name.ends_with(".js") || name.ends_with(".cjs") {
        // Flat configs are code; the shared configs they spread are what says the most.
        let mut presets: Vec<String> = FLAT_CONFIG_REF
            .captures_iter(&file.text)
            .map(|c| format!("{}.configs.{}", &c[1], &c[2]))
            .collect();
        presets.dedup();
        let mut config = Map::new();
        config.insert(
            "extends".to_string(),
            Value::Array(presets.into_iter().map(Value::String).collect()),
        );
        eslint_options(file, 1, &config, language, findings);
        return;
    }
    let Some(config) = config_object(file, findings) else {
        return;
    };
    eslint_options(file, 1, &config, language, findings);
}

pub(super) fn eslint_options(
    file: &SourceFile,
    line: usize,
    config: &Map<String, Value>,
    language: &'static str,
    findings: &mut Findings,
) {
    let lang = Some(language);
    let shown = display_language(language);
    let extends: Vec<String> = match config.get("extends") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let rules: Vec<String> = config
        .get("rules")
        .and_then(Value::as_object)
        .map(|rules| {
            rules
                .iter()
                .map(|(name, level)| {
                    let level = match level {
                        Value::Array(parts) => parts.first().cloned().unwrap_or(Value::Null),
                        other => other.clone(),
                    };
                    let level = match level {
                        Value::String(s) => s,
                        Value::Number(n) => match n.as_u64() {
                            Some(0) => "off".to_string(),
                            Some(1) => "warn".to_string(),
                            _ => "error".to_string(),
                        },
                        _ => "set".to_string(),
                    };
                    format!("{name}: {level}")
                })
                .collect()
        })
        .unwrap_or_default();

    let mut text = format!("Lint {shown} with ESLint");
    if !extends.is_empty() {
        text.push_str(&format!(" (extends {})", extends.join(", ")));
    }
    text.push('.');
    findings.memory(file, line, Fact::new("lint.tool", lang, "eslint", text));

    if !extends.is_empty() || !rules.is_empty() {
        let mut text = String::from("ESLint");
        if !extends.is_empty() {
            text.push_str(&format!(" extends {}", extends.join(", ")));
        }
        if !rules.is_empty() {
            if !extends.is_empty() {
                text.push_str(" and");
            }
            let shown_rules: Vec<&str> = rules.iter().take(5).map(String::as_str).collect();
            text.push_str(&format!(
                " sets {} rule{} (e.g. {})",
                rules.len(),
                if rules.len() == 1 { "" } else { "s" },
                shown_rules.join(", ")
            ));
        }
        text.push_str(&format!(" ({}).", file.rel));
        let value = if extends.is_empty() {
            format!("rules:{}", rules.len())
        } else {
            format!("{};rules:{}", extends.join("+"), rules.len())
        };
        let rules_line = if config.contains_key("extends") {
            file.line_of("extends").max(line)
        } else {
            line
        };
        findings.memory(file, rules_line, Fact::new("lint.rules", lang, value, text));
    }
    if extends
        .iter()
        .any(|e| e.to_ascii_lowercase().contains("strict"))
    {
        findings.memory(
            file,
            line,
            Fact::new(
                "lint.strict",
                lang,
                "eslint:strict",
                format!("ESLint runs a strict preset for {shown}; expect strict type-aware rules."),
            ),
        );
    }
}
