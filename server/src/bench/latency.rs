//! `tacit bench latency`: `tacit.assembleContext` timed through the real server, as an editor
//! calls it: this binary is started as `tacit lsp`, spoken to in JSON-RPC over its stdin and
//! stdout, and asked `queries` distinct questions after a warm-up, for stores of 1k, 10k and
//! 100k entries. The reference measured in the same run is the same search done by LanceDB
//! (flat vector scan plus its BM25 index), which is what the mirror replaced.
//!
//! Store contents: synthetic convention sentences across the three searchable layers. Their
//! vectors are the real model's embeddings of 2,000 distinct sentences, each reused with a
//! little noise: embedding 100k sentences would take longer than the benchmark itself and
//! does not change the cost of a search. The queries are embedded for real, every one
//! distinct, so the query-embedding cache never answers.
//!
//! The last column is the server's resident memory after the queries (`VmRSS`, from its
//! own `tacit.status`), in MB of 10^6 bytes: the model loaded, every entry read.
//!
//! With `--transport mcp` the same questions are then asked of `tacit mcp` on the same store
//! (`tools/call assemble_context`, line-delimited JSON-RPC), by a fresh process whose cache
//! has not seen them either, and its figures are printed next to the LSP's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::{json, Value};

use super::client::{served, Client, McpClient};
use crate::embed::Embedder;
use crate::memory::{Entry, Layer, Source};
use crate::store::{SearchRequest, Store};
use crate::vector::DIMENSION;

const SUBJECTS: &[&str] = &[
    "error handling",
    "logging",
    "database access",
    "HTTP handlers",
    "configuration loading",
    "feature flags",
    "unit tests",
    "integration tests",
    "dependency injection",
    "caching",
    "retries",
    "pagination",
    "authentication",
    "authorization",
    "date formatting",
    "money amounts",
    "identifiers",
    "migrations",
    "release tagging",
    "code review",
    "branch naming",
    "commit messages",
    "documentation comments",
    "imports",
    "async tasks",
    "background jobs",
    "metrics",
    "tracing spans",
    "CLI output",
    "serialization",
    "validation",
    "rate limiting",
    "file uploads",
    "email sending",
    "search indexing",
    "localization",
    "accessibility",
    "CSS styling",
    "state management",
    "API versioning",
];
const RULES: &[&str] = &[
    "always goes through the shared helper in the core module",
    "uses the project's wrapper type instead of the raw library",
    "is covered by a test in the same file",
    "must not block the async runtime",
    "logs at debug level and never prints to stdout",
    "returns a typed error enum rather than a string",
    "is configured from environment variables at startup",
    "keeps its constants in SCREAMING_SNAKE_CASE",
    "is reviewed by two people before merging",
    "follows the naming used in the rest of the package",
    "needs an entry in the changelog",
    "is documented in the architecture notes",
    "runs behind a feature flag until it is stable",
    "is measured with a histogram metric",
    "validates its input at the boundary",
];
const PLACES: &[&str] = &[
    "in the api service",
    "in the web frontend",
    "in the worker",
    "in the CLI",
    "in the billing module",
    "in the inventory module",
    "in shared libraries",
    "in scripts",
];
const QUESTION_STARTS: &[&str] = &[
    "how do we handle",
    "what is the rule for",
    "where should I put",
    "how should I write",
    "what do we use for",
    "is there a convention for",
    "how do I test",
    "who reviews",
];
const QUESTION_ENDS: &[&str] = &[
    "",
    " in the api",
    " in the frontend",
    " for the worker",
    " in a new module",
    " today",
    " when it fails",
    " in production",
    " for a new endpoint",
    " in the CLI",
];

pub(super) fn sentence(i: usize) -> String {
    let s = SUBJECTS[i % SUBJECTS.len()];
    let r = RULES[(i / SUBJECTS.len()) % RULES.len()];
    let p = PLACES[(i / (SUBJECTS.len() * RULES.len())) % PLACES.len()];
    format!("{s} {p} {r}")
}

pub(super) fn question(i: usize) -> String {
    let a = QUESTION_STARTS[i % QUESTION_STARTS.len()];
    let s = SUBJECTS[(i / QUESTION_STARTS.len()) % SUBJECTS.len()];
    let b = QUESTION_ENDS[(i / (QUESTION_STARTS.len() * SUBJECTS.len())) % QUESTION_ENDS.len()];
    // The number makes every question distinct text (so no cache answers it) without
    // changing what it asks.
    format!("{a} {s}{b}? (#{i})")
}

/// A small deterministic generator: the benchmark must build the same store every run.
pub(super) struct Lcg(pub(super) u64);
impl Lcg {
    pub(super) fn next_f32(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }
}

pub(super) const POOL: usize = 2000;

/// Entry `i` of a synthetic store: a convention sentence in one of the three searchable
/// layers, its vector one of the pool's with a little noise.
pub(super) fn synthetic_entry(i: usize, scope: &str, pool: &[Vec<f32>], rng: &mut Lcg) -> Entry {
    let layer = match i % 20 {
        0..=11 => Layer::Memory,
        12..=16 => Layer::Procedure,
        _ => Layer::Episode,
    };
    let text = format!("{} ({})", sentence(i % POOL), i / POOL);
    let mut e = Entry::user(scope, layer, Source::User, text);
    let base = &pool[i % POOL];
    let mut v: Vec<f32> = base.iter().map(|x| x + 0.02 * rng.next_f32()).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    v.iter_mut().for_each(|x| *x /= norm);
    e.vector = v;
    e.importance = 0.3 + 0.5 * (rng.next_f32() + 0.5);
    e
}

/// The real model's embeddings of the [`POOL`] sentences the synthetic entries reuse.
pub(super) fn sentence_pool(embedder: &dyn Embedder) -> Result<Vec<Vec<f32>>> {
    println!(
        "building a pool of {POOL} sentence embeddings with {} …",
        embedder.id()
    );
    let texts: Vec<String> = (0..POOL).map(sentence).collect();
    let mut pool = Vec::with_capacity(POOL);
    for chunk in texts.chunks(64) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        pool.extend(embedder.embed(&refs)?);
    }
    if pool.iter().any(|v| v.len() != DIMENSION) {
        bail!("the embedder returned vectors of the wrong size");
    }
    Ok(pool)
}

/// Builds a store of `n` entries at `dir` and returns it.
async fn build_store(dir: &Path, n: usize, pool: &[Vec<f32>]) -> Result<Store> {
    let store = Store::open(&dir.to_string_lossy()).await?;
    let mut rng = Lcg(n as u64);
    let entries: Vec<Entry> = (0..n)
        .map(|i| synthetic_entry(i, "user", pool, &mut rng))
        .collect();
    store.append(&entries).await?;
    // The on-disk reference searches with LanceDB's own text index.
    store.build_text_index().await?;
    Ok(store)
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Which front doors are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// `tacit lsp` only.
    Lsp,
    /// `tacit lsp`, then `tacit mcp` on the same store and questions.
    Mcp,
}

/// Percentiles of one front door, in milliseconds.
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
}

/// `assemble_context` through `tacit mcp`: 50 warm-up questions, then the timed ones.
fn measure_mcp(
    exe: &Path,
    store: &Path,
    cwd: &Path,
    queries: usize,
    model_dir: Option<&Path>,
) -> Result<Percentiles> {
    let mut client = McpClient::start(exe, store, model_dir, cwd)?;
    let mut ask = |q: &str| -> Result<(f64, Value)> {
        let started = Instant::now();
        let result = client.call("assemble_context", json!({"query": q}))?;
        Ok((started.elapsed().as_secs_f64() * 1e3, result))
    };
    for i in 0..50 {
        ask(&question(1_000_000 + i))?;
    }
    let mut totals = Vec::with_capacity(queries);
    let mut answered = 0usize;
    for i in 0..queries {
        let (ms, result) = ask(&question(i))?;
        if result["memories"].as_array().is_some_and(|m| !m.is_empty()) {
            answered += 1;
        }
        totals.push(ms);
    }
    client.stop()?;
    if answered * 2 < queries {
        bail!("only {answered} of {queries} MCP queries were answered");
    }
    totals.sort_by(f64::total_cmp);
    Ok(Percentiles {
        p50: percentile(&totals, 0.5),
        p95: percentile(&totals, 0.95),
        p99: percentile(&totals, 0.99),
    })
}

struct Measured {
    size: usize,
    mcp: Option<Percentiles>,
    p50: f64,
    p95: f64,
    p99: f64,
    embed: f64,
    search: f64,
    score: f64,
    mirror_search_p50: f64,
    lance_search_p50: f64,
    repeated_p50: f64,
    repeated_p99: f64,
    /// The server's own resident memory after the queries, as its `tacit.status` reports it.
    resident_bytes: Option<u64>,
}

async fn measure(
    exe: &Path,
    size: usize,
    queries: usize,
    transport: Transport,
    pool: &[Vec<f32>],
    embedder: &dyn Embedder,
    model_dir: Option<&Path>,
) -> Result<Measured> {
    let dir = super::ScratchDir::new(&format!("latency-{size}"))?;
    let store_dir = dir.path().join("store");
    {
        let store = build_store(&store_dir, size, pool).await?;
        drop(store);
    }
    let mut client = Client::start(exe, &store_dir, model_dir)?;
    client.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "capabilities": {},
            "initializationOptions": {"indexOnStartup": false},
        }),
    )?;
    client.notify("initialized", json!({}))?;
    for i in 0..50 {
        client.assemble(&question(1_000_000 + i))?;
    }
    let (mut totals, mut embed, mut search, mut score) = (Vec::new(), 0.0, 0.0, 0.0);
    let mut answered = 0usize;
    for i in 0..queries {
        let (ms, result) = client.assemble(&question(i))?;
        let timing = &result["timing"];
        let part = |k: &str| timing[k].as_f64().unwrap_or(0.0);
        if served(&result) > 0 {
            answered += 1;
        }
        embed += part("embedMs");
        search += part("searchMs");
        score += part("scoreMs");
        totals.push(ms);
    }
    // The same questions again: a copilot asks the same thing for every file of a task,
    // and a question seen before skips the embedding (the cache holds 2,048).
    let mut repeated = Vec::new();
    for i in 0..queries.min(1000) {
        repeated.push(client.assemble(&question(i))?.0);
    }
    repeated.sort_by(f64::total_cmp);
    // What the server holds once it has served: the model loaded, the store's entries read.
    let status = client.request(
        "workspace/executeCommand",
        json!({"command": "tacit.status", "arguments": [{}]}),
    )?;
    let resident_bytes = status["residentBytes"].as_u64();
    client.stop()?;
    if answered * 2 < queries {
        bail!(
            "only {answered} of {queries} queries were answered: the store is not being searched"
        );
    }
    totals.sort_by(f64::total_cmp);
    let n = queries.max(1) as f64;
    let mcp = match transport {
        Transport::Lsp => None,
        // Started in the scratch directory, outside any repository: nothing is indexed.
        Transport::Mcp => Some(measure_mcp(
            exe,
            &store_dir,
            dir.path(),
            queries,
            model_dir,
        )?),
    };

    // The reference: the same searches, in this process, by the mirror and by LanceDB.
    let store = Store::open(&store_dir.to_string_lossy()).await?;
    let reference_queries = if size >= 100_000 { 20 } else { 100 };
    let (mut mirror_ms, mut lance_ms) = (Vec::new(), Vec::new());
    for i in 0..reference_queries {
        let q = question(i);
        let vector = embedder.embed(&[&q])?.pop().unwrap_or_default();
        let request = SearchRequest {
            text: q,
            vector: Some(vector),
            layers: vec![Layer::Memory, Layer::Procedure, Layer::Episode],
            scopes: vec!["user".into()],
            statuses: Vec::new(),
            limit: 45,
        };
        let t = Instant::now();
        store.search(&request).await?;
        mirror_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        store.search_on_disk(&request).await?;
        lance_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    mirror_ms.sort_by(f64::total_cmp);
    lance_ms.sort_by(f64::total_cmp);
    Ok(Measured {
        size,
        mcp,
        p50: percentile(&totals, 0.5),
        p95: percentile(&totals, 0.95),
        p99: percentile(&totals, 0.99),
        embed: embed / n,
        search: search / n,
        score: score / n,
        mirror_search_p50: percentile(&mirror_ms, 0.5),
        repeated_p50: percentile(&repeated, 0.5),
        repeated_p99: percentile(&repeated, 0.99),
        resident_bytes,
        lance_search_p50: percentile(&lance_ms, 0.5),
    })
}

/// The milliseconds of 200 query embeddings in this process, sorted: questions from
/// `first` on, each after `idle`.
fn time_embeddings(embedder: &dyn Embedder, first: usize, idle: Duration) -> Result<Vec<f64>> {
    let mut ms = Vec::new();
    for i in 0..200 {
        let q = question(first + i);
        if !idle.is_zero() {
            std::thread::sleep(idle);
        }
        let t = Instant::now();
        embedder.embed(&[&q])?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

pub async fn run(
    sizes: &[usize],
    queries: usize,
    transport: Transport,
    model_dir: Option<PathBuf>,
) -> Result<()> {
    let selected = {
        let dir = model_dir.clone();
        tokio::task::spawn_blocking(move || crate::embed::select(dir.as_deref())).await?
    };
    let embedder = selected.embedder;
    if embedder.is_fallback() {
        println!(
            "WARNING: the model is missing, the lexical FALLBACK embedder is measured ({})",
            selected.fallback_reason.unwrap_or_default()
        );
    }
    let pool = sentence_pool(embedder.as_ref())?;
    // The embedding alone, in this process: the floor under every query's latency.
    let embed_ms = time_embeddings(embedder.as_ref(), 2_000_000, Duration::ZERO)?;
    println!(
        "query embedding alone, in process: p50 {:.1} ms, p95 {:.1} ms",
        percentile(&embed_ms, 0.5),
        percentile(&embed_ms, 0.95)
    );
    // Then each after 3 ms idle, as a server's embedding is: between two queries its threads
    // and CPUs go to sleep while the rest of the request runs and the client reads the reply.
    // Other questions, which the query cache has not seen.
    let idle_ms = time_embeddings(embedder.as_ref(), 3_000_000, Duration::from_millis(3))?;
    println!(
        "other questions, each after 3 ms idle: p50 {:.1} ms, p95 {:.1} ms",
        percentile(&idle_ms, 0.5),
        percentile(&idle_ms, 0.95)
    );
    // The reference for the forward pass: candle's BertModel on the same questions.
    #[cfg(feature = "candle-reference")]
    if let Some(dir) = &selected.model_dir {
        let reference = crate::embed::CandleReference::load(dir)?;
        let mut candle_ms = Vec::new();
        for i in 0..200 {
            let q = question(2_000_000 + i);
            let t = Instant::now();
            reference.embed(&q)?;
            candle_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        candle_ms.sort_by(f64::total_cmp);
        let candle_p50 = percentile(&candle_ms, 0.5);
        println!(
            "the first line's questions through candle's BertModel: p50 {candle_p50:.1} ms, p95 {:.1} ms ({:.1}x tacit's forward pass)",
            percentile(&candle_ms, 0.95),
            candle_p50 / percentile(&embed_ms, 0.5).max(1e-9)
        );
    }
    #[cfg(not(feature = "candle-reference"))]
    println!(
        "(candle's BertModel, the reference, is timed in builds with --features candle-reference)"
    );
    let scratch = super::ScratchDir::new("latency-bin")?;
    let exe = scratch.pinned_binary()?;
    let model_dir = selected.model_dir.or(model_dir);
    let profile = if cfg!(debug_assertions) {
        "dev profile (tacit, tokenizers, tiktoken at opt-level 3)"
    } else {
        "release"
    };
    println!("tacit.assembleContext over JSON-RPC on stdio, {queries} distinct queries after 50 warm-up, {profile}");
    println!(
        "| entries | p50 ms | p95 ms | p99 ms | embed: mean, share | search | score | search p50: mirror / LanceDB | asked again: p50 / p99 ms | server resident MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut side_by_side = Vec::new();
    for &size in sizes {
        let m = measure(
            &exe,
            size,
            queries,
            transport,
            &pool,
            embedder.as_ref(),
            model_dir.as_deref(),
        )
        .await?;
        let total = (m.embed + m.search + m.score).max(1e-9);
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} ms, {:.0}% | {:.0}% | {:.0}% | {:.2} / {:.1} ms ({:.0}x) | {:.1} / {:.1} | {} |",
            m.size,
            m.p50,
            m.p95,
            m.p99,
            m.embed,
            100.0 * m.embed / total,
            100.0 * m.search / total,
            100.0 * m.score / total,
            m.mirror_search_p50,
            m.lance_search_p50,
            m.lance_search_p50 / m.mirror_search_p50.max(1e-9),
            m.repeated_p50,
            m.repeated_p99,
            m.resident_bytes
                .map_or("?".to_string(), |b| format!("{:.0}", b as f64 / 1e6)),
        );
        if let Some(mcp) = &m.mcp {
            side_by_side.push(format!(
                "| {} | {:.2} | {:.2} | {:+.2} | {:.2} / {:.2} | {:.2} / {:.2} |",
                m.size,
                m.p50,
                mcp.p50,
                mcp.p50 - m.p50,
                m.p95,
                mcp.p95,
                m.p99,
                mcp.p99
            ));
        }
    }
    if !side_by_side.is_empty() {
        println!("\nassemble_context through `tacit mcp` (tools/call, one JSON line per message) next to tacit.assembleContext through `tacit lsp`, same store and questions");
        println!(
            "| entries | LSP p50 ms | MCP p50 ms | MCP − LSP p50 | p95 LSP / MCP | p99 LSP / MCP |"
        );
        println!("|---:|---:|---:|---:|---:|---:|");
        for line in side_by_side {
            println!("{line}");
        }
    }
    Ok(())
}
