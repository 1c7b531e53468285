//! `tacit bench accuracy`: is tacit right about repositories it has never seen? Each
//! repository of `server/benches/accuracy/corpus.toml` (recreated by that directory's `fetch`
//! script, pinned to a commit) is indexed into a scratch store; then this binary is started as
//! `tacit lsp` on it and asked, through `tacit.assembleContext` over JSON-RPC, the questions a
//! newcomer asks (`questions.toml`) and one question per convention measured in the
//! repository by `measure.py` (`conventions.toml`).
//!
//! A question is *answered* when the context contains one of its expected keywords. A
//! convention is *right* when the context contains every phrase that states the measured value
//! and none that states another, and *stated wrongly* when it contains a phrase that states
//! another value (a split habit stated as one value, or the opposite value). Keywords are
//! compared case-insensitively with the rendered markdown: what a copilot reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::latency::percentile;
use crate::engine::{Engine, EngineOptions};

const CORPUS: &str = include_str!("../../benches/accuracy/corpus.toml");
const QUESTIONS: &str = include_str!("../../benches/accuracy/questions.toml");
const CONVENTIONS: &str = include_str!("../../benches/accuracy/conventions.toml");

#[derive(Debug, Deserialize)]
struct Corpus {
    repo: Vec<Repository>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    name: String,
    source: String,
    sha: String,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct Questions {
    question: Vec<Question>,
}

/// A question as a newcomer asks it; answered when the context holds any of `expect`.
#[derive(Debug, Deserialize)]
struct Question {
    repo: String,
    q: String,
    expect: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Conventions {
    convention: Vec<Convention>,
}

/// A convention measured in one repository, and the phrases that state it or another value.
#[derive(Debug, Deserialize)]
struct Convention {
    repo: String,
    language: String,
    key: String,
    value: String,
    question: String,
    measured: String,
    must: Vec<String>,
    wrong: Vec<String>,
}

/// What one repository scored.
#[derive(Debug, Default)]
struct RepoScore {
    questions: usize,
    answered: usize,
    conventions: usize,
    right: usize,
    wrong: usize,
    latencies: Vec<f64>,
    index_s: f64,
    files: usize,
}

/// The corpus directory: the flag, then `TACIT_CORPUS`, then the cache directory `fetch`
/// fills by default.
fn corpus_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit
        .or_else(|| std::env::var_os("TACIT_CORPUS").map(PathBuf::from))
        .unwrap_or_else(|| {
            dirs::home_dir()
                .unwrap_or_default()
                .join(".cache/tacit/accuracy-corpus")
        })
}

fn head_of(repo: &Path) -> Option<String> {
    let git = git2::Repository::open(repo).ok()?;
    let head = git.head().ok()?.peel_to_commit().ok()?;
    Some(head.id().to_string())
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.contains(&needle.to_lowercase())
}

/// Asks one question and returns the rendered context, lower-cased, and the round trip.
fn ask(client: &mut Client, query: &str) -> Result<(String, f64)> {
    let started = Instant::now();
    let result = client.request(
        "workspace/executeCommand",
        json!({"command": "tacit.assembleContext", "arguments": [{"query": query}]}),
    )?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    // The heading repeats the question, which must not count as its own answer.
    let markdown = result["markdown"].as_str().unwrap_or("");
    let body = match markdown.split_once('\n') {
        Some((first, rest)) if first.starts_with("# ") => rest,
        _ => markdown,
    };
    Ok((body.to_lowercase(), ms))
}

async fn index(root: &Path, store: &Path, model_dir: Option<PathBuf>) -> Result<usize> {
    let engine = Engine::open(EngineOptions {
        store_uri: Some(store.to_string_lossy().into_owned()),
        model_dir,
        ..Default::default()
    })
    .await?;
    let report = engine.index(root, &[], &|_| {}).await?;
    engine.compact().await?;
    Ok(report.code.files_parsed)
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    exe: &Path,
    repo: &Repository,
    root: &Path,
    questions: &[&Question],
    conventions: &[&Convention],
    model_dir: Option<&Path>,
    verbose: bool,
) -> Result<RepoScore> {
    let scratch = super::ScratchDir::new(&format!("accuracy-{}", repo.name))?;
    let store = scratch.path().join("store");
    let started = Instant::now();
    let files = index(root, &store, model_dir.map(Path::to_path_buf)).await?;
    let mut score = RepoScore {
        index_s: started.elapsed().as_secs_f64(),
        files,
        ..Default::default()
    };
    let mut client = Client::start(exe, &store, model_dir)?;
    let uri = format!("file://{}", root.display());
    client.request(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": repo.name}],
            "capabilities": {},
            "initializationOptions": {"indexOnStartup": false},
        }),
    )?;
    client.notify("initialized", json!({}))?;
    for question in questions {
        let (markdown, ms) = ask(&mut client, &question.q)?;
        score.latencies.push(ms);
        score.questions += 1;
        if question.expect.iter().any(|k| contains(&markdown, k)) {
            score.answered += 1;
        } else if verbose {
            println!(
                "  [{}] not answered: {:?} (expected any of {:?})",
                repo.name, question.q, question.expect
            );
        }
    }
    for convention in conventions {
        let (markdown, ms) = ask(&mut client, &convention.question)?;
        score.latencies.push(ms);
        score.conventions += 1;
        let stated_wrongly: Vec<&String> = convention
            .wrong
            .iter()
            .filter(|k| contains(&markdown, k))
            .collect();
        let stated = convention.must.iter().all(|k| contains(&markdown, k));
        if !stated_wrongly.is_empty() {
            score.wrong += 1;
            println!(
                "  [{}] STATED WRONGLY {} {} (measured {}: {}): the context says {:?}",
                repo.name,
                convention.language,
                convention.key,
                convention.value,
                convention.measured,
                stated_wrongly
            );
        } else if stated {
            score.right += 1;
        } else if verbose {
            println!(
                "  [{}] missed {} {} = {} ({}), asked {:?}",
                repo.name,
                convention.language,
                convention.key,
                convention.value,
                convention.measured,
                convention.question
            );
        }
    }
    client.stop()?;
    Ok(score)
}

fn pct(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "–".into();
    }
    format!(
        "{part}/{whole} ({:.0}%)",
        100.0 * part as f64 / whole as f64
    )
}

pub async fn run(
    corpus: Option<PathBuf>,
    only: Vec<String>,
    verbose: bool,
    model_dir: Option<PathBuf>,
) -> Result<()> {
    let repos: Corpus = toml::from_str(CORPUS).context("benches/accuracy/corpus.toml")?;
    let questions: Questions =
        toml::from_str(QUESTIONS).context("benches/accuracy/questions.toml")?;
    let conventions: Conventions =
        toml::from_str(CONVENTIONS).context("benches/accuracy/conventions.toml")?;
    let dir = corpus_dir(corpus);
    let selected: Vec<&Repository> = repos
        .repo
        .iter()
        .filter(|r| only.is_empty() || only.contains(&r.name))
        .collect();
    if selected.is_empty() {
        bail!("no repository of the corpus is named {}", only.join(", "));
    }
    let missing: Vec<&str> = selected
        .iter()
        .filter(|r| !dir.join(&r.name).join(".git").exists())
        .map(|r| r.name.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "the corpus at {} lacks {}: run server/benches/accuracy/fetch MIRROR {} first",
            dir.display(),
            missing.join(", "),
            dir.display()
        );
    }
    let model_dir = {
        let dir = model_dir.clone();
        let selected =
            tokio::task::spawn_blocking(move || crate::embed::select(dir.as_deref())).await?;
        if selected.embedder.is_fallback() {
            println!(
                "WARNING: the model is missing, the lexical FALLBACK embedder is measured ({})",
                selected.fallback_reason.unwrap_or_default()
            );
        }
        selected.model_dir.or(model_dir)
    };
    let bin = super::ScratchDir::new("accuracy-bin")?;
    let exe = bin.pinned_binary()?;

    let mut scores: BTreeMap<usize, (&Repository, RepoScore)> = BTreeMap::new();
    for (i, repo) in selected.iter().enumerate() {
        let root = dir.join(&repo.name).canonicalize()?;
        if head_of(&root).as_deref() != Some(repo.sha.as_str()) {
            println!(
                "WARNING: {} is not at the recorded {} (run fetch again)",
                repo.name,
                &repo.sha[..12]
            );
        }
        let qs: Vec<&Question> = questions
            .question
            .iter()
            .filter(|q| q.repo == repo.name)
            .collect();
        let cs: Vec<&Convention> = conventions
            .convention
            .iter()
            .filter(|c| c.repo == repo.name)
            .collect();
        let score = measure(&exe, repo, &root, &qs, &cs, model_dir.as_deref(), verbose).await?;
        scores.insert(i, (repo, score));
    }

    println!(
        "\ntacit.assembleContext over JSON-RPC on stdio, one scratch store per repository, {}",
        super::profile()
    );
    println!("| repository | kind | files | questions answered | conventions right | stated wrongly | p50 ms | index s |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut total = RepoScore::default();
    for (repo, score) in scores.values_mut() {
        score.latencies.sort_by(f64::total_cmp);
        println!(
            "| [{}](https://github.com/{}) `{}` | {} | {} | {} | {} | {} | {:.1} | {:.1} |",
            repo.name,
            repo.source,
            &repo.sha[..7],
            repo.kind,
            score.files,
            pct(score.answered, score.questions),
            pct(score.right, score.conventions),
            score.wrong,
            percentile(&score.latencies, 0.5),
            score.index_s
        );
        total.questions += score.questions;
        total.answered += score.answered;
        total.conventions += score.conventions;
        total.right += score.right;
        total.wrong += score.wrong;
        total.files += score.files;
        total.index_s += score.index_s;
        total.latencies.extend(score.latencies.iter().copied());
    }
    total.latencies.sort_by(f64::total_cmp);
    println!(
        "| **total** | {} repositories | {} | {} | {} | {} | {:.1} | {:.1} |",
        scores.len(),
        total.files,
        pct(total.answered, total.questions),
        pct(total.right, total.conventions),
        total.wrong,
        percentile(&total.latencies, 0.5),
        total.index_s
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The labels parse, every repository has at least ten questions, and every label names
    /// a repository of the corpus.
    #[test]
    fn labels_are_complete() {
        let repos: Corpus = toml::from_str(CORPUS).unwrap();
        let questions: Questions = toml::from_str(QUESTIONS).unwrap();
        let conventions: Conventions = toml::from_str(CONVENTIONS).unwrap();
        assert!(repos.repo.len() >= 12);
        for repo in &repos.repo {
            let asked = questions
                .question
                .iter()
                .filter(|q| q.repo == repo.name)
                .count();
            assert!(asked >= 10, "{} has {asked} questions", repo.name);
            assert!(
                conventions.convention.iter().any(|c| c.repo == repo.name),
                "{} has no measured convention",
                repo.name
            );
        }
        for c in &conventions.convention {
            assert!(repos.repo.iter().any(|r| r.name == c.repo), "{}", c.repo);
            assert!(!c.must.is_empty(), "{} {} states nothing", c.repo, c.key);
        }
        for q in &questions.question {
            assert!(repos.repo.iter().any(|r| r.name == q.repo), "{}", q.repo);
        }
    }
}
