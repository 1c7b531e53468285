//! Text over the size limits is refused, whichever command brings it, with an error that
//! names the limit; nothing of it is stored.

use serde_json::json;

use crate::{expect_error, fixture_repo, start};

#[test]
fn remember_update_extract_and_import_refuse_text_over_the_limit_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = fixture_repo(tmp, "polyglot");
    let mut server = start(tmp, "store");
    server.initialize(&root, json!({"indexOnStartup": false}));
    let over = "word ".repeat(1601);

    expect_error(
        &mut server,
        "tacit.remember",
        json!({"text": over}),
        "at most 8000 bytes",
    );
    let kept = server.ok(
        "tacit.remember",
        json!({"text": "Releases are cut on Tuesdays."}),
    );
    let id = kept["entry"]["id"].clone();
    expect_error(
        &mut server,
        "tacit.update",
        json!({"id": id, "text": over}),
        "at most 8000 bytes",
    );
    expect_error(
        &mut server,
        "tacit.update",
        json!({"id": id, "tags": ["t".repeat(9000)]}),
        "at most 8000 bytes",
    );
    expect_error(
        &mut server,
        "tacit.pin",
        json!({"text": over}),
        "at most 8000 bytes",
    );

    // An import is checked whole before anything is written: a good line, then one too big.
    let mut good = server.ok("tacit.get", json!({"id": id}));
    good["id"] = json!("0123456789abcdef0123");
    let mut big = good.clone();
    big["id"] = json!("0123456789abcdef0124");
    big["text"] = json!(over);
    let jsonl = format!("{good}\n{big}\n");
    let err = expect_error(
        &mut server,
        "tacit.import",
        json!({"jsonl": jsonl}),
        "line 2 of the import: `text` is 8005 bytes",
    );
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("at most 8000 bytes"));
    let absent = server
        .command("tacit.get", json!({"id": "0123456789abcdef0123"}))
        .unwrap_err();
    assert!(
        absent["message"].as_str().unwrap().contains("no entry"),
        "{absent}"
    );

    // A transcript over 1 MiB, even one whose every sentence would fit.
    let transcript = "We always use tabs in Go code. ".repeat(34_000);
    expect_error(
        &mut server,
        "tacit.extract",
        json!({"text": transcript}),
        "at most 1048576 bytes",
    );
    // The file an import names is read no further than the import limit.
    expect_error(
        &mut server,
        "tacit.import",
        json!({"path": "/dev/zero"}),
        "at most 67108864 bytes",
    );

    let listed = server.ok("tacit.list", json!({"allScopes": true}));
    let texts: Vec<&str> = listed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(texts, vec!["Releases are cut on Tuesdays."], "{listed:#}");
    server.shutdown();
}
