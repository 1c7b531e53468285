//! CI and automation: GitHub Actions jobs, GitLab CI jobs, pre-commit hooks and the shell
//! scripts under `ci/` or `scripts/` that CI and people run.

use serde_yaml_ng::Value;

use super::tasks::only_prints;
use super::{numbered_commands, yaml_scalar, Findings, Origin, Procedure, SourceFile};
use crate::memory::Step;

/// Splits a `run:` block or a script into commands, each with the (1-based) line it starts
/// on: one per non-empty line, with backslash continuations joined and comments dropped.
pub(crate) fn logical_lines(block: &str) -> Vec<(usize, String)> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (index, raw) in block.lines().enumerate() {
        let line = raw.trim();
        if pending.is_empty() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            start = index + 1;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let command = pending.split_whitespace().collect::<Vec<_>>().join(" ");
        if !command.is_empty() {
            commands.push((start, command));
        }
        pending.clear();
    }
    let rest = pending.split_whitespace().collect::<Vec<_>>().join(" ");
    if !rest.is_empty() {
        commands.push((start, rest));
    }
    commands
}

/// The commands of a `run:` or `script:` block, without the lines that only print.
fn command_lines(block: &str) -> Vec<String> {
    logical_lines(block)
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| !only_prints(c))
        .collect()
}

/// The stem used in procedure keys: `ci` for `.github/workflows/ci.yml`, `gitlab-ci` for
/// `.gitlab-ci.yml`.
fn file_stem(file: &SourceFile) -> String {
    let name = file.name().trim_start_matches('.');
    name.rsplit_once('.')
        .map(|(stem, _)| stem)
        .unwrap_or(name)
        .to_string()
}

/// The line declaring job `job` (`  test:`), searched after the `jobs:` line when there is one.
fn job_line(file: &SourceFile, job: &str, after: usize) -> usize {
    // Jobs are declared below `jobs:`; the lines above it could name a job's word in another
    // sense.
    file.line_where_from(after, |line| {
        let trimmed = line.trim_start();
        trimmed
            .strip_prefix(job)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
            || trimmed
                .strip_prefix(&format!("\"{job}\""))
                .or_else(|| trimmed.strip_prefix(&format!("'{job}'")))
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

/// Records a CI job as a procedure and its commands for tool inference and before-commit.
fn ci_job(file: &SourceFile, job: &str, line: usize, steps: Vec<Step>, findings: &mut Findings) {
    if steps.is_empty() {
        return;
    }
    let commands: Vec<&str> = steps.iter().filter_map(|s| s.command.as_deref()).collect();
    for command in &commands {
        let at = file.at(file.line_of_from(command, line));
        findings.command(command, Origin::Ci, at);
    }
    let text = if commands.is_empty() {
        let actions: Vec<&str> = steps.iter().map(|s| s.text.as_str()).collect();
        format!(
            "CI job `{job}` ({}) uses: {}.",
            file.rel,
            actions.join("; ")
        )
    } else {
        format!(
            "CI job `{job}` ({}) runs: {}.",
            file.rel,
            numbered_commands(commands.iter().copied())
        )
    };
    findings.procedure(
        file,
        line,
        Procedure {
            key: format!("procedure.ci.{}.{job}", file_stem(file)),
            value: job.to_string(),
            text,
            trigger: "ci".to_string(),
            steps,
            tags: vec!["procedure".to_string(), "ci".to_string()],
            importance: 0.7,
        },
    );
}

pub(crate) fn github_workflow(file: &SourceFile, findings: &mut Findings) {
    let Some(workflow) = file.parse_yaml(findings) else {
        return;
    };
    let Some(jobs) = workflow.get("jobs").and_then(Value::as_mapping) else {
        tracing::debug!(file = %file.rel, "workflow without jobs");
        return;
    };
    let jobs_line = file.line_of("jobs:");
    let workflow_name = workflow
        .get("name")
        .and_then(yaml_scalar)
        .unwrap_or_default();
    let only_issue_events = triggered_only_by_issue_events(&workflow);
    for (name, job) in jobs {
        let Some(name) = yaml_scalar(name) else {
            continue;
        };
        if only_issue_events || is_housekeeping(&workflow_name, &name, job) {
            tracing::debug!(file = %file.rel, job = %name, "housekeeping job skipped");
            continue;
        }
        let mut steps = Vec::new();
        for step in job
            .get("steps")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let label = step.get("name").and_then(yaml_scalar);
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                for command in command_lines(run) {
                    let text = match &label {
                        Some(label) => format!("{label}: `{command}`"),
                        None => format!("Run `{command}`"),
                    };
                    steps.push(Step {
                        text,
                        command: Some(command),
                    });
                }
            } else if let Some(action) = step.get("uses").and_then(Value::as_str) {
                let text = match &label {
                    Some(label) => format!("{label} (uses {action})"),
                    None => format!("Use {action}"),
                };
                steps.push(Step {
                    text,
                    command: None,
                });
            }
        }
        let line = job_line(file, &name, jobs_line);
        ci_job(file, &name, line, steps, findings);
    }
}

/// Events about issues, discussions and labels: a workflow run only by these tends the
/// tracker, it does not check the code.
const ISSUE_EVENTS: &[&str] = &[
    "issues",
    "issue_comment",
    "discussion",
    "discussion_comment",
    "label",
    "milestone",
    "project",
    "project_card",
    "project_column",
    "watch",
    "fork",
];

fn triggered_only_by_issue_events(workflow: &Value) -> bool {
    // serde_yaml_ng reads a bare `on:` key as the string "on" (YAML 1.2), but some writers
    // quote it; a YAML 1.1 reader would make it `true`.
    let on = workflow
        .get("on")
        .or_else(|| workflow.get(Value::Bool(true)));
    let events: Vec<String> = match on {
        Some(Value::String(event)) => vec![event.clone()],
        Some(Value::Sequence(items)) => items.iter().filter_map(yaml_scalar).collect(),
        Some(Value::Mapping(map)) => map.keys().filter_map(yaml_scalar).collect(),
        _ => return false,
    };
    !events.is_empty() && events.iter().all(|e| ISSUE_EVENTS.contains(&e.as_str()))
}

/// Actions that only tend the repository: close stale issues, lock threads, label pull
/// requests, draft release notes, greet newcomers, merge dependency bumps.
const HOUSEKEEPING_ACTIONS: &[&str] = &[
    "actions/stale",
    "dessant/lock-threads",
    "actions/labeler",
    "github/issue-labeler",
    "release-drafter/release-drafter",
    "dependabot/fetch-metadata",
    "actions/first-interaction",
    "wow-actions/welcome",
    "actions/add-to-project",
    "pascalgn/automerge-action",
    "ahmadnassri/action-dependabot-auto-merge",
    "fastify/github-action-merge-dependabot",
    "peter-evans/create-or-update-comment",
    "actions-ecosystem/action-add-labels",
    "kentaro-m/auto-assign-action",
];

/// Words in a job's or workflow's name that say it is repository housekeeping.
const HOUSEKEEPING_WORDS: &[&str] = &[
    "stale",
    "lock",
    "labeler",
    "label",
    "triage",
    "release-drafter",
    "welcome",
    "greet",
    "greetings",
    "automerge",
    "auto-merge",
    "dependabot",
    "assign",
];

/// Whether a GitHub Actions job tends the repository rather than building or checking the
/// code: it uses a housekeeping action, merges dependency bumps, or is named for such a
/// chore and runs nothing that builds, lints or tests.
fn is_housekeeping(workflow_name: &str, job_name: &str, job: &Value) -> bool {
    let steps: Vec<&Value> = job
        .get("steps")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .collect();
    let uses_chore_action = steps.iter().any(|step| {
        step.get("uses")
            .and_then(Value::as_str)
            .is_some_and(|action| {
                let action = action.split('@').next().unwrap_or(action);
                HOUSEKEEPING_ACTIONS.contains(&action)
            })
    });
    let runs: Vec<&str> = steps
        .iter()
        .filter_map(|step| step.get("run").and_then(Value::as_str))
        .collect();
    let checks_code = runs
        .iter()
        .flat_map(|run| command_lines(run))
        .any(|command| super::commands::classify(&command).is_some());
    if checks_code {
        return false;
    }
    let merges_bumps = runs.iter().any(|run| run.contains("gh pr merge"))
        || job
            .get("if")
            .and_then(Value::as_str)
            .is_some_and(|condition| condition.contains("dependabot"));
    let named_for_chore = [workflow_name, job_name].iter().any(|name| {
        name.to_ascii_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .any(|word| HOUSEKEEPING_WORDS.contains(&word))
    });
    uses_chore_action || merges_bumps || named_for_chore
}

/// Top-level keys of `.gitlab-ci.yml` that are settings, not jobs.
const GITLAB_RESERVED: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "pages:deploy",
];

fn script_lines(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => command_lines(s),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(command_lines)
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn gitlab_ci(file: &SourceFile, findings: &mut Findings) {
    let Some(config) = file.parse_yaml(findings) else {
        return;
    };
    let Some(top) = config.as_mapping() else {
        return;
    };
    for (name, job) in top {
        let Some(name) = yaml_scalar(name) else {
            continue;
        };
        // Hidden keys (`.template`) are templates for `extends`, not jobs.
        if name.starts_with('.') || GITLAB_RESERVED.contains(&name.as_str()) {
            continue;
        }
        if job.get("script").is_none() {
            continue;
        }
        let commands: Vec<String> = script_lines(job.get("before_script"))
            .into_iter()
            .chain(script_lines(job.get("script")))
            .collect();
        let steps = commands
            .into_iter()
            .map(|command| Step {
                text: format!("Run `{command}`"),
                command: Some(command),
            })
            .collect();
        let line = job_line(file, &name, 1);
        ci_job(file, &name, line, steps, findings);
    }
}

/// The command a well-known hook runs, so that before-commit can name it.
fn hook_command(id: &str) -> Option<&'static str> {
    Some(match id {
        "black" => "black .",
        "isort" => "isort .",
        "ruff" | "ruff-check" => "ruff check --fix",
        "ruff-format" => "ruff format",
        "mypy" => "mypy .",
        "flake8" => "flake8",
        "prettier" => "prettier --write .",
        "eslint" => "eslint --fix .",
        "fmt" | "rustfmt" | "cargo-fmt" => "cargo fmt",
        "clippy" | "cargo-clippy" => "cargo clippy",
        "gofmt" | "go-fmt" => "gofmt -w .",
        "golangci-lint" => "golangci-lint run",
        _ => return None,
    })
}

pub(crate) fn pre_commit(file: &SourceFile, findings: &mut Findings) {
    let Some(config) = file.parse_yaml(findings) else {
        return;
    };
    let mut steps = Vec::new();
    let mut ids = Vec::new();
    for repo in config
        .get("repos")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let source = repo.get("repo").and_then(yaml_scalar).unwrap_or_default();
        for hook in repo
            .get("hooks")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let Some(id) = hook.get("id").and_then(yaml_scalar) else {
                continue;
            };
            let command = if source == "local" {
                hook.get("entry").and_then(yaml_scalar)
            } else {
                hook_command(&id).map(str::to_string)
            };
            let line = file.line_of(&format!("id: {id}"));
            if let Some(command) = &command {
                findings.command(command, Origin::PreCommit, file.at(line));
            }
            let text = if source == "local" || source.is_empty() {
                format!("Hook `{id}`")
            } else {
                format!("Hook `{id}` ({source})")
            };
            steps.push(Step { text, command });
            ids.push(id);
        }
    }
    if steps.is_empty() {
        return;
    }
    let text = format!(
        "Before each commit, pre-commit runs these hooks ({}): {}. Run them all with `pre-commit run --all-files`.",
        file.rel,
        ids.join(", ")
    );
    findings.procedure(
        file,
        file.line_of("repos:"),
        Procedure {
            key: file.scoped_key("procedure.pre-commit"),
            value: ids.join(","),
            text,
            trigger: "before-commit".to_string(),
            steps,
            tags: vec!["procedure".to_string(), "before-commit".to_string()],
            importance: 0.7,
        },
    );
}

/// Words in a script's name that say it checks or runs the project.
const SCRIPT_WORDS: &[&str] = &[
    "test",
    "tests",
    "ci",
    "check",
    "checks",
    "lint",
    "run",
    "fmt",
    "format",
    "verify",
    "precommit",
];

/// Shell scripts under `ci/`, `.ci/` or `scripts/` whose name says they test, check or lint.
pub(crate) fn is_task_script(parts: &[&str]) -> bool {
    let Some((name, dirs)) = parts.split_last() else {
        return false;
    };
    if !dirs.iter().any(|d| matches!(*d, "ci" | ".ci" | "scripts")) {
        return false;
    }
    let stem = match name.rsplit_once('.') {
        Some((stem, "sh" | "bash")) => stem,
        Some(_) => return false,
        None => name,
    };
    stem.split(['-', '_', '.'])
        .any(|word| SCRIPT_WORDS.contains(&word.to_ascii_lowercase().as_str()))
}

/// Programs whose invocation in a script is a step worth remembering.
const SCRIPT_PROGRAMS: &[&str] = &[
    "cargo",
    "npm",
    "pnpm",
    "yarn",
    "npx",
    "bun",
    "pytest",
    "go",
    "make",
    "just",
    "ruff",
    "black",
    "isort",
    "mypy",
    "flake8",
    "eslint",
    "prettier",
    "tsc",
    "mvn",
    "./mvnw",
    "gradle",
    "./gradlew",
    "tox",
    "nox",
    "poetry",
    "uv",
    "golangci-lint",
    "gofmt",
    "rustfmt",
    "biome",
    "pre-commit",
    "vitest",
    "jest",
];

/// The command on a script line, or `None` for comments, settings, assignments, output and
/// control flow.
pub(crate) fn script_command(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line
        .strip_prefix("then ")
        .or_else(|| line.strip_prefix("do "))
        .or_else(|| line.strip_prefix("time "))
        .or_else(|| line.strip_prefix("exec "))
        .unwrap_or(line)
        .trim();
    let first = line.split_whitespace().next()?;
    if first.starts_with('#') {
        return None;
    }
    let program = first.trim_start_matches('(');
    let calls_script = matches!(program, "bash" | "sh")
        && line
            .split_whitespace()
            .nth(1)
            .is_some_and(|s| s.contains("scripts/") || s.contains("ci/"));
    let runs_script = program.starts_with("./scripts/")
        || program.starts_with("scripts/")
        || program.starts_with("./ci/")
        || program.starts_with("./.ci/");
    let python_module =
        matches!(program, "python" | "python3") && line.split_whitespace().nth(1) == Some("-m");
    if SCRIPT_PROGRAMS.contains(&program) || calls_script || runs_script || python_module {
        Some(line.to_string())
    } else {
        None
    }
}

pub(crate) fn shell_script(file: &SourceFile, findings: &mut Findings) {
    let mut steps = Vec::new();
    let mut first_line = None;
    for (line, logical) in logical_lines(&file.text) {
        let Some(command) = script_command(&logical) else {
            continue;
        };
        first_line.get_or_insert(line);
        findings.command(&command, Origin::Script, file.at(line));
        steps.push(Step {
            text: format!("Run `{command}`"),
            command: Some(command),
        });
    }
    if steps.is_empty() {
        return;
    }
    let stem = file
        .name()
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file.name());
    let trigger = if stem.to_ascii_lowercase().contains("test") {
        "test"
    } else {
        "ci"
    };
    let commands: Vec<&str> = steps.iter().filter_map(|s| s.command.as_deref()).collect();
    let text = format!(
        "The script `{}` runs: {}.",
        file.rel,
        numbered_commands(commands.iter().copied())
    );
    findings.procedure(
        file,
        first_line.unwrap_or(1),
        Procedure {
            key: format!("procedure.script.{}", file.rel.trim_start_matches('.')),
            value: file.rel.clone(),
            text,
            trigger: trigger.to_string(),
            steps,
            tags: vec!["procedure".to_string(), trigger.to_string()],
            importance: 0.7,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_blocks_split_into_commands() {
        let block = "# comment\ncargo build \\\n  --release\n\ncargo test --workspace\n";
        assert_eq!(
            command_lines(block),
            vec!["cargo build --release", "cargo test --workspace"]
        );
    }

    #[test]
    fn script_lines_keep_only_tool_invocations() {
        assert_eq!(script_command("set -euo pipefail"), None);
        assert_eq!(script_command("FOO=bar"), None);
        assert_eq!(script_command("echo \"running tests\""), None);
        assert_eq!(script_command("if [ -z \"$CI\" ]; then"), None);
        assert_eq!(script_command("fi"), None);
        assert_eq!(
            script_command("  cargo test --workspace"),
            Some("cargo test --workspace".to_string())
        );
        assert_eq!(
            script_command("python -m pytest -q"),
            Some("python -m pytest -q".to_string())
        );
        assert_eq!(
            script_command("bash scripts/lint.sh"),
            Some("bash scripts/lint.sh".to_string())
        );
    }

    #[test]
    fn task_scripts_are_recognised_by_folder_and_name() {
        assert!(is_task_script(&["scripts", "run-tests.sh"]));
        assert!(is_task_script(&[".ci", "run"]));
        assert!(is_task_script(&["web", "scripts", "lint.sh"]));
        assert!(!is_task_script(&["scripts", "deploy.sh"]));
        assert!(!is_task_script(&["src", "test.sh"]));
        assert!(!is_task_script(&["scripts", "check.py"]));
    }
}
