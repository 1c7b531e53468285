//! Instruction files end to end: an AGENTS.md that contradicts its repository gets
//! diagnostics over the real LSP, a code action puts the measured value in, and the
//! diagnostic clears once the file is saved; the CLI prints the same findings and writes
//! the file from memory.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use super::client::{self, Server, ServerBuilder};
use super::{entries, fixture_repo};

const FIXTURE: &str = "instructions/contradicted";

fn diagnostics_of(params: &Value) -> Vec<Value> {
    params["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{}",
                d["range"]["start"]["line"],
                d["code"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A copy of the fixture as a repository, and a server initialised on it with `options`.
fn start_on_fixture(tmp: &Path, options: Value) -> (std::path::PathBuf, Server, Value) {
    let root = fixture_repo(tmp, FIXTURE);
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs")).start();
    let init = server.initialize(&root, options);
    (root, server, init)
}

/// The code actions the server offers for one of its diagnostics, asked at its range.
fn code_actions(server: &mut Server, uri: &str, diagnostic: &Value) -> Value {
    server
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": diagnostic["range"],
                "context": {"diagnostics": [diagnostic]},
            }),
        )
        .expect("codeAction")
}

/// Applies the single-file edits of a code action to the text, as an editor does.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for edit in edits {
        let start = &edit["range"]["start"];
        let end = &edit["range"]["end"];
        let line = start["line"].as_u64().unwrap() as usize;
        assert_eq!(
            line,
            end["line"].as_u64().unwrap() as usize,
            "one-line edits"
        );
        let (from, to) = (
            start["character"].as_u64().unwrap() as usize,
            end["character"].as_u64().unwrap() as usize,
        );
        // The fixture is ASCII: UTF-16 columns are byte columns.
        let l = &lines[line];
        lines[line] = format!(
            "{}{}{}",
            &l[..from],
            edit["newText"].as_str().unwrap(),
            &l[to..]
        );
    }
    lines.join("\n")
}

#[test]
fn a_contradicting_rule_gets_a_diagnostic_whose_fix_clears_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, mut server, init) = start_on_fixture(tmp.path(), json!({}));
    let agents = root.join("AGENTS.md");
    let uri = uri_of(&agents);
    assert_eq!(
        init["capabilities"]["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    let text = std::fs::read_to_string(&agents).unwrap();
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}),
    );

    // After the index run, the findings arrive as warnings on their lines (opening the file
    // may publish those that need no index first: the indentation one needs the code counted).
    let published = server.wait_notification(0, "textDocument/publishDiagnostics", |p| {
        p["uri"] == uri.as_str() && diagnostics_of(p).len() == 5
    });
    let diagnostics = diagnostics_of(&published["params"]);
    assert_eq!(
        codes(&diagnostics),
        [
            "4:packageManager",
            "5:indentation",
            "6:command",
            "7:command",
            "8:path"
        ],
        "{diagnostics:#?}"
    );
    let manager = &diagnostics[0];
    assert_eq!(manager["severity"], 2);
    assert_eq!(manager["source"], "tacit");
    assert_eq!(
        manager["range"],
        json!({"start": {"line": 4, "character": 29}, "end": {"line": 4, "character": 40}})
    );
    let message = manager["message"].as_str().unwrap();
    assert!(
        message.contains("`pnpm-lock.yaml` is checked in"),
        "{message}"
    );
    let indent = diagnostics[1]["message"].as_str().unwrap();
    assert!(indent.contains("(6 of 6 files"), "{indent}");

    // Two publications precede the edit: the index run's, and the check of the opened file
    // (queued behind the run). Wait for both, so that the republication awaited after the
    // save is the save's: the open check, arriving late, would read the edited file from
    // disk before the save has stored its rules.
    server.wait_indexed(0);
    let published_for_uri = |server: &Server| {
        server
            .notifications
            .iter()
            .filter(|n| {
                n["method"] == "textDocument/publishDiagnostics"
                    && n["params"]["uri"] == uri.as_str()
            })
            .count()
    };
    while published_for_uri(&server) < 2 {
        let from = server.notifications.len();
        server.wait_notification(from, "textDocument/publishDiagnostics", |p| {
            p["uri"] == uri.as_str()
        });
    }

    // The code action replaces the value with the measured one.
    let actions = code_actions(&mut server, &uri, manager);
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    let edits = action["edit"]["changes"][uri.as_str()]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edits[0]["newText"], "pnpm install");
    let fixed = apply(&text, &edits);
    assert!(fixed.contains("- Install dependencies with `pnpm install`."));
    std::fs::write(&agents, &fixed).unwrap();
    let from = server.notifications.len();
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );

    // Saved: the diagnostic clears and the others stay.
    let republished = server.wait_notification(from, "textDocument/publishDiagnostics", |p| {
        p["uri"] == uri.as_str()
    });
    assert_eq!(
        codes(&diagnostics_of(&republished["params"])),
        ["5:indentation", "6:command", "7:command", "8:path"]
    );

    // The edited rule replaced the old one in the store; the old one is retired.
    let active = server.ok(
        "tacit.list",
        json!({"source": "instructions", "statuses": ["active"]}),
    );
    let texts: Vec<String> = entries(&active)
        .iter()
        .map(|e| e["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        texts.contains(&"Install dependencies with `pnpm install`.".to_string()),
        "{texts:?}"
    );
    assert!(
        !texts.contains(&"Install dependencies with `npm install`.".to_string()),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("8 spaces")),
        "tacit's own section is not a rule: {texts:?}"
    );
    let expired = server.ok(
        "tacit.list",
        json!({"source": "instructions", "statuses": ["expired"]}),
    );
    assert_eq!(entries(&expired).len(), 1, "{expired:#}");
    server.shutdown();
}

#[test]
fn opening_an_instruction_file_checks_it_and_its_example_opens_in_the_editor() {
    let tmp = tempfile::tempdir().unwrap();
    // No index run: only opening the file can publish its findings.
    let (root, mut server, _) = start_on_fixture(tmp.path(), json!({"indexOnStartup": false}));
    let agents = root.join("AGENTS.md");
    let uri = uri_of(&agents);
    let text = std::fs::read_to_string(&agents).unwrap();
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}),
    );
    let published = server.wait_notification(0, "textDocument/publishDiagnostics", |p| {
        p["uri"] == uri.as_str() && !diagnostics_of(p).is_empty()
    });
    let diagnostics = diagnostics_of(&published["params"]);
    assert_eq!(
        codes(&diagnostics),
        ["4:packageManager", "6:command", "7:command", "8:path"],
        "the indentation finding needs the code counted by an index run: {diagnostics:#?}"
    );
    let manager = &diagnostics[0];
    let lock = uri_of(&root.join("pnpm-lock.yaml"));
    assert_eq!(
        manager["relatedInformation"][0]["location"]["uri"], lock,
        "{manager:#}"
    );

    // Two actions: the replacement, and opening the lock file that shows the manager.
    let actions = code_actions(&mut server, &uri, manager);
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Replace with `pnpm install` (what the repository shows)",
            "Open an example: pnpm-lock.yaml:1"
        ]
    );
    let command = &actions[1]["command"];
    assert_eq!(command["command"], "tacit.openExample");
    let shown = server
        .request(
            "workspace/executeCommand",
            json!({"command": command["command"], "arguments": command["arguments"]}),
        )
        .expect("tacit.openExample");
    assert_eq!(shown, json!({"shown": true}));
    let asked = server
        .server_requests
        .iter()
        .find(|r| r["method"] == "window/showDocument")
        .expect("the editor was asked to show the example");
    assert_eq!(asked["params"]["uri"], lock);
    assert_eq!(
        asked["params"]["selection"]["start"],
        json!({"line": 0, "character": 0})
    );

    // A URI that is not a file is refused with a message that says so.
    let refused = server
        .request(
            "workspace/executeCommand",
            json!({"command": "tacit.openExample", "arguments": [{"uri": "https://example.com/x"}]}),
        )
        .unwrap_err();
    assert_eq!(refused["code"], -32602);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("must be a file:// URI"),
        "{refused}"
    );
    server.shutdown();
}

#[test]
fn cli_check_fails_strictly_and_write_instructions_reports_the_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture_repo(tmp.path(), FIXTURE);
    let store = tmp.path().join("store");
    let out = Command::new(client::tacit_bin())
        .args(["check", "--strict"])
        .env("TACIT_STORE", &store)
        .current_dir(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("AGENTS.md:5:30: warning: `npm install` uses npm, but this repository installs with pnpm"),
        "{stdout}"
    );
    assert!(
        stdout.contains("5 finding(s), 0 unreadable file(s) in 1 instruction file(s)"),
        "{stdout}"
    );
    let lenient = client::run_cli(&store, &root, &["check"]);
    assert_eq!(
        lenient, stdout,
        "without --strict the same findings, exit 0"
    );

    client::run_cli(&store, &root, &["index"]);
    let before = std::fs::read_to_string(root.join("AGENTS.md")).unwrap();
    let dry = client::run_cli(
        &store,
        &root,
        &["write-instructions", "--format", "agents", "--dry-run"],
    );
    assert!(
        dry.contains("conflict: AGENTS.md:5 says “Install dependencies with `npm install`.”"),
        "{dry}"
    );
    assert!(dry.contains("would update AGENTS.md"), "{dry}");
    assert_eq!(
        std::fs::read_to_string(root.join("AGENTS.md")).unwrap(),
        before,
        "a dry run writes nothing"
    );
    let wrote = client::run_cli(
        &store,
        &root,
        &["write-instructions", "--format", "copilot"],
    );
    assert!(
        wrote.contains("created .github/copilot-instructions.md"),
        "{wrote}"
    );
    let again = client::run_cli(
        &store,
        &root,
        &["write-instructions", "--format", "copilot"],
    );
    assert!(
        again.contains("unchanged .github/copilot-instructions.md"),
        "{again}"
    );
    assert!(
        !again.contains("created") && !again.contains("updated"),
        "{again}"
    );
}
