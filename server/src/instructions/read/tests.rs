//! Reading every format of `tests/fixtures/instructions/formats`: rules, lines, scopes,
//! procedures, and the malformed file reported instead of read.

use std::path::{Path, PathBuf};

use super::*;
use crate::instructions::formats::Activation;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/instructions")
        .join(name)
}

fn read_fixture(name: &str) -> Reading {
    let root = fixture(name);
    let walk = crate::workspace::walk(&root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
    read_all(&root, &walk.files)
}

fn doc<'a>(reading: &'a Reading, rel: &str) -> &'a Document {
    reading
        .documents
        .iter()
        .find(|d| d.rel == rel)
        .unwrap_or_else(|| panic!("{rel} not read: {:?}", reading.problems))
}

fn texts(doc: &Document) -> Vec<(usize, &str)> {
    doc.rules
        .iter()
        .map(|r| (r.line, r.text.as_str()))
        .collect()
}

#[test]
fn every_format_of_the_fixture_is_read_with_its_rules_and_lines() {
    let reading = read_fixture("formats");
    let expected: &[(&str, &[(usize, &str)])] = &[
        (
            "AGENTS.md",
            &[
                (
                    7,
                    "Log with `tracing`; never use `println!` in library code.",
                ),
                (
                    8,
                    "Name test functions after the behaviour they check, in plain words.",
                ),
                (
                    11,
                    "Before committing: 1. `cargo fmt --all` 2. `cargo test --workspace`",
                ),
                (
                    16,
                    "Errors must cross module boundaries as thiserror enums.",
                ),
                (16, "Keep functions short."),
            ],
        ),
        (
            "web/AGENTS.md",
            &[(3, "Components are function components with hooks.")],
        ),
        (
            "CLAUDE.md",
            &[
                (5, "Prefer small pull requests."),
                (
                    6,
                    "Before you push, run `cargo clippy --all-targets` and `cargo test`.",
                ),
            ],
        ),
        (
            ".github/copilot-instructions.md",
            &[
                (1, "Answer in British English."),
                (2, "Use `anyhow` only in the binary."),
            ],
        ),
        (
            ".github/instructions/rust.instructions.md",
            &[(5, "Propagate errors with `?`.")],
        ),
        (
            ".cursor/rules/typescript.mdc",
            &[(6, "Use `const` unless a binding is reassigned.")],
        ),
        (
            ".cursor/rules/general.mdc",
            &[(6, "Keep the README in sync with the commands.")],
        ),
        (
            ".cursorrules",
            &[(1, "Always write doc comments on public items.")],
        ),
        (".windsurfrules", &[(1, "Avoid `unsafe` code.")]),
        (".windsurf/rules/go.md", &[(5, "Wrap errors with `%w`.")]),
        (
            ".clinerules/testing.md",
            &[(1, "Put integration tests under `tests/`.")],
        ),
        (
            ".continue/rules/python.md",
            &[(6, "Annotate every public function.")],
        ),
        (
            "CONVENTIONS.md",
            &[
                (3, "Use snake_case for functions."),
                (4, "Use PascalCase for types."),
            ],
        ),
    ];
    for (rel, rules) in expected {
        assert_eq!(texts(doc(&reading, rel)), rules.to_vec(), "{rel}");
    }
    assert_eq!(reading.documents.len(), expected.len());
}

#[test]
fn scopes_come_from_frontmatter_and_nesting() {
    let reading = read_fixture("formats");
    let scope = |rel| &doc(&reading, rel).scope;
    assert_eq!(scope("web/AGENTS.md").dir, "web");
    assert_eq!(scope("AGENTS.md").dir, "");
    assert_eq!(
        scope(".github/instructions/rust.instructions.md").globs,
        vec!["**/*.rs"]
    );
    assert_eq!(
        scope(".cursor/rules/typescript.mdc").globs,
        vec!["*.ts", "*.tsx"]
    );
    assert_eq!(
        scope(".cursor/rules/general.mdc").activation,
        Activation::Always
    );
    assert_eq!(scope(".windsurf/rules/go.md").globs, vec!["**/*.go"]);
    assert_eq!(scope(".continue/rules/python.md").globs, vec!["**/*.py"]);

    let entries = entries(&reading, "repo:test");
    let of = |text: &str| {
        entries
            .iter()
            .find(|e| e.text == text)
            .unwrap_or_else(|| panic!("no entry {text}"))
    };
    let rust = of("Propagate errors with `?`.");
    assert_eq!(rust.language.as_deref(), Some("rust"));
    assert_eq!(rust.paths, vec!["**/*.rs"]);
    assert_eq!(
        rust.examples,
        vec![".github/instructions/rust.instructions.md:5"]
    );
    assert_eq!(rust.source, Source::Instructions);
    assert!(rust.importance > 0.85, "above every mined fact");
    let web = of("Components are function components with hooks.");
    assert_eq!(web.paths, vec!["web/"]);
    assert_eq!(web.language, None);
    assert_eq!(web.tags, vec!["instructions", "agents"]);
}

#[test]
fn a_section_or_sentence_of_steps_becomes_a_procedure() {
    let reading = read_fixture("formats");
    let entries = entries(&reading, "repo:test");
    let procedures: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.layer == Layer::Procedure)
        .collect();
    assert_eq!(procedures.len(), 2, "{procedures:#?}");
    let section = procedures
        .iter()
        .find(|e| e.examples == ["AGENTS.md:11"])
        .expect("the Before committing section");
    assert_eq!(section.trigger.as_deref(), Some("before-commit"));
    let commands: Vec<&str> = section
        .steps
        .iter()
        .filter_map(|s| s.command.as_deref())
        .collect();
    assert_eq!(commands, ["cargo fmt --all", "cargo test --workspace"]);
    let sentence = procedures
        .iter()
        .find(|e| e.examples == ["CLAUDE.md:6"])
        .expect("the sentence of CLAUDE.md");
    assert_eq!(sentence.trigger.as_deref(), Some("before-push"));
    assert_eq!(sentence.steps.len(), 2);
}

#[test]
fn malformed_frontmatter_is_a_problem_on_its_line_and_the_rest_is_read() {
    let reading = read_fixture("formats");
    assert_eq!(
        reading.problems,
        vec![Problem {
            file: ".github/instructions/broken.instructions.md".into(),
            line: 2,
            message: "expected `key: value` in the frontmatter, found `applyTo \"**/*.py\"`".into(),
        }]
    );
    assert!(reading
        .unread
        .contains(".github/instructions/broken.instructions.md"));
    assert!(reading.documents.iter().all(|d| !d.rel.contains("broken")));
}

#[test]
fn garbage_never_panics() {
    for text in [
        "---",
        "---\n---",
        "---\n: x\n---",
        "```\nunclosed fence",
        "<!-- unclosed comment",
        "- \n-\n*",
        "1.\n2)\n",
        "\u{feff}é `x",
        "<!-- tacit:begin -->\n- x",
    ] {
        for format in [Format::Agents, Format::Cursor, Format::CopilotScoped] {
            let _ = parse("x.md", format, text.to_string());
        }
    }
}

#[test]
fn tacit_s_own_section_is_read_apart_and_never_stored() {
    let text = "- Hand rule one.\n<!-- tacit:begin -->\n## Conventions\n- Tacit rule _(3/4)_\n<!-- tacit:end -->\nAfter the block, use tabs.\n";
    let doc = parse("AGENTS.md", Format::Agents, text.into()).unwrap();
    let hand: Vec<&str> = doc.hand_rules().map(|r| r.text.as_str()).collect();
    assert_eq!(hand, ["Hand rule one.", "After the block, use tabs."]);
    let tacit: Vec<&str> = doc
        .rules
        .iter()
        .filter(|r| r.origin == Origin::Tacit)
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(tacit, ["Tacit rule _(3/4)_"]);
    let reading = Reading {
        documents: vec![doc],
        ..Default::default()
    };
    assert_eq!(entries(&reading, "s").len(), 2);
}

#[test]
fn a_rule_deleted_from_its_file_is_retired_and_an_unread_file_keeps_its_rules() {
    let before = parse(
        "AGENTS.md",
        Format::Agents,
        "- Keep this rule.\n- Delete this rule.\n".into(),
    )
    .unwrap();
    let old = entries(
        &Reading {
            documents: vec![before],
            ..Default::default()
        },
        "s",
    );
    let after = Reading {
        documents: vec![parse("AGENTS.md", Format::Agents, "- Keep this rule.\n".into()).unwrap()],
        ..Default::default()
    };
    let produced: HashSet<String> = entries(&after, "s").into_iter().map(|e| e.id).collect();
    let gone = retired(old.clone(), &produced, &after);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].text, "Delete this rule.");
    assert_eq!(gone[0].status, Status::Expired);
    let mut unread = Reading::default();
    unread.unread.insert("AGENTS.md".into());
    assert!(retired(old, &HashSet::new(), &unread).is_empty());
}
