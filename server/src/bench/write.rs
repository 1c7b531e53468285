//! `tacit bench write`: `tacit.remember` timed through the real server, from the first write
//! into an empty store to the last of `entries`. The reference is the same server's first
//! writes in the same run: a flat write cost means the figures at 1k and 10k stored entries
//! stay near them, and the store's file count stays bounded.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use super::client::Client;
use super::latency::percentile;

const DOING: &[&str] = &[
    "Validate user input",
    "Log request identifiers",
    "Wrap database errors",
    "Retry flaky network calls",
    "Name feature flags",
    "Document public functions",
    "Pin dependency versions",
    "Cache template lookups",
    "Close file handles",
    "Batch metric uploads",
    "Sort imports alphabetically",
    "Keep migrations reversible",
    "Escape HTML output",
    "Time out slow queries",
    "Hash stored passwords",
    "Version the public API",
    "Review schema changes",
    "Measure cold starts",
    "Mock the payment gateway",
    "Rotate signing keys",
];
const WHERE: &[&str] = &[
    "in the billing service",
    "inside command handlers",
    "for the mobile client",
    "in background workers",
    "across the plugin system",
    "in the GraphQL resolvers",
    "for CSV exports",
    "in the search indexer",
    "around websocket sessions",
    "in integration tests",
    "for the admin dashboard",
    "in the scheduler",
    "inside the parser",
    "for audit trails",
    "in the email templates",
    "for geospatial queries",
    "in the firmware updater",
    "around cache invalidation",
    "for the analytics pipeline",
    "in onboarding flows",
];
const WHY: &[&str] = &[
    "because incidents were traced to it",
    "as agreed in the architecture review",
    "since customers reported timeouts",
    "so that on-call engineers can debug quickly",
    "to satisfy the compliance audit",
    "after the outage last spring",
    "because reviewers keep asking for it",
    "to keep latency predictable",
    "so new hires find things faster",
    "since the old approach leaked memory",
    "because the vendor changed their limits",
    "to make rollbacks boring",
    "as the security team requires",
    "so that builds stay reproducible",
    "because flaky tests wasted hours",
    "to keep invoices accurate",
    "since translations broke twice",
    "to let teams deploy independently",
    "because disk usage doubled",
    "so that dashboards stay truthful",
];

/// Distinct, unrelated-looking statements, so that few of them merge as duplicates.
fn statement(i: usize) -> String {
    let a = DOING[i % DOING.len()];
    let b = WHERE[(i / DOING.len() + i * 7) % WHERE.len()];
    let c = WHY[(i / (DOING.len() * WHERE.len()) + i * 13) % WHY.len()];
    format!("{a} {b} {c} (ticket {}).", 10_000 + i * 37 % 90_000)
}

fn file_count(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

struct Window {
    stored: usize,
    p50: f64,
    p99: f64,
    files: usize,
}

pub async fn run(entries: usize, model_dir: Option<PathBuf>) -> Result<()> {
    let entries = entries.max(100);
    let scratch = super::ScratchDir::new("write")?;
    let exe = scratch.pinned_binary()?;
    let store = scratch.path().join("store");
    let mut client = Client::start(&exe, &store, model_dir.as_deref())?;
    client.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "capabilities": {},
            "initializationOptions": {"indexOnStartup": false},
        }),
    )?;
    client.notify("initialized", json!({}))?;
    // The store and the model open after `initialized`, and a command sent meanwhile waits for
    // them: the reference is the first write into the empty store, not the server's start.
    client.request(
        "workspace/executeCommand",
        json!({"command": "tacit.status", "arguments": [{}]}),
    )?;
    let profile = super::profile();
    println!("tacit.remember over JSON-RPC on stdio into an empty store, {entries} writes one after another, {profile}");
    let checkpoints: Vec<usize> = [1_000, 10_000, 100_000]
        .into_iter()
        .filter(|&c| c <= entries)
        .chain((!entries.is_multiple_of(1000) || entries < 1000).then_some(entries))
        .collect();
    let mut latencies = Vec::with_capacity(entries);
    let mut first_ms = 0.0;
    let mut windows = Vec::new();
    let mut merged = 0usize;
    for i in 0..entries {
        let started = Instant::now();
        let result = client.request(
            "workspace/executeCommand",
            // Each statement gets a slot of its own: the generated sentences are alike enough
            // that many would merge as duplicates, and the store must grow to 10k entries.
            json!({"command": "tacit.remember", "arguments": [{
                "text": statement(i),
                "key": format!("bench.write.{i}"),
                "scope": "user",
            }]}),
        )?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if i == 0 {
            first_ms = ms;
        }
        merged += usize::from(result["merged"].as_bool().unwrap_or(false));
        latencies.push(ms);
        let done = i + 1;
        if checkpoints.contains(&done) || done == 100 {
            // The last 10% of writes before the checkpoint (at least 100).
            let span = (done / 10).max(100).min(done);
            let mut recent: Vec<f64> = latencies[done - span..].to_vec();
            recent.sort_by(f64::total_cmp);
            windows.push(Window {
                stored: done - merged,
                p50: percentile(&recent, 0.5),
                p99: percentile(&recent, 0.99),
                files: file_count(&store),
            });
            eprintln!("… {done} writes");
        }
    }
    client.stop()?;
    println!("first write: {first_ms:.1} ms");
    println!("| writes so far | entries stored | remember p50 ms | remember p99 ms | files in the store |");
    println!("|---:|---:|---:|---:|---:|");
    for (w, writes) in windows
        .iter()
        .zip(std::iter::once(100).chain(checkpoints.iter().copied()))
    {
        println!(
            "| {writes} | {} | {:.1} | {:.1} | {} |",
            w.stored, w.p50, w.p99, w.files
        );
    }
    println!("(p50/p99 over the last 10% of the writes before each row, at least 100; the first row is the reference)");
    Ok(())
}
