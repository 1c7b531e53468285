//! History mining on this repository's own history, through the CLI: the commit style it
//! reports must be the one `git log` shows, whatever commits are added later.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::client;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn git_lines(root: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `component:` prefixes used most often in the subjects, as `git log` shows them.
fn commit_count(root: &Path) -> u64 {
    git_lines(root, &["rev-list", "--count", "HEAD"])[0]
        .parse()
        .unwrap()
}

fn top_prefixes(subjects: &[String]) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for s in subjects {
        if let Some((prefix, rest)) = s.split_once(": ") {
            let plain = prefix
                .chars()
                .all(|c| c.is_alphanumeric() || "_./-".contains(c));
            if plain && !prefix.is_empty() && !rest.is_empty() {
                *counts.entry(prefix.to_string()).or_default() += 1;
            }
        }
    }
    let most = counts.values().copied().max().unwrap_or(0);
    counts
        .into_iter()
        .filter(|(_, k)| *k == most && most > 0)
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn this_repository_s_history_gives_its_real_commit_style() {
    let root = repo_root();
    assert!(
        root.join(".git").exists(),
        "the e2e tests run in a git checkout of tacit"
    );
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let run = |args: &[&str]| client::run_cli(&store, &root, args);

    let report: Value = serde_json::from_str(&run(&["index", "--json"])).unwrap();
    let history = &report["history"];
    assert_eq!(history["state"], "mined", "{history:#}");
    let commits = commit_count(&root);
    assert_eq!(
        history["commitsMined"].as_u64(),
        Some(commits.min(5000)),
        "{history:#}"
    );

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
    // Subjects here are plain sentences, some with a `component: summary` prefix; never
    // Conventional Commits.
    let style = by_key("commit.style").expect("a commit.style memory");
    let value = style["value"].as_str().unwrap();
    assert!(["free", "component", "mixed"].contains(&value), "{style:#}");
    assert_eq!(style["source"], "history");
    let subjects = git_lines(&root, &["log", "--no-merges", "--format=%s", "-n", "5000"]);
    let prefixes = top_prefixes(&subjects);
    let text = style["text"].as_str().unwrap();
    if !prefixes.is_empty() {
        assert!(
            prefixes.iter().any(|p| text.contains(&format!("`{p}:`"))),
            "the most used prefix ({prefixes:?}) is not named in: {text}"
        );
    }
    assert!(by_key("commit.types").is_none(), "not Conventional Commits");
    assert!(by_key("commit.subject_length").is_some());
    let merges = git_lines(&root, &["rev-list", "--merges", "--count", "HEAD"])[0].clone();
    if merges == "0" {
        assert_eq!(by_key("commit.merges").unwrap()["value"], "linear");
    }

    // The history is summarised in weekly episodes.
    let episodes: Value =
        serde_json::from_str(&run(&["list", "--layer", "episode", "--json"])).unwrap();
    let weekly: Vec<&Value> = episodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("episode.week."))
        })
        .collect();
    assert!(!weekly.is_empty(), "{episodes:#}");
    assert!(weekly.iter().all(|e| e["commits"].as_u64().unwrap() >= 2));

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
    let root = repo_root();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let out = client::run_cli(
        &store,
        &root,
        &["index", "--json", "--history-max-commits", "3"],
    );
    let report: Value = serde_json::from_str(&out).unwrap();
    let history = &report["history"];
    let commits = commit_count(&root);
    assert_eq!(
        history["commitsMined"].as_u64(),
        Some(commits.min(3)),
        "{history:#}"
    );
    assert_eq!(history["truncated"], commits > 3, "{history:#}");
}

/// Polls `tacit.status` until the history of the first root has `commits` commits mined.
fn wait_mined(server: &mut crate::client::Server, commits: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let status = server.ok("tacit.status", serde_json::json!({}));
        let history = status["history"][0].clone();
        if history["commitsMined"].as_u64() == Some(commits) {
            return history;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "history never reached {commits} commits: {history:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
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
    let first = wait_mined(&mut server, 6);
    assert_eq!(first["state"], "mined", "{first:#}");
    let style = server.ok(
        "tacit.list",
        serde_json::json!({"keyPrefix": "commit.style", "statuses": ["active"]}),
    );
    let text = style["entries"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        text.contains("Conventional Commits") && text.contains("6 of 6"),
        "{style:#}"
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
    let next = wait_mined(&mut server, 8);
    assert_eq!(
        next["newCommits"], 2,
        "only the new commits are read: {next:#}"
    );
    let style = server.ok(
        "tacit.list",
        serde_json::json!({"keyPrefix": "commit.style", "statuses": ["active"]}),
    );
    let text = style["entries"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("8 of 8"), "{style:#}");
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
