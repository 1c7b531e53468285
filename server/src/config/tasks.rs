//! Task runners: Makefile and justfile targets, package.json scripts.
//!
//! Each target with a recipe becomes a procedure triggered by its invocation
//! (`make:test`); the recipe lines also tell which tools the project uses.

use super::{numbered_commands, Fact, Findings, Origin, Procedure, SourceFile};
use crate::catalog;
use crate::memory::{and_list, Step};

/// A target and the lines of its recipe, each with its line number.
struct Target {
    name: String,
    line: usize,
    recipe: Vec<(String, usize)>,
}

/// Strips the prefixes make and just use to silence or ignore a recipe line.
fn recipe_command(line: &str) -> String {
    line.trim()
        .trim_start_matches(['@', '-', '+'])
        .trim()
        .to_string()
}

/// Whether a recipe line only prints something (`echo`, `printf`, `$(info …)`,
/// `$(warning …)`): progress chatter for the person watching, not a step they would take.
/// A pipe or a chain (`echo x | sha256sum -c`, `echo x && make`) does work, so it stays.
pub(crate) fn only_prints(command: &str) -> bool {
    let command = command.trim();
    if command.starts_with("$(info ") || command.starts_with("$(warning ") {
        return command.ends_with(')');
    }
    let word = command.split_whitespace().next().unwrap_or("");
    // What is quoted is printed, not run: `echo "use make <target>"` only prints.
    let mut quote = None;
    let unquoted: String = command
        .chars()
        .filter(|&c| match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                false
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                false
            }
            None => true,
        })
        .collect();
    let chained = ["|", "&&", ";", ">"].iter().any(|op| unquoted.contains(op));
    matches!(word, "echo" | "printf") && !chained
}

/// Splits a Makefile-like text into targets: a header line names a target (or is skipped
/// when `target_name` says no), and the recipe lines under it (`recipe_body`) are its steps.
fn parse_targets(
    text: &str,
    recipe_body: impl Fn(&str) -> Option<&str>,
    target_name: impl Fn(&str) -> Option<&str>,
) -> Vec<Target> {
    let mut targets: Vec<Target> = Vec::new();
    let mut current: Option<Target> = None;
    for (index, line) in text.lines().enumerate() {
        if let Some(body) = recipe_body(line) {
            if let Some(target) = current.as_mut() {
                let command = recipe_command(body);
                if !command.is_empty() && !command.starts_with('#') && !only_prints(&command) {
                    target.recipe.push((command, index + 1));
                }
            }
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        targets.extend(current.take());
        current = target_name(line).map(|name| Target {
            name: name.to_string(),
            line: index + 1,
            recipe: Vec::new(),
        });
    }
    targets.extend(current);
    targets
}

fn makefile_targets(text: &str) -> Vec<Target> {
    parse_targets(
        text,
        |line| line.strip_prefix('\t'),
        |line| {
            // `name: deps`, but not `VAR := value` or `VAR ::= value`.
            let (head, rest) = line.split_once(':')?;
            if rest.starts_with('=') || rest.starts_with(":=") || head.contains(['=', '$', '%']) {
                return None;
            }
            head.split_whitespace()
                .next()
                .filter(|name| !name.starts_with('.'))
        },
    )
}

fn justfile_targets(text: &str) -> Vec<Target> {
    parse_targets(
        text,
        |line| line.starts_with([' ', '\t']).then_some(line),
        |line| {
            let trimmed = line.trim();
            let setting = trimmed.starts_with('[')
                || ["set ", "alias ", "import ", "mod ", "export "]
                    .iter()
                    .any(|p| trimmed.starts_with(p))
                || trimmed.contains(":=");
            if setting {
                return None;
            }
            let (head, _) = trimmed.split_once(':')?;
            let name = head.split_whitespace().next()?.trim_start_matches('@');
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
            valid.then_some(name)
        },
    )
}

/// A Sphinx documentation Makefile (the one `sphinx-quickstart` writes) has a target per
/// output format, each running `$(SPHINXBUILD) -b <format>`: from this many such targets on,
/// they are one procedure, not two dozen that differ by a word.
const SPHINX_BUILDERS_AS_ONE: usize = 3;

fn is_sphinx_builder(target: &Target) -> bool {
    target
        .recipe
        .first()
        .is_some_and(|(command, _)| command.starts_with("$(SPHINXBUILD) -b "))
}

fn record_targets(file: &SourceFile, runner: &str, targets: Vec<Target>, findings: &mut Findings) {
    let builders: Vec<&str> = targets
        .iter()
        .filter(|t| runner == "make" && is_sphinx_builder(t))
        .map(|t| t.name.as_str())
        .collect();
    let builders_as_one = builders.len() >= SPHINX_BUILDERS_AS_ONE;
    // The builder that stands for all: `html` when there is one.
    let standing = builders
        .iter()
        .find(|&&b| b == "html")
        .or(builders.first())
        .map(|b| b.to_string());
    let others: Vec<String> = builders
        .iter()
        .filter(|&&b| Some(b) != standing.as_deref())
        .map(|b| format!("`{runner} {b}`"))
        .collect();
    // A Makefile among the tests (certificates, fixtures) makes test data: one procedure
    // names its targets, each with its recipe as a step, rather than a `make clean` per
    // directory that reads like the project's own.
    if !file.is_root() && catalog::is_test_directory(&file.dir) {
        test_data_targets(file, runner, &targets, findings);
        return;
    }
    // Said where the file is: a `make clean` of `docs/` is not the project's.
    let place = if file.is_root() {
        String::new()
    } else {
        format!(" in `{}/`", file.dir)
    };
    for target in &targets {
        if target.recipe.is_empty() {
            continue;
        }
        let invocation = format!("{runner} {}", target.name);
        findings.command(&invocation, Origin::TaskEntry, file.at(target.line));
        for (command, line) in &target.recipe {
            findings.command(command, Origin::Recipe, file.at(*line));
        }
        let stands_for_others = builders_as_one && standing.as_deref() == Some(&target.name);
        if builders_as_one && is_sphinx_builder(target) && !stands_for_others {
            continue;
        }
        let commands: Vec<&str> = target.recipe.iter().map(|(c, _)| c.as_str()).collect();
        let mut text = format!(
            "`{invocation}`{place} runs: {}.",
            numbered_commands(commands.iter().copied())
        );
        if stands_for_others {
            text.push_str(&format!(
                " The other Sphinx builders run the same way: {} ({} targets).",
                others.join(", "),
                others.len()
            ));
        }
        let steps = target
            .recipe
            .iter()
            .map(|(command, _)| Step {
                text: format!("Run `{command}`"),
                command: Some(command.clone()),
            })
            .collect();
        findings.procedure(
            file,
            target.line,
            Procedure {
                key: file.scoped_key(&format!("procedure.{runner}.{}", target.name)),
                value: target.name.clone(),
                text,
                trigger: format!("{runner}:{}", target.name),
                steps,
                tags: vec!["procedure".to_string(), runner.to_string()],
                importance: 0.7,
            },
        );
    }
}

/// "`tests/certs/Makefile` makes test data: `make ca`, `make server` and `make clean`", with
/// a step per target naming its recipe.
fn test_data_targets(file: &SourceFile, runner: &str, targets: &[Target], findings: &mut Findings) {
    let made: Vec<&Target> = targets.iter().filter(|t| !t.recipe.is_empty()).collect();
    let Some(first) = made.first() else {
        return;
    };
    let mut names = Vec::new();
    let mut steps = Vec::new();
    for target in &made {
        for (command, line) in &target.recipe {
            findings.command(command, Origin::Recipe, file.at(*line));
        }
        let commands: Vec<&str> = target.recipe.iter().map(|(c, _)| c.as_str()).collect();
        steps.push(Step {
            text: format!(
                "`{runner} {}` runs `{}`",
                target.name,
                commands.join(" && ")
            ),
            // make changes directory itself; just has no such flag.
            command: Some(match runner {
                "make" => format!("make -C {} {}", file.dir, target.name),
                _ => format!("cd {} && {runner} {}", file.dir, target.name),
            }),
        });
        names.push(target.name.as_str());
    }
    let listed: Vec<String> = names.iter().map(|n| format!("`{runner} {n}`")).collect();
    let listed = and_list(&listed);
    findings.procedure(
        file,
        first.line,
        Procedure {
            key: file.scoped_key(&format!("procedure.{runner}")),
            value: names.join(","),
            text: format!(
                "`{}` makes test data: {listed}, run in `{}/`.",
                file.rel, file.dir
            ),
            trigger: format!("{runner}:{}", file.dir),
            steps,
            tags: vec![
                "procedure".to_string(),
                runner.to_string(),
                "tests".to_string(),
            ],
            importance: 0.4,
        },
    );
}

pub(crate) fn makefile(file: &SourceFile, findings: &mut Findings) {
    record_targets(file, "make", makefile_targets(&file.text), findings);
}

pub(crate) fn justfile(file: &SourceFile, findings: &mut Findings) {
    record_targets(file, "just", justfile_targets(&file.text), findings);
}

/// How a person runs a script with this package manager (`npm test`, `npm run lint`).
fn invocation(runner: &str, script: &str) -> String {
    if script == "test" {
        format!("{runner} test")
    } else {
        format!("{runner} run {script}")
    }
}

/// The package.json scripts: one procedure listing them all, plus a memory for each of the
/// test, lint, format and build entry points.
pub(crate) fn npm_scripts(
    file: &SourceFile,
    scripts: &[(String, String)],
    runner: &'static str,
    language: &'static str,
    findings: &mut Findings,
) {
    if scripts.is_empty() {
        return;
    }
    let scripts_line = file.line_of_json_key("scripts");
    let mut steps = Vec::new();
    for (name, body) in scripts {
        let line = file.line_of_from(&format!("\"{name}\""), scripts_line);
        let run = invocation(runner, name);
        findings.command(&run, Origin::TaskEntry, file.at(line));
        for part in body.split("&&") {
            findings.command(part.trim(), Origin::Recipe, file.at(line));
        }
        steps.push(Step {
            text: format!("`{run}` runs `{body}`"),
            command: Some(run.clone()),
        });

        let entry_point = match name.as_str() {
            "test" => Some(("test.command", "Run the tests with")),
            "lint" => Some(("lint.command", "Lint with")),
            "format" | "fmt" => Some(("format.command", "Format with")),
            "build" => Some(("build.command", "Build with")),
            "typecheck" | "type-check" => Some(("types.command", "Type-check with")),
            _ => None,
        };
        if let Some((key, sentence)) = entry_point {
            findings.memory(
                file,
                line,
                Fact::new(
                    key,
                    Some(language),
                    run.clone(),
                    format!("{sentence} `{run}` (runs `{body}`)."),
                )
                .importance(0.6),
            );
        }
    }
    let listing: Vec<String> = scripts
        .iter()
        .map(|(name, body)| format!("`{}` → `{body}`", invocation(runner, name)))
        .collect();
    // Sorted: serde_json keeps the file's order only when some crate in the build enables
    // `preserve_order`, and the value is this procedure's identity.
    let mut names: Vec<&str> = scripts.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    findings.procedure(
        file,
        scripts_line,
        Procedure {
            key: file.scoped_key("procedure.npm-scripts"),
            value: names.join(","),
            text: format!("{} scripts ({}): {}.", runner, file.rel, listing.join("; ")),
            trigger: format!("{runner} run"),
            steps,
            tags: vec!["procedure".to_string(), "scripts".to_string()],
            importance: 0.7,
        },
    );
    // A script body that runs a test framework names it even without a dependency entry.
    for (_, body) in scripts {
        if body.contains("node --test") {
            findings.memory(
                file,
                scripts_line,
                Fact::new(
                    "test.framework",
                    Some(language),
                    "node:test",
                    "Tests use the Node.js built-in test runner (`node --test`).",
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makefile_targets_with_recipes_are_found() {
        let text = ".PHONY: test lint\nCARGO := cargo\n\ntest: build\n\t@cargo test --workspace\n\t# note\n\nlint:\n\t-cargo clippy\nempty:\n";
        let targets = makefile_targets(text);
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["test", "lint", "empty"]);
        assert_eq!(
            targets[0].recipe,
            vec![("cargo test --workspace".to_string(), 5)]
        );
        assert_eq!(targets[1].recipe, vec![("cargo clippy".to_string(), 9)]);
    }

    #[test]
    fn an_operator_inside_quotes_is_printed_not_run() {
        assert!(only_prints(
            r#"echo "Please use `make <target>' where <target> is one of""#
        ));
        assert!(only_prints("echo 'a | b; c'"));
        assert!(!only_prints(r#"echo "ok" > out.log"#));
        assert!(!only_prints("echo 'x' | sha256sum -c"));
    }

    #[test]
    fn justfile_recipes_are_found() {
        let text = "set shell := [\"bash\", \"-c\"]\nversion := \"1\"\n\n# Run the tests\ntest *args:\n    cargo test {{args}}\n\n@fmt:\n    cargo fmt --all\n";
        let targets = justfile_targets(text);
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["test", "fmt"]);
        assert_eq!(targets[1].recipe[0].0, "cargo fmt --all");
    }
}
