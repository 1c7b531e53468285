//! Guards the server's input. tower-lsp's framed reader stops for good after one message it
//! cannot decode, which would end the server on a single malformed message. Every frame is
//! checked here first; one that is not JSON, or not a JSON-RPC message, is replaced by a
//! request to `tacit/malformedMessage` with a null id, whose handler answers with the parse
//! or invalid-request error that JSON-RPC prescribes — and the server reads on.

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Request, Response};

pub const MALFORMED_METHOD: &str = "tacit/malformedMessage";

/// Frames larger than this are refused rather than buffered: no LSP message is this big.
const MAX_FRAME: usize = 64 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct Malformed {
    /// `parse` (not JSON) or `invalid` (JSON, but not a JSON-RPC message).
    pub kind: String,
    pub detail: String,
}

/// The error the replacement request is answered with.
pub fn malformed_error(m: Malformed) -> Error {
    let (code, what) = match m.kind.as_str() {
        "parse" => (ErrorCode::ParseError, "Parse error"),
        _ => (ErrorCode::InvalidRequest, "Invalid request"),
    };
    Error {
        code,
        message: format!("{what}: {}", m.detail).into(),
        data: None,
    }
}

fn check(body: &[u8]) -> Result<(), Malformed> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| Malformed {
        kind: "parse".into(),
        detail: e.to_string(),
    })?;
    let is_message = serde_json::from_value::<Request>(value.clone()).is_ok()
        || serde_json::from_value::<Response>(value).is_ok();
    if is_message {
        Ok(())
    } else {
        Err(Malformed {
            kind: "invalid".into(),
            detail: "not a JSON-RPC 2.0 request, notification or response".into(),
        })
    }
}

fn replacement(m: &Malformed) -> Vec<u8> {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "method": MALFORMED_METHOD,
        "params": {"kind": m.kind, "detail": m.detail},
    })
    .to_string()
    .into_bytes()
}

/// Reads one header block; `Ok(None)` at end of input. A block without a usable
/// Content-Length yields `Some(None)`.
async fn read_headers<R: AsyncRead + Unpin>(
    input: &mut BufReader<R>,
) -> std::io::Result<Option<Option<usize>>> {
    let mut length = None;
    let mut seen_any = false;
    loop {
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            if seen_any {
                return Ok(Some(length));
            }
            continue;
        }
        seen_any = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
}

async fn pump<R: AsyncRead + Unpin>(input: R, mut output: DuplexStream) -> std::io::Result<()> {
    let mut input = BufReader::new(input);
    while let Some(length) = read_headers(&mut input).await? {
        let body = match length {
            Some(n) if n <= MAX_FRAME => {
                let mut body = vec![0; n];
                input.read_exact(&mut body).await?;
                match check(&body) {
                    Ok(()) => body,
                    Err(m) => {
                        tracing::warn!("malformed message from the client: {}", m.detail);
                        replacement(&m)
                    }
                }
            }
            Some(n) => {
                // Skip the oversized body without holding it in memory.
                tokio::io::copy(&mut (&mut input).take(n as u64), &mut tokio::io::sink()).await?;
                replacement(&Malformed {
                    kind: "invalid".into(),
                    detail: format!("message of {n} bytes exceeds the {MAX_FRAME}-byte limit"),
                })
            }
            None => replacement(&Malformed {
                kind: "invalid".into(),
                detail: "header block without a valid Content-Length".into(),
            }),
        };
        output
            .write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
            .await?;
        output.write_all(&body).await?;
    }
    Ok(())
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
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_frames_are_replaced_and_good_ones_pass() {
        let good = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let bad = br#"{"jsonrpc": "2.0", "id": 2, "method": "#;
        let not_rpc = br#"{"hello":"world"}"#;
        let mut input = Vec::new();
        for body in [&good[..], &bad[..], &not_rpc[..], &good[..]] {
            input.extend(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            input.extend(body);
        }
        let mut out = guard(std::io::Cursor::new(input));
        let mut all = String::new();
        out.read_to_string(&mut all).await.unwrap();
        let bodies: Vec<serde_json::Value> = all
            .split("Content-Length: ")
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::from_str(s.split_once("\r\n\r\n").unwrap().1).unwrap())
            .collect();
        assert_eq!(bodies.len(), 4);
        assert_eq!(bodies[0]["method"], "shutdown");
        assert_eq!(bodies[1]["method"], MALFORMED_METHOD);
        assert_eq!(bodies[1]["params"]["kind"], "parse");
        assert_eq!(bodies[2]["params"]["kind"], "invalid");
        assert_eq!(bodies[3]["id"], 1);
    }
}
