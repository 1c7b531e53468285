//! Code conventions end to end: the CLI on a polyglot repository the test writes, and a saved
//! edit that flips a dominant convention, superseding its memory within a second, restorable
//! after.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::client::{self, Server, ServerBuilder};
use super::{entries, fixture_repo};

/// A polyglot repository: a Rust crate (25 files) whose functions are snake_case and
/// propagate errors with `?`, a TypeScript front end whose functions are camelCase and catch
/// errors, and test fixtures in camelCase Rust that describe another project.
fn polyglot_repository(tmp: &Path) -> std::path::PathBuf {
    let root = tmp.join("app");
    let write = |path: &str, text: String| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "server/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n".into(),
    );
    let mut modules = String::new();
    for i in 0..24 {
        modules.push_str(&format!("pub mod part_{i};\n"));
        write(
            &format!("server/src/part_{i}.rs"),
            format!(
                "use std::fs;\n\n\
                 pub fn read_part_{i}(path: &str) -> std::io::Result<String> {{\n    \
                     let text = fs::read_to_string(path)?;\n    Ok(text)\n}}\n\n\
                 pub fn parse_part_{i}(text: &str) -> Result<u32, std::num::ParseIntError> {{\n    \
                     let n = text.trim().parse::<u32>()?;\n    Ok(n + {i})\n}}\n"
            ),
        );
    }
    write("server/src/lib.rs", modules);
    for i in 0..12 {
        write(
            &format!("web/src/view{i}.ts"),
            format!(
                "export function renderView{i}(name: string): string {{\n  \
                   try {{\n    return name.toUpperCase();\n  }} catch (err) {{\n    \
                   console.error(err);\n    return '';\n  }}\n}}\n"
            ),
        );
    }
    for i in 0..30 {
        write(
            &format!("tests/fixtures/legacy/src/old{i}.rs"),
            format!(
                "pub fn readLegacyPart{i}() -> u32 {{\n    std::env::args().count() as u32\n}}\n"
            ),
        );
    }
    crate::git(&root, &["init", "-q", "-b", "main"]);
    crate::git(&root, &["add", "-A"]);
    crate::git(&root, &["commit", "-qm", "Start the app"]);
    root.canonicalize().unwrap()
}

#[test]
fn cli_states_a_polyglot_repositorys_rust_naming_and_error_conventions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = polyglot_repository(tmp.path());
    let store = tmp.path().join("store");
    let run = |args: &[&str]| client::run_cli(&store, &root, args);
    let indexed = run(&["index", "--json"]);
    let report: Value = serde_json::from_str(&indexed).unwrap();
    // The fixtures' 30 files are not the project's code.
    assert_eq!(report["code"]["languages"]["rust"], 25, "{report:#}");
    // Asked from a Rust file, as a copilot editing one asks: the repository also holds
    // TypeScript whose naming and error conventions answer the question too, and without the
    // file the Rust ones compete with them for the slots.
    let context = run(&[
        "context",
        "--file",
        "server/src/lib.rs",
        "how do we name functions and handle errors?",
    ]);
    assert!(
        context.contains("Rust functions are named in snake_case"),
        "{context}"
    );
    assert!(
        context.contains("Rust code propagates errors with `?`"),
        "{context}"
    );
    // Evidence travels with the statement: the crate's 48 functions, none of the fixtures'.
    assert!(
        context.contains("Rust functions are named in snake_case (48 of 48)"),
        "{context}"
    );

    // Fixtures describe other projects: none of their files is evidence here.
    let listed = run(&["list", "--json", "--key", "naming.function"]);
    let list: Value = serde_json::from_str(&listed).unwrap();
    let examples: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .chain(list["entries"].as_array().into_iter().flatten())
        .flat_map(|e| e["examples"].as_array().cloned().unwrap_or_default())
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    assert!(!examples.is_empty(), "{listed}");
    assert!(
        examples.iter().all(|x| !x.contains("fixtures/")),
        "{examples:?}"
    );
}

fn initialize_watching(server: &mut Server, root: &Path) {
    let uri = format!("file://{}", root.display());
    server
        .request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": "fixture"}],
                "initializationOptions": {},
                "capabilities": {
                    "window": {"workDoneProgress": true},
                    "workspace": {
                        "configuration": true,
                        "workspaceFolders": true,
                        "didChangeWatchedFiles": {"dynamicRegistration": true}
                    }
                }
            }),
        )
        .expect("initialize");
    server.notify("initialized", json!({}));
}

/// The active memory of a slot, for TypeScript.
fn active(server: &mut Server, key: &str) -> Value {
    let list = server.ok(
        "tacit.list",
        json!({"keyPrefix": key, "statuses": ["active"], "language": "typescript"}),
    );
    let found: Vec<Value> = entries(&list)
        .into_iter()
        .filter(|e| e["key"] == key && e["source"] == "code")
        .collect();
    assert_eq!(found.len(), 1, "one active {key} memory expected: {list:#}");
    found.into_iter().next().unwrap()
}

/// Waits on the store's change notifications until `id` is superseded; returns how long it
/// took.
fn wait_superseded(server: &mut Server, id: &str, since: Instant) -> Duration {
    server.wait_for_store(|server| {
        let entry = server.ok("tacit.get", json!({"id": id}));
        (entry["status"] == "superseded").then(|| since.elapsed())
    })
}

#[test]
fn a_saved_edit_that_flips_a_convention_supersedes_it_and_restore_brings_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "code-typescript");
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs")).start();
    initialize_watching(&mut server, &root);
    server.wait_indexed(0);
    let status = server.ok("tacit.status", json!({}));
    let last = &status["lastIndex"][0];
    assert_eq!(last["code"]["languages"]["typescript"], 6, "{status:#}");
    assert!(last["code"]["durationMs"].is_u64(), "{status:#}");
    // Parsing reported its progress as files were done, within its share of the bar.
    let parsing: Vec<u64> = server
        .notifications
        .iter()
        .filter(|n| n["method"] == "$/progress")
        .filter(|n| {
            n["params"]["value"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("parsed"))
        })
        .filter_map(|n| n["params"]["value"]["percentage"].as_u64())
        .collect();
    assert!(!parsing.is_empty(), "{:#?}", server.notifications);
    assert!(parsing.iter().all(|p| (5..=55).contains(p)), "{parsing:?}");

    let quotes = active(&mut server, "format.quotes");
    assert_eq!(quotes["value"], "single");
    let quotes_id = quotes["id"].as_str().unwrap().to_string();

    // api.ts holds about half of the strings: writing them with double quotes leaves no
    // dominant style, and the memory must say so.
    let api = root.join("src/api.ts");
    let original = std::fs::read_to_string(&api).unwrap();
    std::fs::write(&api, original.replace('\'', "\"")).unwrap();
    let saved = Instant::now();
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": format!("file://{}", api.display())}}),
    );
    let took = wait_superseded(&mut server, &quotes_id, saved);
    let now = active(&mut server, "format.quotes");
    assert_eq!(now["value"], "mixed", "{now:#}");
    assert!(
        now["text"].as_str().unwrap().contains("single")
            && now["text"].as_str().unwrap().contains("double"),
        "{now:#}"
    );
    let old = server.ok("tacit.get", json!({"id": quotes_id}));
    assert_eq!(old["supersededBy"], now["id"]);
    eprintln!("quotes memory superseded {took:?} after the save");

    // An unrelated convention was not rewritten by the update.
    let indent = active(&mut server, "format.indent");
    assert_eq!(indent["value"], "spaces:2");

    // The same through a watched-files notification: semicolons.
    let semicolons = active(&mut server, "format.semicolons");
    assert_eq!(semicolons["value"], "none");
    let with_semicolons: String = std::fs::read_to_string(&api)
        .unwrap()
        .lines()
        .map(|l| {
            let t = l.trim_end();
            if t.ends_with(')') || t.ends_with('\'') || t.ends_with('"') || t.ends_with(']') {
                format!("{t};\n")
            } else {
                format!("{t}\n")
            }
        })
        .collect();
    std::fs::write(&api, with_semicolons).unwrap();
    let changed = Instant::now();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": format!("file://{}", api.display()), "type": 2}]}),
    );
    wait_superseded(&mut server, semicolons["id"].as_str().unwrap(), changed);
    assert_ne!(active(&mut server, "format.semicolons")["value"], "none");

    // Restore brings the old quotes memory back and retires the one that replaced it.
    let restored = server.ok("tacit.restore", json!({"id": quotes_id}));
    assert_eq!(restored["status"], "active");
    let back = active(&mut server, "format.quotes");
    assert_eq!(back["id"], quotes_id.as_str());
    let replaced = server.ok("tacit.get", json!({"id": now["id"]}));
    assert_eq!(replaced["status"], "superseded");
    server.shutdown();
}

/// "Skipped" here is what tacit does with an oversized source file; the test itself runs.
#[test]
fn files_over_max_file_bytes_are_skipped_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "code-go");
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs")).start();
    // store.go is about 1.4 kB, the other Go files smaller than 700 bytes.
    server.initialize(&root, json!({"maxFileBytes": 700}));
    server.wait_indexed(0);
    let status = server.ok("tacit.status", json!({}));
    let last = &status["lastIndex"][0];
    assert!(
        last["skipped"]["tooLarge"].as_u64().unwrap_or(0) >= 1,
        "{status:#}"
    );
    assert_eq!(last["code"]["languages"]["go"], 3, "{status:#}");
    server.shutdown();
}

/// Waits on the store's change notifications until the active entry of `key` satisfies
/// `done`.
fn wait_for_entry(server: &mut Server, key: &str, done: impl Fn(&Value) -> bool) -> Value {
    server.wait_for_store(|server| {
        let list = server.ok(
            "tacit.list",
            json!({"keyPrefix": key, "statuses": ["active"]}),
        );
        entries(&list)
            .into_iter()
            .find(|e| e["key"] == key && done(e))
    })
}

#[test]
fn a_saved_manifest_or_a_moved_count_refreshes_what_was_learnt() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "code-go");
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs")).start();
    initialize_watching(&mut server, &root);
    server.wait_indexed(0);
    let save = |server: &mut Server, path: &Path| {
        server.notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": format!("file://{}", path.display())}}),
        )
    };

    // A configuration fact follows its file: the Go version in go.mod.
    let language = wait_for_entry(&mut server, "stack.language", |_| true);
    assert!(
        language["text"].as_str().unwrap().contains("go 1.22"),
        "{language:#}"
    );
    let go_mod = root.join("go.mod");
    let text = std::fs::read_to_string(&go_mod).unwrap();
    std::fs::write(&go_mod, text.replace("go 1.22", "go 1.23")).unwrap();
    save(&mut server, &go_mod);
    let updated = wait_for_entry(&mut server, "stack.language", |e| {
        e["text"].as_str().unwrap_or_default().contains("go 1.23")
    });
    assert!(
        !updated["text"].as_str().unwrap().contains("1.22"),
        "{updated:#}"
    );

    // A count that moves without changing the dominant value is refreshed in place: the
    // same memory, with the new evidence.
    let declarations = wait_for_entry(&mut server, "declarations", |_| true);
    let before = declarations["text"].as_str().unwrap().to_string();
    assert!(before.contains("(13 of 13)"), "{before}");
    let load = root.join("store/load.go");
    let mut source = std::fs::read_to_string(&load).unwrap();
    source.push_str("\nfunc answer() int {\n\tvalue := 42\n\treturn value\n}\n");
    std::fs::write(&load, source).unwrap();
    save(&mut server, &load);
    let after = wait_for_entry(&mut server, "declarations", |e| {
        e["text"]
            .as_str()
            .unwrap_or_default()
            .contains("(14 of 14)")
    });
    assert_eq!(after["id"], declarations["id"], "{after:#}");
    server.shutdown();
}
