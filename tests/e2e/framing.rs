//! A client that breaks the LSP framing. After each kind of bad frame the server answers with
//! the JSON-RPC error for it and reads on: the valid request that follows gets its normal
//! answer, with its own id.

use serde_json::{json, Value};

use crate::{fixture_repo, start};

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend(body);
    out
}

fn status_request(id: &Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": "workspace/executeCommand",
        "params": {"command": "tacit.status", "arguments": [{}]}})
    .to_string()
    .into_bytes()
}

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

#[test]
fn after_each_kind_of_bad_frame_the_next_request_is_answered_with_its_own_id() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "polyglot");
    let mut server = start(tmp, "store");
    server.initialize(&root, json!({"indexOnStartup": false}));

    let body = status_request(&json!("a lost request"));
    let with_length = |n: usize| {
        let mut out = format!("Content-Length: {n}\r\n\r\n").into_bytes();
        out.extend(&body);
        out
    };
    let cases: Vec<(&str, Vec<u8>, i64)> = vec![
        (
            "a header block without Content-Length",
            [
                &b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"[..],
                &body,
            ]
            .concat(),
            INVALID_REQUEST,
        ),
        ("a body without any header", body.clone(), INVALID_REQUEST),
        (
            "a Content-Length too short",
            with_length(body.len() / 2),
            PARSE_ERROR,
        ),
        (
            "a Content-Length too long, swallowing the next frame",
            with_length(body.len() + 200),
            PARSE_ERROR,
        ),
        (
            "garbage between frames",
            b"\x00\xff garbage {\"x\":\r\n".to_vec(),
            INVALID_REQUEST,
        ),
        (
            "a Content-Length that is not a number",
            [&b"Content-Length: twelve\r\n\r\n"[..], &body].concat(),
            INVALID_REQUEST,
        ),
        (
            "conflicting Content-Length headers",
            b"Content-Length: 3\r\n".to_vec(),
            INVALID_REQUEST,
        ),
        (
            "a Content-Length over the limit",
            [&b"Content-Length: 999999999999\r\n\r\n"[..], &body].concat(),
            INVALID_REQUEST,
        ),
    ];
    for (i, (name, bad, code)) in cases.iter().enumerate() {
        let id = json!(format!("after bad frame {i}"));
        // Two writes: the server must not wait for the bytes a wrong length promised.
        server.send_bytes(bad);
        server.send_bytes(&frame(&status_request(&id)));
        let answer = server
            .wait_response(&id)
            .unwrap_or_else(|e| panic!("after {name}: {e}; log: {}", server.stderr_tail()));
        assert!(answer["store"].is_string(), "after {name}: {answer}");
        let error = server.wait_response(&Value::Null).unwrap_err();
        assert_eq!(error["code"], *code, "{name}: {error}");
    }

    // A request nested too deeply to parse is answered with its own id.
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":"deep","method":"workspace/executeCommand","params":{{"command":"tacit.recall","arguments":[{{"query":{}"x"{}}}]}}}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    server.send_bytes(&frame(deep.as_bytes()));
    let error = server.wait_response(&json!("deep")).unwrap_err();
    assert_eq!(error["code"], INVALID_REQUEST, "{error}");

    // Well-formed variants that are no error: a Content-Type header, a repeated length.
    let id = json!("with content type");
    let body = status_request(&id);
    let headers = format!(
        "Content-Length: {n}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: {n}\r\n\r\n",
        n = body.len()
    );
    server.send_bytes(&[headers.as_bytes(), &body].concat());
    assert!(server.wait_response(&id).unwrap()["store"].is_string());

    let final_status = server.ok("tacit.status", json!({}));
    assert!(final_status["store"].is_string());
    // One error answer per bad frame, no more.
    let stray: Vec<&Value> = server
        .unclaimed_responses()
        .iter()
        .filter(|r| r["id"].is_null())
        .collect();
    assert!(stray.is_empty(), "extra error answers: {stray:#?}");
    server.shutdown();
}
