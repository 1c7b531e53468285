//! A minimal LSP client that drives the real `tacit` binary over stdio, the way an editor
//! does: Content-Length framing, answers to the server's own requests, and waits that end
//! on protocol events (never on sleeps).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Bounds every wait, so that a broken server fails the test instead of hanging CI.
const PATIENCE: Duration = Duration::from_secs(180);

/// The built binary: `TACIT_BIN`, else next to this test executable's directory
/// (`target/<profile>/deps/e2e-*` → `target/<profile>/tacit`).
pub fn tacit_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TACIT_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = profile_dir.join("tacit");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build --bins`, as scripts/test does)",
        bin.display()
    );
    bin
}

/// Runs the CLI with `store` as its store, in `cwd`; panics with its stderr if it fails.
pub fn run_cli(store: &Path, cwd: &Path, args: &[&str]) -> String {
    let out = Command::new(tacit_bin())
        .args(args)
        .env("TACIT_STORE", store)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tacit {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub struct Server {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications seen so far, in order.
    pub notifications: Vec<Value>,
    /// The requests the server sent (each already answered as an editor would).
    pub server_requests: Vec<Value>,
    /// Progress tokens whose `end` has been seen.
    ended: Vec<String>,
    /// Responses that arrived while another was awaited, oldest first.
    responses: Vec<Value>,
    pub stderr_path: PathBuf,
}

pub struct ServerBuilder {
    env: HashMap<String, String>,
    removed_env: Vec<String>,
    log_dir: PathBuf,
}

impl ServerBuilder {
    pub fn new(store: &Path, log_dir: &Path) -> ServerBuilder {
        let mut env = HashMap::new();
        env.insert("TACIT_STORE".into(), store.to_string_lossy().into_owned());
        env.insert("TACIT_LOG".into(), "tacit=debug".into());
        ServerBuilder {
            env,
            removed_env: Vec::new(),
            log_dir: log_dir.to_path_buf(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    pub fn without_env(mut self, key: &str) -> Self {
        self.removed_env.push(key.into());
        self
    }

    pub fn start(self) -> Server {
        std::fs::create_dir_all(&self.log_dir).expect("log dir");
        let stderr_path = self
            .log_dir
            .join(format!("server-{}.log", std::process::id()));
        let stderr_path = unique(&stderr_path);
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log");
        let mut cmd = Command::new(tacit_bin());
        cmd.arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for key in &self.removed_env {
            cmd.env_remove(key);
        }
        cmd.envs(&self.env);
        let mut child = cmd.spawn().expect("start tacit lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            incoming: rx,
            next_id: 1,
            notifications: Vec::new(),
            server_requests: Vec::new(),
            ended: Vec::new(),
            responses: Vec::new(),
            stderr_path,
        }
    }
}

fn unique(path: &Path) -> PathBuf {
    let mut n = 0;
    loop {
        let candidate = path.with_extension(format!("{n}.log"));
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Server {
    pub fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write header");
        self.send_bytes(body);
    }

    /// Writes `bytes` to the server's stdin as they are, framed or not.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to the server");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialise");
        self.send_raw(&body);
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Handles one incoming message that is not the response being waited for.
    fn handle(&mut self, message: Value) {
        if let (Some(id), Some(method)) = (message.get("id"), message.get("method")) {
            // A request from the server: answer as an editor would.
            let result = match method.as_str() {
                Some("workspace/configuration") => json!([null]),
                Some("window/showDocument") => json!({"success": true}),
                _ => Value::Null,
            };
            self.server_requests.push(message.clone());
            let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
            self.send(&reply);
        } else if message.get("method").is_some() {
            if message["method"] == "$/progress" && message["params"]["value"]["kind"] == "end" {
                let token = match &message["params"]["token"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.ended.push(token);
            }
            self.notifications.push(message);
        }
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => panic!(
                "no message from tacit within {PATIENCE:?}; server log: {}",
                self.stderr_tail()
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "tacit closed its stdout (exit {:?}); server log: {}",
                self.child.try_wait().ok().flatten(),
                self.stderr_tail()
            ),
        }
    }

    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        text.get(start..).unwrap_or("").to_string()
    }

    /// Waits for the response to request `id`: `Ok(result)` or `Err(error)`. Responses to
    /// other requests are kept for their own wait.
    pub fn wait_response(&mut self, id: &Value) -> Result<Value, Value> {
        let deadline = Instant::now() + PATIENCE;
        let message = match self.responses.iter().position(|r| r.get("id") == Some(id)) {
            Some(i) => self.responses.remove(i),
            None => loop {
                let message = self.recv(deadline);
                if message.get("method").is_none() {
                    if message.get("id") == Some(id) {
                        break message;
                    }
                    self.responses.push(message);
                } else {
                    self.handle(message);
                }
            },
        };
        match message.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// The responses received so far that no wait has taken.
    pub fn unclaimed_responses(&self) -> &[Value] {
        &self.responses
    }

    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_response(&id)
    }

    /// Sends `workspace/executeCommand` without waiting for its answer; returns its id.
    pub fn start_command(&mut self, command: &str, argument: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.send(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "workspace/executeCommand",
            "params": {"command": command, "arguments": [argument]},
        }));
        id
    }

    /// SIGKILL: no shutdown, no flush, whatever it was doing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `workspace/executeCommand` with one object argument.
    pub fn command(&mut self, command: &str, argument: Value) -> Result<Value, Value> {
        self.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": [argument]}),
        )
    }

    /// Same, panicking with the server's error message on failure.
    pub fn ok(&mut self, command: &str, argument: Value) -> Value {
        match self.command(command, argument) {
            Ok(v) => v,
            Err(e) => panic!("{command} failed: {e}; server log: {}", self.stderr_tail()),
        }
    }

    pub fn initialize(&mut self, root: &Path, options: Value) -> Value {
        let uri = format!("file://{}", root.display());
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": std::process::id(),
                    "rootUri": uri,
                    "workspaceFolders": [{"uri": uri, "name": "fixture"}],
                    "initializationOptions": options,
                    "capabilities": {
                        "window": {"workDoneProgress": true},
                        "workspace": {"configuration": true, "workspaceFolders": true}
                    }
                }),
            )
            .expect("initialize");
        self.notify("initialized", json!({}));
        result
    }

    /// Waits until a `$/progress` for an indexing token has ended (`tacit/index/<n>`).
    pub fn wait_indexed(&mut self, run: u32) {
        let token = format!("tacit/index/{run}");
        let deadline = Instant::now() + PATIENCE;
        while !self.ended.contains(&token) {
            let message = self.recv(deadline);
            self.handle(message);
        }
    }

    /// Asks `check` again after every `tacit/storeChanged` until it answers: what a save or a
    /// moved ref changes is written to the store, and every write is announced. No wake-up is
    /// lost: notifications that arrive during `check`'s own requests count.
    pub fn wait_for_store<T>(&mut self, mut check: impl FnMut(&mut Server) -> Option<T>) -> T {
        loop {
            let from = self.notifications.len();
            if let Some(done) = check(self) {
                return done;
            }
            self.wait_notification(from, "tacit/storeChanged", |_| true);
        }
    }

    /// Waits for a notification of `method` whose params satisfy `matches`, looking first at
    /// those that arrived since `from` (an index into [`Server::notifications`]).
    pub fn wait_notification(
        &mut self,
        from: usize,
        method: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let seen = self.notifications.iter().skip(from);
        if let Some(found) = seen
            .filter(|n| n["method"] == method)
            .find(|n| matches(&n["params"]))
        {
            return found.clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.recv(deadline);
            if message.get("method").is_none() {
                self.responses.push(message);
                continue;
            }
            let hit = message.get("id").is_none()
                && message["method"] == method
                && matches(&message["params"]);
            self.handle(message.clone());
            if hit {
                return message;
            }
        }
    }

    /// Reads what has arrived without waiting for anything in particular.
    pub fn log_messages(&self) -> Vec<String> {
        self.notifications
            .iter()
            .filter(|n| n["method"] == "window/logMessage" || n["method"] == "window/showMessage")
            .filter_map(|n| n["params"]["message"].as_str().map(str::to_string))
            .collect()
    }

    pub fn shutdown(mut self) {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            // Draining keeps the server from blocking on a full pipe while it exits.
            let _ = self.incoming.recv_timeout(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
