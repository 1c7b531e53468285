//! MCP's stdio transport: one JSON-RPC message per line on stdin and stdout.
//!
//! rmcp's own line transport drops a line that is not JSON without a word (so that two peers
//! that echo errors cannot feed each other forever). A person typing at `tacit mcp`, or a
//! client with a framing bug, learns more from an answer: a line that is not JSON gets a
//! JSON-RPC parse error (-32700) and a JSON value that is not a message an invalid request
//! (-32600), both with id `null` as JSON-RPC 2.0 says, and the server reads on. Only these two
//! replies are written here; every other message is rmcp's, serialised as it gives them.

use std::sync::Arc;

use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// The longest message read: an `extract` transcript of 1 MiB, JSON-escaped, fits many times.
const MAX_LINE: usize = 16 * 1024 * 1024;

pub struct LineTransport<R, W> {
    reader: R,
    /// Shared by responses, notifications and the error replies of `receive`; each message
    /// is written whole under the lock.
    writer: Arc<Mutex<W>>,
    /// The line read so far. `receive` is cancelled whenever rmcp has something else to do,
    /// so a partly read line must survive in here until its newline arrives.
    line: Vec<u8>,
    /// Set while the rest of an over-long line is skipped.
    skipping: bool,
}

impl<R, W> LineTransport<R, W> {
    pub fn new(reader: R, writer: W) -> Self {
        LineTransport {
            reader,
            writer: Arc::new(Mutex::new(writer)),
            line: Vec::new(),
            skipping: false,
        }
    }
}

/// What one line read from the peer turned out to be.
enum Line {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Answered with this JSON-RPC error, id `null`.
    Rejected {
        code: i64,
        message: String,
    },
    Blank,
}

fn classify(bytes: &[u8]) -> Line {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    // RFC 8259 lets a parser ignore a byte order mark.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Line::Blank;
    }
    match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(bytes) {
        Ok(message) => Line::Message(Box::new(message)),
        Err(e) => match serde_json::from_slice::<Value>(bytes) {
            Err(_) => Line::Rejected {
                code: -32700,
                message: format!(
                    "Parse error: the line is not JSON ({e}); send one JSON-RPC message per line"
                ),
            },
            Ok(_) => Line::Rejected {
                code: -32600,
                message: format!(
                    "Invalid request: not a JSON-RPC 2.0 message tacit understands ({e})"
                ),
            },
        },
    }
}

async fn write_line<W: AsyncWrite + Unpin>(
    writer: &Mutex<W>,
    line: Vec<u8>,
) -> std::io::Result<()> {
    let mut writer = writer.lock().await;
    writer.write_all(&line).await?;
    writer.flush().await
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncBufRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    /// Reads up to the next newline; `None` at the end of input. Cancellation-safe: what was
    /// read stays in `self.line`.
    async fn next_line(&mut self) -> Option<std::io::Result<Vec<u8>>> {
        loop {
            let available = match self.reader.fill_buf().await {
                Ok(bytes) => bytes,
                Err(e) => return Some(Err(e)),
            };
            if available.is_empty() {
                return None;
            }
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1),
                None => (available, available.len()),
            };
            let ends_line = done > chunk.len();
            if !self.skipping {
                self.line.extend_from_slice(chunk);
            }
            self.reader.consume(done);
            if self.line.len() > MAX_LINE {
                self.line.clear();
                self.skipping = true;
            }
            if ends_line {
                if std::mem::take(&mut self.skipping) {
                    return Some(Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("a message longer than {MAX_LINE} bytes was skipped"),
                    )));
                }
                return Some(Ok(std::mem::take(&mut self.line)));
            }
        }
    }

    /// Answers a line that is not a message. Spawned, so that a cancelled `receive` cannot
    /// lose the reply half-way.
    fn reject(&self, code: i64, message: String) {
        tracing::warn!("{message}");
        let reply =
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
        let mut line = reply.to_string().into_bytes();
        line.push(b'\n');
        let writer = self.writer.clone();
        tokio::spawn(async move {
            if let Err(e) = write_line(&writer, line).await {
                tracing::debug!("cannot answer a malformed message: {e}");
            }
        });
    }
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncBufRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = self.writer.clone();
        async move {
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            write_line(&writer, line).await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            let line = match self.next_line().await? {
                Ok(line) => line,
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    self.reject(-32600, format!("Invalid request: {e}"));
                    continue;
                }
                Err(e) => {
                    tracing::error!("cannot read stdin: {e}");
                    return None;
                }
            };
            match classify(&line) {
                Line::Message(message) => return Some(*message),
                Line::Rejected { code, message } => self.reject(code, message),
                Line::Blank => {}
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        let mut writer = self.writer.lock().await;
        writer.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_told_apart() {
        assert!(matches!(classify(b"  \r"), Line::Blank));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Line::Message(_)
        ));
        match classify(b"{not json") {
            Line::Rejected { code, message } => {
                assert_eq!(code, -32700);
                assert!(message.starts_with("Parse error"), "{message}");
            }
            _ => panic!("a broken line must be rejected"),
        }
        match classify(br#"{"hello": 1}"#) {
            Line::Rejected { code, .. } => assert_eq!(code, -32600),
            _ => panic!("a JSON value that is no message must be rejected"),
        }
    }
}
