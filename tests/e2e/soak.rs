//! Several processes on one store, as in real set-ups: a server per editor window and the
//! CLI, writing, reading and forgetting at once; then a writer killed mid-write. Whatever
//! they do, the store ends up holding exactly what was acknowledged, every process sees it,
//! and no client gets an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{tacit_bin, Server, ServerBuilder};

/// Writes per server in the soak.
const WRITES: usize = 2_000;
/// Writes by CLI processes during the soak (each one starts a process and loads the model).
const CLI_WRITES: usize = 24;

const DOING: &[&str] = &[
    "validate input",
    "log request ids",
    "wrap database errors",
    "retry network calls",
    "name feature flags",
    "document public functions",
    "pin dependency versions",
    "cache template lookups",
    "close file handles",
    "batch metric uploads",
    "sort imports",
    "keep migrations reversible",
    "escape HTML output",
    "time out slow queries",
    "hash stored passwords",
    "version the public API",
];
const WHERE: &[&str] = &[
    "billing",
    "command handlers",
    "the mobile client",
    "background workers",
    "plugins",
    "GraphQL resolvers",
    "CSV exports",
    "the search indexer",
    "websocket sessions",
    "integration tests",
    "the admin dashboard",
    "the scheduler",
    "the parser",
    "audit trails",
    "email templates",
    "geospatial queries",
];

fn statement(writer: &str, i: usize) -> String {
    format!(
        "{writer} says: {} in {} (case {i})",
        DOING[(i * 7 + writer.len()) % DOING.len()],
        WHERE[(i / DOING.len() + i * 3) % WHERE.len()]
    )
}

/// What one writer was told: ids acknowledged by remember, ids acknowledged by forget, and
/// any error a client received.
#[derive(Default)]
struct Acknowledged {
    remembered: BTreeSet<String>,
    forgotten: BTreeSet<String>,
    errors: Vec<String>,
}

fn start_server(tmp: &Path, store: &Path, name: &str) -> Server {
    let root = tmp.join(format!("workspace-{name}"));
    std::fs::create_dir_all(&root).unwrap();
    let mut server = ServerBuilder::new(store, &tmp.join(format!("logs-{name}"))).start();
    server.initialize(&root, json!({"indexOnStartup": false}));
    server
}

/// One server's share of the soak: remembers, a recall every 10th, and a forget of one of
/// its own earlier entries every 20th.
fn soak_server(mut server: Server, name: &str) -> (Server, Acknowledged) {
    let mut ack = Acknowledged::default();
    for i in 0..WRITES {
        // Most statements have a slot of their own; every tenth has none, so that
        // near-duplicates merge, across servers too, and forgets race with merges.
        let mut argument = json!({"text": statement(name, i), "scope": "user"});
        if i % 10 != 0 {
            argument["key"] = json!(format!("soak.{name}.{i}"));
        }
        match server.command("tacit.remember", argument) {
            Ok(result) => {
                ack.remembered
                    .insert(result["entry"]["id"].as_str().unwrap().to_string());
            }
            Err(e) => ack.errors.push(format!("{name} remember {i}: {e}")),
        }
        if i % 10 == 9 {
            if let Err(e) = server.command(
                "tacit.recall",
                json!({"query": statement(name, i / 2), "limit": 5}),
            ) {
                ack.errors.push(format!("{name} recall {i}: {e}"));
            }
        }
        if i % 20 == 19 {
            let victim = ack
                .remembered
                .iter()
                .find(|id| !ack.forgotten.contains(*id))
                .cloned();
            if let Some(id) = victim {
                match server.command("tacit.forget", json!({"id": id})) {
                    Ok(_) => {
                        ack.forgotten.insert(id);
                    }
                    // Another writer may have forgotten the same merged entry first.
                    Err(e)
                        if e["message"]
                            .as_str()
                            .unwrap_or("")
                            .contains("no entry with id") =>
                    {
                        ack.forgotten.insert(id);
                    }
                    Err(e) => ack.errors.push(format!("{name} forget {i}: {e}")),
                }
            }
        }
    }
    (server, ack)
}

fn cli(store: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(tacit_bin())
        .args(args)
        .env("TACIT_STORE", store)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn soak_cli(store: &Path) -> Acknowledged {
    let mut ack = Acknowledged::default();
    for i in 0..CLI_WRITES {
        let text = statement("cli", i);
        let remembered = cli(store, &["remember", "--scope", "user", "--json", &text])
            .and_then(|out| serde_json::from_str::<Value>(&out).map_err(|e| e.to_string()));
        match remembered {
            Ok(result) => {
                ack.remembered
                    .insert(result["entry"]["id"].as_str().unwrap().to_string());
            }
            Err(e) => ack.errors.push(format!("cli remember {i}: {e}")),
        }
        if i % 6 == 5 {
            let id = ack.remembered.iter().next().cloned().unwrap();
            if !ack.forgotten.contains(&id) {
                match cli(store, &["forget", &id]) {
                    Ok(_) => {
                        ack.forgotten.insert(id);
                    }
                    Err(e) => ack.errors.push(format!("cli forget {i}: {e}")),
                }
            }
        }
    }
    ack
}

/// The ids of every entry in the store, as a new process reads them.
fn stored_ids(store: &Path) -> BTreeSet<String> {
    let out = Command::new(tacit_bin())
        .args(["export"])
        .env("TACIT_STORE", store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn listed_ids(server: &mut Server) -> BTreeSet<String> {
    let list = server.ok("tacit.list", json!({"allScopes": true}));
    list["entries"]
        .as_array()
        .or(list.as_array())
        .into_iter()
        .flatten()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// How long the server takes to list exactly `expected`, waiting on its store notifications.
fn time_to_list(server: &mut Server, expected: &BTreeSet<String>) -> Duration {
    let started = Instant::now();
    server.wait_for_store(|s| (&listed_ids(s) == expected).then_some(()));
    started.elapsed()
}

fn expected(acks: &[&Acknowledged]) -> BTreeSet<String> {
    let forgotten: BTreeSet<&String> = acks.iter().flat_map(|a| &a.forgotten).collect();
    acks.iter()
        .flat_map(|a| &a.remembered)
        .filter(|id| !forgotten.contains(id))
        .cloned()
        .collect()
}

#[test]
fn two_servers_and_the_cli_on_one_store_keep_exactly_what_was_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let store: PathBuf = tmp.join("store");
    let a = start_server(tmp, &store, "a");
    let b = start_server(tmp, &store, "b");
    let soak_a = std::thread::spawn(move || soak_server(a, "alpha"));
    let soak_b = std::thread::spawn(move || soak_server(b, "beta"));
    let cli_store = store.clone();
    let soak_c = std::thread::spawn(move || soak_cli(&cli_store));
    let (mut a, ack_a) = soak_a.join().unwrap();
    let (mut b, ack_b) = soak_b.join().unwrap();
    let ack_c = soak_c.join().unwrap();

    let errors: Vec<&String> = [&ack_a, &ack_b, &ack_c]
        .iter()
        .flat_map(|a| &a.errors)
        .collect();
    assert!(errors.is_empty(), "client errors: {errors:#?}");
    let expected = expected(&[&ack_a, &ack_b, &ack_c]);
    assert!(
        expected.len() > WRITES,
        "the soak wrote too little to mean anything: {}",
        expected.len()
    );
    let took = time_to_list(&mut a, &expected);
    assert!(
        took <= Duration::from_secs(2),
        "server a listed exactly the acknowledged set only after {took:?}; log: {}",
        a.stderr_tail()
    );
    let took = time_to_list(&mut b, &expected);
    assert!(
        took <= Duration::from_secs(2),
        "server b listed exactly the acknowledged set only after {took:?}; log: {}",
        b.stderr_tail()
    );
    a.shutdown();
    b.shutdown();
    assert_eq!(
        stored_ids(&store),
        expected,
        "a new process reads another set"
    );
}

#[test]
fn a_writer_killed_mid_write_loses_nothing_acknowledged_and_the_others_carry_on() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let store: PathBuf = tmp.join("store");
    let victim = start_server(tmp, &store, "victim");
    let survivor = start_server(tmp, &store, "survivor");
    let survivor_run = std::thread::spawn(move || {
        let mut survivor = survivor;
        let mut ack = Acknowledged::default();
        for i in 0..300 {
            match survivor.command(
                "tacit.remember",
                json!({"text": statement("survivor", i), "scope": "user"}),
            ) {
                Ok(r) => {
                    ack.remembered
                        .insert(r["entry"]["id"].as_str().unwrap().to_string());
                }
                Err(e) => ack.errors.push(format!("survivor remember {i}: {e}")),
            }
        }
        (survivor, ack)
    });
    let mut victim = victim;
    let mut ack_victim = Acknowledged::default();
    for i in 0..120 {
        let r = victim.ok(
            "tacit.remember",
            json!({"text": statement("victim", i), "scope": "user"}),
        );
        ack_victim
            .remembered
            .insert(r["entry"]["id"].as_str().unwrap().to_string());
    }
    // Killed with writes in flight: these may or may not land, but were never acknowledged.
    for i in 120..130 {
        victim.start_command(
            "tacit.remember",
            json!({"text": statement("victim", i), "scope": "user"}),
        );
    }
    victim.kill();
    let (mut survivor, ack_survivor) = survivor_run.join().unwrap();
    assert!(
        ack_survivor.errors.is_empty(),
        "the survivor got errors after the kill: {:#?}",
        ack_survivor.errors
    );
    // The survivor keeps writing and forgetting after the kill.
    let last = survivor.ok(
        "tacit.remember",
        json!({"text": "written after the other server died", "scope": "user"}),
    );
    let last_id = last["entry"]["id"].as_str().unwrap().to_string();
    let listed = listed_ids(&mut survivor);
    survivor.shutdown();
    let on_disk = stored_ids(&store);
    for id in ack_victim
        .remembered
        .iter()
        .chain(&ack_survivor.remembered)
        .chain(std::iter::once(&last_id))
    {
        assert!(on_disk.contains(id), "acknowledged {id} was lost");
        assert!(listed.contains(id), "the survivor does not list {id}");
    }
}
