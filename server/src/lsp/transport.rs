//! Guards the server's input. tower-lsp's framed reader stops for good after one message it
//! cannot decode, and after one wrong or missing `Content-Length` any reader that trusts the
//! header is out of step with the stream for good. So every frame is checked here first, by a
//! [`Deframer`] that never trusts a header further than it must:
//! - a frame that is not JSON, or not a JSON-RPC message, is replaced by a request to
//!   `tacit/malformedMessage` whose handler answers with the parse error (-32700) or invalid
//!   request (-32600) that JSON-RPC prescribes, with the request's id where it can be read
//!   from the frame and `null` where not;
//! - after a frame whose length was wrong or missing, and after bytes that belong to no frame,
//!   the input is dropped up to the next `Content-Length: N` line, wherever it appears (also in
//!   the middle of a line, or inside the body the wrong length claimed), and read on from there.
//!
//! Resynchronising on such a line is safe because a JSON-RPC body cannot contain one: JSON
//! strings cannot hold a raw line break and `Content-Length` is not JSON outside a string, so a
//! body in which one appears was cut wrongly. Memory is bounded: a frame over [`MAX_FRAME`], a
//! header line over 1 KiB and a header block over 8 KiB are refused, not buffered.

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Request, Response};

pub const MALFORMED_METHOD: &str = "tacit/malformedMessage";

/// Frames larger than this are refused rather than buffered: no LSP message is this big.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;
/// LSP sends two short header lines; a longer line is not a header.
const MAX_HEADER_LINE: usize = 1024;
/// Nor is a header block longer than this.
const MAX_HEADER_BLOCK: usize = 8 * 1024;
/// The longest run of bytes recognised as a `Content-Length: N` line when resynchronising.
const MAX_LENGTH_LINE: usize = 64;
/// How much is read from the client at a time.
const READ_CHUNK: usize = 8 * 1024;

/// What was wrong with a frame: the params of the replacement request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malformed {
    pub kind: MalformedKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MalformedKind {
    /// The bytes are not JSON.
    Parse,
    /// JSON, but not a JSON-RPC message; or no message could be framed at all.
    Invalid,
}

/// The error the replacement request is answered with.
pub fn malformed_error(m: Malformed) -> Error {
    let (code, what) = match m.kind {
        MalformedKind::Parse => (ErrorCode::ParseError, "Parse error"),
        MalformedKind::Invalid => (ErrorCode::InvalidRequest, "Invalid request"),
    };
    Error {
        code,
        message: format!("{what}: {}", m.detail).into(),
        data: None,
    }
}

/// What the guard passes on, one per frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A JSON-RPC message, byte for byte as the client sent it.
    Message(Vec<u8>),
    /// Something that could not be passed on. `reply_to` is the id the error answer carries:
    /// the request's own where the frame shows it, `null` where not, and `None` for a
    /// notification, which JSON-RPC never answers.
    Malformed {
        reply_to: Option<Value>,
        problem: Malformed,
    },
}

impl Frame {
    fn framing(detail: impl Into<String>) -> Frame {
        Frame::Malformed {
            reply_to: Some(Value::Null),
            problem: Malformed {
                kind: MalformedKind::Invalid,
                detail: detail.into(),
            },
        }
    }

    /// The bytes tower-lsp reads for this frame; `None` if nothing is to be answered.
    fn into_wire(self) -> Option<Vec<u8>> {
        let body = match self {
            Frame::Message(body) => body,
            Frame::Malformed {
                reply_to: Some(id),
                problem,
            } => {
                tracing::warn!("malformed message from the client: {}", problem.detail);
                serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": id,
                    "method": MALFORMED_METHOD,
                    "params": problem,
                })
                .to_string()
                .into_bytes()
            }
            Frame::Malformed {
                reply_to: None,
                problem,
            } => {
                tracing::warn!("malformed notification dropped: {}", problem.detail);
                return None;
            }
        };
        let mut wire = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        wire.extend(body);
        Some(wire)
    }
}

/// What a header block said its body's length is.
#[derive(Debug, Clone, PartialEq)]
enum Length {
    Bytes(usize),
    /// The value as sent, when it is not a byte count.
    Unreadable(String),
}

#[derive(Debug)]
enum State {
    /// A header block starts at the front of the buffer; the lines before `pos` have been
    /// read and `length` is what they said.
    Headers { pos: usize, length: Option<Length> },
    /// `length` body bytes start at the front of the buffer; no `Content-Length` line
    /// starts before `scanned`.
    Body { length: usize, scanned: usize },
    /// Out of step with the client: input is dropped up to the next `Content-Length` line.
    Resync,
}

/// Splits the client's byte stream into frames, recovering from broken ones. Sans I/O, so
/// that a test can feed it any bytes in any pieces; it gives the same frames however the
/// input is split.
#[derive(Debug)]
pub struct Deframer {
    buffer: Vec<u8>,
    state: State,
    max_frame: usize,
}

impl Deframer {
    pub fn new(max_frame: usize) -> Deframer {
        Deframer {
            buffer: Vec::new(),
            state: State::Headers {
                pos: 0,
                length: None,
            },
            max_frame,
        }
    }

    /// The most [`Deframer::buffered`] can be after a [`Deframer::push`].
    #[cfg(test)]
    pub fn buffer_limit(&self) -> usize {
        self.max_frame.max(MAX_HEADER_BLOCK + MAX_HEADER_LINE)
    }

    /// Bytes held back, waiting for the rest of their frame.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Takes the next bytes of input and appends every frame they complete to `frames`.
    pub fn push(&mut self, bytes: &[u8], frames: &mut Vec<Frame>) {
        self.buffer.extend_from_slice(bytes);
        while self.step(frames) {}
    }

    /// Advances by one decision; `false` when more input is needed.
    fn step(&mut self, frames: &mut Vec<Frame>) -> bool {
        match std::mem::replace(&mut self.state, State::Resync) {
            State::Headers { pos, length } => self.headers(pos, length, frames),
            State::Body { length, scanned } => self.body(length, scanned, frames),
            State::Resync => self.resync(),
        }
    }

    fn headers(&mut self, pos: usize, length: Option<Length>, frames: &mut Vec<Frame>) -> bool {
        if pos == 0 {
            // Blank lines between frames are harmless.
            let blank = self
                .buffer
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            self.buffer.drain(..blank);
        }
        let window = &self.buffer[pos..self.buffer.len().min(pos + MAX_HEADER_LINE + 1)];
        let Some(newline) = window.iter().position(|&b| b == b'\n') else {
            if self.buffer.len() - pos > MAX_HEADER_LINE {
                frames.push(Frame::framing(format!(
                    "a header line longer than {MAX_HEADER_LINE} bytes"
                )));
                self.resync_from(pos);
                return true;
            }
            self.state = State::Headers { pos, length };
            return false;
        };
        let end = pos + newline + 1;
        let line = &self.buffer[pos..end];
        if let Some(start) = find_length_line(line, 0).filter(|&start| start > 0) {
            // What came before it on this line (and any header lines above) is the broken
            // remains of another frame; the next frame starts here.
            frames.push(Frame::framing(format!(
                "{} bytes before a Content-Length header belong to no message",
                pos + start
            )));
            self.buffer.drain(..pos + start);
            self.state = State::Headers {
                pos: 0,
                length: None,
            };
            return true;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            return self.header_block_read(end, length, frames);
        }
        let Some((name, value)) = header(text) else {
            frames.push(Frame::framing(
                "input that is neither a header nor part of a message",
            ));
            self.resync_from(pos);
            return true;
        };
        let mut length = length;
        if name.eq_ignore_ascii_case(b"content-length") {
            let this = parse_length(value);
            match &length {
                Some(earlier) if *earlier != this => {
                    // The earlier lines are what is left of a frame that broke off; the frame
                    // this line begins may well be intact.
                    frames.push(Frame::framing("conflicting Content-Length headers"));
                    self.buffer.drain(..pos);
                    self.state = State::Headers {
                        pos: 0,
                        length: None,
                    };
                    return true;
                }
                _ => length = Some(this),
            }
        }
        // Any other header (Content-Type included) is ignored: the body is read as JSON in
        // UTF-8 whatever it says, and checked as such.
        if end > MAX_HEADER_BLOCK {
            frames.push(Frame::framing(format!(
                "a header block longer than {MAX_HEADER_BLOCK} bytes"
            )));
            // From this line, which may be the next frame's own header.
            self.resync_from(pos);
            return true;
        }
        self.state = State::Headers { pos: end, length };
        true
    }

    /// The header block ends before `end`; its body follows.
    fn header_block_read(
        &mut self,
        end: usize,
        length: Option<Length>,
        frames: &mut Vec<Frame>,
    ) -> bool {
        let problem = match length {
            Some(Length::Bytes(n)) if n <= self.max_frame => {
                self.buffer.drain(..end);
                self.state = State::Body {
                    length: n,
                    scanned: 0,
                };
                return true;
            }
            Some(Length::Bytes(n)) => format!(
                "a message of {n} bytes exceeds the {}-byte limit",
                self.max_frame
            ),
            Some(Length::Unreadable(value)) => {
                format!("Content-Length `{value}` is not a byte count")
            }
            None => "a header block without a Content-Length".to_string(),
        };
        frames.push(Frame::framing(problem));
        self.resync_from(end);
        true
    }

    fn body(&mut self, length: usize, scanned: usize, frames: &mut Vec<Frame>) -> bool {
        let available = self.buffer.len().min(length);
        if let Some(start) = find_length_line(&self.buffer[..available], scanned) {
            // No body holds such a line: this one's length was wrong, and the next frame
            // starts here.
            frames.push(Frame::Malformed {
                reply_to: Some(Value::Null),
                problem: Malformed {
                    kind: MalformedKind::Parse,
                    detail: format!(
                        "a header began {start} bytes into a body of {length}: its Content-Length is wrong"
                    ),
                },
            });
            self.buffer.drain(..start);
            self.state = State::Headers {
                pos: 0,
                length: None,
            };
            return true;
        }
        if self.buffer.len() < length {
            self.state = State::Body {
                length,
                scanned: available.saturating_sub(MAX_LENGTH_LINE),
            };
            return false;
        }
        match check(&self.buffer[..length]) {
            Ok(()) => {
                let rest = self.buffer.split_off(length);
                frames.push(Frame::Message(std::mem::replace(&mut self.buffer, rest)));
                self.state = State::Headers {
                    pos: 0,
                    length: None,
                };
            }
            Err(frame) => {
                let unreadable = matches!(
                    &frame,
                    Frame::Malformed { problem, .. } if problem.kind == MalformedKind::Parse
                );
                frames.push(frame);
                if unreadable {
                    // Its length may have been wrong: what follows, up to the next header,
                    // belongs to it. That header may begin in the body's last bytes.
                    self.resync_from(length.saturating_sub(MAX_LENGTH_LINE));
                } else {
                    // Well framed, only not JSON-RPC: the next frame follows.
                    self.buffer.drain(..length);
                    self.state = State::Headers {
                        pos: 0,
                        length: None,
                    };
                }
            }
        }
        true
    }

    fn resync_from(&mut self, pos: usize) {
        self.buffer.drain(..pos);
        self.state = State::Resync;
    }

    fn resync(&mut self) -> bool {
        if let Some(start) = find_length_line(&self.buffer, 0) {
            self.buffer.drain(..start);
            self.state = State::Headers {
                pos: 0,
                length: None,
            };
            return true;
        }
        // Only the tail can still begin a header that is not complete yet.
        let keep_from = self.buffer.len().saturating_sub(MAX_LENGTH_LINE);
        self.buffer.drain(..keep_from);
        self.state = State::Resync;
        false
    }
}

/// `Name: value` with a token for a name, as HTTP defines headers.
fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii();
    let is_token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    (!name.is_empty() && name.iter().all(is_token)).then(|| (name, line[colon + 1..].trim_ascii()))
}

fn parse_length(value: &[u8]) -> Length {
    let digits = !value.is_empty() && value.iter().all(u8::is_ascii_digit);
    std::str::from_utf8(value)
        .ok()
        .filter(|_| digits)
        .and_then(|v| v.parse().ok())
        .map(Length::Bytes)
        .unwrap_or_else(|| Length::Unreadable(String::from_utf8_lossy(value).into_owned()))
}

/// Where the first complete `Content-Length: N` line starting at or after `from` begins.
fn find_length_line(haystack: &[u8], from: usize) -> Option<usize> {
    (from..haystack.len())
        .find(|&i| haystack[i].eq_ignore_ascii_case(&b'c') && is_length_line(&haystack[i..]))
}

/// Whether `bytes` starts with `Content-Length: <digits>` and a line end (any case, blanks
/// around the colon and after the digits).
fn is_length_line(bytes: &[u8]) -> bool {
    const NAME: &[u8] = b"content-length";
    let bytes = &bytes[..bytes.len().min(MAX_LENGTH_LINE)];
    let Some(rest) = bytes
        .get(..NAME.len())
        .filter(|name| name.eq_ignore_ascii_case(NAME))
        .map(|_| &bytes[NAME.len()..])
    else {
        return false;
    };
    let blanks = |s: &[u8]| s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    let rest = &rest[blanks(rest)..];
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let rest = &rest[blanks(rest)..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 {
        return false;
    }
    let rest = &rest[digits..];
    let rest = &rest[blanks(rest)..];
    let rest = rest.strip_prefix(b"\r").unwrap_or(rest);
    rest.first() == Some(&b'\n')
}

/// The parts of a message that say whom an error answer goes to; everything else is skipped
/// without being parsed into values, so that a message too deeply nested to parse still
/// shows them.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    #[serde(default)]
    method: Option<IgnoredAny>,
}

/// Tells `"id": null` (present) from no `id` at all.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Envelope {
    fn reply_to(self) -> Option<Value> {
        match (self.method, self.id) {
            // A notification: never answered.
            (Some(_), None) => None,
            // A request: answered with its own id if that is one JSON-RPC allows.
            (Some(_), Some(id @ Value::String(_))) => Some(id),
            (Some(_), Some(Value::Number(n))) if n.is_i64() => Some(Value::Number(n)),
            _ => Some(Value::Null),
        }
    }
}

/// `Ok` for a JSON-RPC message; otherwise the error frame that replaces it.
fn check(body: &[u8]) -> Result<(), Frame> {
    let rejected = |reply_to, kind, detail: String| Frame::Malformed {
        reply_to,
        problem: Malformed { kind, detail },
    };
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) if serde_json::from_slice::<IgnoredAny>(body).is_ok() => {
            // Well-formed JSON that serde_json will not build (nested over 128 levels).
            let reply_to = serde_json::from_slice::<Envelope>(body)
                .map(Envelope::reply_to)
                .unwrap_or(Some(Value::Null));
            return Err(rejected(
                reply_to,
                MalformedKind::Invalid,
                format!("the message is nested too deeply to read ({e})"),
            ));
        }
        Err(e) => {
            return Err(rejected(
                Some(Value::Null),
                MalformedKind::Parse,
                e.to_string(),
            ))
        }
    };
    let is_message = serde_json::from_value::<Request>(value.clone()).is_ok()
        || serde_json::from_value::<Response>(value.clone()).is_ok();
    if is_message {
        return Ok(());
    }
    let reply_to = serde_json::from_value::<Envelope>(value)
        .map(Envelope::reply_to)
        .unwrap_or(Some(Value::Null));
    Err(rejected(
        reply_to,
        MalformedKind::Invalid,
        "not a JSON-RPC 2.0 request, notification or response".into(),
    ))
}

async fn pump<R: AsyncRead + Unpin>(mut input: R, mut output: DuplexStream) -> std::io::Result<()> {
    let mut deframer = Deframer::new(MAX_FRAME);
    let mut chunk = vec![0; READ_CHUNK];
    let mut frames = Vec::new();
    loop {
        let n = input.read(&mut chunk).await?;
        if n == 0 {
            if deframer.buffered() > 0 {
                tracing::debug!(
                    "client input ended inside a frame ({} bytes unread)",
                    deframer.buffered()
                );
            }
            return Ok(());
        }
        deframer.push(&chunk[..n], &mut frames);
        for frame in frames.drain(..) {
            if let Some(wire) = frame.into_wire() {
                output.write_all(&wire).await?;
            }
        }
    }
}

/// Wraps `input` (stdin) so that only well-formed frames reach tower-lsp.
pub fn guard<R: AsyncRead + Unpin + Send + 'static>(input: R) -> DuplexStream {
    let (server_side, our_side) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Err(e) = pump(input, our_side).await {
            tracing::debug!("client input closed: {e}");
        }
    });
    server_side
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use serde_json::json;
    use tokio::io::ReadBuf;

    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend(body);
        out
    }

    fn request(id: i64) -> Vec<u8> {
        json!({"jsonrpc": "2.0", "id": id, "method": "tacit/probe"})
            .to_string()
            .into_bytes()
    }

    /// Hands out its input one byte per read, as a slow pipe may.
    struct Trickle(std::io::Cursor<Vec<u8>>);

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let mut one = [0u8; 1];
            let n = std::io::Read::read(&mut self.0, &mut one)?;
            buf.put_slice(&one[..n]);
            Poll::Ready(Ok(()))
        }
    }

    async fn read_all(mut out: DuplexStream) -> Vec<Value> {
        let mut all = Vec::new();
        out.read_to_end(&mut all).await.unwrap();
        let mut messages = Vec::new();
        let mut rest = &all[..];
        while !rest.is_empty() {
            let text = std::str::from_utf8(rest).unwrap();
            let (header, after) = text.split_once("\r\n\r\n").unwrap();
            let n: usize = header
                .strip_prefix("Content-Length: ")
                .unwrap()
                .parse()
                .unwrap();
            messages.push(serde_json::from_slice(&after.as_bytes()[..n]).unwrap());
            rest = &after.as_bytes()[n..];
        }
        messages
    }

    /// What tower-lsp receives for `input`, read whole and read a byte at a time; both
    /// must be the same.
    async fn through_guard(input: Vec<u8>) -> Vec<Value> {
        let whole = read_all(guard(std::io::Cursor::new(input.clone()))).await;
        let trickled = read_all(guard(Trickle(std::io::Cursor::new(input)))).await;
        assert_eq!(whole, trickled, "splitting the input changed the frames");
        whole
    }

    /// Asserts `messages` are one error answer with a null id whose message names
    /// `problem`, then the probe request `id`, intact.
    fn assert_error_then_request(messages: &[Value], code_kind: &str, problem: &str, id: i64) {
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert_eq!(messages[0]["method"], MALFORMED_METHOD, "{messages:#?}");
        assert_eq!(messages[0]["id"], Value::Null);
        assert_eq!(messages[0]["params"]["kind"], code_kind, "{messages:#?}");
        let detail = messages[0]["params"]["detail"].as_str().unwrap();
        assert!(detail.contains(problem), "{detail:?} lacks {problem:?}");
        assert_eq!(
            messages[1],
            serde_json::from_slice::<Value>(&request(id)).unwrap()
        );
    }

    #[tokio::test]
    async fn malformed_frames_are_replaced_and_good_ones_pass() {
        let good = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let bad = br#"{"jsonrpc": "2.0", "id": 2, "method": "#;
        let not_rpc = br#"{"hello":"world"}"#;
        let mut input = Vec::new();
        for body in [&good[..], &bad[..], &not_rpc[..], &good[..]] {
            input.extend(frame(body));
        }
        let bodies = through_guard(input).await;
        assert_eq!(bodies.len(), 4);
        assert_eq!(bodies[0]["method"], "shutdown");
        assert_eq!(bodies[1]["method"], MALFORMED_METHOD);
        assert_eq!(bodies[1]["params"]["kind"], "parse");
        assert_eq!(bodies[2]["params"]["kind"], "invalid");
        assert_eq!(bodies[3]["id"], 1);
    }

    #[tokio::test]
    async fn a_frame_without_content_length_is_answered_and_the_next_is_read() {
        // A header block without the length: the body runs into the next header line.
        let mut input = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n".to_vec();
        input.extend(request(1));
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "without a Content-Length", 2);

        // No header block at all: the body is glued to the next frame's header.
        let mut input = request(1);
        input.extend(frame(&request(3)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "belong to no message", 3);
    }

    #[tokio::test]
    async fn a_content_length_too_short_is_answered_and_the_next_frame_is_read() {
        let body = request(1);
        let mut input = format!("Content-Length: {}\r\n\r\n", body.len() - 7).into_bytes();
        input.extend(&body);
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "parse", "EOF while parsing", 2);
    }

    #[tokio::test]
    async fn a_content_length_too_long_does_not_swallow_the_next_frame() {
        // Longer than the rest of the input: the reader must not wait for bytes that never
        // come, nor take the next frame as the end of this body.
        for (extra, problem) in [
            // The body takes the start of the next header, which is found after it.
            (5, "trailing characters"),
            // The body takes the next header whole.
            (30, "Content-Length is wrong"),
            (10_000, "Content-Length is wrong"),
        ] {
            let body = request(1);
            let mut input = format!("Content-Length: {}\r\n\r\n", body.len() + extra).into_bytes();
            input.extend(&body);
            input.extend(frame(&request(2)));
            let messages = through_guard(input).await;
            assert_error_then_request(&messages, "parse", problem, 2);
        }
    }

    #[tokio::test]
    async fn garbage_between_frames_is_answered_once_and_skipped() {
        let mut input = frame(&request(1));
        input.extend(b"\x00\xffnot a frame\r\n{\"half\": \r\nmore junk");
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_eq!(messages[0]["id"], 1);
        assert_error_then_request(&messages[1..], "invalid", "neither a header", 2);

        // Blank lines between frames are no error.
        let mut input = frame(&request(1));
        input.extend(b"\r\n\r\n\n");
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1]["id"], 2);
    }

    #[tokio::test]
    async fn a_content_length_that_is_not_a_number_is_answered_and_skipped() {
        for value in ["abc", "-5", "+5", "12 34", "99999999999999999999999"] {
            let mut input = format!("Content-Length: {value}\r\n\r\n").into_bytes();
            input.extend(request(1));
            input.extend(frame(&request(2)));
            let messages = through_guard(input).await;
            assert_error_then_request(&messages, "invalid", "is not a byte count", 2);
        }
    }

    #[tokio::test]
    async fn duplicate_content_lengths_agree_or_the_last_one_starts_the_frame() {
        let body = request(1);
        let twice = format!(
            "Content-Length: {n}\r\ncontent-length:{n}\r\n\r\n",
            n = body.len()
        );
        let mut input = twice.into_bytes();
        input.extend(&body);
        let messages = through_guard(input).await;
        assert_eq!(messages.len(), 1, "{messages:#?}");
        assert_eq!(messages[0]["id"], 1);

        // A header left over from a frame that broke off, then a whole frame.
        let mut input = b"Content-Length: 5\r\n".to_vec();
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "conflicting Content-Length", 2);
    }

    #[tokio::test]
    async fn a_content_type_header_is_accepted_before_or_after_the_length() {
        let body = request(1);
        let content_type = "Content-Type: application/vscode-jsonrpc; charset=utf-8";
        let mut input = Vec::new();
        input.extend(format!("Content-Length: {}\r\n{content_type}\r\n\r\n", body.len()).bytes());
        input.extend(&body);
        input.extend(format!("{content_type}\r\nContent-Length: {}\r\n\r\n", body.len()).bytes());
        input.extend(&body);
        let messages = through_guard(input).await;
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages.iter().all(|m| m["id"] == 1));
    }

    #[tokio::test]
    async fn a_header_in_the_middle_of_a_line_starts_the_next_frame() {
        let mut input = b"Content-Length: 12Content-Type: x".to_vec();
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "belong to no message", 2);
    }

    #[tokio::test]
    async fn oversized_frames_and_endless_headers_are_refused_without_buffering_them() {
        let mut input = b"Content-Length: 999999999999\r\n\r\n".to_vec();
        input.extend(request(1));
        input.extend(frame(&request(2)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "exceeds the", 2);

        let mut input = b"X-Pad: 0123456789abcdef\r\n".repeat(1000);
        input.extend(b"\r\n");
        input.extend(frame(&request(3)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "header block longer than", 3);

        let mut input = vec![b'a'; 100_000];
        input.extend(frame(&request(4)));
        let messages = through_guard(input).await;
        assert_error_then_request(&messages, "invalid", "header line longer than", 4);

        // However the stream goes on, what is held back stays bounded.
        let mut deframer = Deframer::new(1024);
        let mut frames = Vec::new();
        for piece in [
            &b"Content-Length: 1000000\r\n\r\n"[..],
            &[b'x'; 5000][..],
            &[b'a'; 5000][..],
            &b"X: y\r\n".repeat(5000)[..],
        ] {
            for chunk in piece.chunks(700) {
                deframer.push(chunk, &mut frames);
                assert!(deframer.buffered() <= deframer.buffer_limit());
            }
        }
        assert!(
            deframer.buffered() <= MAX_LENGTH_LINE,
            "{}",
            deframer.buffered()
        );
    }

    #[tokio::test]
    async fn an_unreadable_request_is_answered_with_its_own_id_and_a_notification_not_at_all() {
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"x","params":{}1{}}}"#,
            "[".repeat(300),
            "]".repeat(300)
        );
        let no_version = br#"{"id":"eight","method":"x"}"#;
        let notification = br#"{"method":"x","params":5}"#;
        let mut input = Vec::new();
        for body in [deep.as_bytes(), &no_version[..], &notification[..]] {
            input.extend(frame(body));
        }
        input.extend(frame(&request(9)));
        let messages = through_guard(input).await;
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert_eq!(messages[0]["id"], 7);
        assert_eq!(messages[0]["params"]["kind"], "invalid");
        assert!(messages[0]["params"]["detail"]
            .as_str()
            .unwrap()
            .contains("recursion limit"));
        assert_eq!(messages[1]["id"], "eight");
        assert_eq!(messages[2]["id"], 9);
    }

    #[test]
    fn length_lines_are_recognised_only_when_complete() {
        assert!(is_length_line(b"Content-Length: 12\r\n"));
        assert!(is_length_line(b"content-length:12 \n"));
        assert!(!is_length_line(b"Content-Length: 12"));
        assert!(!is_length_line(b"Content-Length: x\r\n"));
        assert!(!is_length_line(b"Content-Length 12\r\n"));
        assert_eq!(find_length_line(b"junk}Content-Length: 3\r\n", 0), Some(5));
        assert_eq!(find_length_line(br#"{"t":"Content-Length: 3"}"#, 0), None);
    }
}
