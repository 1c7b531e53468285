//! Minimal LSP and MCP clients for the benchmarks: they time the real server as an editor
//! or a copilot drives it, over JSON-RPC on its stdin and stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

/// Starts `exe --store STORE SUBCOMMAND` with piped stdin and stdout.
fn spawn(
    exe: &Path,
    store: &Path,
    model_dir: Option<&Path>,
    subcommand: &str,
    cwd: Option<&Path>,
) -> Result<(Child, ChildStdin, BufReader<ChildStdout>)> {
    let mut cmd = Command::new(exe);
    cmd.arg("--store").arg(store).arg(subcommand);
    if let Some(dir) = model_dir {
        cmd.arg("--model-dir").arg(dir);
    }
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let mut child = cmd
        // The caller may ask for more (TACIT_LOG=tacit::store=debug) to see where time goes.
        .env(
            "TACIT_LOG",
            std::env::var("TACIT_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start `tacit {subcommand}`"))?;
    let stdin = child.stdin.take().context("no stdin")?;
    let stdout = BufReader::new(child.stdout.take().context("no stdout")?);
    Ok((child, stdin, stdout))
}

/// A minimal LSP client over a child's stdio: enough to initialise and execute commands.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Client {
    pub fn start(exe: &Path, store: &Path, model_dir: Option<&Path>) -> Result<Client> {
        let (child, stdin, stdout) = spawn(exe, store, model_dir, "lsp", None)?;
        Ok(Client {
            child,
            stdin,
            stdout,
            next_id: 1,
        })
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        let body = serde_json::to_vec(message)?;
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len())?;
        self.stdin.write_all(&body)?;
        self.stdin.flush()?;
        Ok(())
    }

    fn read(&mut self) -> Result<Value> {
        let mut length = None;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("the server closed its output");
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length:") {
                length = Some(v.trim().parse::<usize>()?);
            }
        }
        let mut body = vec![0; length.context("a message without Content-Length")?];
        self.stdout.read_exact(&mut body)?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// Sends a request and returns its result; answers the server's own requests with null
    /// and skips its notifications on the way.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let message = self.read()?;
            if message.get("method").is_some() {
                if let Some(server_id) = message.get("id") {
                    self.send(&json!({"jsonrpc": "2.0", "id": server_id, "result": null}))?;
                }
                continue;
            }
            if message.get("id") == Some(&json!(id)) {
                if let Some(error) = message.get("error") {
                    bail!("{method} failed: {error}");
                }
                return Ok(message.get("result").cloned().unwrap_or(Value::Null));
            }
        }
    }

    /// Reads until the server ends the work-done progress `token`, answering its requests
    /// with null on the way. Only between requests: [`Client::request`] skips notifications.
    pub fn wait_progress_end(&mut self, token: &str) -> Result<()> {
        loop {
            let message = self.read()?;
            if let (Some(_), Some(server_id)) = (message.get("method"), message.get("id")) {
                self.send(&json!({"jsonrpc": "2.0", "id": server_id, "result": null}))?;
                continue;
            }
            let params = &message["params"];
            if message["method"] == "$/progress"
                && params["token"] == token
                && params["value"]["kind"] == "end"
            {
                return Ok(());
            }
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) -> Result<()> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    /// `tacit.assembleContext` for `query`: the milliseconds it took and its result.
    pub fn assemble(&mut self, query: &str) -> Result<(f64, Value)> {
        let started = std::time::Instant::now();
        let result = self.request(
            "workspace/executeCommand",
            json!({"command": "tacit.assembleContext", "arguments": [{"query": query}]}),
        )?;
        Ok((started.elapsed().as_secs_f64() * 1e3, result))
    }

    pub fn stop(mut self) -> Result<()> {
        self.request("shutdown", Value::Null)?;
        self.notify("exit", Value::Null)?;
        let _ = self.child.wait();
        Ok(())
    }
}

/// The lists of entries a context result serves.
pub const SERVED: [&str; 3] = ["memories", "procedures", "episodes"];

/// How many entries a context result serves, over its three layers.
pub fn served(result: &Value) -> usize {
    SERVED
        .iter()
        .map(|k| result[*k].as_array().map_or(0, Vec::len))
        .sum()
}

/// A minimal MCP client over a child's stdio (`tacit mcp`): one JSON-RPC message per line.
pub struct McpClient {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl McpClient {
    /// Starts `tacit mcp` in `cwd` (a directory outside any repository: nothing is indexed)
    /// and initialises it.
    pub fn start(
        exe: &Path,
        store: &Path,
        model_dir: Option<&Path>,
        cwd: &Path,
    ) -> Result<McpClient> {
        let (child, stdin, stdout) = spawn(exe, store, model_dir, "mcp", Some(cwd))?;
        let mut client = McpClient {
            child,
            stdin,
            stdout,
            next_id: 1,
        };
        client.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "tacit-bench", "version": env!("CARGO_PKG_VERSION")},
            }),
        )?;
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(client)
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        self.stdin.write_all(&line)?;
        self.stdin.flush()?;
        Ok(())
    }

    /// Sends a request and returns its result, skipping notifications on the way.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                bail!("the server closed its output");
            }
            let message: Value = serde_json::from_str(&line)?;
            if message.get("method").is_some() {
                continue;
            }
            if message.get("id") == Some(&json!(id)) {
                if let Some(error) = message.get("error") {
                    bail!("{method} failed: {error}");
                }
                return Ok(message.get("result").cloned().unwrap_or(Value::Null));
            }
        }
    }

    /// Calls a tool; its `structuredContent`, or an error with its text.
    pub fn call(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        let result = self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        if result["isError"] == true {
            bail!("{tool} failed: {}", result["content"][0]["text"]);
        }
        Ok(result["structuredContent"].clone())
    }

    /// Closing stdin ends the session.
    pub fn stop(self) -> Result<()> {
        let McpClient {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let _ = child.wait();
        Ok(())
    }
}
