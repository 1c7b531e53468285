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
            "errors.library[rust] = libraries:thiserror (1/1)",
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
            "async.callbacks[typescript] = promises (5/5)",
            "declarations[typescript] = const (5/5)",
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
            "declarations[javascript] = const (10/10)",
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
            "declarations[go] = := (13/13)",
            "docs.coverage[go] = documented (6/6)",
            "errors.sentinel[go] = sentinel (2/2)",
            "errors.wrapping[go] = %w (5/5)",
            "format.final_newline[go] = yes (4/4)",
            "format.indent[go] = tabs (4/4)",
            "format.line_endings[go] = lf (4/4)",
            "format.line_length[go] = 80 (117/117)",
            "naming.function[go] = MixedCaps (11/11)",
            "naming.variable[go] = MixedCaps (23/23)",
            "test.framework[go] = go test (2/2)",
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
fn an_edit_recounts_one_file_and_writes_what_changed_in_value_or_counts() {
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

    // One more snake_case function moves the counts, not the convention: the same entry is
    // written again with its new evidence, and once written, nothing is left to write.
    write(
        "a.py",
        &(functions(|i| format!("load_item_{i}")) + "def load_all():\n    pass\n"),
    );
    let report = index.update(registry, root, &[PathBuf::from("a.py")]);
    assert_eq!(report.files_parsed, 1);
    let moved = index.changed_entries("repo:t");
    let recounted = moved
        .iter()
        .find(|e| e.key.as_deref() == Some("naming.function"))
        .expect("the moved count is written");
    let before = first
        .iter()
        .find(|e| e.key.as_deref() == Some("naming.function"))
        .unwrap();
    assert_eq!(recounted.id, before.id);
    assert_eq!(recounted.value.as_deref(), Some("snake_case"));
    assert!(recounted.text.contains("19 of 19"), "{}", recounted.text);
    index.mark_written(&moved);
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
        .map(grammars::Grammar::whole_tree)
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

/// The conventions of a workspace made of `files` (path, text): every memory as
/// `key[language] = value (matching/total)` → its sentence.
fn habits(files: &[(&str, String)]) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut paths = Vec::new();
    for (path, text) in files {
        let at = root.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, text).unwrap();
        paths.push(PathBuf::from(path));
    }
    let (index, _) = CodeIndex::scan(registry().unwrap(), root, &paths, &[], 1 << 20, &|_, _| {});
    index
        .entries("repo:t")
        .iter()
        .map(|e| {
            let ev = e.evidence.unwrap_or_default();
            let line = format!(
                "{}[{}] = {} ({}/{})",
                e.key.as_deref().unwrap_or(""),
                e.language.as_deref().unwrap_or(""),
                e.value.as_deref().unwrap_or(""),
                ev.matching,
                ev.total
            );
            (line, e.text.clone())
        })
        .collect()
}

/// The sentence of the memory whose line starts with `prefix`; fails when there is none.
fn said<'m>(found: &'m BTreeMap<String, String>, prefix: &str) -> (&'m str, &'m str) {
    found
        .iter()
        .find(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .unwrap_or_else(|| panic!("no {prefix} among {:#?}", found.keys()))
}

fn as_refs(files: &[(String, String)]) -> Vec<(&str, String)> {
    files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect()
}

fn numbered(n: usize, f: impl Fn(usize) -> String) -> String {
    (0..n).map(f).collect()
}

#[test]
fn declarations_const_dominant_const_and_let_and_mixed() {
    let found = habits(&[(
        "a.js",
        numbered(9, |i| format!("const a{i} = {i}\n")) + "let b = 1\n",
    )]);
    let (line, text) = said(&found, "declarations[javascript]");
    assert_eq!(line, "declarations[javascript] = const (9/10)");
    assert!(text.contains("declarations use `const`"), "{text}");
    assert!(text.contains("Exceptions: `a.js:10`"), "{text}");

    let found = habits(&[(
        "a.ts",
        numbered(6, |i| format!("const a{i} = {i}\n"))
            + &numbered(4, |i| format!("let b{i} = {i}\n")),
    )]);
    let (line, text) = said(&found, "declarations[typescript]");
    assert_eq!(line, "declarations[typescript] = const+let (10/10)");
    assert!(text.contains("never `var`: const 60%, let 40%"), "{text}");

    let found = habits(&[(
        "a.js",
        numbered(5, |i| format!("const a{i} = {i}\n"))
            + &numbered(5, |i| format!("var b{i} = {i}\n")),
    )]);
    let (line, text) = said(&found, "declarations[javascript]");
    assert_eq!(line, "declarations[javascript] = mixed (5/10)");
    assert!(
        text.contains("declarations are mixed: const 50%, var 50%"),
        "{text}"
    );
}

#[test]
fn go_short_declarations_against_var_in_function_bodies() {
    let body = |short: usize, long: usize| {
        format!(
            "package p\n\nvar Global = 1\n\nfunc f() {{\n{}{}}}\n",
            numbered(short, |i| format!("\ta{i} := {i}\n")),
            numbered(long, |i| format!("\tvar b{i} int\n"))
        )
    };
    let found = habits(&[("p.go", body(9, 1))]);
    let (line, text) = said(&found, "declarations[go]");
    // The package-level `var Global` is not a case: it has no `:=` form.
    assert_eq!(line, "declarations[go] = := (9/10)");
    assert!(text.contains("with `:=` rather than `var`"), "{text}");
    let found = habits(&[("p.go", body(3, 3))]);
    assert_eq!(
        said(&found, "declarations[go]").0,
        "declarations[go] = mixed (3/6)"
    );
}

#[test]
fn catch_parameter_names_dominant_and_mixed() {
    let catch = |name: &str| format!("try {{ f() }} catch ({name}) {{ g({name}) }}\n");
    let found = habits(&[("a.js", numbered(5, |_| catch("err")))]);
    let (line, text) = said(&found, "naming.catch_parameter[javascript]");
    assert_eq!(line, "naming.catch_parameter[javascript] = err (5/5)");
    assert!(
        text.contains("catch clauses name the exception `err`"),
        "{text}"
    );
    let found = habits(&[(
        "a.js",
        numbered(3, |_| catch("err")) + &numbered(3, |_| catch("e")),
    )]);
    let (line, text) = said(&found, "naming.catch_parameter[javascript]");
    assert_eq!(line, "naming.catch_parameter[javascript] = mixed (3/6)");
    assert!(
        text.contains("catch-clause parameter names are mixed"),
        "{text}"
    );

    let java = |name: &str| {
        format!("class A {{ void f() {{ try {{ g(); }} catch (Exception {name}) {{ }} }} }}\n")
    };
    let found = habits(&[
        ("A.java", numbered(4, |_| java("e"))),
        ("B.java", java("ignored")),
    ]);
    let (line, text) = said(&found, "naming.catch_parameter[java]");
    assert_eq!(line, "naming.catch_parameter[java] = e (4/5)");
    assert!(text.contains("Exceptions: `B.java:1`"), "{text}");
}

#[test]
fn go_receivers_one_letter_and_consistent_or_mixed() {
    let method = |recv: &str, ty: &str, i: usize| format!("func ({recv} *{ty}) M{i}() {{}}\n");
    let found = habits(&[(
        "r.go",
        "package p\n\n".to_string() + &numbered(5, |i| method("r", "Router", i)),
    )]);
    let (line, text) = said(&found, "naming.receiver[go]");
    assert_eq!(line, "naming.receiver[go] = one-letter (5/5)");
    assert!(
        text.contains("receivers are named with one letter"),
        "{text}"
    );
    assert!(
        text.contains("1 of 1 types use the same receiver name"),
        "{text}"
    );
    let found = habits(&[(
        "r.go",
        "package p\n\n".to_string()
            + &numbered(3, |i| method("r", "Router", i))
            + &numbered(3, |i| method("router", "Mux", i + 10)),
    )]);
    assert_eq!(
        said(&found, "naming.receiver[go]").0,
        "naming.receiver[go] = mixed (3/6)"
    );
}

#[test]
fn a_rust_unit_test_module_in_its_own_file_is_test_code() {
    // `#[cfg(test)] mod tests;` puts the unit tests in `tests.rs` beside the code: their
    // unwraps are not the library's error handling.
    let library = numbered(5, |i| {
        format!("pub fn f{i}(s: &str) -> Result<u32, std::num::ParseIntError> {{\n    let n = s.parse::<u32>()?;\n    Ok(n)\n}}\n\n")
    });
    let unit_tests = numbered(8, |i| {
        format!(
            "#[test]\nfn parses_{i}() {{\n    assert_eq!(super::f{i}(\"1\").unwrap(), 1);\n}}\n\n"
        )
    });
    let found = habits(&[
        ("src/lib.rs", library + "#[cfg(test)]\nmod tests;\n"),
        ("src/tests.rs", unit_tests),
    ]);
    assert_eq!(
        said(&found, "errors.propagation[rust]").0,
        "errors.propagation[rust] = ? (5/5)"
    );
}

#[test]
fn test_files_and_assertion_libraries() {
    let pytest = |i: usize| format!("def test_{i}():\n    assert f() == {i}\n");
    let unit = |i: usize| {
        format!("import unittest\n\nclass T(unittest.TestCase):\n    def test_{i}(self):\n        self.assertEqual(f(), {i})\n")
    };
    let mut files: Vec<(String, String)> = (0..4)
        .map(|i| (format!("tests/test_{i}.py"), pytest(i)))
        .collect();
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "test.assertions[python]");
    assert_eq!(line, "test.assertions[python] = plain assert (4/4)");
    assert!(text.contains("tests assert with plain assert"), "{text}");
    let (line, text) = said(&found, "naming.test_file[python]");
    assert_eq!(line, "naming.test_file[python] = test_*.py (4/4)");
    assert!(text.contains("test files are named `test_*.py`"), "{text}");

    files.extend((0..3).map(|i| (format!("tests/unit_{i}_test.py"), unit(i))));
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "test.assertions[python]");
    assert_eq!(line, "test.assertions[python] = mixed (4/7)");
    assert!(
        text.contains("plain assert 57%, unittest assertions 43%"),
        "{text}"
    );
    assert_eq!(
        said(&found, "naming.test_file[python]").0,
        "naming.test_file[python] = mixed (4/7)"
    );

    let node = |i: usize| {
        format!("import {{ test }} from 'node:test'\nimport assert from 'node:assert'\ntest('t{i}', () => {{ assert.ok(1) }})\n")
    };
    let files: Vec<(String, String)> = (0..3)
        .map(|i| (format!("tests/t{i}.test.js"), node(i)))
        .collect();
    let found = habits(&as_refs(&files));
    assert_eq!(
        said(&found, "test.assertions[javascript]").0,
        "test.assertions[javascript] = node:assert (3/3)"
    );
    assert_eq!(
        said(&found, "naming.test_file[javascript]").0,
        "naming.test_file[javascript] = *.test.js (3/3)"
    );
}

#[test]
fn python_raises_own_classes_or_built_ins() {
    let raises = |own: usize, builtin: usize| {
        "class ParseError(Exception):\n    pass\n\n".to_string()
            + &numbered(own, |i| format!("def f{i}():\n    raise ParseError('x')\n"))
            + &numbered(builtin, |i| {
                format!("def g{i}():\n    raise ValueError('x')\n")
            })
            + "def h():\n    raise\n"
    };
    let found = habits(&[("lib.py", raises(5, 1))]);
    let (line, text) = said(&found, "errors.raises[python]");
    assert_eq!(line, "errors.raises[python] = custom (5/6)");
    assert!(text.contains("raises its own exception classes"), "{text}");
    let found = habits(&[("lib.py", raises(3, 3))]);
    let (line, text) = said(&found, "errors.raises[python]");
    assert_eq!(line, "errors.raises[python] = mixed (3/6)");
    assert!(text.contains("raised exceptions are mixed"), "{text}");
}

#[test]
fn license_headers_dominant_mixed_and_absent() {
    let file = |holder: &str, year: u32| {
        format!("/*\n * Copyright (C) {year} {holder}\n *\n * Licensed under the Apache License.\n */\npackage p;\nclass A {{}}\n")
    };
    let found = habits(&[
        ("A.java", file("Google Inc.", 2008)),
        ("B.java", file("Google Inc.", 2011)),
        ("C.java", file("Google Inc.", 2015)),
        ("D.java", file("Google Inc.", 2020)),
        ("E.java", "package p;\nclass E {}\n".into()),
    ]);
    let (line, text) = said(&found, "headers.license[java]");
    assert_eq!(line, "headers.license[java] = Google Inc (4/5)");
    assert!(
        text.contains("start with the license header `Copyright <year> Google Inc.`"),
        "{text}"
    );
    assert!(text.contains("Exceptions: `E.java:1`"), "{text}");

    let found = habits(&[
        ("A.java", file("Google Inc.", 2008)),
        ("B.java", file("Google Inc.", 2011)),
        ("C.java", file("Square, Inc.", 2015)),
        ("D.java", file("Square, Inc.", 2016)),
    ]);
    let (line, text) = said(&found, "headers.license[java]");
    assert_eq!(line, "headers.license[java] = mixed (2/4)");
    assert!(text.contains("license headers are mixed"), "{text}");

    let found = habits(&[
        ("A.java", "class A {}\n".into()),
        ("B.java", "class B {}\n".into()),
        ("C.java", file("Google Inc.", 2008)),
    ]);
    assert!(
        !found.keys().any(|k| k.starts_with("headers.license")),
        "{found:#?}"
    );
}

#[test]
fn rust_error_handling_is_split_by_crate_kind() {
    let found = habits(&[
        (
            "cli/src/main.rs",
            "use anyhow::Result;\nfn main() -> Result<()> { Ok(()) }\n".into(),
        ),
        (
            "core/src/lib.rs",
            "#[derive(thiserror::Error, Debug)]\npub enum E {}\n".into(),
        ),
        (
            "fmt/src/lib.rs",
            "pub struct E;\nimpl std::error::Error for E {}\n".into(),
        ),
    ]);
    let (line, text) = said(&found, "errors.library[rust]");
    assert_eq!(
        line,
        "errors.library[rust] = binaries:anyhow;libraries:mixed (1/3)"
    );
    assert!(
        text.contains("binaries handle errors with anyhow (1 of 1 binaries)"),
        "{text}"
    );
    assert!(
        text.contains("error handling in libraries is mixed"),
        "{text}"
    );

    let found = habits(&[
        (
            "src/main.rs",
            "mod walk;\nfn main() -> anyhow::Result<()> { Ok(()) }\n".into(),
        ),
        ("src/walk.rs", "use anyhow::Context;\n".into()),
    ]);
    let (_, text) = said(&found, "errors.library[rust]");
    assert!(
        text.contains("binaries handle errors with anyhow"),
        "{text}"
    );
}

#[test]
fn a_language_confined_to_one_directory_is_scoped_to_it() {
    let ts = |i: usize| format!("export const a{i} = {i}\nexport const b{i} = {i}\n");
    let mut files: Vec<(String, String)> = (0..3)
        .map(|i| (format!("editors/vscode/src/f{i}.ts"), ts(i)))
        .collect();
    files.push(("editors/vscode/test/t.ts".into(), ts(9)));
    files.extend((0..3).map(|i| (format!("src/m{i}.rs"), format!("pub fn f{i}() {{}}\n"))));
    files.push(("build.rs".into(), "fn main() {}\n".into()));
    let found = habits(&as_refs(&files));
    let (_, text) = said(&found, "declarations[typescript]");
    assert!(
        text.ends_with("(TypeScript is written only under `editors/vscode/`.)"),
        "{text}"
    );
    let (_, text) = said(&found, "format.final_newline[rust]");
    assert!(!text.contains("written only under"), "{text}");
}

#[test]
fn a_fact_configured_and_measured_is_served_once_with_both_evidences() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("go.mod", "module example.com/app\n\ngo 1.22\n");
    write(
        ".github/workflows/ci.yml",
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: go test ./...\n",
    );
    write(
        "app_test.go",
        "package app\n\nimport \"testing\"\n\nfunc TestRun(t *testing.T) {\n\tif Run() != 1 {\n\t\tt.Fatal(\"want 1\")\n\t}\n}\n",
    );
    write(
        "app.go",
        "package app\n\n// Run returns one.\nfunc Run() int {\n\treturn 1\n}\n",
    );
    let files: Vec<PathBuf> = [
        "go.mod",
        ".github/workflows/ci.yml",
        "app_test.go",
        "app.go",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let mut config = crate::config::extract(root, &files, "repo:t").entries;
    let framework = |entries: &[Entry]| -> Vec<Entry> {
        entries
            .iter()
            .filter(|e| e.key.as_deref() == Some("test.framework"))
            .cloned()
            .collect()
    };
    // Before: CI says "Tests use go test." and the scan says it again with counts.
    assert_eq!(framework(&config).len(), 1, "{config:?}");
    let registry = registry().unwrap();
    let (mut index, _) = CodeIndex::scan(registry, root, &files, &[], 1 << 20, &|_, _| {});
    index.absorb_config("repo:t", &mut config);
    assert!(framework(&config).is_empty(), "{config:?}");
    let served = framework(&index.entries("repo:t"));
    assert_eq!(served.len(), 1);
    assert_eq!(
        served[0].text,
        "Go tests use go test (1 of 1 test files). Also stated in `.github/workflows/ci.yml:6`."
    );
    assert_eq!(
        served[0].examples,
        vec!["app_test.go:3", ".github/workflows/ci.yml:6"]
    );
    // An incremental update keeps the stated evidence on the measured entry.
    write(
        "more_test.go",
        "package app\n\nimport \"testing\"\n\nfunc TestMore(t *testing.T) {}\n",
    );
    index.update(registry, root, &[PathBuf::from("more_test.go")]);
    let changed = framework(&index.changed_entries("repo:t"));
    assert!(
        changed.iter().all(|e| e.text.contains("Also stated in")),
        "{changed:?}"
    );
}

#[test]
fn regression_tests_alongside_their_feature_or_in_a_place_of_their_own() {
    let test = |name: &str, cite: &str| {
        format!(
            "package app\n\nimport \"testing\"\n\n// {cite}\nfunc Test{name}(t *testing.T) {{}}\n"
        )
    };
    let mut files: Vec<(String, String)> = vec![
        (
            "flag_test.go".into(),
            test("Flag", "Regression test for #1301"),
        ),
        (
            "help_test.go".into(),
            test("Help", "See https://github.com/o/r/issues/42"),
        ),
        ("parse_test.go".into(), test("Parse", "Test for issue 212.")),
        // Neither a colour nor a derive nor a one-digit number is an issue.
        (
            "other_test.go".into(),
            test("Other", "colour #ffaa00, step #1"),
        ),
    ];
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "test.regressions[go]");
    assert_eq!(line, "test.regressions[go] = alongside (3/3)");
    assert!(
        text.contains("regression tests go into the test file of the code they fix"),
        "{text}"
    );

    files.extend((0..3).map(|i| {
        (
            format!("regression/issue{i}_test.go"),
            test(&format!("Issue{i}"), &format!("Issue #{}", 100 + i)),
        )
    }));
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "test.regressions[go]");
    assert_eq!(line, "test.regressions[go] = mixed (3/6)");
    assert!(
        text.contains("regression test locations are mixed"),
        "{text}"
    );
}

#[test]
fn rust_inline_tests_cite_issues_only_inside_the_test_module() {
    let file = |i: usize, where_: &str| {
        let code = if where_ == "code" {
            "// Works around #4711.\n"
        } else {
            ""
        };
        let test = if where_ == "test" {
            "    // Regression test for #4711.\n"
        } else {
            ""
        };
        format!("{code}pub fn f{i}() -> u8 {{ 1 }}\n\n#[cfg(test)]\nmod tests {{\n{test}    #[test]\n    fn one() {{ assert_eq!(super::f{i}(), 1); }}\n}}\n")
    };
    let files: Vec<(String, String)> = (0..3)
        .map(|i| (format!("src/m{i}.rs"), file(i, "test")))
        .chain((3..6).map(|i| (format!("src/m{i}.rs"), file(i, "code"))))
        .collect();
    let found = habits(&as_refs(&files));
    assert_eq!(
        said(&found, "test.regressions[rust]").0,
        "test.regressions[rust] = alongside (3/3)"
    );
}

#[test]
fn go_errors_are_matched_with_errors_is_or_directly() {
    let is = |i: usize| {
        format!("package app\n\nimport \"errors\"\n\nfunc F{i}(err error) bool {{\n\tvar pe *PathError\n\treturn errors.Is(err, ErrGone) || errors.As(err, &pe)\n}}\n")
    };
    let direct = |i: usize| {
        format!("package app\n\nimport \"io\"\n\nfunc G{i}(err error) bool {{\n\t_, ok := err.(*PathError)\n\treturn ok || err == io.EOF || err != nil\n}}\n")
    };
    // `err != nil` is no match against a particular error.
    dominant_then_mixed(
        (0..3).map(|i| (format!("is{i}.go"), is(i))).collect(),
        (0..3)
            .map(|i| (format!("direct{i}.go"), direct(i)))
            .collect(),
        "errors.matching[go]",
        (
            "errors.Is/As (6/6)",
            "matches errors with errors.Is / errors.As",
        ),
        ("mixed (6/12)", "ways of matching errors are mixed"),
    );
}

/// `first` alone gives `slot` the dominant line and a text with its phrase; with `second`
/// added, the mixed line and phrase.
fn dominant_then_mixed(
    first: Vec<(String, String)>,
    second: Vec<(String, String)>,
    slot: &str,
    dominant: (&str, &str),
    mixed: (&str, &str),
) {
    let mut files = first;
    for (added, (value, phrase)) in [(Vec::new(), dominant), (second, mixed)] {
        files.extend(added);
        let found = habits(&as_refs(&files));
        let (line, text) = said(&found, slot);
        assert_eq!(line, format!("{slot} = {value}"));
        assert!(text.contains(phrase), "{text}");
    }
}

#[test]
fn middleware_error_idioms_are_counted_in_code_and_tests() {
    let koa = |i: usize| {
        format!("app.use(async (ctx, next) => {{\n  if (!ctx.user) ctx.throw(401, 'login first {i}')\n  ctx.throw(403)\n}})\n")
    };
    let express = |i: usize| {
        format!("app.use((req, res, next) => {{\n  load({i}, (err, user) => {{\n    if (err) return next(err)\n  }})\n}})\n")
    };
    dominant_then_mixed(
        (0..3)
            .map(|i| (format!("test/throw{i}.test.js"), koa(i)))
            .collect(),
        (0..4)
            .map(|i| (format!("lib/load{i}.js"), express(i)))
            .collect(),
        "errors.middleware[javascript]",
        (
            "ctx.throw (6/6)",
            "reports HTTP errors with `ctx.throw(status, message)`",
        ),
        ("mixed (6/10)", "middleware error idioms are mixed"),
    );
}

#[test]
fn go_import_groups_are_measured_from_the_code() {
    let grouped = |i: usize| {
        format!("package p\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\n\t\"github.com/acme/x\"\n\t// the project's own\n\t\"example.com/p/y\"\n)\n\nfunc F{i}() {{ fmt.Println(http.StatusOK, x.A, y.B) }}\n")
    };
    let together = |i: usize| {
        format!("package p\n\nimport (\n\t\"fmt\"\n\t\"github.com/acme/x\"\n)\n\nfunc G{i}() {{ fmt.Println(x.A) }}\n")
    };
    // Only the standard library: nothing to separate, not a case.
    let std_only =
        "package p\n\nimport (\n\t\"fmt\"\n\n\t\"os\"\n)\n\nfunc H() { fmt.Println(os.Args) }\n";
    let mut files: Vec<(String, String)> =
        (0..4).map(|i| (format!("g{i}.go"), grouped(i))).collect();
    files.push(("only.go".into(), std_only.into()));
    files.push(("t0.go".into(), together(0)));
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "imports.grouping[go]");
    assert_eq!(line, "imports.grouping[go] = separated (4/5)");
    assert!(
        text.contains(
            "Go files group their imports: the standard library first, then a blank line"
        ),
        "{text}"
    );
    assert!(text.contains("Exceptions: `t0.go:3`"), "{text}");

    files.extend((1..4).map(|i| (format!("t{i}.go"), together(i))));
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "imports.grouping[go]");
    assert_eq!(line, "imports.grouping[go] = mixed (4/8)");
    assert!(
        text.contains("Go import groupings are mixed: separated 50%, together 50%"),
        "{text}"
    );
}

#[test]
fn error_first_callbacks_against_promises() {
    let callbacks = |i: usize| {
        format!("fs.readFile('a{i}', function (err, data) {{\n  if (err) return done(err)\n}})\nload({i}, (error, rows) => use(rows))\n")
    };
    let promises = |i: usize| {
        format!("async function f{i}() {{\n  const a = await load({i})\n  // await in a comment is no case\n  return fetch(a).then(r => r.json())\n}}\n")
    };
    let mut files: Vec<(String, String)> = (0..3)
        .map(|i| (format!("lib/cb{i}.js"), callbacks(i)))
        .collect();
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "async.callbacks[javascript]");
    assert_eq!(
        line,
        "async.callbacks[javascript] = error-first callbacks (6/6)"
    );
    assert!(
        text.contains("passes Node-style error-first callbacks, `function (err, result)`"),
        "{text}"
    );

    files.extend((0..3).map(|i| (format!("lib/p{i}.js"), promises(i))));
    let found = habits(&as_refs(&files));
    let (line, text) = said(&found, "async.callbacks[javascript]");
    assert_eq!(line, "async.callbacks[javascript] = mixed (6/12)");
    assert!(text.contains("asynchronous styles are mixed"), "{text}");

    let found = habits(&[
        ("src/a.ts", numbered(5, promises)),
        ("src/b.ts", callbacks(4)),
    ]);
    let (line, text) = said(&found, "async.callbacks[typescript]");
    assert_eq!(line, "async.callbacks[typescript] = promises (10/12)");
    assert!(text.contains("Exceptions: `src/b.ts:1`"), "{text}");
    assert!(
        text.contains("uses promises (async/await, .then)"),
        "{text}"
    );
}

#[test]
fn a_habit_that_differs_between_directories_is_stated_per_directory() {
    let single = |i: usize| format!("const a{i} = 'x'\n");
    let double = |i: usize| format!("const b{i} = \"y\"\n");
    let found = habits(&[
        ("src/a.js", numbered(8, single)),
        ("test/a.test.js", numbered(6, double)),
    ]);
    let (line, text) = said(&found, "format.quotes[javascript]");
    assert_eq!(
        line,
        "format.quotes[javascript] = src:single;test:double (14/14)"
    );
    assert!(
        text.starts_with("JavaScript string quotes differ by directory."),
        "{text}"
    );
    assert!(
        text.contains("`src/`: JavaScript strings use single quotes (8 of 8)."),
        "{text}"
    );
    assert!(
        text.contains("`test/`: JavaScript strings use double quotes (6 of 6)."),
        "{text}"
    );

    // A directory that is itself mixed: the repository-wide split is what holds.
    let found = habits(&[
        ("src/a.js", numbered(8, single)),
        (
            "test/a.test.js",
            numbered(4, double) + &numbered(4, |i| single(i + 20)),
        ),
    ]);
    let (line, text) = said(&found, "format.quotes[javascript]");
    assert_eq!(line, "format.quotes[javascript] = mixed (12/16)");
    assert!(
        text.contains("string quotes are mixed: single 75%, double 25%"),
        "{text}"
    );
}

/// A publication carries the per-file counts of a commit; read back, they must give exactly
/// the conventions (values, counts, examples) the counting process found, and a refused
/// path or an oversized name is an error, never a panic.
#[test]
fn counts_read_back_from_their_portable_form_give_the_same_conventions() {
    let registry = registry().unwrap();
    for name in ["code-rust", "code-python", "code-typescript", "polyglot"] {
        let root = fixture(name);
        let walk = crate::workspace::walk(&root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
        let (index, _) = CodeIndex::scan(registry, &root, &walk.files, &[], 1 << 20, &|_, _| {});
        let portable = index.portable();
        assert_eq!(portable.files.len(), index.file_count(), "{name}");
        let json = serde_json::to_string(&portable).unwrap();
        let (back, unknown) =
            CodeIndex::from_portable(registry, serde_json::from_str(&json).unwrap(), &[], 1 << 20)
                .unwrap();
        assert!(unknown.is_empty(), "{name}: {unknown:?}");
        let shown = |i: &CodeIndex| {
            let mut lines: Vec<String> = i
                .entries("repo:t")
                .iter()
                .map(|e| format!("{} {:?} {:?}", e.text, e.evidence, e.examples))
                .collect();
            lines.sort();
            lines
        };
        assert!(!shown(&index).is_empty(), "{name}");
        assert_eq!(shown(&back), shown(&index), "{name}");
        assert_eq!(back.portable(), portable, "{name}");
    }

    let file = |path: &str, key: String| PortableFile {
        path: path.into(),
        language: "rust".into(),
        tallies: vec![(key, "snake_case".into(), 1, vec![1])],
        line_lengths: vec![],
        longest: (0, 0),
    };
    let read = |f: PortableFile| {
        CodeIndex::from_portable(registry, PortableCounts { files: vec![f] }, &[], 1 << 20)
            .map(|(i, unknown)| (i.file_count(), unknown))
    };
    assert!(matches!(
        read(file("../outside.rs", "naming.function".into())),
        Err(CountsError::Path(_))
    ));
    assert!(matches!(
        read(file("/etc/x.rs", "naming.function".into())),
        Err(CountsError::Path(_))
    ));
    assert!(matches!(
        read(file("a.rs", "k".repeat(500))),
        Err(CountsError::NameTooLong(500))
    ));
    let mut cobol = file("a.cbl", "naming.function".into());
    cobol.language = "cobol".into();
    assert_eq!(read(cobol).unwrap(), (0, vec![PathBuf::from("a.cbl")]));
}
