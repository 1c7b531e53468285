//! `initialize` is answered at once, whatever holds the store: opening it, loading the model
//! and the first index run come after `initialized`, under a `tacit/start` progress, and
//! commands sent meanwhile wait for the start instead of failing.

use serde_json::json;

use crate::client::ServerBuilder;

#[test]
fn initialize_is_answered_while_another_process_holds_the_store_and_commands_wait_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let store = tmp.join("store");
    let project = tmp.join("project");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    // What another tacit process holds while it commits: the store's write lock.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(store.join(".tacit-write.lock"))
        .unwrap();
    lock.lock().unwrap();

    let mut server = ServerBuilder::new(&store, &tmp.join("logs")).start();
    // Were the store opened before the reply, this would wait for the lock and time out.
    let init = server.initialize(&project, json!({"indexOnStartup": false}));
    assert_eq!(init["serverInfo"]["name"], "tacit");
    server.wait_notification(0, "$/progress", |p| {
        p["token"] == "tacit/start" && p["value"]["kind"] == "begin"
    });
    let status = server.start_command("tacit.status", json!({}));

    lock.unlock().unwrap();
    let status = server.wait_response(&status).unwrap_or_else(|e| {
        panic!(
            "status during start-up failed: {e}; log: {}",
            server.stderr_tail()
        )
    });
    // The workspace folder announced in `initialize` reached the engine opened later.
    let roots: Vec<&str> = status["workspaces"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["root"].as_str())
        .collect();
    assert!(
        roots.len() == 1 && roots[0].ends_with("/project"),
        "{status}"
    );
    let ended = server.wait_notification(0, "$/progress", |p| {
        p["token"] == "tacit/start" && p["value"]["kind"] == "end"
    });
    assert!(
        ended["params"]["value"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(store.to_str().unwrap())),
        "{ended}"
    );
    server.shutdown();
}
