//! `tacit bench scale`: a big store, as a team's or a long-lived machine's becomes, served
//! to one workspace. A store of `size` entries over `size / 1,000` repository scopes (1M
//! over 1,000 by default) is built once and cached; a real `tacit lsp` is started on it with
//! one workspace whose scope is one of them (1,000 entries), and the run prints the time
//! from starting the server to its first context, the latency of `tacit.assembleContext`,
//! that of an edit (`tacit.update`: a LanceDB merge by id into its layer's table, which
//! holds every scope's rows) and the server's resident memory, next to the same figures for
//! a store of a tenth the size measured in the same run. A server that holds only its
//! workspace's scope shows the same figures at both sizes.
//!
//! Store contents are those of `bench latency` (synthetic convention sentences, vectors of
//! 2,000 real embeddings with a little noise), spread over the scopes round robin in runs of
//! 20, so that each scope has all three layers.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use super::client::{served, Client, SERVED};
use super::latency::{percentile, question, sentence_pool, synthetic_entry, Lcg};
use crate::memory::Entry;
use crate::store::Store;

/// Entries per repository scope: a repository's conventions, procedures and episodes.
const PER_SCOPE: usize = 1_000;

/// Edits timed per store, after the queries.
const EDITS: usize = 20;

/// Entries appended per write while building: bounded memory whatever the size.
const CHUNK: usize = 20_000;

/// Where built stores and the workspace are kept between runs.
pub(super) fn cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("tacit")
        .join("bench-scale")
}

/// A one-commit repository whose commit, and so whose scope, is the same on every machine.
fn workspace(dir: &Path) -> Result<String> {
    if !dir.join(".git").exists() {
        std::fs::create_dir_all(dir)?;
        let repo = git2::Repository::init(dir)?;
        std::fs::write(
            dir.join("README.md"),
            "a workspace of `tacit bench scale`\n",
        )?;
        let mut index = repo.index()?;
        index.add_path(Path::new("README.md"))?;
        let tree = repo.find_tree(index.write_tree()?)?;
        let who = git2::Signature::new("bench", "bench@example.invalid", &git2::Time::new(0, 0))?;
        repo.commit(Some("HEAD"), &who, &who, "workspace", &tree, &[])?;
    }
    Ok(crate::workspace::scope_for(dir))
}

/// The scope of repository `k`; the workspace's own scope is number 0.
fn scope(k: usize, workspace_scope: &str) -> String {
    if k == 0 {
        workspace_scope.to_string()
    } else {
        format!("repo:bench{k:06}")
    }
}

/// The store of `size` entries, built unless a complete one is cached.
async fn store(
    size: usize,
    workspace_scope: &str,
    model_dir: Option<&Path>,
    pool: &mut Option<Vec<Vec<f32>>>,
) -> Result<PathBuf> {
    let dir = cache_dir().join(format!("store-{size}"));
    let marker = dir.join("complete");
    let expected = format!(
        "{size} entries, {PER_SCOPE} per scope in runs of 20, workspace {workspace_scope}, ids indexed\n"
    );
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(expected.as_str()) {
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let pool = match pool {
        Some(p) => p,
        None => {
            let dir = model_dir.map(Path::to_path_buf);
            let selected =
                tokio::task::spawn_blocking(move || crate::embed::select(dir.as_deref())).await?;
            if selected.embedder.is_fallback() {
                bail!("the model is missing: run scripts/fetch-model");
            }
            pool.insert(sentence_pool(selected.embedder.as_ref())?)
        }
    };
    let scopes = (size / PER_SCOPE).max(1);
    let started = Instant::now();
    // Holding no scope in memory: the builder's footprint stays at one chunk.
    let store = Store::open_scopes(&dir.to_string_lossy(), &[]).await?;
    let mut rng = Lcg(size as u64);
    for start in (0..size).step_by(CHUNK) {
        let entries: Vec<Entry> = (start..(start + CHUNK).min(size))
            // Runs of 20 entries, one layer mix each (see `synthetic_entry`), per scope.
            .map(|i| {
                let k = (i / 20) % scopes;
                synthetic_entry(i, &scope(k, workspace_scope), pool, &mut rng)
            })
            .collect();
        store.append(&entries).await?;
    }
    drop(store);
    std::fs::write(&marker, expected)?;
    println!(
        "built a store of {size} entries over {scopes} scopes in {:.0} s ({})",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(dir)
}

struct Measured {
    size: usize,
    first_context_s: f64,
    p50: f64,
    p99: f64,
    edit_p50: f64,
    workspace_entries: u64,
    resident_bytes: Option<u64>,
}

/// Starts a server on the store with the workspace open and times what a user waits for.
fn measure(
    exe: &Path,
    store: &Path,
    model_dir: Option<&Path>,
    root: &Path,
    size: usize,
    queries: usize,
) -> Result<Measured> {
    // The cache directory's path has no character a URI would escape.
    let uri = format!("file://{}", root.display());
    let started = Instant::now();
    let mut client = Client::start(exe, store, model_dir)?;
    client.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "workspace"}],
            "capabilities": {},
            "initializationOptions": {"indexOnStartup": false},
        }),
    )?;
    client.notify("initialized", json!({}))?;
    let (_, first) = client.assemble(&question(3_000_000))?;
    let first_context_s = started.elapsed().as_secs_f64();
    if served(&first) == 0 {
        bail!("the first context is empty: the workspace's entries were not found");
    }
    for i in 0..50 {
        client.assemble(&question(3_100_000 + i))?;
    }
    let mut totals = Vec::with_capacity(queries);
    for i in 0..queries {
        totals.push(client.assemble(&question(3_200_000 + i))?.0);
    }
    totals.sort_by(f64::total_cmp);
    let status = client.request(
        "workspace/executeCommand",
        json!({"command": "tacit.status", "arguments": [{}]}),
    )?;
    let workspace_entries = status["counts"]
        .as_object()
        .context("tacit.status has no counts")?
        .values()
        .filter_map(Value::as_object)
        .flat_map(|by_status| by_status.values())
        .filter_map(Value::as_u64)
        .sum();
    let resident_bytes = status["residentBytes"].as_u64();
    // Then edits of served entries, after the memory figure (the serving one): each is a
    // LanceDB merge by id into its layer's table, which holds rows of every scope (600,000
    // in the 1M store's memories), the write whose cost follows the store's size.
    let ids: Vec<String> = SERVED
        .iter()
        .flat_map(|k| first[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["entry"]["id"].as_str().map(str::to_string))
        .collect();
    let mut edits = Vec::with_capacity(EDITS);
    for i in 0..EDITS {
        let id = &ids[i % ids.len()];
        let started = Instant::now();
        client.request(
            "workspace/executeCommand",
            json!({"command": "tacit.update", "arguments": [{"id": id, "importance": 0.5 + (i % 2) as f32 / 10.0}]}),
        )?;
        edits.push(started.elapsed().as_secs_f64() * 1e3);
    }
    edits.sort_by(f64::total_cmp);
    client.stop()?;
    Ok(Measured {
        size,
        first_context_s,
        p50: percentile(&totals, 0.5),
        p99: percentile(&totals, 0.99),
        edit_p50: percentile(&edits, 0.5),
        workspace_entries,
        resident_bytes,
    })
}

pub async fn run(size: usize, queries: usize, model_dir: Option<PathBuf>) -> Result<()> {
    if size < 10 * PER_SCOPE {
        bail!("the size must be at least {} entries", 10 * PER_SCOPE);
    }
    let root = cache_dir().join("workspace");
    let workspace_scope = workspace(&root)?;
    let root = root.canonicalize()?;
    let mut pool = None;
    let sizes = [size / 10, size];
    let mut stores = Vec::new();
    for &n in &sizes {
        stores.push((
            n,
            store(n, &workspace_scope, model_dir.as_deref(), &mut pool).await?,
        ));
    }
    let scratch = super::ScratchDir::new("scale-bin")?;
    let exe = scratch.pinned_binary()?;
    let profile = super::profile();
    println!(
        "one workspace of {PER_SCOPE} entries in stores of {} and {} entries ({PER_SCOPE} per repository scope), `tacit lsp` started on each, {queries} distinct queries after 50 warm-up, {profile}",
        sizes[0], sizes[1]
    );
    println!("| store entries | scopes | entries served | start → first context s | assemble p50 ms | p99 ms | edit p50 ms | server resident MB |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, dir) in &stores {
        let m = measure(&exe, dir, model_dir.as_deref(), &root, *n, queries)?;
        println!(
            "| {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {} |",
            m.size,
            m.size / PER_SCOPE,
            m.workspace_entries,
            m.first_context_s,
            m.p50,
            m.p99,
            m.edit_p50,
            m.resident_bytes
                .map_or("?".to_string(), |b| format!("{:.0}", b as f64 / 1e6)),
        );
    }
    Ok(())
}
