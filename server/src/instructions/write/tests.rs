//! Writing each format and reading it back: the same rules, byte-identical on a second run,
//! hand-written text kept, contradictions reported, the budget kept.

use super::*;
use crate::instructions::formats;
use crate::instructions::read::{read_all, Origin};
use crate::memory::{Evidence, Step};

fn fact(
    source: Source,
    key: &str,
    language: Option<&str>,
    value: &str,
    text: &str,
    importance: f32,
    evidence: (u32, u32),
) -> Entry {
    let mut e = Entry::extracted("repo:t", Layer::Memory, source, key, language, value, text);
    e.importance = importance;
    e.evidence = Some(Evidence {
        matching: evidence.0,
        total: evidence.1,
    });
    e.examples = vec!["src/lib.rs:3".into()];
    e
}

fn memory() -> Vec<Entry> {
    let mut before_commit = Entry::extracted(
        "repo:t",
        Layer::Procedure,
        Source::Config,
        "procedure.before-commit",
        None,
        "cargo fmt && cargo test",
        "Before committing, format and test.",
    );
    before_commit.importance = 0.85;
    before_commit.trigger = Some("before-commit".into());
    before_commit.steps = vec![
        Step {
            text: "Format".into(),
            command: Some("cargo fmt --all".into()),
        },
        Step {
            text: "Test".into(),
            command: Some("cargo test".into()),
        },
    ];
    before_commit.examples = vec![".github/workflows/ci.yml:12".into()];
    let mut superseded = fact(
        Source::Code,
        "naming.type",
        Some("rust"),
        "camelCase",
        "Old rule that was replaced.",
        0.9,
        (3, 3),
    );
    superseded.status = Status::Superseded;
    vec![
        fact(
            Source::Config,
            "stack.package_manager",
            Some("typescript"),
            "pnpm",
            "Install dependencies and run scripts with pnpm (pnpm-lock.yaml).",
            0.6,
            (1, 1),
        ),
        fact(
            Source::Code,
            "format.indent",
            Some("rust"),
            "spaces:4",
            "Rust files indent with 4 spaces (40 of 41).",
            0.5,
            (40, 41),
        ),
        fact(
            Source::Code,
            "naming.function",
            Some("rust"),
            "snake_case",
            "Rust functions are named in snake_case (120 of 120).",
            0.55,
            (120, 120),
        ),
        fact(
            Source::Code,
            "format.indent",
            Some("typescript"),
            "spaces:2",
            "TypeScript files indent with 2 spaces (9 of 9).",
            0.5,
            (9, 9),
        ),
        fact(
            Source::History,
            "commit.style",
            None,
            "conventional",
            "Commit subjects follow Conventional Commits (90 of 100).",
            0.7,
            (90, 100),
        ),
        fact(
            Source::Code,
            "naming.variable",
            Some("python"),
            "mixed",
            "Python variable names are mixed.",
            0.4,
            (5, 9),
        ),
        fact(
            Source::Instructions,
            "instructions",
            None,
            "x",
            "A rule read from an instruction file.",
            0.9,
            (1, 1),
        ),
        superseded,
        before_commit,
    ]
}

const BEFORE: &str = "# Team rules\n\n- Prefer small pull requests.\n\n";
const AFTER: &str = "\n\nAsk before adding a dependency.\n";

fn around(text: &str) -> (&str, &str) {
    let start = text.find(BEGIN).expect("a tacit section");
    let end = text.find(END).expect("its end") + END.len();
    (&text[..start], &text[end..])
}

#[test]
fn every_format_round_trips_and_a_second_write_changes_nothing() {
    for target in Target::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let (general, front) = target.general_file();
        let existing = format!("{front}{BEFORE}{BEGIN}\n- A stale rule.\n{END}{AFTER}");
        std::fs::create_dir_all(root.join(general).parent().unwrap()).unwrap();
        std::fs::write(root.join(general), &existing).unwrap();

        let plan = plan(root, target, &memory(), DEFAULT_BUDGET);
        assert!(
            plan.conflicts.is_empty(),
            "{target:?}: {:?}",
            plan.conflicts
        );
        apply(root, &plan).unwrap();

        // Hand-written text before and after the section survives byte for byte.
        let written = std::fs::read_to_string(root.join(general)).unwrap();
        assert_eq!(
            around(&written),
            (format!("{front}{BEFORE}").as_str(), AFTER),
            "{target:?}"
        );

        // Reading the files back yields the rules written, and the hand-written ones.
        let files: Vec<std::path::PathBuf> =
            plan.files.iter().map(|f| f.path.clone().into()).collect();
        let reading = read_all(root, &files);
        assert!(
            reading.problems.is_empty(),
            "{target:?}: {:?}",
            reading.problems
        );
        let mut all_rules = Vec::new();
        for file in &plan.files {
            let doc = reading
                .documents
                .iter()
                .find(|d| d.rel == file.path)
                .unwrap();
            let tacit: Vec<String> = doc
                .rules
                .iter()
                .filter(|r| r.origin == Origin::Tacit)
                .map(|r| r.text.clone())
                .collect();
            assert_eq!(tacit, file.rules, "{target:?} {}", file.path);
            all_rules.extend(tacit);
            if file.path == general {
                let hand: Vec<&str> = doc.hand_rules().map(|r| r.text.as_str()).collect();
                assert_eq!(
                    hand,
                    [
                        "Prefer small pull requests.",
                        "Ask before adding a dependency."
                    ]
                );
            }
        }
        let joined = all_rules.join("\n");
        for expected in [
            "Install dependencies and run scripts with pnpm",
            "Rust functions are named in snake_case (120 of 120).",
            "Before committing, format and test. 1. `cargo fmt --all` 2. `cargo test`",
            "_(90/100, src/lib.rs:3)_",
        ] {
            assert!(
                joined.contains(expected),
                "{target:?}: {expected} missing from {joined}"
            );
        }
        for absent in [
            "mixed",
            "read from an instruction file",
            "Old rule",
            "A stale rule",
        ] {
            assert!(!joined.contains(absent), "{target:?}: {absent} in {joined}");
        }

        // Per-language rules go to glob-scoped files where the tool has them.
        if target.scopes_by_glob() {
            let rust = reading
                .documents
                .iter()
                .find(|d| d.rel.contains("rust"))
                .unwrap_or_else(|| panic!("{target:?}: no Rust file in {files:?}"));
            assert_eq!(
                formats::scope_language(&rust.scope),
                Some("rust"),
                "{target:?}"
            );
            assert!(rust.rules.iter().any(|r| r.text.contains("snake_case")));
        } else {
            assert_eq!(plan.files.len(), 1);
            assert!(written.contains("## Rust conventions"), "{written}");
        }

        // Idempotent: the same memory writes the same bytes.
        let again = super::plan(root, target, &memory(), DEFAULT_BUDGET);
        assert!(again.files.iter().all(|f| !f.changed), "{target:?}");
        for (a, b) in plan.files.iter().zip(&again.files) {
            assert_eq!(a.content, b.content);
        }
    }
}

#[test]
fn a_rule_that_contradicts_a_hand_written_one_is_reported_not_written() {
    let tmp = tempfile::tempdir().unwrap();
    let hand = "- Install dependencies with `npm install`.\n- Indent Rust with 2 spaces.\n";
    std::fs::write(tmp.path().join("AGENTS.md"), hand).unwrap();
    let plan = plan(tmp.path(), Target::Agents, &memory(), DEFAULT_BUDGET);
    let reported: Vec<(usize, &str)> = plan
        .conflicts
        .iter()
        .map(|c| (c.line, c.measured.as_str()))
        .collect();
    assert_eq!(
        reported,
        [
            (
                1,
                "Install dependencies and run scripts with pnpm (pnpm-lock.yaml)."
            ),
            (2, "Rust files indent with 4 spaces (40 of 41)."),
        ]
    );
    let content = &plan.files[0].content;
    assert!(content.starts_with(hand));
    assert!(!content.contains("with pnpm"), "{content}");
    // TypeScript's 2 spaces agree with nothing written by hand and is written.
    assert!(
        content.contains("TypeScript files indent with 2 spaces"),
        "{content}"
    );
}

#[test]
fn the_budget_keeps_the_most_important_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let budget = 110;
    let plan = plan(tmp.path(), Target::Claude, &memory(), budget);
    let file = &plan.files[0];
    assert!(file.tokens <= budget, "{} tokens", file.tokens);
    assert!(file.left_out > 0);
    assert!(
        file.rules[..]
            .iter()
            .any(|r| r.starts_with("Before committing")),
        "{:?}",
        file.rules
    );
    assert!(
        !file.rules.iter().any(|r| r.contains("TypeScript")),
        "{:?}",
        file.rules
    );
}

#[test]
fn a_section_never_closed_is_left_alone_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("AGENTS.md"),
        format!("intro\n{BEGIN}\n- x\n"),
    )
    .unwrap();
    let plan = plan(tmp.path(), Target::Agents, &memory(), DEFAULT_BUDGET);
    assert!(plan.files.is_empty());
    assert_eq!(
        plan.problems,
        [format!("AGENTS.md: the tacit section opened on line 2 is never closed with `{END}`; left alone")]
    );
}

#[test]
fn splicing_adds_or_replaces_and_keeps_every_other_byte() {
    let block = format!("{BEGIN}\nnew\n{END}");
    assert_eq!(
        splice(None, "F\n", &block).unwrap(),
        format!("F\n{block}\n")
    );
    assert_eq!(
        splice(Some("a"), "", &block).unwrap(),
        format!("a\n\n{block}\n")
    );
    assert_eq!(
        splice(Some("a\n"), "", &block).unwrap(),
        format!("a\n\n{block}\n")
    );
    let crlf = format!("x\r\n{BEGIN}\r\nold\r\n{END}\r\ny");
    assert_eq!(
        splice(Some(&crlf), "", &block).unwrap(),
        format!("x\r\n{block}\r\ny")
    );
}
