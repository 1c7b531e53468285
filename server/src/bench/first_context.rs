//! `tacit bench first-context [REPO…]`: what a user waits for on a fresh clone. For each
//! repository, a fresh store, then the time from nothing to the first complete context: the
//! store opened and the model loaded, the repository indexed (walk, configuration, parsing,
//! history, embeddings, store writes) until every convention, procedure and rule it finds is
//! stored, and one context assembled then, while the run goes on with the history's episodes
//! as a server's would; next to it, in the same run, Aider's repository map built cold on the
//! same files (when `aider-chat` is installed: `server/benches/first-context/install-aider`),
//! and the ratio. The time to the end of the whole run is printed too. Each repository is
//! measured in a process of its own, as a user's first run is: a process that had indexed
//! another repository already had its grammars' queries compiled, its token tables read and
//! its heap grown, and took 60-100 ms less on a 6,500-commit Python repository.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::engine::{ContextRequest, Engine, EngineOptions, IndexPhases};

/// Builds Aider's repository map the way `aider` does on start (`RepoMap.get_repo_map` over
/// every tracked file, no file in the chat), timed inside the Python process after its
/// imports, with its tag cache removed first so that it is cold.
const AIDER_REPO_MAP: &str = r#"
import glob, json, os, shutil, subprocess, sys, time
repo = sys.argv[1]
def clear():
    for d in glob.glob(os.path.join(repo, ".aider.tags.cache.v*")):
        shutil.rmtree(d, ignore_errors=True)
clear()
t0 = time.perf_counter()
from aider.io import InputOutput
from aider.repomap import RepoMap
t1 = time.perf_counter()
files = subprocess.run(["git", "-C", repo, "ls-files"], capture_output=True, text=True,
                       check=True).stdout.splitlines()
files = [os.path.join(repo, f) for f in files]
class Model:
    # aider's models count tokens with tiktoken, which downloads its tables on first use;
    # offline, a count of four characters per token stands in for it.
    def token_count(self, text):
        return len(text) // 4
rm = RepoMap(map_tokens=1024, root=repo, main_model=Model(),
             io=InputOutput(pretty=False, yes=True, fancy_input=False), verbose=False)
m = rm.get_repo_map([], files) or ""
t2 = time.perf_counter()
clear()
print(json.dumps({"seconds": t2 - t1, "import_seconds": t1 - t0, "chars": len(m)}))
"#;

#[derive(Deserialize)]
struct AiderRun {
    seconds: f64,
    chars: usize,
}

/// The Python that has `aider` importable: `$TACIT_AIDER_PYTHON`, the virtual environment
/// `install-aider` makes, then `python3`.
fn aider_python() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("TACIT_AIDER_PYTHON") {
        candidates.push(p.into());
    }
    if let Some(cache) = dirs::cache_dir() {
        candidates.push(cache.join("tacit/aider/bin/python"));
    }
    candidates.push("python3".into());
    candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aider.repomap"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn aider_repo_map(python: &Path, repo: &Path) -> anyhow::Result<AiderRun> {
    let out = Command::new(python)
        .arg("-c")
        .arg(AIDER_REPO_MAP)
        .arg(repo)
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    last_json_line(out, &format!("aider's repo map of {}", repo.display()))
}

/// What a measuring child process printed last, as JSON; its last error line if it failed.
fn last_json_line<T: serde::de::DeserializeOwned>(
    out: std::process::Output,
    what: &str,
) -> anyhow::Result<T> {
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).with_context(|| format!("unexpected output from {what}: {line}"))
}

/// One repository's figures, in milliseconds.
#[derive(Serialize, Deserialize)]
struct FirstContext {
    files: usize,
    open_ms: f64,
    index_ms: f64,
    phases: IndexPhases,
    context_ms: f64,
    /// Open, the run until its conventions are stored, and the context.
    total_ms: f64,
    /// Open and the whole run, episodes included.
    complete_ms: f64,
    entries: usize,
}

async fn first_context(repo: &Path, model_dir: Option<PathBuf>) -> anyhow::Result<FirstContext> {
    let scratch = super::ScratchDir::new("first-context")?;
    let started = Instant::now();
    let engine = Engine::open(EngineOptions {
        store_uri: Some(scratch.path().join("store").to_string_lossy().into_owned()),
        model_dir,
        ..Default::default()
    })
    .await?;
    let engine = Arc::new(engine);
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let (stored, mut conventions_stored) = tokio::sync::mpsc::unbounded_channel();
    let run = {
        let (engine, repo) = (engine.clone(), repo.to_path_buf());
        tokio::spawn(async move {
            engine
                .index(&repo, &[], &move |p| {
                    if p.conventions_stored {
                        let _ = stored.send(());
                    }
                })
                .await
        })
    };
    // None: the run ended without the event (an error, reported below).
    let _ = conventions_stored.recv().await;
    let index_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let context = engine
        .assemble_context(ContextRequest {
            query: Some("How do I build and test this project?".into()),
            ..Default::default()
        })
        .await?;
    let context_ms = t.elapsed().as_secs_f64() * 1e3;
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    let report = run.await??;
    let complete_ms = started.elapsed().as_secs_f64() * 1e3;
    if context.assembled.memories.is_empty() && context.assembled.procedures.is_empty() {
        bail!("{}: the first context is empty", repo.display());
    }
    Ok(FirstContext {
        files: report.files_scanned,
        open_ms,
        index_ms,
        phases: report.phases,
        context_ms,
        total_ms,
        complete_ms,
        entries: report.written.written,
    })
}

/// The repositories of the accuracy corpus, when no repository is given.
fn default_repos() -> Vec<PathBuf> {
    let corpus = std::env::var_os("TACIT_CORPUS")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|c| c.join("tacit/accuracy-corpus")))
        .unwrap_or_default();
    let mut repos: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(".git").exists())
        .collect();
    repos.sort();
    repos
}

/// `tacit bench first-context --one REPO`: one repository's figures as a JSON line.
pub async fn run_one(repos: Vec<PathBuf>, model_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let [repo] = &repos[..] else {
        bail!("--one measures exactly one repository, not {}", repos.len());
    };
    let figures = first_context(repo, model_dir).await?;
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// Runs `--one` for `repo` in a new tacit process.
fn first_context_alone(repo: &Path, model_dir: Option<&Path>) -> anyhow::Result<FirstContext> {
    let exe = std::env::current_exe().context("cannot find the tacit binary")?;
    let mut command = Command::new(exe);
    command.arg("bench");
    if let Some(dir) = model_dir {
        command.arg("--model-dir").arg(dir);
    }
    let out = command
        .args(["first-context", "--one"])
        .arg(repo)
        .output()
        .context("cannot start tacit")?;
    last_json_line(out, &format!("tacit's first context of {}", repo.display()))
}

pub async fn run(repos: Vec<PathBuf>, model_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let repos = if repos.is_empty() {
        default_repos()
    } else {
        repos
    };
    if repos.is_empty() {
        bail!(
            "no repository given and no accuracy corpus found \
             (server/benches/accuracy/fetch makes one; or pass REPO paths)"
        );
    }
    let aider = aider_python();
    match &aider {
        Some(p) => println!("aider: {} (repo map cold, in process)", p.display()),
        None => println!(
            "aider: not installed (server/benches/first-context/install-aider), no comparison"
        ),
    }
    println!(
        "all times in ms; the phases are the whole run's (history is mined alongside the walk, \
         parse and writes); index: until its conventions are stored; tacit ms: open + index + \
         context; complete: open + the whole run, episodes included"
    );
    println!(
        "{:<14} {:>6} {:>7} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7}",
        "repository",
        "files",
        "entries",
        "open",
        "walk",
        "config",
        "parse",
        "history",
        "embed",
        "store",
        "index",
        "context",
        "tacit ms",
        "complete",
        "aider ms",
        "ratio"
    );
    let mut ratios = Vec::new();
    for repo in &repos {
        let name = repo
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| repo.display().to_string());
        let ours = first_context_alone(repo, model_dir.as_deref())?;
        let theirs = match &aider {
            Some(python) => Some(aider_repo_map(python, repo)?),
            None => None,
        };
        let (aider_ms, ratio) = match &theirs {
            Some(a) if a.chars > 0 => {
                let ms = a.seconds * 1e3;
                let ratio = ours.total_ms / ms;
                ratios.push(ratio);
                (format!("{ms:.0}"), format!("{ratio:.2}x"))
            }
            Some(_) => ("empty map".into(), "-".into()),
            None => ("-".into(), "-".into()),
        };
        let p = &ours.phases;
        println!(
            "{:<14} {:>6} {:>7} {:>6.0} {:>6} {:>6} {:>6} {:>7} {:>6} {:>6} {:>7.0} {:>7.1} {:>9.0} {:>9.0} {:>9} {:>7}",
            name,
            ours.files,
            ours.entries,
            ours.open_ms,
            p.walk_ms,
            p.config_ms,
            p.parse_ms,
            p.history_ms,
            p.embed_ms,
            p.store_ms,
            ours.index_ms,
            ours.context_ms,
            ours.total_ms,
            ours.complete_ms,
            aider_ms,
            ratio
        );
    }
    if !ratios.is_empty() {
        let worst = ratios.iter().copied().fold(f64::MIN, f64::max);
        let best = ratios.iter().copied().fold(f64::MAX, f64::min);
        println!(
            "tacit / aider: {best:.2}x to {worst:.2}x (below 1 is faster than aider's cold repo map)"
        );
    }
    Ok(())
}
