//! A mutation fuzzer for the arguments of every `tacit.*` command, against one real
//! `tacit lsp` (fresh store, a tiny git repository, no indexing on start). It runs for
//! `TACIT_FUZZ_SECS` (default 30) seconds from a seed taken from the clock and printed, or
//! from `TACIT_FUZZ_SEED` to replay a run. Seeds are the argument objects checked in under
//! `tests/fuzz/corpus/commands/<command>.json`; mutations put wrong types, nulls, huge and
//! unicode strings, deep nesting and ids that are not ids where the fields are, drop fields
//! and add unknown ones. Every request must get a reply carrying its id: a result, or an
//! error that is not an internal one and says what to fix; the server must live on, and a
//! valid `tacit.status` must answer at the end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::client::ServerBuilder;
use crate::git;
use seeded::{settings, Rng};

#[path = "../fuzz/seeded.rs"]
mod seeded;

/// Every argument field some command takes, for mutations that put a wrong value there.
const FIELDS: &[&str] = &[
    "text",
    "query",
    "id",
    "uri",
    "position",
    "budgetTokens",
    "layers",
    "layer",
    "limit",
    "includeSuperseded",
    "key",
    "value",
    "language",
    "tags",
    "importance",
    "confidence",
    "scope",
    "source",
    "statuses",
    "keyPrefix",
    "allScopes",
    "jsonl",
    "path",
];

struct Mutator {
    rng: Rng,
    /// Where `path` arguments may point: nothing outside it is ever written or read.
    sandbox: PathBuf,
    /// Ids of entries that exist (or existed), for arguments that need a real one.
    ids: Vec<String>,
}

impl Mutator {
    fn string(&mut self) -> String {
        let units = [
            "a",
            " ",
            "é",
            "日本",
            "🚀",
            "\u{202e}",
            "e\u{301}",
            "\0",
            "\r\n",
            "\"",
            "\\",
            "Content-Length: 5\r\n\r\n",
            "%",
            "%zz",
        ];
        match self.rng.below(12) {
            0 => String::new(),
            1 => "x' OR '1'='1".into(),
            2 => "../../../../etc/passwd".into(),
            3 => self.id(),
            4 => {
                // Huge: up to ~100 KB.
                let unit = *self.rng.pick(&units);
                unit.repeat(1 + self.rng.below(100_000 / unit.len()))
            }
            5 => "active".into(),
            6 => "memory".into(),
            _ => (0..1 + self.rng.below(12))
                .map(|_| *self.rng.pick(&units))
                .collect(),
        }
    }

    /// Something in the place of an entry id.
    fn id(&mut self) -> String {
        match self.rng.below(6) {
            0 if !self.ids.is_empty() => self.rng.pick(&self.ids).clone(),
            1 => format!("{:020x}", self.rng.next() as u128),
            2 => "0123456789abcdef".repeat(5),
            3 => "ZZZZ".into(),
            4 => "-".into(),
            _ => format!(
                "{:08x}-{:04x}-7{:03x}-8000-{:012x}",
                self.rng.next() as u32,
                self.rng.next() as u16,
                self.rng.below(0xfff),
                self.rng.next() & 0xffff_ffff_ffff
            ),
        }
    }

    fn value(&mut self) -> Value {
        match self.rng.below(14) {
            0 => Value::Null,
            1 => json!(self.rng.below(2) == 0),
            2 => json!(*self.rng.pick(&[-1i64, 0, 1, 7, i64::MIN, i64::MAX])),
            3 => json!(u64::MAX),
            4 => json!(*self.rng.pick(&[0.5f64, -0.0, 1.5, 1e308, -1e308, 1e-308])),
            5..=7 => Value::String(self.string()),
            8 => {
                let n = self.rng.below(4);
                Value::Array((0..n).map(|_| Value::String(self.string())).collect())
            }
            9 => Value::Array(
                (0..self.rng.below(2000))
                    .map(|i| json!(format!("t{i}")))
                    .collect(),
            ),
            10 => {
                let mut object = Map::new();
                for _ in 0..self.rng.below(4) {
                    let field = self.rng.pick(FIELDS).to_string();
                    object.insert(field, Value::String(self.string()));
                }
                Value::Object(object)
            }
            _ => {
                // Deep nesting, on both sides of the 128 levels serde_json parses.
                let depth = 1 + self.rng.below(300);
                let mut v = Value::String(self.string());
                for level in 0..depth {
                    v = if level % 2 == 0 {
                        json!([v])
                    } else {
                        json!({ "a": v })
                    };
                }
                v
            }
        }
    }

    fn mutate(&mut self, argument: &mut Value) {
        match self.rng.below(9) {
            0 | 1 => {
                let Some(object) = argument.as_object_mut() else {
                    return;
                };
                let field = self.rng.pick(FIELDS).to_string();
                let value = self.value();
                object.insert(field, value);
            }
            2 => {
                if let Some(object) = argument.as_object_mut() {
                    let keys: Vec<String> = object.keys().cloned().collect();
                    if !keys.is_empty() {
                        object.remove(&keys[self.rng.below(keys.len())]);
                    }
                }
            }
            3 => {
                if let Some(object) = argument.as_object_mut() {
                    object.insert("unknownField".into(), Value::Null);
                }
            }
            4..=6 => {
                // An existing field, given another value of its own type (which gets past
                // the argument types into the engine) or of any type.
                if let Some(object) = argument.as_object_mut() {
                    let keys: Vec<String> = object.keys().cloned().collect();
                    if !keys.is_empty() {
                        let key = keys[self.rng.below(keys.len())].clone();
                        let value = match (&object[&key], self.rng.below(3)) {
                            (Value::String(_), 0 | 1) => Value::String(self.string()),
                            (Value::Number(_), 0 | 1) => {
                                json!(*self.rng.pick(&[0.0f64, 1.0, -1.0, 1e9, 0.999, 2.0]))
                            }
                            (Value::Array(_), 0 | 1) => {
                                let n = self.rng.below(5);
                                Value::Array((0..n).map(|_| Value::String(self.string())).collect())
                            }
                            _ => self.value(),
                        };
                        object.insert(key, value);
                    }
                }
            }
            7 => {
                // A string field made huge: the size limits, and whatever is slow on
                // large input.
                if let Some(object) = argument.as_object_mut() {
                    let unit = *self.rng.pick(&["a ", "日本語。", "🚀", "x\n"]);
                    let size = self.rng.below(100_000);
                    for value in object.values_mut().filter(|v| v.is_string()) {
                        *value = Value::String(unit.repeat(1 + size / unit.len()));
                    }
                }
            }
            _ => *argument = self.value(),
        }
    }

    /// Keeps `path` inside the sandbox, and fills in the corpus's placeholders.
    fn confine(&mut self, argument: &mut Value) {
        let Some(object) = argument.as_object_mut() else {
            return;
        };
        if let Some(Value::String(path)) = object.get_mut("path") {
            let sandbox = self.sandbox.display().to_string();
            if !path.starts_with("$TMP/") {
                let inside = ["export.jsonl", "missing/dir/x.jsonl", "", "."];
                *path = format!("$TMP/{}", self.rng.pick(&inside));
            }
            *path = path.replace("$TMP", &sandbox);
        }
        if object.get("id").and_then(Value::as_str) == Some("$ID") {
            let id = self.id();
            object.insert("id".into(), Value::String(id));
        }
    }

    fn arguments(&mut self, argument: Value) -> Value {
        match self.rng.below(20) {
            0 => json!([]),
            1 => json!([argument.clone(), argument]),
            2 => Value::Null,
            _ => json!([argument]),
        }
    }

    /// Ids in a result, for later arguments.
    fn learn(&mut self, result: &Value) {
        for id in [&result["id"], &result["entry"]["id"]] {
            if let Some(id) = id.as_str() {
                if self.ids.len() < 64 {
                    self.ids.push(id.to_string());
                }
            }
        }
    }
}

/// The seeds of every command the server advertises: each must have some.
fn corpus(commands: &[String]) -> Vec<(String, Vec<Value>)> {
    let dir = crate::tests_dir().join("fuzz/corpus/commands");
    commands
        .iter()
        .map(|command| {
            let path = dir.join(format!("{command}.json"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("no seeds for {command}: {}: {e}", path.display()));
            let seeds: Vec<Value> = serde_json::from_str(&text).unwrap();
            assert!(!seeds.is_empty(), "{} has no seeds", path.display());
            (command.clone(), seeds)
        })
        .collect()
}

/// A repository of two files and one commit: enough for a scope, quick to index.
fn tiny_repo(tmp: &Path) -> PathBuf {
    let root = tmp.join("tiny");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/main.rs"),
        "fn main() {\n    println!(\"hi\");\n}\n",
    )
    .unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "feat: tiny"]);
    root.canonicalize().unwrap()
}

fn shown(v: &Value) -> String {
    let text = v.to_string();
    let end = (0..=text.len().min(1500))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{} ({} bytes)", &text[..end], text.len())
}

#[test]
fn every_command_answers_mutated_arguments_with_its_id_and_a_usable_error() {
    let (seed, budget) = settings();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let root = tiny_repo(tmp);
    let sandbox = tmp.join("sandbox");
    std::fs::create_dir_all(&sandbox).unwrap();
    let mut server = ServerBuilder::new(&tmp.join("store"), &tmp.join("logs")).start();
    let init = server.initialize(&root, json!({"indexOnStartup": false}));
    let commands: Vec<String> = init["capabilities"]["executeCommandProvider"]["commands"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    assert!(commands.len() >= 15, "{init}");
    let corpus = corpus(&commands);
    let mut mutator = Mutator {
        rng: Rng::new(seed),
        sandbox,
        ids: Vec::new(),
    };
    let first = server.ok(
        "tacit.remember",
        json!({"text": "The fuzzer's first memory: use pnpm."}),
    );
    mutator.learn(&first);

    let started = Instant::now();
    let (mut cases, mut errors) = (0u64, 0u64);
    // Each command's seeds run unchanged once; then mutated ones until the time is up.
    let unchanged: Vec<(&str, Value)> = corpus
        .iter()
        .flat_map(|(command, seeds)| seeds.iter().map(move |s| (command.as_str(), s.clone())))
        .collect();
    while (cases as usize) < unchanged.len() || started.elapsed() < budget {
        let (command, arguments) = match unchanged.get(cases as usize) {
            Some((command, seed)) => {
                let mut argument = seed.clone();
                mutator.confine(&mut argument);
                (*command, json!([argument]))
            }
            None => {
                // An index run is slow and queues behind the last: rarely.
                let (command, seeds) = loop {
                    let (command, seeds) = mutator.rng.pick(&corpus);
                    if command != "tacit.reindex" || mutator.rng.one_in(20) {
                        break (command.as_str(), seeds);
                    }
                };
                let mut argument = mutator.rng.pick(seeds).clone();
                for _ in 0..1 + mutator.rng.below(3) {
                    mutator.mutate(&mut argument);
                }
                mutator.confine(&mut argument);
                (command, mutator.arguments(argument))
            }
        };
        let described = || {
            format!(
                "case {cases} (replay with TACIT_FUZZ_SEED={seed}): {command} {}",
                shown(&arguments)
            )
        };
        match server.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": arguments}),
        ) {
            Ok(result) => mutator.learn(&result),
            Err(error) => {
                errors += 1;
                let message = error["message"].as_str().unwrap_or_default();
                assert!(
                    !message.is_empty() && !message.contains("panicked"),
                    "{}: {error}",
                    described()
                );
                assert_ne!(
                    error["code"],
                    -32603,
                    "an internal error for bad arguments; {}: {}",
                    described(),
                    shown(&error)
                );
            }
        }
        cases += 1;
    }

    let status = server.ok("tacit.status", json!({}));
    assert!(status["store"].is_string(), "{status}");
    let _ = writeln!(
        std::io::stderr(),
        "command fuzz: seed {seed}, {cases} requests ({errors} answered with an error) in {:.1} s \
         (TACIT_FUZZ_SEED={seed} replays it)",
        started.elapsed().as_secs_f64()
    );
    server.shutdown();
}
