//! History mining end to end: the CLI on a repository whose history is made by the test, so
//! that what it must report is known exactly, and the server mining a commit it is told of.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::client;

/// Subjects of a three-week history: 17 of 21 start with a component (`store:` eight times,
/// `lsp:` five, `cli:` four), four are plain sentences; no Conventional Commits, no merges.
const SUBJECTS: [&str; 21] = [
    "store: open tables once per process",
    "lsp: answer initialize before the index",
    "Fix a typo in the readme",
    "store: merge small fragments every 16 commits",
    "cli: describe the team store",
    "store: keep the mirror in step with the disk",
    "lsp: report progress while indexing",
    "store: refuse a stale copy of a forgotten entry",
    "Bump the lockfile",
    "cli: explain the cache directory",
    "store: read only changed rows on refresh",
    "lsp: send storeChanged after a write",
    "store: prune old versions after a forget",
    "Tidy the test helpers",
    "cli: list the settings",
    "store: validate ids before they reach a filter",
    "lsp: decode file URIs with fluent-uri",
    "store: group concurrent writes into one commit",
    "Update the changelog",
    "cli: add the benchmark table",
    "lsp: ignore a second initialized",
];

/// A repository with [`SUBJECTS`] as its history, one commit a day from Monday 5 January 2026.
fn styled_history(tmp: &Path) -> PathBuf {
    let root = tmp.join("repo");
    std::fs::create_dir_all(&root).unwrap();
    crate::git(&root, &["init", "-q", "-b", "main"]);
    for (day, subject) in SUBJECTS.iter().enumerate() {
        std::fs::write(root.join(format!("f{}.txt", day % 4)), format!("{day}\n")).unwrap();
        crate::git(&root, &["add", "-A"]);
        let date = format!("2026-01-{:02}T10:00:00+00:00", 5 + day);
        crate::git_dated(&root, &["commit", "-qm", subject], Some(&date));
    }
    root.canonicalize().unwrap()
}

#[test]
fn a_repository_s_history_gives_its_commit_style_and_weekly_episodes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = styled_history(tmp.path());
    let store = tmp.path().join("store");
    let run = |args: &[&str]| client::run_cli(&store, &root, args);

    let report: Value = serde_json::from_str(&run(&["index", "--json"])).unwrap();
    let history = &report["history"];
    assert_eq!(history["state"], "mined", "{history:#}");
    assert_eq!(history["commitsMined"], 21, "{history:#}");

    let memories: Value =
        serde_json::from_str(&run(&["list", "--key", "commit.", "--json"])).unwrap();
    let by_key = |key: &str| -> Option<Value> {
        memories
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key && e["status"] == "active")
            .cloned()
    };
    let style = by_key("commit.style").expect("a commit.style memory");
    assert_eq!(style["value"], "component", "{style:#}");
    assert_eq!(style["source"], "history");
    assert_eq!(style["evidence"]["matching"], 17, "{style:#}");
    assert_eq!(style["evidence"]["total"], 21, "{style:#}");
    let text = style["text"].as_str().unwrap();
    assert!(
        text.contains("`store:` (8)") && text.contains("`lsp:` (5)"),
        "the prefixes and their counts: {text}"
    );
    assert!(by_key("commit.types").is_none(), "not Conventional Commits");
    assert!(by_key("commit.subject_length").is_some());
    assert_eq!(by_key("commit.merges").unwrap()["value"], "linear");

    // Three weeks of seven commits: three weekly episodes.
    let episodes: Value =
        serde_json::from_str(&run(&["list", "--layer", "episode", "--json"])).unwrap();
    let mut weekly: Vec<(String, u64)> = episodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("episode.week."))
        })
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_string(),
                e["commits"].as_u64().unwrap(),
            )
        })
        .collect();
    weekly.sort();
    assert_eq!(
        weekly.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        vec![7, 7, 7],
        "{episodes:#}"
    );

    // A second run reads nothing new and writes nothing new.
    let again: Value = serde_json::from_str(&run(&["index", "--json"])).unwrap();
    assert_eq!(
        again["history"]["state"], "unchanged",
        "{:#}",
        again["history"]
    );
    assert_eq!(again["history"]["written"], 0, "{:#}", again["history"]);
}

#[test]
fn the_cli_caps_the_commits_it_mines() {
    let tmp = tempfile::tempdir().unwrap();
    let root = styled_history(tmp.path());
    let store = tmp.path().join("store");
    let out = client::run_cli(
        &store,
        &root,
        &["index", "--json", "--history-max-commits", "3"],
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    let history = &report["history"];
    assert_eq!(history["commitsMined"], 3, "{history:#}");
    assert_eq!(history["truncated"], true, "{history:#}");
}

/// The mining status of the first root.
fn mined(server: &mut crate::client::Server) -> Value {
    server.ok("tacit.status", serde_json::json!({}))["history"][0].clone()
}

/// The text of the active `commit.style` memory.
fn commit_style(server: &mut crate::client::Server) -> String {
    let style = server.ok(
        "tacit.list",
        serde_json::json!({"keyPrefix": "commit.style", "statuses": ["active"]}),
    );
    style["entries"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_new_commit_is_mined_when_the_client_reports_a_moved_ref() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    crate::git(&root, &["init", "-q", "-b", "main"]);
    let commit = |n: usize| {
        std::fs::write(root.join(format!("f{}.txt", n % 3)), format!("{n}\n")).unwrap();
        crate::git(&root, &["add", "-A"]);
        crate::git(
            &root,
            &["commit", "-qm", &format!("feat(core): add step {n}")],
        );
    };
    for n in 0..6 {
        commit(n);
    }
    let root = root.canonicalize().unwrap();
    let mut server = crate::start(tmp.path(), "store");
    server.initialize(&root, serde_json::json!({}));
    server.wait_indexed(0);
    // The start-up index mines the history before its progress ends.
    let first = mined(&mut server);
    assert_eq!(first["state"], "mined", "{first:#}");
    assert_eq!(first["commitsMined"], 6, "{first:#}");
    let text = commit_style(&mut server);
    assert!(
        text.contains("Conventional Commits") && text.contains("6 of 6"),
        "{text}"
    );

    commit(6);
    commit(7);
    server.notify(
        "workspace/didChangeWatchedFiles",
        serde_json::json!({"changes": [
            {"uri": format!("file://{}/.git/refs/heads/main", root.display()), "type": 2},
            {"uri": format!("file://{}/.git/logs/HEAD", root.display()), "type": 2}
        ]}),
    );
    // The restated style is a write, which the server announces.
    server.wait_for_store(|s| commit_style(s).contains("8 of 8").then_some(()));
    let next = mined(&mut server);
    assert_eq!(next["commitsMined"], 8, "{next:#}");
    assert_eq!(
        next["newCommits"], 2,
        "only the new commits are read: {next:#}"
    );
    server.shutdown();
}

#[test]
fn a_dependency_switch_is_stored_as_a_decision_that_supersedes_the_old_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join("src")).unwrap();
    crate::git(&root, &["init", "-q", "-b", "main"]);
    let manifest = |dep: &str| {
        format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\n{dep} = \"1\"\n")
    };
    std::fs::write(root.join("Cargo.toml"), manifest("log")).unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
    crate::git(&root, &["add", "-A"]);
    crate::git(&root, &["commit", "-qm", "Start the app"]);
    std::fs::write(root.join("Cargo.toml"), manifest("tracing")).unwrap();
    crate::git(&root, &["commit", "-qam", "Log with tracing"]);
    let store = tmp.path().join("store");
    let run = |args: &[&str]| -> Value {
        serde_json::from_str(&client::run_cli(&store, &root, args)).unwrap()
    };
    run(&["index", "--json"]);
    let decisions = run(&["list", "--key", "decision.logging", "--json"]);
    let list = decisions.as_array().unwrap();
    let active: Vec<&Value> = list.iter().filter(|e| e["status"] == "active").collect();
    let old: Vec<&Value> = list
        .iter()
        .filter(|e| e["status"] == "superseded")
        .collect();
    assert_eq!((active.len(), old.len()), (1, 1), "{decisions:#}");
    assert_eq!(active[0]["value"], "tracing");
    assert_eq!(old[0]["value"], "log");
    assert_eq!(old[0]["supersededBy"], active[0]["id"]);

    // Indexing again leaves the pair as it is.
    let again = run(&["index", "--json"]);
    assert_eq!(again["history"]["written"], 0, "{:#}", again["history"]);
    let decisions = run(&["list", "--key", "decision.logging", "--json"]);
    let statuses: Vec<&str> = decisions
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2, "{decisions:#}");
    assert!(statuses.contains(&"active") && statuses.contains(&"superseded"));
}
