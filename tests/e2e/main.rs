//! End-to-end tests: the built `tacit` binary, started as `tacit lsp`, driven over stdio by a
//! client that behaves like an editor. One test binary for the whole crate keeps link time
//! down; each test gets its own store and fixture copy.

mod client;
mod code;
mod framing;
mod fuzz_commands;
mod history;
mod instructions;
mod limits;
mod mcp;
mod scopes;
mod secrets;
mod soak;
mod startup;
mod team;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use client::{Server, ServerBuilder};

/// This crate's directory, as `cargo test` gives it when it runs the tests: a test binary
/// reused by a later build of the same sources in another clone (the target directory is
/// shared, `scripts/test`) would otherwise read the fixtures of the clone it was built in.
fn tests_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn fixture(name: &str) -> PathBuf {
    tests_dir().join("fixtures").join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    git_dated(dir, args, None);
}

/// `git` with the author and committer dates set to `date` (ISO 8601) when given.
fn git_dated(dir: &Path, args: &[&str], date: Option<&str>) {
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com");
    if let Some(date) = date {
        command
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
    }
    let out = command.output().expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fixture copied into a fresh git repository with one commit.
fn fixture_repo(tmp: &Path, name: &str) -> PathBuf {
    let root = tmp.join(name);
    copy_dir(&fixture(name), &root);
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "feat: initial import"]);
    root.canonicalize().unwrap()
}

/// Every file under `dir`, for byte searches of the store.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn bytes_found(dir: &Path, needle: &str) -> bool {
    files_under(dir).iter().any(|f| {
        std::fs::read(f)
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
    })
}

fn entries(v: &Value) -> Vec<Value> {
    v["entries"].as_array().cloned().unwrap_or_default()
}

fn texts(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|s| s["entry"]["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Runs a command that must fail; checks that its message says what went wrong.
fn expect_error(server: &mut Server, command: &str, argument: Value, needle: &str) -> Value {
    let err = server.command(command, argument).unwrap_err();
    let message = err["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "{command}: expected an error mentioning {needle:?}, got {err}"
    );
    err
}

fn start(tmp: &Path, store: &str) -> Server {
    ServerBuilder::new(&tmp.join(store), &tmp.join("logs")).start()
}

/// A server on a fresh store over a copy of the polyglot fixture, its first index run ended.
fn indexed_polyglot(tmp: &Path) -> (PathBuf, Server) {
    let root = fixture_repo(tmp, "polyglot");
    let mut server = start(tmp, "store");
    server.initialize(&root, json!({}));
    server.wait_indexed(0);
    (root, server)
}

#[test]
fn every_command_is_advertised_and_the_first_index_answers_a_natural_question() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture_repo(tmp.path(), "polyglot");
    let mut server = start(tmp.path(), "store");

    let init = server.initialize(&root, json!({}));
    let advertised: Vec<String> = init["capabilities"]["executeCommandProvider"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    for command in [
        "tacit.assembleContext",
        "tacit.recall",
        "tacit.remember",
        "tacit.extract",
        "tacit.update",
        "tacit.forget",
        "tacit.restore",
        "tacit.pin",
        "tacit.unpin",
        "tacit.list",
        "tacit.get",
        "tacit.export",
        "tacit.import",
        "tacit.reindex",
        "tacit.status",
    ] {
        assert!(
            advertised.contains(&command.to_string()),
            "{command} not advertised"
        );
    }
    server.wait_indexed(0);

    let status = server.ok("tacit.status", json!({}));
    assert_eq!(
        status["embedder"]["fallback"], false,
        "CI runs with the real model: {status}"
    );
    assert_eq!(
        status["embedder"]["id"],
        "sentence-transformers/all-MiniLM-L6-v2"
    );
    assert!(status["workspaces"][0]["scope"]
        .as_str()
        .unwrap()
        .starts_with("repo:"));

    // The stack and the real before-commit procedure come back for a natural question.
    let ctx = server.ok(
        "tacit.assembleContext",
        json!({"query": "which async runtime do we use and what must I run before committing?"}),
    );
    let memories = &ctx["memories"];
    assert!(
        memories
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["entry"]["key"] == "stack.async_runtime" && m["entry"]["value"] == "tokio"),
        "no tokio runtime memory in {memories:#}"
    );
    let procedures = &ctx["procedures"];
    assert!(
        procedures
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["entry"]["key"] == "procedure.before-commit"),
        "no before-commit procedure in {procedures:#}"
    );
    let markdown = ctx["markdown"].as_str().unwrap();
    assert!(markdown.contains("tokio"), "{markdown}");
    assert!(markdown.contains("cargo test --workspace"), "{markdown}");
    assert!(ctx["tokensUsed"].as_u64().unwrap() <= ctx["budgetTokens"].as_u64().unwrap());
    assert!(ctx["timing"]["totalMs"].as_f64().is_some());
    // Every returned entry explains its rank.
    assert!(memories[0]["parts"]["relevance"].as_f64().is_some());
    server.shutdown();
}

#[test]
fn remember_recall_merge_and_forget_leaves_no_copy_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let (_root, mut server) = indexed_polyglot(tmp.path());

    // The CI workflow's token was redacted before it reached the store.
    let leaked = "ghp_Xy7Qw3Er5Ty9Ui1Op3As5Df7Gh9Jk1Lz2Xc4V";
    let export = server.ok("tacit.export", json!({}));
    let jsonl = export["jsonl"].as_str().unwrap().to_string();
    assert!(
        jsonl.contains("[REDACTED:"),
        "control: the redaction marker is stored"
    );
    assert!(!jsonl.contains(leaked));

    // remember → recall finds it.
    let kept_text =
        "Marmalade pelican: release notes are written in docs/CHANGES.md by the release captain.";
    server.ok(
        "tacit.remember",
        json!({"text": kept_text, "tags": ["release"]}),
    );
    let gone_text =
        "Zanzibar quokka: database migrations live in db/migrations and run with sqlx migrate run.";
    let remembered = server.ok("tacit.remember", json!({"text": gone_text}));
    assert_eq!(remembered["merged"], false);
    let id = remembered["entry"]["id"].as_str().unwrap().to_string();
    let found = server.ok(
        "tacit.recall",
        json!({"query": "where do database migrations live?"}),
    );
    assert_eq!(entries(&found)[0]["entry"]["id"], id.as_str(), "{found:#}");

    // Saying it again merges instead of duplicating.
    let again = server.ok("tacit.remember", json!({"text": "Zanzibar quokka: database migrations live in db/migrations and run with sqlx migrate run"}));
    assert_eq!(again["merged"], true);
    assert_eq!(again["entry"]["id"], id.as_str());

    // forget → recall no longer finds it, and no file of the store holds its text.
    assert!(
        bytes_found(&store, "Zanzibar") || !bytes_found(&store, "Marmalade"),
        "the byte search cannot see stored text at all, so it proves nothing"
    );
    let forgotten = server.ok("tacit.forget", json!({"id": id}));
    assert_eq!(forgotten["forgotten"], id.as_str());
    let after = server.ok(
        "tacit.recall",
        json!({"query": "where do database migrations live?"}),
    );
    assert!(
        entries(&after)
            .iter()
            .all(|e| e["entry"]["id"] != id.as_str()),
        "{after:#}"
    );
    let err = server.command("tacit.get", json!({"id": id})).unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("no entry"),
        "{err}"
    );
    assert!(
        !bytes_found(&store, "Zanzibar quokka"),
        "forgotten text is still on disk"
    );
    assert!(
        bytes_found(&store, "Marmalade pelican"),
        "control: a kept text must be found by the same search"
    );
    assert!(!bytes_found(&store, leaked));
    server.shutdown();
}

#[test]
fn a_forgotten_extracted_fact_stays_forgotten_when_the_workspace_is_indexed_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (_root, mut server) = indexed_polyglot(tmp.path());
    let logging = server.ok("tacit.list", json!({"keyPrefix": "stack.logging"}));
    let logging_id = entries(&logging)[0]["id"].as_str().unwrap().to_string();
    server.ok("tacit.forget", json!({"id": logging_id}));
    let started = server.ok("tacit.reindex", json!({}));
    assert_eq!(started["started"], true);
    server.wait_indexed(1);
    let relisted = server.ok("tacit.list", json!({"keyPrefix": "stack.logging"}));
    assert!(
        entries(&relisted)
            .iter()
            .all(|e| e["id"] != logging_id.as_str()),
        "{relisted:#}"
    );
    let tokio_still = server.ok("tacit.list", json!({"keyPrefix": "stack.async_runtime"}));
    assert_eq!(
        entries(&tokio_still).len(),
        1,
        "control: other extracted facts are kept"
    );
    server.shutdown();
}

#[test]
fn update_pin_supersede_and_restore_through_the_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let (_root, mut server) = indexed_polyglot(tmp.path());
    let kept = server.ok(
        "tacit.remember",
        json!({"text": "Release notes are written in docs/CHANGES.md by the release captain."}),
    );
    let kept_id = kept["entry"]["id"].as_str().unwrap().to_string();
    let updated = server.ok("tacit.update", json!({"id": kept_id, "importance": 0.9}));
    assert!((updated["importance"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    let pinned = server.ok("tacit.pin", json!({"text": "Answer in British English."}));
    let ctx = server.ok("tacit.assembleContext", json!({"query": "release notes"}));
    assert_eq!(
        texts(&ctx["pinned"]),
        vec!["Answer in British English.".to_string()]
    );
    assert!(ctx["markdown"]
        .as_str()
        .unwrap()
        .starts_with("# Project context"));
    let a = server.ok(
        "tacit.remember",
        json!({"text": "Install JavaScript dependencies with pnpm.", "key": "js.package_manager"}),
    );
    let b = server.ok(
        "tacit.remember",
        json!({"text": "Install JavaScript dependencies with yarn.", "key": "js.package_manager"}),
    );
    assert_eq!(b["superseded"][0], a["entry"]["id"]);
    let old = server.ok("tacit.get", json!({"id": a["entry"]["id"]}));
    assert_eq!(old["status"], "superseded");
    let restored = server.ok("tacit.restore", json!({"id": a["entry"]["id"]}));
    assert_eq!(restored["status"], "active");
    assert_eq!(
        server.ok("tacit.get", json!({"id": b["entry"]["id"]}))["status"],
        "superseded"
    );
    server.ok("tacit.unpin", json!({"id": pinned["id"]}));
    let ctx = server.ok("tacit.assembleContext", json!({"query": "release notes"}));
    assert!(texts(&ctx["pinned"]).is_empty(), "{:#}", ctx["pinned"]);
    server.shutdown();
}

#[test]
fn export_then_import_into_an_empty_store_round_trips_every_field() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, mut server) = indexed_polyglot(tmp.path());
    server.ok(
        "tacit.remember",
        json!({"text": "Release notes are written in docs/CHANGES.md.", "tags": ["release"]}),
    );
    server.ok("tacit.pin", json!({"text": "Answer in British English."}));
    let export = server.ok("tacit.export", json!({}));
    let first: Vec<Value> = export["jsonl"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(first.len() >= 10);
    server.shutdown();

    let mut empty = start(tmp.path(), "store-2");
    empty.initialize(&root, json!({"indexOnStartup": false}));
    let status = empty.ok("tacit.status", json!({}));
    assert_eq!(status["counts"]["memory"]["active"], 0);
    let imported = empty.ok("tacit.import", json!({"jsonl": export["jsonl"]}));
    assert_eq!(imported["imported"].as_u64().unwrap() as usize, first.len());
    let second: Vec<Value> = empty.ok("tacit.export", json!({}))["jsonl"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |v: &[Value]| {
        let mut v = v.to_vec();
        v.sort_by_key(|e| e["id"].as_str().unwrap().to_string());
        v
    };
    assert_eq!(by_id(&first), by_id(&second));
    empty.shutdown();
}

#[test]
fn bad_input_gets_errors_and_the_server_keeps_answering() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "polyglot");
    let mut server = start(tmp, "store");
    server.initialize(
        &root,
        json!({"indexOnStartup": false, "budgetTokens": "lots"}),
    );
    // Invalid options fall back to defaults and tell the user.
    assert!(server.ok("tacit.status", json!({}))["store"].is_string());
    let logs = server.log_messages();
    assert!(
        logs.iter().any(|m| m.contains("invalid settings")),
        "{logs:?}"
    );

    // Malformed JSON-RPC: a parse error, then business as usual.
    server.send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": ");
    let parse_error = server.wait_response(&Value::Null).unwrap_err();
    assert_eq!(parse_error["code"], -32700, "{parse_error}");
    server.send_raw(br#"{"hello": "world"}"#);
    let invalid = server.wait_response(&Value::Null).unwrap_err();
    assert_eq!(invalid["code"], -32600, "{invalid}");

    let unknown = expect_error(
        &mut server,
        "tacit.frobnicate",
        json!({}),
        "unknown command `tacit.frobnicate`",
    );
    assert_eq!(unknown["code"], -32602);
    let wrong_type = expect_error(
        &mut server,
        "tacit.remember",
        json!({"text": 42}),
        "invalid arguments",
    );
    assert_eq!(wrong_type["code"], -32602);
    let not_object = server
        .request(
            "workspace/executeCommand",
            json!({"command": "tacit.recall", "arguments": ["migrations"]}),
        )
        .unwrap_err();
    assert!(
        not_object["message"]
            .as_str()
            .unwrap()
            .contains("must be a JSON object"),
        "{not_object}"
    );
    expect_error(&mut server, "tacit.forget", json!({}), "missing field `id`");
    expect_error(
        &mut server,
        "tacit.forget",
        json!({"id": "x' OR '1'='1"}),
        "not a valid entry id",
    );
    expect_error(
        &mut server,
        "tacit.remember",
        json!({"text": "   "}),
        "must not be empty",
    );
    expect_error(
        &mut server,
        "tacit.remember",
        json!({"text": "x y", "importance": 7}),
        "between 0 and 1",
    );
    expect_error(
        &mut server,
        "tacit.import",
        json!({"jsonl": "{\"id\": 1}\n"}),
        "line 1",
    );

    // Still alive and answering.
    let remembered = server.ok(
        "tacit.remember",
        json!({"text": "The server survived bad input."}),
    );
    assert_eq!(remembered["merged"], false);
    server.shutdown();
}

#[test]
fn missing_model_weights_are_reported_as_the_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "polyglot");
    let empty_cache = tmp.join("no-models");
    std::fs::create_dir_all(&empty_cache).unwrap();
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs"))
        .env("XDG_CACHE_HOME", empty_cache.to_str().unwrap())
        .env("HF_HOME", empty_cache.to_str().unwrap())
        .without_env("TACIT_MODEL_DIR")
        .start();
    server.initialize(&root, json!({}));
    server.wait_indexed(0);
    let status = server.ok("tacit.status", json!({}));
    assert_eq!(status["embedder"]["fallback"], true, "{status}");
    let reason = status["embedder"]["fallbackReason"].as_str().unwrap();
    assert!(reason.contains("scripts/fetch-model"), "{reason}");
    assert!(
        server.log_messages().iter().any(|m| m.contains("FALLBACK")),
        "{:?}",
        server.log_messages()
    );
    // The fallback still answers, and says which embedder ranked the result.
    let ctx = server.ok(
        "tacit.assembleContext",
        json!({"query": "tokio async runtime"}),
    );
    assert_eq!(ctx["embedder"]["fallback"], true);
    assert!(ctx["markdown"].as_str().unwrap().contains("tokio"));
    server.shutdown();
}

#[test]
fn an_unusable_store_is_a_clear_error_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "polyglot");
    // A regular file where the store directory should be.
    std::fs::write(tmp.join("store"), b"not a database").unwrap();
    let mut server = start(tmp, "store");
    server.initialize(&root, json!({}));
    expect_error(
        &mut server,
        "tacit.status",
        json!({}),
        "could not open its store",
    );
    expect_error(
        &mut server,
        "tacit.recall",
        json!({"query": "x"}),
        "could not open its store",
    );
    server.shutdown();
}

#[test]
fn cli_indexes_and_prints_context_for_a_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "polyglot");
    let store = tmp.join("cli-store");
    let run = |args: &[&str]| client::run_cli(&store, &root, args);
    let indexed = run(&["index"]);
    assert!(indexed.contains("entries written"), "{indexed}");
    let context = run(&["context", "how", "do", "we", "run", "the", "tests?"]);
    assert!(context.contains("cargo test --workspace"), "{context}");
    let with_file = run(&["context", "--file", "web/src/App.tsx", "--json"]);
    let v: Value = serde_json::from_str(&with_file).unwrap();
    assert!(v["markdown"].as_str().unwrap().contains("web/src/App.tsx"));
    let status = run(&["status"]);
    assert!(
        status.contains("embedder: sentence-transformers/all-MiniLM-L6-v2"),
        "{status}"
    );
}
