//! The repository half of `tacit bench scale`: a synthetic repository of `files` source
//! files and `commits` commits (100k and 200k by default), generated once by
//! `scripts/gen-history --code` and cached, next to one of a tenth of both, measured in the
//! same run. For each it prints the code index against raw tree-sitter parsing of the same
//! files (CPU time, best of [`RUNS`]), history mining of every commit against
//! `git log --name-only`, and a real `tacit lsp` opened on it: how long `initialize` takes to
//! answer, and how long the whole first index (walk, configuration, parsing, history at the
//! server's default depth, embedding, store writes) takes after `initialized`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use super::client::Client;
use super::history::{best, git, time_git_log, time_mining};
use super::index::{bench_files, compare, mb, threads};
use crate::history::HistoryOptions;

/// Timed runs of each side; the best counts, as noise only ever adds time. Fewer than the
/// small benchmarks': a run of the big repository takes about a minute.
const RUNS: usize = 2;

struct Measured {
    files: usize,
    megabytes: f64,
    commits: usize,
    raw_parse_s: f64,
    index_s: f64,
    index_ratio: f64,
    git_log_s: f64,
    mining_s: f64,
    initialize_ms: f64,
    first_index_s: f64,
    first_index: Value,
}

/// Generates (or reuses) the repository of `files` source files and `commits` commits.
fn repository(files: usize, commits: usize) -> Result<PathBuf> {
    let dir = super::scale::cache_dir().join(format!("repository-{files}"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/gen-history");
    if !script.exists() {
        if dir.join(".git/tacit-gen-history").exists() {
            return Ok(dir);
        }
        bail!(
            "{} is not there to generate {}: run the benchmark from a clone",
            script.display(),
            dir.display()
        );
    }
    // A module is a source file, its test and its doc: half as many modules as source files.
    let status = Command::new(&script)
        .arg(&dir)
        .args(["--commits", &commits.to_string()])
        .args(["--modules", &(files / 2).to_string()])
        .args(["--code", "--checkout"])
        .status()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !status.success() {
        bail!("{} failed", script.display());
    }
    Ok(dir.canonicalize()?)
}

async fn measure(
    exe: &Path,
    model_dir: Option<&Path>,
    root: &Path,
    scratch: &Path,
) -> Result<Measured> {
    let registry = crate::code::registry()?;
    let (files, bytes) = bench_files(registry, root, u64::MAX);
    // Warm the page cache so that neither pass pays for the first read.
    for rel in &files {
        let _ = std::fs::read(root.join(rel));
    }
    let (parsing, files) = {
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let parsing = compare(registry, &root, &files, RUNS, threads());
            (parsing, files)
        })
        .await?
    };

    let commits: usize =
        String::from_utf8_lossy(&git(root, &["rev-list", "--count", "HEAD"])?.stdout)
            .trim()
            .parse()
            .context("cannot count the commits")?;
    let options = HistoryOptions {
        max_commits: commits,
        ..Default::default()
    };
    let mut git_runs = Vec::new();
    let mut mining_runs = Vec::new();
    for _ in 0..RUNS {
        git_runs.push(time_git_log(root, commits)?);
        let (took, mined) = time_mining(root, options.clone()).await?;
        if mined.status.commits_mined != commits {
            bail!(
                "mining read {} of {commits} commits: {:?}",
                mined.status.commits_mined,
                mined.status
            );
        }
        mining_runs.push(took);
    }

    // A real server on an empty store, as an editor opening the repository starts one.
    let store = scratch.join(format!("store-{}", files.len()));
    let uri = format!("file://{}", root.display());
    let mut client = Client::start(exe, &store, model_dir)?;
    let started = Instant::now();
    client.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "repository"}],
            "capabilities": {"window": {"workDoneProgress": true}},
            "initializationOptions": {"indexOnStartup": true},
        }),
    )?;
    let initialize_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    client.notify("initialized", json!({}))?;
    client.wait_progress_end("tacit/index/0")?;
    let first_index_s = started.elapsed().as_secs_f64();
    let status = client.request(
        "workspace/executeCommand",
        json!({"command": "tacit.status", "arguments": [{}]}),
    )?;
    client.stop()?;
    let first_index = status["lastIndex"][0].clone();
    if first_index.is_null() {
        bail!("the server reports no index run: {status}");
    }

    Ok(Measured {
        files: files.len(),
        megabytes: mb(bytes),
        commits,
        raw_parse_s: parsing.raw.0.as_secs_f64(),
        index_s: parsing.index.0.as_secs_f64(),
        index_ratio: parsing.ratio(),
        git_log_s: best(&git_runs).as_secs_f64(),
        mining_s: best(&mining_runs).as_secs_f64(),
        initialize_ms,
        first_index_s,
        first_index,
    })
}

pub async fn run(files: usize, commits: usize, model_dir: Option<PathBuf>) -> Result<()> {
    if files < 1_000 || commits < 1_000 {
        bail!("the repository needs at least 1,000 files and 1,000 commits");
    }
    let sizes = [(files / 10, commits / 10), (files, commits)];
    let mut roots = Vec::new();
    for (f, c) in sizes {
        roots.push(repository(f, c)?);
    }
    let scratch = super::ScratchDir::new("scale-repository")?;
    let exe = scratch.pinned_binary()?;
    let profile = super::profile();
    println!(
        "synthetic repositories of scripts/gen-history --code (Rust, TypeScript, Python), {} threads, best of {RUNS} runs, {profile}",
        threads()
    );
    println!("| source files | MB | commits | raw parse s | code index s | index / parse (CPU) | `git log --name-only` s | mining s | mining / git log | `initialize` ms | first index s (files parsed, commits mined) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for root in &roots {
        let m = measure(&exe, model_dir.as_deref(), root, scratch.path()).await?;
        println!(
            "| {} | {:.0} | {} | {:.1} | {:.1} | {:.2}x | {:.1} | {:.1} | {:.2}x | {:.0} | {:.1} ({}, {}) |",
            m.files,
            m.megabytes,
            m.commits,
            m.raw_parse_s,
            m.index_s,
            m.index_ratio,
            m.git_log_s,
            m.mining_s,
            m.mining_s / m.git_log_s.max(1e-9),
            m.initialize_ms,
            m.first_index_s,
            m.first_index["code"]["filesParsed"],
            m.first_index["history"]["commitsMined"],
        );
    }
    Ok(())
}
