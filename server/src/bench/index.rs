//! `tacit bench index [path]`: indexes a large real source tree for code conventions and
//! prints files/s and MB/s next to raw tree-sitter parsing of the very same files, measured in
//! the same run with the same number of threads.
//!
//! The default tree is the crate sources under `~/.cargo/registry/src`, several hundred MB;
//! the first files in path order up to `TACIT_BENCH_MAX_MB` (default 24 MB) are used so that
//! a run takes about a minute. Both passes read every file from disk (after a warm-up read,
//! so the page cache serves both alike). Embedding and LanceDB writes are not part of this
//! benchmark: they depend on how many conventions are found, not on the size of the tree.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tree_sitter::Parser;

use crate::code::{CodeIndex, Registry};

const DEFAULT_MAX_MB: u64 = 24;
/// Each pass runs this many times; the fastest run counts, which filters out noise from
/// other processes on a shared machine.
const RUNS: usize = 3;

pub async fn run(path: Option<PathBuf>, _model_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let root = match path {
        Some(p) => p,
        None => default_tree()?,
    };
    let max_mb = std::env::var("TACIT_BENCH_MAX_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(DEFAULT_MAX_MB);
    tokio::task::spawn_blocking(move || bench(&root, max_mb)).await?
}

fn default_tree() -> anyhow::Result<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")))
        .context("no home directory to find ~/.cargo in; give a path")?;
    let src = cargo_home.join("registry/src");
    anyhow::ensure!(
        src.is_dir(),
        "{} does not exist; give a path to a source tree",
        src.display()
    );
    Ok(src)
}

pub(super) fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 2)
}

fn bench(root: &Path, max_mb: u64) -> anyhow::Result<()> {
    let registry = crate::code::registry()?;
    let (files, bytes) = bench_files(registry, root, max_mb * 1024 * 1024);
    anyhow::ensure!(
        !files.is_empty(),
        "no source files under {}",
        root.display()
    );
    // Warm the page cache so that neither pass pays for the first read.
    for rel in &files {
        let _ = std::fs::read(root.join(rel));
    }
    let n = threads();
    println!(
        "tacit bench index: {} source files, {:.1} MB under {} (first {max_mb} MB in path order; TACIT_BENCH_MAX_MB), {n} threads, {}",
        files.len(),
        mb(bytes),
        root.display(),
        super::profile()
    );

    let parsing = compare(registry, root, &files, RUNS, n);
    let line = |what: &str, (wall, cpu): (Duration, Duration)| {
        let s = wall.as_secs_f64();
        println!(
            "{what:<34} {:>6.0} files/s  {:>6.2} MB/s  wall {:>7.3} s  cpu {:>7.3} s",
            files.len() as f64 / s,
            mb(bytes) / s,
            s,
            cpu.as_secs_f64()
        );
    };
    line("raw tree-sitter parse:", parsing.raw);
    line("tacit code index (parse+evidence):", parsing.index);
    println!(
        "ratio index/raw parse: {:.2}x by {} (wall {:.2}x; goal: within 1.3x, issue 20; 1.5x at 100k files, issue 16); {} files counted, {} conventions; best of {RUNS} runs, each pass repeated {} times per run",
        parsing.ratio(),
        if parsing.raw.1 > Duration::ZERO { "CPU time" } else { "wall time" },
        parsing.index.0.as_secs_f64() / parsing.raw.0.as_secs_f64(),
        parsing.parsed,
        parsing.conventions,
        parsing.repeats,
    );
    Ok(())
}

/// Best wall and CPU times of raw parsing and of tacit's code index over the same files.
pub(super) struct Parsing {
    pub raw: (Duration, Duration),
    pub index: (Duration, Duration),
    pub parsed: usize,
    pub conventions: usize,
    /// How many times each pass ran within one timed run (see [`MIN_PASS`]).
    pub repeats: u32,
}

impl Parsing {
    /// Index time over raw parse time, by CPU time where the platform reports it: on a
    /// machine shared with other work the wall clock says more about the neighbours than
    /// about tacit.
    pub fn ratio(&self) -> f64 {
        let (a, b) = if self.raw.1 > Duration::ZERO {
            (self.index.1, self.raw.1)
        } else {
            (self.index.0, self.raw.0)
        };
        a.as_secs_f64() / b.as_secs_f64().max(1e-9)
    }
}

/// A timed pass lasts at least this long: a small repository's files parse in a few
/// milliseconds, where one run said more about the scheduler than about tacit.
const MIN_PASS: Duration = Duration::from_millis(300);

/// Raw parsing and tacit's code index of `files` under `root`, alternated `runs` times (so
/// that other load slows both alike), on `threads` threads each; the best run of each counts.
/// A run repeats each pass enough times to last [`MIN_PASS`] and reports the time of one.
pub(super) fn compare(
    registry: &Registry,
    root: &Path,
    files: &[PathBuf],
    runs: usize,
    threads: usize,
) -> Parsing {
    let (once, _) = timed(|| raw_parse(registry, root, files, threads));
    let repeats = (MIN_PASS.as_secs_f64() / once.as_secs_f64().max(1e-4)).ceil() as u32;
    let repeats = repeats.clamp(1, 1_000);
    let mut parsing = Parsing {
        raw: (Duration::MAX, Duration::MAX),
        index: (Duration::MAX, Duration::MAX),
        parsed: 0,
        conventions: 0,
        repeats,
    };
    let per_pass = |(wall, cpu): (Duration, Duration)| (wall / repeats, cpu / repeats);
    for _ in 0..runs {
        let (wall, cpu) = per_pass(timed(|| {
            for _ in 0..repeats {
                raw_parse(registry, root, files, threads);
            }
        }));
        parsing.raw = (parsing.raw.0.min(wall), parsing.raw.1.min(cpu));
        let (wall, cpu) = per_pass(timed(|| {
            for _ in 0..repeats {
                let (index, report) =
                    CodeIndex::scan(registry, root, files, &[], u64::MAX, &|_, _| {});
                parsing.conventions = index.entries("bench").len();
                parsing.parsed = report.files_parsed;
            }
        }));
        parsing.index = (parsing.index.0.min(wall), parsing.index.1.min(cpu));
    }
    parsing
}

/// The files both passes parse, in path order up to `cap` bytes: only those tacit counts. A
/// generated or minified file that tacit skips unparsed would otherwise make the raw pass do
/// work the index pass never does (the registry's first 24 MB once held 978 such files,
/// which gave a meaningless 0.83x).
pub(super) fn bench_files(registry: &Registry, root: &Path, cap: u64) -> (Vec<PathBuf>, u64) {
    let walk = crate::workspace::walk(root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
    let mut files = Vec::new();
    let mut bytes = 0u64;
    for rel in walk.files {
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !registry.knows_extension(name) {
            continue;
        }
        let Ok(bytes_of_file) = std::fs::read(root.join(&rel)) else {
            continue;
        };
        if crate::code::skip_reason(&bytes_of_file).is_err() {
            continue;
        }
        let len = bytes_of_file.len() as u64;
        if bytes + len > cap {
            break;
        }
        bytes += len;
        files.push(rel);
    }
    (files, bytes)
}

/// Wall and process CPU time of `f`.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let cpu0 = process_cpu();
    let started = Instant::now();
    f();
    let wall = started.elapsed();
    let cpu = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    (wall, cpu)
}

/// CPU time of this process, every thread included (ended ones too), in nanoseconds; `None`
/// where the clock is missing. `/proc/self/stat` counted in ticks of 10 ms, coarser than a
/// small repository's whole pass.
fn process_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    (status == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

pub(super) fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Reads and parses every file with its grammar, nothing more, on `threads` threads.
fn raw_parse(registry: &Registry, root: &Path, files: &[PathBuf], threads: usize) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut parsers: Vec<Option<Parser>> = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(rel) = files.get(i) else { break };
                    let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
                        continue;
                    };
                    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let Some(g) = registry.for_file(name, "") else {
                        continue;
                    };
                    if parsers.len() <= g {
                        parsers.resize_with(g + 1, || None);
                    }
                    let parser = parsers[g].get_or_insert_with(|| {
                        let mut p = Parser::new();
                        let _ = p.set_language(&registry.grammars[g].ts_language);
                        p
                    });
                    std::hint::black_box(parser.parse(&text, None));
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_passes_take_only_the_files_tacit_counts_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.rs"), "fn a() -> u8 { 1 }\n").unwrap();
        std::fs::write(root.join("b.rs"), "fn b() -> u8 { 2 }\n").unwrap();
        std::fs::write(
            root.join("generated.rs"),
            "// @generated by a tool: do not edit\nfn g() {}\n",
        )
        .unwrap();
        std::fs::write(root.join("notes.txt"), "not source\n").unwrap();
        let registry = crate::code::registry().unwrap();
        let (files, bytes) = bench_files(registry, root, u64::MAX);
        assert_eq!(files, vec![PathBuf::from("a.rs"), PathBuf::from("b.rs")]);
        assert_eq!(bytes, 38);
        // The cap stops the list in path order.
        let (files, _) = bench_files(registry, root, 20);
        assert_eq!(files, vec![PathBuf::from("a.rs")]);
    }
}
