//! `tacit bench history [path]`: mines a large repository and times it next to
//! `git log --name-only` on the same repository in the same run, which reads the same commits
//! and diffs the same trees. The repository defaults to the one `scripts/gen-history` makes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::history::{self, HistoryOptions};
use crate::memory::Layer;

/// Timed runs of each side; the best is reported, as noise only ever adds time.
const RUNS: usize = 5;

fn default_repo() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("tacit/bench/history-repo")
}

pub(super) fn git(repo: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// `git log --name-only` over the newest `commits` commits: the reference mining is set against.
pub(super) fn time_git_log(repo: &Path, commits: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    git(
        repo,
        &[
            "log",
            "--name-only",
            "--format=%H %s",
            "-n",
            &commits.to_string(),
        ],
    )?;
    Ok(started.elapsed())
}

/// One mining of `repo` from scratch (no state file), off the async threads.
pub(super) async fn time_mining(
    repo: &Path,
    options: HistoryOptions,
) -> anyhow::Result<(Duration, history::Mined)> {
    let repo = repo.to_path_buf();
    let started = Instant::now();
    let mined = tokio::task::spawn_blocking(move || {
        history::mine(&repo, "repo:bench", None, &options, false, &|_, _| {})
    })
    .await?;
    Ok((started.elapsed(), mined))
}

pub(super) fn best(runs: &[Duration]) -> Duration {
    runs.iter().min().copied().unwrap_or_default()
}

pub async fn run(path: Option<PathBuf>, _model_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let repo = match path {
        Some(p) => p,
        None => {
            let repo = default_repo();
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/gen-history");
            if script.exists() {
                let status = Command::new(&script)
                    .arg(&repo)
                    .status()
                    .with_context(|| format!("cannot run {}", script.display()))?;
                if !status.success() {
                    bail!("{} failed", script.display());
                }
            } else if !repo.exists() {
                bail!(
                    "{} does not exist: generate it with scripts/gen-history",
                    repo.display()
                );
            }
            repo
        }
    };
    let count: usize =
        String::from_utf8_lossy(&git(&repo, &["rev-list", "--count", "HEAD"])?.stdout)
            .trim()
            .parse()
            .context("cannot count the commits")?;
    let paths = String::from_utf8_lossy(&git(&repo, &["log", "--format=", "--name-only"])?.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .collect::<std::collections::HashSet<_>>()
        .len();
    println!(
        "repository: {} ({count} commits, {paths} distinct paths)",
        repo.display()
    );

    let options = HistoryOptions {
        max_commits: count,
        ..Default::default()
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    // Rounds interleave the three measurements, so that other load on the machine slows
    // them alike; the best of each is reported.
    let mut git_runs = Vec::new();
    let mut single_runs = Vec::new();
    let mut parallel_runs = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        git_runs.push(time_git_log(&repo, count)?);
        for (threads, runs) in [(1, &mut single_runs), (threads, &mut parallel_runs)] {
            let options = HistoryOptions {
                threads,
                ..options.clone()
            };
            let (took, mined) = time_mining(&repo, options).await?;
            runs.push(took);
            last = Some(mined);
        }
    }
    let Some(mined) = last else { bail!("no run") };
    if mined.status.state != history::HistoryState::Mined {
        bail!("mining failed: {:?}", mined.status);
    }

    // The incremental case: a state file, then a run with nothing new.
    let scratch = super::ScratchDir::new("history")?;
    let state = scratch.path().to_path_buf();
    {
        let (repo, options, dir) = (repo.clone(), options.clone(), state.clone());
        tokio::task::spawn_blocking(move || {
            history::mine(&repo, "repo:bench", Some(&dir), &options, false, &|_, _| {})
        })
        .await?;
    }
    let started = Instant::now();
    let (r, o, d) = (repo.clone(), options.clone(), state.clone());
    let unchanged = tokio::task::spawn_blocking(move || {
        history::mine(&r, "repo:bench", Some(&d), &o, true, &|_, _| {})
    })
    .await?;
    let noop = started.elapsed();
    let started = Instant::now();
    let (r, o, d) = (repo.clone(), options.clone(), state.clone());
    tokio::task::spawn_blocking(move || {
        history::mine(&r, "repo:bench", Some(&d), &o, false, &|_, _| {})
    })
    .await?;
    let rederive = started.elapsed();
    drop(scratch);

    let count_layer = |l: Layer| mined.entries.iter().filter(|e| e.layer == l).count();
    let g = best(&git_runs);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    println!(
        "machine: {} cores, load average {load}; best of {RUNS} runs each",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("git log --name-only:        {:>8.1} ms", ms(g));
    println!(
        "tacit mining, 1 thread:     {:>8.1} ms  ratio {:.2}x",
        ms(best(&single_runs)),
        best(&single_runs).as_secs_f64() / g.as_secs_f64().max(1e-9)
    );
    println!(
        "tacit mining, {threads} threads:    {:>8.1} ms  ratio {:.2}x  (default: {})",
        ms(best(&parallel_runs)),
        best(&parallel_runs).as_secs_f64() / g.as_secs_f64().max(1e-9),
        if HistoryOptions::default().threads == 1 {
            "1 thread"
        } else {
            "by the machine"
        }
    );
    println!(
        "found: {} commits, {} memories, {} procedures, {} episodes (goal: ratio <= 2x)",
        mined.status.commits_mined,
        count_layer(Layer::Memory),
        count_layer(Layer::Procedure),
        count_layer(Layer::Episode)
    );
    println!(
        "unchanged HEAD (no-op):  {:>8.1} ms ({:?})",
        noop.as_secs_f64() * 1e3,
        unchanged.status.state
    );
    println!(
        "re-derive from state:    {:>8.1} ms",
        rederive.as_secs_f64() * 1e3
    );
    Ok(())
}
