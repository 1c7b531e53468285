//! CONTRIBUTING.md: the sections about committing, pull requests, testing, formatting,
//! linting and releasing, turned into procedures whose steps are the section's list items
//! and shell commands.

use super::commands::classify;
use super::{Findings, Origin, Procedure, SourceFile};
use crate::memory::Step;

/// The trigger a section's heading implies, or `None` for sections about something else.
fn trigger_for(heading: &str) -> Option<&'static str> {
    let heading = heading.to_ascii_lowercase();
    let mentions = |words: &[&str]| words.iter().any(|w| heading.contains(w));
    if mentions(&["release", "publish"]) {
        Some("release")
    } else if mentions(&[
        "commit",
        "pull request",
        "pr ",
        "prs",
        "submit",
        "before",
        "format",
        "lint",
        "check",
        "style",
    ]) || heading.ends_with(" pr")
        || heading == "pr"
    {
        Some("before-commit")
    } else if mentions(&["test"]) {
        Some("test")
    } else {
        None
    }
}

fn slug(heading: &str) -> String {
    let mut slug = String::new();
    for c in heading.chars() {
        if c.is_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// A list item's text without its marker (`- `, `* `, `1. `), or `None` for other lines.
fn list_item(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed
        .strip_prefix("- ")
        .or_else(|| trimmed.strip_prefix("* "))
        .or_else(|| trimmed.strip_prefix("+ "))
    {
        return Some(rest.trim());
    }
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let rest = &trimmed[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(rest.trim());
        }
    }
    None
}

/// The first inline-code span of a list item that looks like a command a person runs.
fn inline_command(item: &str) -> Option<String> {
    let mut parts = item.split('`');
    parts.next();
    while let Some(code) = parts.next() {
        let code = code.trim();
        if classify(code).is_some() || super::workflows::script_command(code).is_some() {
            return Some(code.to_string());
        }
        parts.next();
    }
    None
}

/// One section under a heading: its steps and where it starts.
struct Section {
    heading: String,
    line: usize,
    steps: Vec<(Step, usize)>,
}

/// Appends a wrapped line to the list item it continues, and looks for the command again:
/// "Run the whole suite with" / "`make all` before pushing." is one step.
fn continue_item(step: &mut Step, line: &str) {
    step.text.push(' ');
    step.text.push_str(line.trim());
    if step.command.is_none() {
        step.command = inline_command(&step.text);
    }
}

fn sections(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut in_fence: Option<bool> = None;
    // Whether the last list item can still take continuation lines, and whether a blank
    // line came since: after one, only an indented line still belongs to the item.
    let mut open_item = false;
    let mut after_blank = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if in_fence.is_none() && open_item && list_item(line).is_none() {
            if trimmed.is_empty() {
                after_blank = true;
                continue;
            }
            let indented = line.len() - trimmed.len() >= 2;
            let block = trimmed.starts_with('#')
                || trimmed.starts_with("```")
                || trimmed.starts_with("~~~")
                || trimmed.starts_with('|')
                || trimmed.starts_with('>');
            if !block && (indented || !after_blank) {
                if let Some((step, _)) = sections.last_mut().and_then(|s| s.steps.last_mut()) {
                    continue_item(step, line);
                }
                continue;
            }
        }
        if !trimmed.is_empty() {
            open_item = false;
            after_blank = false;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = match in_fence {
                Some(_) => None,
                None => {
                    let lang = trimmed
                        .trim_start_matches(['`', '~'])
                        .trim()
                        .to_ascii_lowercase();
                    Some(matches!(
                        lang.as_str(),
                        "" | "sh" | "bash" | "shell" | "console" | "zsh" | "shell-session"
                    ))
                }
            };
            continue;
        }
        if let Some(shell) = in_fence {
            if !shell {
                continue;
            }
            let Some(section) = sections.last_mut() else {
                continue;
            };
            let command = trimmed
                .trim_start_matches("$ ")
                .trim_start_matches("> ")
                .trim();
            if command.is_empty() || command.starts_with('#') {
                continue;
            }
            section.steps.push((
                Step {
                    text: format!("Run `{command}`"),
                    command: Some(command.to_string()),
                },
                index + 1,
            ));
            continue;
        }
        if trimmed.starts_with('#') {
            let heading = trimmed.trim_start_matches('#').trim().to_string();
            sections.push(Section {
                heading,
                line: index + 1,
                steps: Vec::new(),
            });
            continue;
        }
        if let (Some(item), Some(section)) = (list_item(line), sections.last_mut()) {
            open_item = true;
            section.steps.push((
                Step {
                    text: item.to_string(),
                    command: inline_command(item),
                },
                index + 1,
            ));
        }
    }
    sections
}

pub(crate) fn contributing(file: &SourceFile, findings: &mut Findings) {
    for section in sections(&file.text) {
        let Some(trigger) = trigger_for(&section.heading) else {
            continue;
        };
        if section.steps.is_empty() {
            continue;
        }
        if trigger != "release" {
            for (step, line) in &section.steps {
                if let Some(command) = &step.command {
                    findings.command(command, Origin::Contributing, file.at(*line));
                }
            }
        }
        let listing: Vec<String> = section
            .steps
            .iter()
            .enumerate()
            .map(|(i, (step, _))| match &step.command {
                Some(command) if step.text.starts_with("Run `") => {
                    format!("{}. `{command}`", i + 1)
                }
                _ => format!("{}. {}", i + 1, step.text.trim_end_matches('.')),
            })
            .collect();
        let text = format!(
            "{} says, under \"{}\": {}.",
            file.rel,
            section.heading,
            listing.join(" ")
        );
        let slug = slug(&section.heading);
        findings.procedure(
            file,
            section.line,
            Procedure {
                key: format!("procedure.contributing.{slug}"),
                value: slug,
                text,
                trigger: trigger.to_string(),
                steps: section.steps.into_iter().map(|(step, _)| step).collect(),
                tags: vec!["procedure".to_string(), trigger.to_string()],
                importance: 0.7,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_map_to_triggers() {
        assert_eq!(trigger_for("Before you commit"), Some("before-commit"));
        assert_eq!(
            trigger_for("Submitting a pull request"),
            Some("before-commit")
        );
        assert_eq!(trigger_for("Running the tests"), Some("test"));
        assert_eq!(trigger_for("Release process"), Some("release"));
        assert_eq!(trigger_for("Code of conduct"), None);
    }

    #[test]
    fn list_items_and_fenced_commands_become_steps() {
        let text = "# Contributing\n\n## Testing\n\n```sh\n$ cargo test --workspace\n```\n\n## Pull requests\n\n1. Run `cargo fmt` first.\n2. Keep PRs small.\n";
        let found = sections(text);
        assert_eq!(found.len(), 3);
        assert_eq!(
            found[1].steps[0].0.command.as_deref(),
            Some("cargo test --workspace")
        );
        assert_eq!(found[2].steps[0].0.command.as_deref(), Some("cargo fmt"));
        assert_eq!(found[2].steps[1].0.command, None);
    }
}
