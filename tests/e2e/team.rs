//! The team store on a real S3-compatible server (moto) and on Azure Blob Storage's emulator
//! (Azurite), each started here on 127.0.0.1: two servers with their own local stores and one
//! team store see each other's team memories within seconds, concurrent team writes from both
//! lose nothing, a forget on one is gone from the other and from every object in the bucket,
//! and an unreachable bucket leaves local memory working while the status says why. What the
//! team's CI publishes with `tacit index --publish` is where a teammate's editor starts on a
//! clone.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{tacit_bin, Server, ServerBuilder};

/// The bucket (S3) or container (Azure) the team store lives in.
const BUCKET: &str = "tacit-team";
/// Concurrent team writes per server.
const WRITES: usize = 500;

/// What an install script (scripts/test runs them first) printed: the directory it installed
/// into.
fn installed(script: &str) -> String {
    let out = Command::new(crate::tests_dir().join(script))
        .output()
        .unwrap_or_else(|e| panic!("run tests/{script}: {e}"));
    assert!(
        out.status.success(),
        "tests/{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Which object store a [`Bucket`] is.
#[derive(Clone, Copy)]
enum Service {
    /// `moto[server]`, installed by tests/s3/install.
    S3,
    /// Azurite, installed by tests/azure/install.
    Azure,
}

/// An object-store server started here on 127.0.0.1 with one bucket, killed when dropped.
struct Bucket {
    child: Child,
    service: Service,
    endpoint: String,
    /// Where its install script put it: moto's PYTHONPATH, or Azurite's directory.
    installed: String,
}

impl Bucket {
    fn start(service: Service) -> Bucket {
        let port = free_port();
        let (installed, mut command, listening) = match service {
            Service::S3 => {
                let pythonpath = installed("s3/install");
                // moto's server, with its conditional puts made atomic as S3's are (see the
                // script).
                let mut command = Command::new("python3");
                command
                    .arg(crate::tests_dir().join("s3/server.py"))
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .env("PYTHONPATH", &pythonpath);
                (pythonpath, command, "Running on")
            }
            Service::Azure => {
                let dir = installed("azure/install");
                let mut command = Command::new(Path::new(&dir).join("bin/node"));
                command
                    .arg(Path::new(&dir).join("node_modules/azurite/dist/src/blob/main.js"))
                    .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
                    // Nothing on disk; any API version object_store speaks.
                    .args(["--inMemoryPersistence", "--skipApiVersionCheck"]);
                (dir, command, "successfully listens")
            }
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the object-store server");
        // The server says when it listens (moto on stderr, Azurite on stdout); its later
        // request log is drained so that it never blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let pipes: [Box<dyn std::io::Read + Send>; 2] = [Box::new(stdout), Box::new(stderr)];
        for pipe in pipes {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut told = false;
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if !told && line.contains(listening) {
                        told = true;
                        let _ = tx.send(());
                    }
                }
            });
        }
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the object-store server did not start listening");
        let bucket = Bucket {
            child,
            service,
            endpoint: format!("http://127.0.0.1:{port}"),
            installed,
        };
        bucket.look(&["create", BUCKET]);
        bucket
    }

    /// Runs the service's client script (tests/s3/bucket.py, tests/azure/container.cjs).
    fn look(&self, args: &[&str]) -> String {
        let mut command = match self.service {
            Service::S3 => {
                let mut c = Command::new("python3");
                c.arg(crate::tests_dir().join("s3/bucket.py"))
                    .env("PYTHONPATH", &self.installed);
                c
            }
            Service::Azure => {
                let mut c = Command::new(Path::new(&self.installed).join("bin/node"));
                c.arg(crate::tests_dir().join("azure/container.cjs"))
                    .env("NODE_PATH", Path::new(&self.installed).join("node_modules"));
                c
            }
        };
        let out = command.arg(&self.endpoint).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "looking into the bucket {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The objects of the bucket whose bytes hold `needle`, and how many objects there are.
    fn grep(&self, needle: &str) -> (usize, Vec<String>) {
        let found: Value = serde_json::from_str(&self.look(&["grep", BUCKET, needle])).unwrap();
        let hits = found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_string())
            .collect();
        (found["objects"].as_u64().unwrap() as usize, hits)
    }

    fn team_uri(&self) -> String {
        team_uri(self.service)
    }

    /// The service's standard environment, as a user's machine sets it, pointed at the test
    /// server.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self.service {
            Service::S3 => aws_env(&self.endpoint),
            Service::Azure => vec![
                // Azurite's well-known development account.
                ("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1".into()),
                (
                    "AZURE_STORAGE_ACCOUNT_KEY",
                    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
                        .into(),
                ),
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", self.endpoint.clone()),
            ],
        }
    }
}

impl Drop for Bucket {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The AWS environment of the standard chain, pointed at `endpoint`.
fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

/// The team store's URI in the bucket.
fn team_uri(service: Service) -> String {
    match service {
        Service::S3 => format!("s3://{BUCKET}/memory"),
        Service::Azure => format!("az://{BUCKET}/memory"),
    }
}

fn start(tmp: &Path, name: &str, env: &[(&'static str, String)], team: &str) -> Server {
    let root = tmp.join(format!("workspace-{name}"));
    std::fs::create_dir_all(&root).unwrap();
    let mut builder = ServerBuilder::new(
        &tmp.join(format!("store-{name}")),
        &tmp.join(format!("logs-{name}")),
    )
    .without_env("TACIT_TEAM_STORE");
    for (key, value) in env {
        builder = builder.env(key, value);
    }
    let mut server = builder.start();
    server.initialize(&root, json!({"indexOnStartup": false, "teamStore": team}));
    server
}

fn remember_team(server: &mut Server, text: &str) -> Value {
    let result = server.ok("tacit.remember", json!({"text": text, "scope": "team"}));
    assert_eq!(result["store"], "team", "{result}");
    assert_eq!(result["entry"]["scope"], "team", "{result}");
    result
}

fn recalled(server: &mut Server, query: &str) -> Vec<String> {
    let result = server.ok("tacit.recall", json!({"query": query, "limit": 10}));
    result["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entry"]["text"].as_str().unwrap().to_string())
        .collect()
}

/// Recalls on `server` until `found` says yes, waiting on its store-change notifications in
/// between (a refresh that read the team store's new rows announces them); returns how long
/// it took.
fn wait_recalled(server: &mut Server, query: &str, found: impl Fn(&[String]) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let from = server.notifications.len();
        if found(&recalled(server, query)) {
            return started.elapsed();
        }
        server.wait_notification(from, "tacit/storeChanged", |_| true);
    }
}

/// The team entries a fresh CLI process reads from the bucket.
fn team_entries_in_bucket(tmp: &Path, bucket: &Bucket) -> Vec<Value> {
    let mut cmd = Command::new(tacit_bin());
    cmd.args(["list", "--all", "--json"])
        .env("TACIT_STORE", tmp.join("store-cli"))
        .env("TACIT_TEAM_STORE", bucket.team_uri())
        .current_dir(tmp);
    for (key, value) in bucket.env() {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tacit list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.into_iter().filter(|e| e["scope"] == "team").collect()
}

#[test]
fn team_memory_on_s3_reaches_a_teammate_and_a_forget_leaves_no_copy_in_the_bucket() {
    team_memory_reaches_a_teammate_and_a_forget_leaves_no_copy(Service::S3);
}

#[test]
fn team_memory_on_azure_reaches_a_teammate_and_a_forget_leaves_no_copy_in_the_container() {
    team_memory_reaches_a_teammate_and_a_forget_leaves_no_copy(Service::Azure);
}

fn team_memory_reaches_a_teammate_and_a_forget_leaves_no_copy(service: Service) {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let bucket = Bucket::start(service);
    let mut ada = start(tmp, "ada", &bucket.env(), &bucket.team_uri());
    let mut bob = start(tmp, "bob", &bucket.env(), &bucket.team_uri());

    // Each writes a team memory (a team write waits for the team store to connect).
    let bob_fact = "Never call the billing API from tests; use the sandbox account";
    let bob_id = remember_team(&mut bob, bob_fact)["entry"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ada_fact = "We chose Postgres over MySQL for its transactional DDL";
    remember_team(&mut ada, ada_fact);
    let took = wait_recalled(&mut bob, "which database did we choose", |texts| {
        texts.iter().any(|t| t == ada_fact)
    });
    assert!(
        took < Duration::from_secs(5),
        "bob saw ada's team memory after {took:?}"
    );
    wait_recalled(&mut ada, "billing API in tests", |texts| {
        texts.iter().any(|t| t == bob_fact)
    });
    // A team memory is the team store's, not copied into either local store.
    let status = ada.ok("tacit.status", json!({}));
    assert_eq!(status["teamStore"]["state"], "connected", "{status}");
    assert_eq!(status["teamStore"]["uri"], bucket.team_uri(), "{status}");
    let local: u64 = status["counts"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|by_status| by_status.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(local, 0, "the local store holds nothing: {status}");

    // Both write at once, each request sent before any answer comes back.
    let mut acknowledged = BTreeSet::new();
    let mut pending = Vec::new();
    for i in 0..WRITES {
        for (name, server) in [("ada", &mut ada), ("bob", &mut bob)] {
            let id = server.start_command(
                "tacit.remember",
                json!({
                    "text": format!("{name}'s team rule {i}: run the {i}th migration check before merging"),
                    "key": format!("team.{name}.{i}"),
                    "scope": "team",
                }),
            );
            pending.push((name, id));
        }
    }
    for (name, id) in pending {
        let server = if name == "ada" { &mut ada } else { &mut bob };
        let result = server.wait_response(&id).unwrap_or_else(|e| {
            panic!(
                "{name}'s team write failed: {e}; log: {}",
                server.stderr_tail()
            )
        });
        assert_eq!(result["store"], "team", "{result}");
        acknowledged.insert(result["entry"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        acknowledged.len(),
        2 * WRITES,
        "every write got its own entry"
    );
    let in_bucket: BTreeSet<String> = team_entries_in_bucket(tmp, &bucket)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        in_bucket.len(),
        2 * WRITES + 2,
        "the bucket holds exactly what was acknowledged"
    );
    assert!(acknowledged.is_subset(&in_bucket));

    // A forget on ada removes bob's memory from bob's server and from every object of the
    // bucket (the control: before the forget its words are there).
    let needle = "sandbox account";
    let (objects, hits) = bucket.grep(needle);
    assert!(
        !hits.is_empty(),
        "the control found nothing in {objects} objects"
    );
    ada.ok("tacit.forget", json!({"id": bob_id}));
    wait_recalled(&mut bob, "billing API in tests", |texts| {
        !texts.iter().any(|t| t == bob_fact)
    });
    let (objects, hits) = bucket.grep(needle);
    assert!(
        hits.is_empty(),
        "{} of {objects} objects still hold the forgotten words: {hits:?}",
        hits.len()
    );
    let err = bob
        .command("tacit.get", json!({"id": bob_id}))
        .expect_err("the forgotten entry is gone for bob too");
    assert!(
        err["message"].as_str().unwrap().contains("no entry"),
        "{err}"
    );
    ada.shutdown();
    bob.shutdown();
}

#[test]
fn an_unreachable_team_store_leaves_local_memory_working_and_the_status_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    // A port nothing listens on.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let mut server = start(tmp, "offline", &aws_env(&endpoint), &team_uri(Service::S3));

    let err = server
        .command(
            "tacit.remember",
            json!({"text": "Deploys go out on Tuesdays", "scope": "team"}),
        )
        .expect_err("a team write without the bucket fails");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("team store") && message.contains("unreachable"),
        "{message}"
    );

    let local = server.ok(
        "tacit.remember",
        json!({"text": "Feature flags are named after their ticket"}),
    );
    assert_eq!(local["store"], "local", "{local}");
    assert!(recalled(&mut server, "how are feature flags named")
        .iter()
        .any(|t| t == "Feature flags are named after their ticket"));
    let status = server.ok("tacit.status", json!({}));
    assert_eq!(status["teamStore"]["state"], "unreachable", "{status}");
    assert!(
        status["teamStore"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{status}"
    );
    server.shutdown();
}

/// `git` output, trimmed.
fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn an_editor_opening_a_clone_starts_from_what_the_teams_ci_published() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let s3 = Bucket::start(Service::S3);
    let upstream = crate::fixture_repo(tmp, "code-typescript");
    let head = git_out(&upstream, &["rev-parse", "HEAD"]);

    // The team's CI, on the main branch: index and publish.
    let mut ci = Command::new(tacit_bin());
    ci.args(["index", "--publish", "--json"])
        .env("TACIT_STORE", tmp.join("store-ci"))
        .env("TACIT_TEAM_STORE", s3.team_uri())
        .current_dir(&upstream);
    for (key, value) in s3.env() {
        ci.env(key, value);
    }
    let out = ci.output().unwrap();
    assert!(
        out.status.success(),
        "tacit index --publish: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ran: Value = serde_json::from_slice(&out.stdout).unwrap();
    let published = &ran["published"];
    assert_eq!(published["commit"], head.as_str(), "{ran:#}");
    assert_eq!(published["files"], 6, "{ran:#}");
    assert_eq!(published["history"], true, "{ran:#}");
    let written = published["written"].as_u64().unwrap();
    assert!(
        written >= 17,
        "the fixture's 17 conventions at least: {ran:#}"
    );

    // A teammate's clone, one commit ahead: one more camelCase function.
    crate::git(tmp, &["clone", "-q", upstream.to_str().unwrap(), "clone"]);
    let clone = tmp.join("clone").canonicalize().unwrap();
    let format = clone.join("src/format.ts");
    let mut text = std::fs::read_to_string(&format).unwrap();
    text.push_str("\nexport function padRight(text: string): string {\n  return text\n}\n");
    std::fs::write(&format, text).unwrap();
    crate::git(&clone, &["commit", "-qam", "feat: pad on the right"]);

    // Their editor opens it: the first index run starts from the publication.
    let mut builder = ServerBuilder::new(&tmp.join("store-bob"), &tmp.join("logs-bob"))
        .without_env("TACIT_TEAM_STORE");
    for (key, value) in s3.env() {
        builder = builder.env(key, &value);
    }
    let mut server = builder.start();
    server.initialize(&clone, json!({"teamStore": s3.team_uri()}));
    server.wait_indexed(0);
    let status = server.ok("tacit.status", json!({}));
    let last = &status["lastIndex"][0];
    let used = &last["publication"];
    assert_eq!(used["commit"], head.as_str(), "{status:#}");
    assert_eq!(used["entriesCopied"], written, "{status:#}");
    assert_eq!(used["filesRecounted"], 1, "{status:#}");
    assert_eq!(used["filesReused"], 5, "{status:#}");
    assert_eq!(
        last["code"]["filesParsed"], 1,
        "only the changed file: {status:#}"
    );
    assert_eq!(last["history"]["newCommits"], 1, "{status:#}");
    assert_eq!(last["history"]["commitsMined"], 2, "{status:#}");

    // The published counts plus the file counted here: 8 camelCase functions of 8, not the
    // published 7 and not 1.
    let list = server.ok(
        "tacit.list",
        json!({"keyPrefix": "naming.function", "statuses": ["active"], "language": "typescript"}),
    );
    let naming: Vec<Value> = crate::entries(&list)
        .into_iter()
        .filter(|e| e["key"] == "naming.function" && e["scope"] == last["scope"])
        .collect();
    assert_eq!(naming.len(), 1, "{list:#}");
    assert_eq!(naming[0]["value"], "camelCase", "{list:#}");
    assert_eq!(naming[0]["evidence"]["total"], 8, "{list:#}");
    server.shutdown();
}
