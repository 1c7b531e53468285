//! The fixture repositories under `tests/fixtures/code-*` produce exactly the expected
//! convention memories; the mixed ones say mixed.

use std::path::{Path, PathBuf};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// One line per memory: `key[language] = value (matching/total)`, sorted.
fn conventions(name: &str) -> Vec<String> {
    let root = fixture(name);
    let walk = crate::workspace::walk(&root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
    let registry = registry().unwrap();
    let (index, report) = CodeIndex::scan(registry, &root, &walk.files, &[], 1 << 20, &|_, _| {});
    assert!(report.files_parsed > 0, "{report:?}");
    let mut lines: Vec<String> = index
        .entries("repo:test")
        .iter()
        .map(|e| {
            let ev = e.evidence.unwrap_or_default();
            format!(
                "{}[{}] = {} ({}/{})",
                e.key.as_deref().unwrap_or(""),
                e.language.as_deref().unwrap_or(""),
                e.value.as_deref().unwrap_or(""),
                ev.matching,
                ev.total
            )
        })
        .collect();
    lines.sort();
    lines
}

fn check(name: &str, expected: &[&str]) {
    let found = conventions(name);
    assert_eq!(found, expected, "{name}: the conventions found differ");
}

#[test]
fn rust_fixture() {
    check(
        "code-rust",
        &[
            "docs.coverage[rust] = documented (9/9)",
            "errors.propagation[rust] = ? (5/5)",
            "format.final_newline[rust] = yes (4/4)",
            "format.indent[rust] = spaces:4 (4/4)",
            "format.line_endings[rust] = lf (4/4)",
            "format.line_length[rust] = 80 (109/111)",
            "imports.nesting[rust] = flat (6/7)",
            "naming.function[rust] = snake_case (12/12)",
            "naming.test[rust] = descriptive (5/5)",
            "naming.variable[rust] = snake_case (13/13)",
            // Unit tests inline in two files, integration tests in tests/: both habits.
            "test.placement[rust] = mixed (2/3)",
            "types.visibility[rust] = pub (11/12)",
        ],
    );
}

#[test]
fn python_fixture_with_mixed_function_names() {
    check(
        "code-python",
        &[
            "docs.coverage[python] = documented (9/10)",
            "docs.style[python] = google (6/6)",
            "errors.custom[python] = custom-classes (2/2)",
            "format.final_newline[python] = yes (6/6)",
            "format.indent[python] = spaces:4 (5/5)",
            "format.line_endings[python] = lf (6/6)",
            "format.line_length[python] = 80 (108/109)",
            "format.quotes[python] = double (19/19)",
            "naming.file[python] = snake_case (6/6)",
            "naming.function[python] = mixed (8/14)",
            "test.framework[python] = pytest (2/2)",
            "test.placement[python] = tests/ (2/2)",
            "types.annotations[python] = annotated (7/8)",
        ],
    );
    let root = fixture("code-python");
    let walk = crate::workspace::walk(&root, &[], 1 << 20);
    let (index, _) = CodeIndex::scan(
        registry().unwrap(),
        &root,
        &walk.files,
        &[],
        1 << 20,
        &|_, _| {},
    );
    let mixed = index
        .entries("repo:test")
        .into_iter()
        .find(|e| e.key.as_deref() == Some("naming.function"))
        .unwrap();
    assert_eq!(
        mixed.text,
        "Python function names are mixed: snake_case 57%, camelCase 29%, lower 14% (of 14)."
    );
    assert_eq!(mixed.examples.len(), 3, "{:?}", mixed.examples);
}

#[test]
fn typescript_fixture() {
    check(
        "code-typescript",
        &[
            "docs.coverage[typescript] = documented (10/11)",
            "errors.custom[typescript] = custom-classes (2/2)",
            "format.final_newline[typescript] = yes (6/6)",
            "format.indent[typescript] = spaces:2 (6/6)",
            "format.line_endings[typescript] = lf (6/6)",
            "format.line_length[typescript] = 80 (105/107)",
            "format.quotes[typescript] = single (49/49)",
            "format.semicolons[typescript] = none (32/32)",
            "format.trailing_commas[typescript] = trailing (5/5)",
            "imports.paths[typescript] = relative (5/5)",
            "naming.function[typescript] = camelCase (7/7)",
            "naming.type[typescript] = PascalCase (5/5)",
            "test.framework[typescript] = vitest (2/2)",
            "test.placement[typescript] = colocated (2/2)",
            "types.any[typescript] = specific (22/22)",
        ],
    );
}

#[test]
fn javascript_fixture() {
    check(
        "code-javascript",
        &[
            "errors.custom[javascript] = custom-classes (2/2)",
            "format.final_newline[javascript] = yes (4/4)",
            "format.indent[javascript] = spaces:4 (4/4)",
            "format.line_endings[javascript] = lf (4/4)",
            "format.line_length[javascript] = 80 (69/70)",
            "format.quotes[javascript] = double (20/20)",
            "format.semicolons[javascript] = semicolons (38/38)",
            "naming.function[javascript] = camelCase (6/6)",
            "test.framework[javascript] = jest (1/1)",
        ],
    );
}

#[test]
fn go_fixture() {
    check(
        "code-go",
        &[
            "docs.coverage[go] = documented (6/6)",
            "errors.sentinel[go] = sentinel (2/2)",
            "errors.wrapping[go] = %w (5/5)",
            "format.final_newline[go] = yes (4/4)",
            "format.indent[go] = tabs (4/4)",
            "format.line_endings[go] = lf (4/4)",
            "format.line_length[go] = 80 (117/117)",
            "naming.function[go] = MixedCaps (11/11)",
            "naming.variable[go] = MixedCaps (23/23)",
            "test.framework[go] = go test+testify (2/2)",
        ],
    );
}

#[test]
fn java_fixture() {
    check(
        "code-java",
        &[
            "docs.coverage[java] = documented (6/7)",
            "format.final_newline[java] = yes (3/3)",
            "format.indent[java] = spaces:4 (3/3)",
            "format.line_endings[java] = lf (3/3)",
            "format.line_length[java] = 80 (69/70)",
            "imports.wildcard[java] = explicit (7/7)",
            "naming.file[java] = PascalCase (3/3)",
            "naming.function[java] = camelCase (7/7)",
            "naming.variable[java] = camelCase (6/6)",
            "test.framework[java] = JUnit 5 (1/1)",
        ],
    );
}

#[test]
fn an_edit_recounts_one_file_and_only_a_new_dominant_value_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    let functions = |style: fn(usize) -> String| {
        (0..6)
            .map(|i| format!("def {}():\n    return {i}\n\n\n", style(i)))
            .collect::<String>()
    };
    write("a.py", &functions(|i| format!("load_item_{i}")));
    write("b.py", &functions(|i| format!("save_item_{i}")));
    write("c.py", &functions(|i| format!("drop_item_{i}")));
    let files: Vec<PathBuf> = ["a.py", "b.py", "c.py"].iter().map(PathBuf::from).collect();
    let registry = registry().unwrap();
    let (mut index, _) = CodeIndex::scan(registry, root, &files, &[], 1 << 20, &|_, _| {});
    let first = index.entries("repo:t");
    index.mark_written(&first);
    let naming = |entries: &[Entry]| {
        entries
            .iter()
            .find(|e| e.key.as_deref() == Some("naming.function"))
            .and_then(|e| e.value.clone())
    };
    assert_eq!(naming(&first).as_deref(), Some("snake_case"));

    // One more snake_case function moves the counts, not the convention: nothing to write.
    write(
        "a.py",
        &(functions(|i| format!("load_item_{i}")) + "def load_all():\n    pass\n"),
    );
    let report = index.update(registry, root, &[PathBuf::from("a.py")]);
    assert_eq!(report.files_parsed, 1);
    assert!(index.changed_entries("repo:t").is_empty());

    // Two files turn camelCase: 12 of 19 names, so the memory now says mixed.
    write("b.py", &functions(|i| format!("saveItem{i}")));
    write("c.py", &functions(|i| format!("dropItem{i}")));
    index.update(
        registry,
        root,
        &[PathBuf::from("b.py"), PathBuf::from("c.py")],
    );
    let changed = index.changed_entries("repo:t");
    assert_eq!(naming(&changed).as_deref(), Some("mixed"), "{changed:?}");
    assert!(changed
        .iter()
        .all(|e| e.key.as_deref() == Some("naming.function")));
    index.mark_written(&changed);

    // A deleted file drops out of the counts.
    std::fs::remove_file(root.join("a.py")).unwrap();
    index.update(registry, root, &[PathBuf::from("a.py")]);
    assert_eq!(index.file_count(), 2);
    let changed = index.changed_entries("repo:t");
    assert_eq!(
        naming(&changed).as_deref(),
        Some("camelCase"),
        "{changed:?}"
    );
}

#[test]
fn binary_generated_and_minified_files_are_not_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("ok.js"), "const a = 1;\n").unwrap();
    std::fs::write(root.join("blob.js"), b"\x00\x01binary").unwrap();
    std::fs::write(root.join("latin1.py"), b"x = '\xe9'\n").unwrap();
    std::fs::write(
        root.join("schema.rs"),
        "// @generated by a tool. Do not edit.\nfn x() {}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("bundle.js"),
        format!("{}\n", "var a=1;".repeat(400)),
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), "not source").unwrap();
    let files: Vec<PathBuf> = [
        "ok.js",
        "blob.js",
        "latin1.py",
        "schema.rs",
        "bundle.js",
        "notes.txt",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let (index, report) =
        CodeIndex::scan(registry().unwrap(), root, &files, &[], 1 << 20, &|_, _| {});
    assert_eq!(report.files_parsed, 1);
    assert_eq!(index.file_count(), 1);
    let skipped: Vec<(&str, usize)> = report
        .skipped
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        skipped,
        [
            ("binary", 1),
            ("generated", 1),
            ("minified", 1),
            ("notUtf8", 1)
        ]
    );
}

/// Every source file under `root` counted with its grammar's plan and with the same query run
/// over the whole tree; the two must agree to the last example line.
fn planned_and_whole_tree_agree(root: &Path) -> usize {
    let registry = registry().unwrap();
    let walk = crate::workspace::walk(root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
    let whole_tree: Vec<grammars::Grammar> = registry
        .grammars
        .iter()
        .map(|g| {
            let (_, source) = grammars::QUERIES
                .iter()
                .find(|(id, _)| *id == g.id)
                .unwrap();
            grammars::Grammar {
                id: g.id,
                language: g.language,
                ts_language: g.ts_language.clone(),
                query: tree_sitter::Query::new(&g.ts_language, source).unwrap(),
                plan: None,
            }
        })
        .collect();
    let mut planned_worker = analyze::Worker::new();
    let mut whole_worker = analyze::Worker::new();
    let mut compared = 0;
    for rel in &walk.files {
        let shown = slash(rel);
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            continue;
        };
        let Some(index) = registry.for_file(&shown, text.lines().next().unwrap_or("")) else {
            continue;
        };
        let planned = planned_worker.analyze(index, &registry.grammars[index], &shown, &text);
        let whole = whole_worker.analyze(index, &whole_tree[index], &shown, &text);
        assert_eq!(planned, whole, "{shown}");
        compared += 1;
    }
    compared
}

#[test]
fn a_planned_query_finds_what_a_whole_tree_run_finds() {
    let mut compared = 0;
    for name in [
        "code-rust",
        "code-python",
        "code-typescript",
        "code-javascript",
        "code-go",
        "code-java",
        "polyglot",
    ] {
        compared += planned_and_whole_tree_agree(&fixture(name));
    }
    compared +=
        planned_and_whole_tree_agree(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path());
    assert!(compared > 50, "{compared}");
}
