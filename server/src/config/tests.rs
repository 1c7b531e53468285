//! Fixture trees written to a temporary directory and extracted as a user's workspace would
//! be: the keys, values and sentences a copilot would be given.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{extract, Extraction};
use crate::memory::{Entry, Evidence, Layer, Source};

fn extract_tree(files: &[(&str, &str)]) -> Extraction {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let mut paths = Vec::new();
    for (path, text) in files {
        let full = dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|err| panic!("mkdir: {err}"));
        }
        std::fs::write(&full, text).unwrap_or_else(|err| panic!("write: {err}"));
        paths.push(PathBuf::from(path));
    }
    extract(dir.path(), &paths, "repo:test")
}

/// `key [language] = value` for every entry, sorted, for exact comparisons.
fn slots(extraction: &Extraction) -> BTreeSet<String> {
    extraction
        .entries
        .iter()
        .map(|e| {
            format!(
                "{} [{}] = {}",
                e.key.as_deref().unwrap_or("?"),
                e.language.as_deref().unwrap_or("-"),
                e.value.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

fn entry<'a>(extraction: &'a Extraction, key: &str) -> &'a Entry {
    extraction
        .entries
        .iter()
        .find(|e| e.key.as_deref() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in {:#?}", slots(extraction)))
}

/// Checks an extraction without problems: it fills every slot of `expected` ("key [language]
/// = value"), and the entries of `texts` and `examples` (by key) read as given.
fn assert_extracted(
    extraction: &Extraction,
    expected: &[&str],
    texts: &[(&str, &str)],
    examples: &[(&str, &[&str])],
) {
    assert!(extraction.problems.is_empty(), "{:?}", extraction.problems);
    let slots = slots(extraction);
    for slot in expected {
        assert!(slots.contains(*slot), "missing {slot} in {slots:#?}");
    }
    for (key, text) in texts {
        assert_eq!(entry(extraction, key).text, *text);
    }
    for (key, shown) in examples {
        assert_eq!(entry(extraction, key).examples, *shown, "{key}");
    }
}

const CARGO_WORKSPACE: &str = r#"[workspace]
resolver = "2"
members = ["server", "tests"]

[workspace.package]
edition = "2021"

[workspace.dependencies]
tokio = { version = "1", features = ["full"] }
tracing = "0.1"
tracing-subscriber = "0.3"
clap = { version = "4", features = ["derive"] }
"#;

const CI_WORKFLOW: &str = r#"name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Format
        run: cargo fmt --all -- --check
      - name: Lint
        run: cargo clippy --all-targets -- -D warnings
      - run: |
          # The whole workspace, so that the e2e crate runs too.
          cargo test --workspace
"#;

const CONTRIBUTING: &str = "# Contributing\n\nThanks!\n\n## Before you commit\n\n1. Run `cargo fmt`.\n2. Make sure `cargo test` passes.\n3. Write a clear commit message.\n\n## Code of conduct\n\n- Be kind.\n";

#[test]
fn rust_workspace_gives_stack_tools_and_procedures() {
    let extraction = extract_tree(&[
        ("Cargo.toml", CARGO_WORKSPACE),
        ("rustfmt.toml", "max_width = 100\n"),
        (".github/workflows/ci.yml", CI_WORKFLOW),
        ("CONTRIBUTING.md", CONTRIBUTING),
    ]);
    assert!(extraction.problems.is_empty(), "{:?}", extraction.problems);
    let expected: BTreeSet<String> = [
        "stack.language [rust] = rust",
        "stack.framework [rust] = clap",
        "stack.async_runtime [rust] = tokio",
        "stack.logging [rust] = tracing",
        "test.framework [rust] = cargo test",
        "format.tool [rust] = rustfmt",
        "format.max_width [rust] = 100",
        "lint.tool [rust] = clippy",
        "lint.strict [rust] = deny-warnings",
        "procedure.ci.ci.test [-] = test",
        "procedure.contributing.before-you-commit [-] = before-you-commit",
        "procedure.before-commit [-] = cargo fmt --all && cargo clippy --all-targets -- -D warnings && cargo test --workspace",
        // CI's own form: a check, where before-commit has the fix.
        "procedure.before-push [-] = cargo fmt --all -- --check && cargo clippy --all-targets -- -D warnings && cargo test --workspace",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(slots(&extraction), expected);

    let language = entry(&extraction, "stack.language");
    assert_eq!(
        language.text,
        "The project is written in Rust (edition 2021, Cargo workspace with members server, tests)."
    );
    assert_eq!(language.layer, Layer::Memory);
    assert_eq!(language.source, Source::Config);
    assert_eq!(language.examples, vec!["Cargo.toml:1"]);
    assert_eq!(language.tags, vec!["stack"]);
    assert_eq!(
        entry(&extraction, "stack.async_runtime").examples,
        vec!["Cargo.toml:9"]
    );
    assert_eq!(
        entry(&extraction, "stack.logging").text,
        "Logging uses tracing (with tracing-subscriber)."
    );
    assert_eq!(
        entry(&extraction, "format.tool").text,
        "Format Rust with rustfmt: max_width = 100."
    );
    assert_eq!(
        entry(&extraction, "format.max_width").examples,
        vec!["rustfmt.toml:1"]
    );

    let ci = entry(&extraction, "procedure.ci.ci.test");
    assert_eq!(ci.layer, Layer::Procedure);
    assert_eq!(ci.trigger.as_deref(), Some("ci"));
    assert_eq!(ci.examples, vec![".github/workflows/ci.yml:4"]);
    assert_eq!(
        ci.text,
        "CI job `test` (.github/workflows/ci.yml) runs: 1. `cargo fmt --all -- --check` 2. `cargo clippy --all-targets -- -D warnings` 3. `cargo test --workspace`."
    );
    let commands: Vec<Option<&str>> = ci.steps.iter().map(|s| s.command.as_deref()).collect();
    assert_eq!(
        commands,
        vec![
            None,
            Some("cargo fmt --all -- --check"),
            Some("cargo clippy --all-targets -- -D warnings"),
            Some("cargo test --workspace"),
        ]
    );

    let before = entry(&extraction, "procedure.before-commit");
    assert_eq!(
        before.text,
        "Before committing: 1. `cargo fmt --all` 2. `cargo clippy --all-targets -- -D warnings` 3. `cargo test --workspace`."
    );
    assert_eq!(before.trigger.as_deref(), Some("before-commit"));
    assert!((before.importance - 0.85).abs() < 1e-6);

    let contributing = entry(&extraction, "procedure.contributing.before-you-commit");
    assert_eq!(contributing.trigger.as_deref(), Some("before-commit"));
    assert_eq!(contributing.steps.len(), 3);
    assert_eq!(contributing.steps[0].command.as_deref(), Some("cargo fmt"));
    assert_eq!(contributing.examples, vec!["CONTRIBUTING.md:5"]);

    // The test framework was found in Cargo.toml, in CI and in CONTRIBUTING.md: one entry
    // with the evidence of all three.
    let tests = entry(&extraction, "test.framework");
    assert_eq!(
        tests.evidence,
        Some(Evidence {
            matching: 3,
            total: 3
        })
    );
    assert_eq!(tests.examples[0], "Cargo.toml:1");
}

#[test]
fn malformed_and_oversized_files_become_problems() {
    let big = format!(
        "{{\"name\": \"x\", \"pad\": \"{}\"}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let extraction = extract_tree(&[
        ("Cargo.toml", "[package]\nname = \"x\"\nedition = \n"),
        ("web/package.json", &big),
        ("go.mod", "module example.com/app\n\ngo 1.22\n"),
    ]);
    assert_eq!(extraction.problems.len(), 2, "{:?}", extraction.problems);
    assert!(
        extraction.problems[0].starts_with("Cargo.toml: invalid TOML at line 3:"),
        "{}",
        extraction.problems[0]
    );
    assert!(extraction.problems[1].starts_with("web/package.json: skipped, larger than 1 MiB"));
    // The rest of the workspace is still read.
    assert!(slots(&extraction).contains("stack.language [go] = go"));
}

#[test]
fn non_utf8_file_is_skipped_with_a_problem() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    std::fs::write(dir.path().join("pyproject.toml"), [0xff, 0xfe, b'[', b']'])
        .unwrap_or_else(|err| panic!("write: {err}"));
    let extraction = extract(dir.path(), &[PathBuf::from("pyproject.toml")], "repo:test");
    assert_eq!(
        extraction.problems,
        vec!["pyproject.toml: skipped, not valid UTF-8"]
    );
    assert!(extraction.entries.is_empty());
}

#[test]
fn package_json_and_tsconfig_with_comments_give_the_typescript_stack() {
    let package = r#"{
  "name": "web",
  "type": "module",
  "scripts": {
    "build": "tsc -p .",
    "test": "vitest run",
    "lint": "eslint ."
  },
  "dependencies": { "react": "^18.0.0", "express": "^4.0.0" },
  "devDependencies": { "typescript": "^5.0.0", "vitest": "^1.0.0", "prettier": "^3.0.0" },
  "prettier": { "singleQuote": true, "semi": false }
}"#;
    let tsconfig = "{\n  // Compiler settings.\n  \"compilerOptions\": {\n    \"strict\": true, /* always */\n    \"target\": \"ES2022\",\n  },\n}\n";
    let extraction = extract_tree(&[
        ("package.json", package),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
        ("tsconfig.json", tsconfig),
    ]);
    assert_extracted(
        &extraction,
        &[
            "stack.language [typescript] = typescript",
            "stack.package_manager [typescript] = pnpm",
            "stack.framework [typescript] = react",
            "stack.framework [typescript] = express",
            "test.framework [typescript] = vitest",
            "format.tool [typescript] = prettier",
            "format.quotes [typescript] = single",
            "format.semicolons [typescript] = never",
            "types.strict [typescript] = true",
            "test.command [typescript] = pnpm test",
            "lint.command [typescript] = pnpm run lint",
            "build.command [typescript] = pnpm run build",
            "procedure.npm-scripts [-] = build,lint,test",
            "procedure.before-commit [-] = pnpm run lint && pnpm test",
        ],
        &[
            (
                "stack.language",
                "The project is written in TypeScript (Node.js, ES modules).",
            ),
            (
                "types.strict",
                "TypeScript is compiled in strict mode (tsconfig.json).",
            ),
        ],
        &[
            ("types.strict", &["tsconfig.json:4"]),
            ("stack.framework", &["package.json:9"]),
        ],
    );
}

#[test]
fn pyproject_gives_the_python_stack_and_tools() {
    let pyproject = r#"[project]
name = "svc"
requires-python = ">=3.11"
dependencies = ["fastapi>=0.110", "SQLAlchemy[asyncio]>=2", "structlog"]

[project.optional-dependencies]
dev = ["pytest>=8", "mypy"]

[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "I"]

[tool.mypy]
strict = true

[tool.pytest.ini_options]
testpaths = ["tests"]
"#;
    let extraction = extract_tree(&[("pyproject.toml", pyproject)]);
    assert_extracted(
        &extraction,
        &[
            "stack.language [python] = python",
            "stack.framework [python] = fastapi",
            "stack.database [python] = sqlalchemy",
            "stack.logging [python] = structlog",
            "test.framework [python] = pytest",
            "lint.tool [python] = ruff",
            "lint.tool [python] = mypy",
            "lint.rules [python] = select:E,F,I",
            "format.line_length [python] = 100",
            "types.strict [python] = mypy:strict",
        ],
        &[(
            "stack.language",
            "The project is written in Python (Python >=3.11).",
        )],
        &[("format.line_length", &["pyproject.toml:10"])],
    );
}

#[test]
fn go_mod_gives_the_go_stack() {
    let go_mod = "module github.com/acme/api\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgithub.com/stretchr/testify v1.9.0 // indirect\n\tgo.uber.org/zap v1.27.0\n)\n";
    let extraction = extract_tree(&[("go.mod", go_mod)]);
    let expected: BTreeSet<String> = [
        "stack.language [go] = go",
        "stack.framework [go] = gin",
        "stack.logging [go] = zap",
        "format.tool [go] = gofmt",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(slots(&extraction), expected);
    assert_eq!(
        entry(&extraction, "stack.language").text,
        "The project is written in Go (go 1.22, module github.com/acme/api)."
    );
    assert_eq!(
        entry(&extraction, "stack.framework").examples,
        vec!["go.mod:6"]
    );
    // go.mod does not show how tests are run: citing `go.mod:1` for "Tests use go test"
    // was evidence that did not show the fact. The test files do (see the code scan).
    assert!(extraction.entries.iter().all(|e| !e
        .key
        .as_deref()
        .unwrap_or("")
        .starts_with("test.")));
}

#[test]
fn editorconfig_sections_fill_per_language_slots() {
    let editorconfig = "root = true\n\n[*]\nindent_style = space\nindent_size = 2\n\n[*.py]\nindent_size = 4\nindent_style = space\n\n[Makefile]\nindent_style = tab\n";
    let extraction = extract_tree(&[(".editorconfig", editorconfig)]);
    let expected: BTreeSet<String> = [
        "format.indent [-] = spaces:2",
        "format.indent [python] = spaces:4",
        "format.indent@Makefile [-] = tabs",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(slots(&extraction), expected);
    let python = extraction
        .entries
        .iter()
        .find(|e| e.language.as_deref() == Some("python"))
        .unwrap_or_else(|| panic!("no python indent"));
    assert_eq!(
        python.text,
        "Indent with 4 spaces in *.py files (.editorconfig)."
    );
    assert_eq!(python.examples, vec![".editorconfig:9"]);
}

#[test]
fn nested_manifests_add_evidence_to_one_entry() {
    let crate_manifest =
        "[package]\nname = \"a\"\nedition = \"2021\"\n\n[dependencies]\ntokio = \"1\"\n";
    let extraction = extract_tree(&[
        ("crates/b/Cargo.toml", crate_manifest),
        ("crates/a/Cargo.toml", crate_manifest),
    ]);
    let runtime = entry(&extraction, "stack.async_runtime");
    assert_eq!(
        runtime.evidence,
        Some(Evidence {
            matching: 2,
            total: 2
        })
    );
    assert_eq!(
        runtime.examples,
        vec!["crates/a/Cargo.toml:6", "crates/b/Cargo.toml:6"]
    );
    let ids: BTreeSet<&str> = extraction.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), extraction.entries.len());
}

#[test]
fn scripts_makefile_and_pre_commit_become_procedures() {
    let script = "#!/usr/bin/env bash\nset -euo pipefail\nROOT=$(pwd)\necho \"checking\"\nif [ -n \"${CI:-}\" ]; then\n  black --check .\nfi\nruff check .\npython -m pytest -q\n";
    let makefile = ".PHONY: test\ntest:\n\tpytest -q\n";
    let pre_commit = "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n";
    let extraction = extract_tree(&[
        ("scripts/check.sh", script),
        ("Makefile", makefile),
        (".pre-commit-config.yaml", pre_commit),
    ]);
    assert!(extraction.problems.is_empty(), "{:?}", extraction.problems);
    let script = entry(&extraction, "procedure.script.scripts/check.sh");
    assert_eq!(
        script.text,
        "The script `scripts/check.sh` runs: 1. `black --check .` 2. `ruff check .` 3. `python -m pytest -q`."
    );
    assert_eq!(script.trigger.as_deref(), Some("ci"));
    let make = entry(&extraction, "procedure.make.test");
    assert_eq!(make.trigger.as_deref(), Some("make:test"));
    assert_eq!(make.examples, vec!["Makefile:2"]);
    let hooks = entry(&extraction, "procedure.pre-commit");
    assert_eq!(hooks.trigger.as_deref(), Some("before-commit"));
    // Hooks outrank scripts for formatting; the script's lint and test fill the rest.
    assert_eq!(
        entry(&extraction, "procedure.before-commit").text,
        "Before committing: 1. `black .` 2. `ruff check .` 3. `python -m pytest -q`."
    );
}

#[test]
fn justfile_recipes_become_procedures_and_settings_do_not() {
    let justfile = "set shell := [\"bash\", \"-c\"]\nversion := \"1\"\n\n# Run the checks.\n@check: lint\n    cargo clippy -- -D warnings\n    cargo test\n\nlint:\n    cargo fmt --check\n";
    let extraction = extract_tree(&[("justfile", justfile)]);
    assert!(extraction.problems.is_empty(), "{:?}", extraction.problems);
    let check = entry(&extraction, "procedure.just.check");
    assert_eq!(check.trigger.as_deref(), Some("just:check"));
    let commands: Vec<_> = check
        .steps
        .iter()
        .filter_map(|s| s.command.clone())
        .collect();
    assert_eq!(commands, vec!["cargo clippy -- -D warnings", "cargo test"]);
    assert_eq!(check.examples, vec!["justfile:5"]);
    assert!(extraction
        .entries
        .iter()
        .all(|e| e.key.as_deref() != Some("procedure.just.set")));
}

#[test]
fn ruff_isort_options_become_the_import_style() {
    let found = extract_tree(&[(
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[tool.ruff.lint]\nselect = [\"E\", \"F\", \"I\"]\n\n[tool.ruff.lint.isort]\nforce-single-line = true\nknown-first-party = [\"x\"]\n",
    )]);
    let order = entry(&found, "imports.order");
    assert_eq!(
        order.value.as_deref(),
        Some("ruff-isort;force-single-line;first-party:x")
    );
    assert!(
        order
            .text
            .contains("one import per line (`force-single-line`)"),
        "{}",
        order.text
    );
    assert_eq!(order.examples, vec!["pyproject.toml:7".to_string()]);

    // Without `I` among the rules and no isort section, imports are not sorted by ruff.
    let found = extract_tree(&[("ruff.toml", "[lint]\nselect = [\"E\"]\n")]);
    assert!(!slots(&found).iter().any(|s| s.starts_with("imports.order")));
}

#[test]
fn tools_declared_only_as_dev_dependencies_are_recognised() {
    let found = extract_tree(&[(
        "package.json",
        r#"{"name": "x", "devDependencies": {"standard": "^17", "c8": "^9"}, "scripts": {"lint": "standard"}}"#,
    )]);
    let all = slots(&found);
    assert!(
        all.contains("lint.tool [javascript] = standard"),
        "{all:#?}"
    );
    assert!(all.contains("test.coverage [javascript] = c8"), "{all:#?}");
}

#[test]
fn a_pnpm_workspace_is_named_a_monorepo_with_its_packages() {
    let found = extract_tree(&[
        ("package.json", r#"{"name": "root", "private": true}"#),
        ("pnpm-workspace.yaml", "packages:\n  - packages/*\n"),
        ("packages/cli/package.json", r#"{"name": "cli"}"#),
        ("packages/core/package.json", r#"{"name": "core"}"#),
    ]);
    let language = found
        .entries
        .iter()
        .find(|e| {
            e.key.as_deref() == Some("stack.language")
                && e.examples.iter().any(|x| x.starts_with("package.json"))
        })
        .expect("the root package's stack");
    assert!(
        language
            .text
            .contains("a pnpm workspace monorepo of 2 packages under `packages/`"),
        "{}",
        language.text
    );
}

/// Every step of every procedure, for asserting what is (not) served.
fn all_steps(extraction: &Extraction) -> Vec<String> {
    extraction
        .entries
        .iter()
        .flat_map(|e| e.steps.iter().map(|s| s.text.clone()))
        .collect()
}

#[test]
fn makefile_echo_and_info_lines_are_not_steps() {
    let makefile = "test:\n\t$(info ******************** running tests ********************)\n\t@echo \"Running tests\"\n\tgo test -race ./...\n\t@printf '%s\\n' done\n\techo ok | tee out.log\n\nbanner:\n\t@echo \"tacit $(VERSION)\"\n\t$(warning deprecated target)\n";
    let extraction = extract_tree(&[("Makefile", makefile)]);
    let test = entry(&extraction, "procedure.make.test");
    let commands: Vec<_> = test
        .steps
        .iter()
        .filter_map(|s| s.command.clone())
        .collect();
    // A pipe does work, so `echo ok | tee` stays; the lines that only print go.
    assert_eq!(
        commands,
        vec!["go test -race ./...", "echo ok | tee out.log"]
    );
    assert_eq!(
        test.text,
        "`make test` runs: 1. `go test -race ./...` 2. `echo ok | tee out.log`."
    );
    // A target that only prints is no procedure at all.
    assert!(extraction
        .entries
        .iter()
        .all(|e| e.key.as_deref() != Some("procedure.make.banner")));
    assert!(all_steps(&extraction)
        .iter()
        .all(|s| !s.contains("$(info") && !s.contains("echo \"")));
}

#[test]
fn ci_lines_that_only_print_are_not_steps() {
    let workflow = "on: [push]\njobs:\n  cross:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo \"Building for $target\"\n          go build ./...\n";
    let extraction = extract_tree(&[(".github/workflows/ci.yml", workflow)]);
    let job = entry(&extraction, "procedure.ci.ci.cross");
    assert_eq!(
        job.text,
        "CI job `cross` (.github/workflows/ci.yml) runs: 1. `go build ./...`."
    );
}

#[test]
fn contributing_list_items_keep_their_wrapped_lines() {
    let contributing = "# Contributing\n\n## Before you submit a pull request\n\n1. Make sure the whole suite passes: run\n   `make all` from the repository root.\n2. Keep the change focused on\none thing.\n\n   A second paragraph of the same item.\n\nThis paragraph is not part of the list.\n";
    let extraction = extract_tree(&[("CONTRIBUTING.md", contributing)]);
    let section = entry(
        &extraction,
        "procedure.contributing.before-you-submit-a-pull-request",
    );
    let steps: Vec<(&str, Option<&str>)> = section
        .steps
        .iter()
        .map(|s| (s.text.as_str(), s.command.as_deref()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                "Make sure the whole suite passes: run `make all` from the repository root.",
                Some("make all")
            ),
            (
                "Keep the change focused on one thing. A second paragraph of the same item.",
                None
            ),
        ]
    );
    assert!(section.text.contains("`make all`"), "{}", section.text);
    assert!(
        !section.text.contains("not part of the list"),
        "{}",
        section.text
    );
}

#[test]
fn a_one_step_procedure_does_not_repeat_its_sentence_as_a_step() {
    let makefile = "lint:\n\tgolangci-lint run\n\ntest:\n\tgo vet ./...\n\tgo test ./...\n";
    let extraction = extract_tree(&[("Makefile", makefile)]);
    let lint = entry(&extraction, "procedure.make.lint");
    assert_eq!(lint.text, "`make lint` runs: 1. `golangci-lint run`.");
    assert!(lint.steps.is_empty(), "{:?}", lint.steps);
    // Two steps are more than the sentence's gist, and stay.
    assert_eq!(entry(&extraction, "procedure.make.test").steps.len(), 2);
}

#[test]
fn repository_housekeeping_jobs_are_not_procedures() {
    let stale = "name: Close stale issues\non:\n  schedule:\n    - cron: '0 0 * * *'\njobs:\n  stale:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/stale@v9\n        with:\n          days-before-stale: 30\n";
    let lock = "name: Lock closed threads\non:\n  schedule:\n    - cron: '0 0 * * *'\njobs:\n  action:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: dessant/lock-threads@v5\n";
    let labeler = "name: Labeler\non: [pull_request_target]\njobs:\n  label:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/labeler@v5\n";
    let triage = "on:\n  issues:\n    types: [opened]\njobs:\n  triage:\n    runs-on: ubuntu-latest\n    steps:\n      - run: gh issue edit \"$NUMBER\" --add-label needs-triage\n";
    let drafter = "name: Release Drafter\non:\n  push:\n    branches: [main]\njobs:\n  update_release_draft:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: release-drafter/release-drafter@v6\n";
    let automerge = "name: Dependabot auto-merge\non: pull_request\njobs:\n  dependabot:\n    runs-on: ubuntu-latest\n    if: github.actor == 'dependabot[bot]'\n    steps:\n      - uses: dependabot/fetch-metadata@v2\n      - run: gh pr merge --auto --squash \"$PR_URL\"\n";
    let welcome = "name: Greetings\non: [pull_request_target, issues]\njobs:\n  greeting:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/first-interaction@v1\n";
    let ci = "name: CI\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: go test ./...\n";
    let extraction = extract_tree(&[
        (".github/workflows/stale.yml", stale),
        (".github/workflows/lock.yml", lock),
        (".github/workflows/labeler.yml", labeler),
        (".github/workflows/triage.yml", triage),
        (".github/workflows/release-drafter.yml", drafter),
        (".github/workflows/dependabot-auto-merge.yml", automerge),
        (".github/workflows/greetings.yml", welcome),
        (".github/workflows/ci.yml", ci),
    ]);
    let ci_jobs: Vec<&str> = extraction
        .entries
        .iter()
        .filter_map(|e| e.key.as_deref())
        .filter(|k| k.starts_with("procedure.ci."))
        .collect();
    assert_eq!(ci_jobs, vec!["procedure.ci.ci.test"]);
}

#[test]
fn eslint_import_order_rules_become_the_import_style() {
    let flat = "import importPlugin from 'eslint-plugin-import'\n\nexport default [\n  {\n    rules: {\n      eqeqeq: 'error',\n      'import/order': [\n        'error',\n        {\n          alphabetize: { order: 'asc', caseInsensitive: true },\n          groups: ['builtin', 'external', ['parent', 'sibling'], 'index'],\n          'newlines-between': 'never',\n        },\n      ],\n      'sort-imports': ['error', { ignoreDeclarationSort: true }],\n    },\n  },\n]\n";
    let found = extract_tree(&[("tsconfig.json", "{}"), ("eslint.config.mjs", flat)]);
    let order = entry(&found, "imports.order");
    assert_eq!(
        order.text,
        "TypeScript imports are ordered by ESLint `import/order`: groups in this order: builtin, external, parent, sibling, index; alphabetised ascending within each group, case-insensitive; no blank line between groups (`eslint --fix` applies it)."
    );
    assert_eq!(order.language.as_deref(), Some("typescript"));
    assert_eq!(order.examples, vec!["eslint.config.mjs:7"]);

    // A JSON config that turns the rule off says nothing about import order.
    let off = r#"{"rules": {"import/order": "off", "semi": "error"}}"#;
    let found = extract_tree(&[(".eslintrc.json", off)]);
    assert!(!slots(&found).iter().any(|s| s.starts_with("imports.order")));
}

#[test]
fn golangci_formatters_and_goimports_checks_give_the_go_import_style() {
    let v2 = "version: \"2\"\nformatters:\n  enable:\n    - gofumpt\n    - goimports\n  settings:\n    goimports:\n      local-prefixes:\n        - github.com/acme/api\nlinters:\n  enable:\n    - misspell\n";
    let found = extract_tree(&[(".golangci.yml", v2)]);
    let all = slots(&found);
    assert!(all.contains("format.tool [go] = gofumpt"), "{all:#?}");
    let order = entry(&found, "imports.order");
    assert_eq!(
        order.text,
        "Go imports are grouped by goimports: the standard library first, then a blank line and the other modules, with this project's packages (github.com/acme/api) in a group of their own last (golangci-lint checks it)."
    );
    assert_eq!(order.examples, vec![".golangci.yml:5"]);

    let gci = "linters:\n  enable:\n    - gci\nlinters-settings:\n  gci:\n    sections:\n      - standard\n      - default\n      - prefix(github.com/acme)\n";
    let found = extract_tree(&[(".golangci.yaml", gci)]);
    assert_eq!(
        entry(&found, "imports.order").text,
        "Go imports are grouped by gci into sections, in this order: standard, default, prefix(github.com/acme) (golangci-lint checks it)."
    );

    // CI that runs a goimports check through a task says the same.
    let ci = "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make ensure-goimports\n";
    let found = extract_tree(&[(".github/workflows/test.yml", ci)]);
    let order = entry(&found, "imports.order");
    assert!(
        order
            .text
            .starts_with("Go imports are grouped by goimports"),
        "{}",
        order.text
    );
    assert_eq!(order.examples, vec![".github/workflows/test.yml:6"]);
}

#[test]
fn before_push_runs_what_ci_runs_in_order_next_to_the_hooks() {
    let ci = "on: [push]\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: pip install -e .\n      - run: ruff check .\n      - run: black --check .\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pytest -q\n      - run: python -m build\n";
    let hooks = "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n";
    let extraction = extract_tree(&[(".github/workflows/ci.yml", ci)]);
    let push = entry(&extraction, "procedure.before-push");
    // CI's order and CI's form; installs and builds are not checks one runs before pushing.
    assert_eq!(
        push.text,
        "Before pushing (or opening a pull request), run what CI runs, in its order: 1. `ruff check .` 2. `black --check .` 3. `python -m pytest -q`."
    );
    assert_eq!(push.trigger.as_deref(), Some("before-push"));
    assert_eq!(push.examples[0], ".github/workflows/ci.yml:8");

    let extraction = extract_tree(&[
        (".github/workflows/ci.yml", ci),
        (".pre-commit-config.yaml", hooks),
    ]);
    assert!(
        entry(&extraction, "procedure.before-push").text.ends_with(
            " The pre-commit hooks already run `black --check .` on each commit; `ruff check .`, `python -m pytest -q` only CI runs."
        ),
        "{}",
        entry(&extraction, "procedure.before-push").text
    );

    // No CI: nothing is said about pushing.
    let extraction = extract_tree(&[(".pre-commit-config.yaml", hooks)]);
    assert!(!slots(&extraction)
        .iter()
        .any(|s| s.starts_with("procedure.before-push")));
}

#[test]
fn a_sphinx_makefiles_builders_are_one_procedure() {
    let makefile = "SPHINXBUILD   = sphinx-build\nBUILDDIR      = _build\n\nhelp:\n\t@echo \"Please use make TARGET\"\n\nclean:\n\trm -rf $(BUILDDIR)/*\n\nhtml:\n\t$(SPHINXBUILD) -b html $(ALLSPHINXOPTS) $(BUILDDIR)/html\n\t@echo \"Build finished.\"\n\ndirhtml:\n\t$(SPHINXBUILD) -b dirhtml $(ALLSPHINXOPTS) $(BUILDDIR)/dirhtml\n\nlatexpdf:\n\t$(SPHINXBUILD) -b latex $(ALLSPHINXOPTS) $(BUILDDIR)/latex\n\t$(MAKE) -C $(BUILDDIR)/latex all-pdf\n\nepub:\n\t$(SPHINXBUILD) -b epub $(ALLSPHINXOPTS) $(BUILDDIR)/epub\n";
    let extraction = extract_tree(&[("docs/Makefile", makefile)]);
    let html = entry(&extraction, "procedure.make.html@docs");
    assert_eq!(
        html.text,
        "`make html` in `docs/` runs: 1. `$(SPHINXBUILD) -b html $(ALLSPHINXOPTS) $(BUILDDIR)/html`. \
         The other Sphinx builders run the same way: `make dirhtml`, `make latexpdf`, \
         `make epub` (3 targets)."
    );
    let keys: Vec<&str> = extraction
        .entries
        .iter()
        .filter_map(|e| e.key.as_deref())
        .filter(|k| k.starts_with("procedure.make."))
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "html stands for the builders, clean is its own: {keys:?}"
    );
    assert!(keys.contains(&"procedure.make.clean@docs"), "{keys:?}");

    // Two builders are not boilerplate enough to fold.
    let small = "html:\n\t$(SPHINXBUILD) -b html . _build/html\n\nlatex:\n\t$(SPHINXBUILD) -b latex . _build/latex\n";
    let extraction = extract_tree(&[("docs/Makefile", small)]);
    assert!(entry(&extraction, "procedure.make.latex@docs")
        .text
        .starts_with("`make latex` in `docs/` runs"));
}

#[test]
fn a_makefile_among_the_tests_is_one_procedure_that_makes_test_data() {
    let certs = "all: server.pem\n\nserver.key:\n\topenssl genrsa -out $@ 2048\n\nserver.pem: server.key\n\topenssl req -x509 -key $< -out $@\n\nclean:\n\trm -f server.*\n";
    let root = "test:\n\tpython -m pytest tests\n\nclean:\n\trm -rf build\n";
    let extraction = extract_tree(&[
        ("Makefile", root),
        ("tests/certs/server/Makefile", certs),
        ("tests/data/justfile", "gen:\n    python gen.py\n"),
    ]);
    // just has no `-C`: its step changes directory first.
    assert_eq!(
        entry(&extraction, "procedure.just@tests/data").steps[0]
            .command
            .as_deref(),
        Some("cd tests/data && just gen")
    );
    let made = entry(&extraction, "procedure.make@tests/certs/server");
    assert_eq!(
        made.text,
        "`tests/certs/server/Makefile` makes test data: `make server.key`, `make server.pem` \
         and `make clean`, run in `tests/certs/server/`."
    );
    assert_eq!(
        made.steps
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>(),
        vec![
            "`make server.key` runs `openssl genrsa -out $@ 2048`",
            "`make server.pem` runs `openssl req -x509 -key $< -out $@`",
            "`make clean` runs `rm -f server.*`",
        ]
    );
    assert_eq!(
        made.steps[2].command.as_deref(),
        Some("make -C tests/certs/server clean")
    );
    // The project's own `make clean` is the root one, and the only one.
    let cleans: Vec<&str> = extraction
        .entries
        .iter()
        .filter(|e| e.text.contains("`make clean` runs"))
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(cleans, vec!["`make clean` runs: 1. `rm -rf build`."]);
}
