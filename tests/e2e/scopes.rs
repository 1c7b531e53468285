//! Where entries go and how they move: a note made in one directory stays there, and
//! pinning moves an entry instead of copying it.

use serde_json::{json, Value};

use crate::client::ServerBuilder;

fn texts_of(entries: &Value) -> Vec<String> {
    entries["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_note_made_outside_a_repository_stays_in_that_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let store = tmp.join("store");
    let scratch = tmp.join("scratch");
    let project = tmp.join("project");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let note = "Use fmt for output in this scratch dir";

    let mut here = ServerBuilder::new(&store, &tmp.join("logs-scratch")).start();
    here.initialize(&scratch, json!({"indexOnStartup": false}));
    let stored = here.ok("tacit.remember", json!({"text": note}));
    let scope = stored["entry"]["scope"].as_str().unwrap().to_string();
    assert!(scope.starts_with("dir:"), "stored with scope {scope}");
    assert!(texts_of(&here.ok("tacit.list", json!({}))).contains(&note.to_string()));
    here.shutdown();

    let mut elsewhere = ServerBuilder::new(&store, &tmp.join("logs-project")).start();
    elsewhere.initialize(&project, json!({"indexOnStartup": false}));
    let listed = texts_of(&elsewhere.ok("tacit.list", json!({})));
    assert!(!listed.contains(&note.to_string()), "leaked: {listed:?}");
    let context = elsewhere.ok(
        "tacit.assembleContext",
        json!({"query": "how do we print output?"}),
    );
    assert!(
        !context["markdown"].as_str().unwrap().contains(note),
        "leaked into another project's context: {}",
        context["markdown"]
    );
    // Control: the same store does hold it, under its own scope.
    let all = texts_of(&elsewhere.ok("tacit.list", json!({"allScopes": true})));
    assert!(all.contains(&note.to_string()));
    elsewhere.shutdown();
}

#[test]
fn pinning_an_entry_moves_it_and_unpinning_moves_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = tmp.join("project");
    std::fs::create_dir_all(&root).unwrap();
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs")).start();
    server.initialize(&root, json!({"indexOnStartup": false}));
    let rule = "Every public function gets a doc comment with an example";
    let stored = server.ok("tacit.remember", json!({"text": rule}));
    let id = stored["entry"]["id"].as_str().unwrap().to_string();

    let pinned = server.ok("tacit.pin", json!({"id": id}));
    assert_eq!(pinned["id"], json!(id), "pin made a new entry: {pinned}");
    assert_eq!(pinned["layer"], "pinned");
    let with_rule: Vec<String> = texts_of(&server.ok("tacit.list", json!({})))
        .into_iter()
        .filter(|t| t == rule)
        .collect();
    assert_eq!(
        with_rule.len(),
        1,
        "the rule is stored {} times",
        with_rule.len()
    );
    let context = server.ok(
        "tacit.assembleContext",
        json!({"query": "how do we document functions?"}),
    );
    assert_eq!(
        context["markdown"].as_str().unwrap().matches(rule).count(),
        1,
        "{}",
        context["markdown"]
    );

    let back = server.ok("tacit.unpin", json!({"id": id}));
    assert_eq!(back["unpinned"], json!(id));
    let again = server.ok("tacit.get", json!({"id": id}));
    assert_eq!(again["layer"], "memory");
    let actions: Vec<&str> = again["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"created") && actions.contains(&"pinned"),
        "{actions:?}"
    );
    server.shutdown();
}

fn active_memories(status: &Value) -> u64 {
    status["counts"]["memory"]["active"].as_u64().unwrap_or(0)
}

#[test]
fn status_and_export_cover_the_open_workspace_unless_asked_for_every_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let store = tmp.join("store");
    let (one, two) = (tmp.join("one"), tmp.join("two"));
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();

    let mut first = ServerBuilder::new(&store, &tmp.join("logs-one")).start();
    first.initialize(&one, json!({"indexOnStartup": false}));
    for text in [
        "Money amounts are integers of cents",
        "Feature flags live in config/flags.toml",
    ] {
        first.ok("tacit.remember", json!({"text": text}));
    }
    first.shutdown();

    let mut second = ServerBuilder::new(&store, &tmp.join("logs-two")).start();
    second.initialize(&two, json!({"indexOnStartup": false}));
    let note = "Every handler logs its request id";
    second.ok("tacit.remember", json!({"text": note}));

    let status = second.ok("tacit.status", json!({}));
    assert_eq!(active_memories(&status), 1, "{}", status["counts"]);
    let everything = second.ok("tacit.status", json!({"allScopes": true}));
    assert_eq!(active_memories(&everything), 3, "{}", everything["counts"]);

    let export = second.ok("tacit.export", json!({}));
    let jsonl = export["jsonl"].as_str().unwrap();
    assert_eq!(export["count"], 1, "{jsonl}");
    assert!(jsonl.contains(note));
    assert!(!jsonl.contains("\"vector\""), "vectors exported: {jsonl}");
    let all = second.ok(
        "tacit.export",
        json!({"allScopes": true, "withVectors": true}),
    );
    assert_eq!(all["count"], 3);
    let line: Value =
        serde_json::from_str(all["jsonl"].as_str().unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["vector"].as_array().map(Vec::len), Some(384));

    // An export without vectors imports into an empty store: the entries are embedded again
    // and found by meaning.
    let mut fresh = ServerBuilder::new(&tmp.join("store-2"), &tmp.join("logs-fresh")).start();
    fresh.initialize(&two, json!({"indexOnStartup": false}));
    assert_eq!(
        fresh.ok("tacit.import", json!({"jsonl": jsonl}))["imported"],
        1
    );
    let found = fresh.ok("tacit.recall", json!({"query": "request id in logs"}));
    let recalled: Vec<&str> = found["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["entry"]["text"].as_str())
        .collect();
    assert_eq!(recalled.first(), Some(&note), "{found}");
    fresh.shutdown();
    second.shutdown();
}
