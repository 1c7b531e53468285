//! What the commands found in CI, scripts, hooks, docs and task runners say: which tools the
//! project formats, lints and tests with, and the before-commit routine they add up to.

use super::{numbered_commands, Fact, Findings, FoundCommand, Location, Origin, Procedure};
use crate::memory::{Evidence, Step};

/// What a command does, in the order a person runs them before committing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Category {
    Format,
    Lint,
    Test,
}

/// A command's job and the tool behind it (`cargo fmt`, `npm run lint`), the unit of
/// deduplication: two `cargo test` invocations with different flags are one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classified {
    pub category: Category,
    pub tool: String,
}

/// The words of a command once wrappers that do not change what runs are removed:
/// environment assignments, `npx`, `poetry run`, `python -m`.
fn essential_words(command: &str) -> Vec<&str> {
    let mut words: Vec<&str> = command.split_whitespace().collect();
    loop {
        match words.as_slice() {
            [first, ..] if is_env_assignment(first) => {
                words.remove(0);
            }
            ["npx" | "bunx" | "time" | "exec" | "command", ..] => {
                words.remove(0);
            }
            ["poetry" | "uv" | "pipenv" | "hatch" | "pdm" | "rye", "run", ..]
            | ["pnpm" | "yarn", "exec" | "dlx", ..] => {
                words.drain(..2);
            }
            ["python" | "python3" | "py", "-m", ..] => {
                words.drain(..2);
            }
            _ => return words,
        }
    }
}

fn is_env_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

fn script_category(name: &str) -> Option<Category> {
    let name = name.to_ascii_lowercase();
    let base = name.split([':', '-', '_']).next().unwrap_or(&name);
    match base {
        "fmt" | "format" | "prettier" | "prettify" => Some(Category::Format),
        "lint" | "clippy" | "vet" | "typecheck" | "types" | "eslint" | "check" => {
            Some(Category::Lint)
        }
        "test" | "tests" | "unit" | "spec" => Some(Category::Test),
        _ => None,
    }
}

/// Classifies a command as formatting, linting or testing, or nothing (a build, an install).
pub(crate) fn classify(command: &str) -> Option<Classified> {
    let words = essential_words(command);
    let first = words.first().copied()?;
    let first = first.trim_start_matches("./");
    let second = words.get(1).copied().unwrap_or("");
    let has = |flag: &str| words.contains(&flag);
    let classified = |category, tool: &str| {
        Some(Classified {
            category,
            tool: tool.to_string(),
        })
    };
    match (first, second) {
        ("cargo", "fmt") => classified(Category::Format, "cargo fmt"),
        ("cargo", "clippy") => classified(Category::Lint, "cargo clippy"),
        ("cargo", "test") => classified(Category::Test, "cargo test"),
        ("cargo", "nextest") => classified(Category::Test, "cargo nextest"),
        ("rustfmt", _) => classified(Category::Format, "rustfmt"),
        ("prettier", _) => classified(Category::Format, "prettier"),
        ("eslint", _) => classified(Category::Lint, "eslint"),
        ("biome", "lint") => classified(Category::Lint, "biome lint"),
        ("biome", "format" | "check" | "ci") => classified(Category::Format, "biome"),
        ("black", _) => classified(Category::Format, "black"),
        ("isort", _) => classified(Category::Format, "isort"),
        ("ruff", "format") => classified(Category::Format, "ruff format"),
        ("ruff", _) => classified(Category::Lint, "ruff check"),
        ("mypy" | "pyright" | "flake8" | "pylint" | "basedpyright", _) => {
            classified(Category::Lint, first)
        }
        ("pytest" | "py.test", _) => classified(Category::Test, "pytest"),
        ("unittest", _) => classified(Category::Test, "unittest"),
        ("tox" | "nox", _) => classified(Category::Test, first),
        ("gofmt" | "goimports", _) => classified(Category::Format, first),
        ("go", "fmt") => classified(Category::Format, "go fmt"),
        ("go", "vet") => classified(Category::Lint, "go vet"),
        ("go", "test") => classified(Category::Test, "go test"),
        ("golangci-lint" | "staticcheck", _) => classified(Category::Lint, first),
        ("jest" | "vitest" | "mocha" | "ava", _) => classified(Category::Test, first),
        ("tsc", _) if has("--noEmit") => classified(Category::Lint, "tsc"),
        ("npm" | "pnpm" | "yarn" | "bun", "test" | "t") => {
            classified(Category::Test, &format!("{first} test"))
        }
        ("npm" | "pnpm" | "yarn" | "bun", "run") => {
            let script = words.get(2).copied()?;
            let category = script_category(script)?;
            classified(category, &format!("{first} run {script}"))
        }
        ("yarn" | "pnpm", script) => {
            let category = script_category(script)?;
            classified(category, &format!("{first} run {script}"))
        }
        ("make" | "just", target) => {
            let category = script_category(target)?;
            classified(category, &format!("{first} {target}"))
        }
        ("mvn" | "mvnw", "test" | "verify") => classified(Category::Test, "mvn test"),
        ("gradle" | "gradlew", "test" | "check") => classified(Category::Test, "gradle test"),
        ("pre-commit", "run") => classified(Category::Format, "pre-commit"),
        _ => None,
    }
}

/// Turns a check-only command into the form that fixes what it would complain about, since
/// before committing one wants the fix, not the complaint.
pub(crate) fn fixing_form(command: &str) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    let essential = essential_words(command);
    let tool = essential.first().copied().unwrap_or("");
    let sub = essential.get(1).copied().unwrap_or("");
    let mut fixed: Vec<String> = Vec::with_capacity(words.len());
    for word in &words {
        let replacement: Option<&str> = match (tool, sub, *word) {
            ("cargo", "fmt", "--check") | ("rustfmt", _, "--check") => None,
            ("prettier", _, "--check" | "-c" | "--list-different" | "-l") => Some("--write"),
            ("black", _, "--check" | "--diff") => None,
            ("ruff", "format", "--check" | "--diff") => None,
            ("isort", _, "--check-only" | "--check" | "--diff" | "-c") => None,
            ("gofmt" | "goimports", _, "-l" | "-d") => Some("-w"),
            ("biome", _, "ci") => Some("check --write"),
            _ => Some(word),
        };
        if let Some(replacement) = replacement {
            fixed.push(replacement.to_string());
        }
    }
    // `cargo fmt --all -- --check` leaves a dangling `--` once `--check` is gone.
    if fixed.last().is_some_and(|w| w == "--") {
        fixed.pop();
    }
    fixed.join(" ")
}

/// Memories for the tools the commands use, so that a project with no config file for its
/// formatter still tells a copilot which one runs in CI.
pub(crate) fn infer_tools(findings: &mut Findings) {
    let commands: Vec<FoundCommand> = findings.commands.clone();
    for found in &commands {
        for fact in tool_facts(&found.command) {
            record_at(findings, &found.at, fact);
        }
    }
}

fn record_at(findings: &mut Findings, at: &Location, fact: Fact) {
    let dir = at
        .file
        .rsplit_once('/')
        .map(|(dir, _)| dir.to_string())
        .unwrap_or_default();
    // CI files and scripts live in folders of their own, but what they enforce applies to
    // the package around those folders.
    let automation = [".github", ".ci", "ci", "scripts", ".gitlab"];
    let parts: Vec<&str> = dir.split('/').collect();
    let package_end = parts
        .iter()
        .position(|p| automation.contains(p))
        .unwrap_or(parts.len());
    let dir = parts[..package_end].join("/");
    let file = super::SourceFile {
        rel: at.file.clone(),
        dir,
        text: String::new(),
    };
    findings.memory(&file, at.line, fact);
}

/// The tools a command names and what running them says: (program, first argument or `*`
/// for any), then the fact's key, language, value and text. `cargo clippy` and `goimports`,
/// whose facts depend on more of the command, are handled in [`tool_facts`].
// One row a line: a table.
#[rustfmt::skip]
const TOOLS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("cargo", "fmt", "format.tool", "rust", "rustfmt", "Format Rust with rustfmt (`cargo fmt`)."),
    ("rustfmt", "*", "format.tool", "rust", "rustfmt", "Format Rust with rustfmt (`cargo fmt`)."),
    ("cargo", "test", "test.framework", "rust", "cargo test", "Tests run with cargo test."),
    ("cargo", "nextest", "test.framework", "rust", "cargo nextest", "Tests run with cargo nextest."),
    ("black", "*", "format.tool", "python", "black", "Format Python with black."),
    ("ruff", "format", "format.tool", "python", "ruff format", "Format Python with ruff format."),
    ("ruff", "*", "lint.tool", "python", "ruff", "Lint Python with ruff."),
    ("mypy", "*", "lint.tool", "python", "mypy", "Type-check Python with mypy."),
    ("pytest", "*", "test.framework", "python", "pytest", "Tests use pytest."),
    ("py.test", "*", "test.framework", "python", "pytest", "Tests use pytest."),
    ("gofmt", "*", "format.tool", "go", "gofmt", "Format Go with gofmt."),
    ("go", "fmt", "format.tool", "go", "gofmt", "Format Go with gofmt."),
    ("golangci-lint", "*", "lint.tool", "go", "golangci-lint", "Lint Go with golangci-lint."),
    ("go", "test", "test.framework", "go", "go test", "Tests use go test."),
];

fn tool_facts(command: &str) -> Vec<Fact> {
    let words = essential_words(command);
    let first = words
        .first()
        .map(|w| w.trim_start_matches("./"))
        .unwrap_or("");
    let second = words.get(1).copied().unwrap_or("");
    let mut facts = Vec::new();
    // `goimports -l .`, or a task named for it (`make ensure-goimports`).
    if first == "goimports" || (matches!(first, "make" | "just") && second.contains("goimports")) {
        facts.push(Fact::new(
            "imports.order",
            Some("go"),
            "goimports",
            format!("{} (`{command}` checks it).", super::go::GOIMPORTS_ORDER),
        ));
    }
    if (first, second) == ("cargo", "clippy") {
        facts.push(Fact::new(
            "lint.tool",
            Some("rust"),
            "clippy",
            "Lint Rust with clippy (`cargo clippy`).",
        ));
        if command.contains("-D warnings") || command.contains("-Dwarnings") {
            facts.push(Fact::new(
                "lint.strict",
                Some("rust"),
                "deny-warnings",
                "Clippy warnings fail the build (`-D warnings`): leave no warning behind.",
            ));
        }
    }
    // The first row that matches, as a `match` would: `ruff format` before any `ruff`.
    if let Some((_, _, key, language, value, text)) =
        TOOLS.iter().find(|(program, argument, ..)| {
            *program == first && (*argument == "*" || *argument == second)
        })
    {
        facts.push(Fact::new(*key, Some(*language), *value, *text));
    }
    facts
}

/// Builds the one `before-commit` procedure: format, then lint, then test, each taken from
/// the most authoritative place that mentions one (CI first, task runners last).
pub(crate) fn before_commit(findings: &mut Findings) {
    let mut chosen: Vec<(Category, String, Location)> = Vec::new();
    for category in [Category::Format, Category::Lint, Category::Test] {
        let candidates: Vec<(&FoundCommand, Classified)> = findings
            .commands
            .iter()
            .filter(|c| c.origin != Origin::Recipe && !c.command.contains("${{"))
            .filter_map(|c| classify(&c.command).map(|k| (c, k)))
            .filter(|(_, k)| k.category == category)
            .collect();
        let Some(best) = candidates.iter().map(|(c, _)| c.origin).min() else {
            continue;
        };
        let mut tools: Vec<String> = Vec::new();
        for (found, classified) in candidates.iter().filter(|(c, _)| c.origin == best) {
            if tools.contains(&classified.tool) {
                continue;
            }
            tools.push(classified.tool.clone());
            let command = fixing_form(&found.command);
            if !chosen.iter().any(|(_, c, _)| *c == command) {
                chosen.push((category, command, found.at.clone()));
            }
        }
    }
    if chosen.is_empty() {
        return;
    }

    let commands: Vec<&str> = chosen.iter().map(|(_, c, _)| c.as_str()).collect();
    let text = format!(
        "Before committing: {}.",
        numbered_commands(commands.clone())
    );
    let steps = chosen
        .iter()
        .map(|(category, command, _)| {
            let what = match category {
                Category::Format => "Format the code",
                Category::Lint => "Lint",
                Category::Test => "Run the tests",
            };
            Step {
                text: format!("{what} with `{command}`."),
                command: Some(command.clone()),
            }
        })
        .collect();
    let locations = chosen.iter().map(|(_, _, at)| at.clone()).collect();
    routine(
        findings,
        "before-commit",
        &commands,
        text,
        steps,
        locations,
        0.85,
    );
}

/// Records a routine for a moment (`before-commit`, `before-push`) whose steps all come from
/// the places in `locations`.
fn routine(
    findings: &mut Findings,
    moment: &str,
    commands: &[&str],
    text: String,
    steps: Vec<Step>,
    locations: Vec<Location>,
    importance: f32,
) {
    let total = commands.len() as u32;
    findings.procedure_at(
        locations,
        Procedure {
            key: format!("procedure.{moment}"),
            value: commands.join(" && "),
            text,
            trigger: moment.to_string(),
            steps,
            tags: vec!["procedure".to_string(), moment.to_string()],
            importance,
        },
    );
    if let Some(entry) = findings.entries.last_mut() {
        entry.evidence = Some(Evidence {
            matching: total,
            total,
        });
    }
}

/// Builds the `before-push` procedure: what CI runs that a developer can run locally (format
/// checks, lints, tests; not builds, installs or deploys), in CI's order and in CI's form, so
/// that a push does not fail there; compared with what the pre-commit hooks already run on
/// each commit.
pub(crate) fn before_push(findings: &mut Findings) {
    let mut ci: Vec<(Classified, &FoundCommand)> = Vec::new();
    for found in findings
        .commands
        .iter()
        .filter(|c| c.origin == Origin::Ci && !c.command.contains("${{"))
    {
        if let Some(classified) = classify(&found.command) {
            if !ci.iter().any(|(k, _)| k.tool == classified.tool) {
                ci.push((classified, found));
            }
        }
    }
    if ci.is_empty() {
        return;
    }
    let hooked: Vec<String> = findings
        .commands
        .iter()
        .filter(|c| c.origin == Origin::PreCommit)
        .filter_map(|c| classify(&c.command).map(|k| k.tool))
        .collect();
    let commands: Vec<String> = ci.iter().map(|(_, c)| c.command.clone()).collect();
    let mut text = format!(
        "Before pushing (or opening a pull request), run what CI runs, in its order: {}.",
        numbered_commands(commands.iter().map(String::as_str))
    );
    if !hooked.is_empty() {
        let (covered, missing): (Vec<_>, Vec<_>) =
            ci.iter().partition(|(k, _)| hooked.contains(&k.tool));
        let quoted = |part: &[&(Classified, &FoundCommand)]| {
            part.iter()
                .map(|(_, c)| format!("`{}`", c.command))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if missing.is_empty() {
            text.push_str(" The pre-commit hooks already run all of these on each commit.");
        } else if covered.is_empty() {
            text.push_str(&format!(
                " The pre-commit hooks run none of these: run {} yourself.",
                quoted(&missing)
            ));
        } else {
            text.push_str(&format!(
                " The pre-commit hooks already run {} on each commit; {} only CI runs.",
                quoted(&covered),
                quoted(&missing)
            ));
        }
    }
    let steps = ci
        .iter()
        .map(|(_, c)| Step {
            text: format!("Run `{}` as CI does.", c.command),
            command: Some(c.command.clone()),
        })
        .collect();
    let locations = ci.iter().map(|(_, c)| c.at.clone()).collect();
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    routine(
        findings,
        "before-push",
        &commands,
        text,
        steps,
        locations,
        0.8,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_only_commands_become_fixing_commands() {
        assert_eq!(fixing_form("cargo fmt --all -- --check"), "cargo fmt --all");
        assert_eq!(fixing_form("cargo fmt --check"), "cargo fmt");
        assert_eq!(
            fixing_form("npx prettier --check ."),
            "npx prettier --write ."
        );
        assert_eq!(fixing_form("black --check src"), "black src");
        assert_eq!(fixing_form("ruff format --check ."), "ruff format .");
        assert_eq!(
            fixing_form("poetry run black --check ."),
            "poetry run black ."
        );
        assert_eq!(fixing_form("gofmt -l ."), "gofmt -w .");
        assert_eq!(
            fixing_form("cargo clippy --all-targets -- -D warnings"),
            "cargo clippy --all-targets -- -D warnings"
        );
    }

    #[test]
    fn commands_are_classified_by_what_they_do() {
        let category = |c: &str| classify(c).map(|k| k.category);
        assert_eq!(
            category("cargo fmt --all -- --check"),
            Some(Category::Format)
        );
        assert_eq!(category("python -m pytest -q"), Some(Category::Test));
        assert_eq!(category("npm run lint"), Some(Category::Lint));
        assert_eq!(category("pnpm test"), Some(Category::Test));
        assert_eq!(category("make fmt"), Some(Category::Format));
        assert_eq!(
            category("RUSTFLAGS=-Dwarnings cargo clippy"),
            Some(Category::Lint)
        );
        assert_eq!(category("cargo build --release"), None);
        assert_eq!(category("npm ci"), None);
    }
}
