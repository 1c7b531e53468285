//! `tacit bench retrieval`: does `assembleContext` put the entry that answers a question
//! first? hit@1, hit@5 and MRR over the labelled queries of
//! `server/benches/retrieval/dataset.toml`, on a store built from the polyglot fixture
//! repository plus the dataset's remembered facts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::assemble::{AssembleSettings, Scored};
use crate::engine::{ContextRequest, Engine, EngineOptions, RememberRequest};
use crate::memory::{Entry, Layer};

const DATASET: &str = include_str!("../../benches/retrieval/dataset.toml");

/// The repository whose extracted conventions sit beside the remembered facts.
pub fn fixture_repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/polyglot")
}

#[derive(Debug, Deserialize)]
pub struct Dataset {
    pub fact: Vec<Fact>,
    pub query: Vec<Query>,
}

#[derive(Debug, Deserialize)]
pub struct Fact {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub layer: Option<Layer>,
}

#[derive(Debug, Deserialize)]
pub struct Query {
    pub q: String,
    pub expect: Vec<String>,
}

pub fn dataset() -> Result<Dataset> {
    toml::from_str(DATASET).context("server/benches/retrieval/dataset.toml is not valid")
}

/// One query's outcome: the 1-based rank of the first expected entry, if any was served.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub query: String,
    pub rank: Option<usize>,
    pub top: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Score {
    pub hit1: f64,
    pub hit5: f64,
    pub mrr: f64,
    pub outcomes: Vec<Outcome>,
}

/// A store at `store` holding the fixture's extracted entries and the dataset's facts; the
/// map takes a fact id to the id of the entry it became.
pub async fn build(
    store: &Path,
    model_dir: Option<PathBuf>,
    data: &Dataset,
) -> Result<(Engine, HashMap<String, String>)> {
    let engine = Engine::open(EngineOptions {
        store_uri: Some(store.to_string_lossy().into_owned()),
        model_dir,
        frozen: true,
        ..Default::default()
    })
    .await?;
    // A copy outside any git repository: the fixture inside this one would otherwise bring
    // this repository's own history into the benchmark, and its results would drift.
    let copy = store.with_file_name("polyglot");
    copy_tree(&fixture_repository(), &copy)?;
    engine
        .index(&copy, &[], &|_| {})
        .await
        .context("indexing the fixture repository")?;
    let mut ids = HashMap::new();
    for fact in &data.fact {
        let written = engine
            .remember(RememberRequest {
                text: fact.text.clone(),
                layer: fact.layer,
                ..Default::default()
            })
            .await?;
        ids.insert(fact.id.clone(), written.entry.id);
    }
    Ok((engine, ids))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry?;
        let target = to.join(entry.path().strip_prefix(from)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn matches(expect: &str, entry: &Entry, ids: &HashMap<String, String>) -> bool {
    if let Some(key) = expect.strip_prefix("key:") {
        entry.key.as_deref() == Some(key)
    } else if let Some(words) = expect.strip_prefix("text:") {
        entry.text.to_lowercase().contains(&words.to_lowercase())
    } else {
        ids.get(expect) == Some(&entry.id)
    }
}

/// Runs every query through `assemble_context` with `settings` and scores the ranking.
pub async fn evaluate(
    engine: &Engine,
    data: &Dataset,
    ids: &HashMap<String, String>,
    settings: &AssembleSettings,
) -> Result<Score> {
    engine.configure(|s| s.assemble = settings.clone());
    let mut outcomes = Vec::new();
    for query in &data.query {
        let result = engine
            .assemble_context(ContextRequest {
                query: Some(query.q.clone()),
                ..Default::default()
            })
            .await?;
        let a = result.assembled;
        let mut served: Vec<&Scored> = a
            .memories
            .iter()
            .chain(&a.procedures)
            .chain(&a.episodes)
            .collect();
        served.sort_by(|x, y| {
            y.score
                .total_cmp(&x.score)
                .then(x.entry.id.cmp(&y.entry.id))
        });
        let rank = served
            .iter()
            .position(|s| query.expect.iter().any(|e| matches(e, &s.entry, ids)))
            .map(|p| p + 1);
        outcomes.push(Outcome {
            query: query.q.clone(),
            rank,
            top: served
                .iter()
                .take(3)
                .map(|s| s.entry.text.clone())
                .collect(),
        });
    }
    let n = outcomes.len().max(1) as f64;
    let hits = |k: usize| {
        outcomes
            .iter()
            .filter(|o| o.rank.is_some_and(|r| r <= k))
            .count() as f64
            / n
    };
    let mrr = outcomes
        .iter()
        .map(|o| o.rank.map(|r| 1.0 / r as f64).unwrap_or(0.0))
        .sum::<f64>()
        / n;
    Ok(Score {
        hit1: hits(1),
        hit5: hits(5),
        mrr,
        outcomes,
    })
}

pub async fn run(verbose: bool, tune: bool, model_dir: Option<PathBuf>) -> Result<()> {
    let data = dataset()?;
    let scratch = super::ScratchDir::new("retrieval")?;
    let (engine, ids) = build(&scratch.path().join("store"), model_dir, &data).await?;
    let info = engine.embedder_info();
    println!(
        "retrieval benchmark: {} queries, {} remembered facts + the fixture's extracted entries, embedder {}{}",
        data.query.len(),
        data.fact.len(),
        info.id,
        if info.fallback { " (FALLBACK)" } else { "" }
    );
    let defaults = AssembleSettings::default();
    let score = evaluate(&engine, &data, &ids, &defaults).await?;
    if verbose {
        for o in &score.outcomes {
            let rank = o.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into());
            println!("{rank:>3}  {}", o.query);
            if o.rank != Some(1) {
                for t in &o.top {
                    println!("       · {t}");
                }
            }
        }
    }
    println!(
        "defaults: hit@1 {:.3}  hit@5 {:.3}  MRR {:.3}  (targets: hit@5 ≥ 0.9, MRR ≥ 0.75)",
        score.hit1, score.hit5, score.mrr
    );
    if tune {
        tune_settings(&engine, &data, &ids).await?;
    }
    Ok(())
}

/// A grid over the relevance weight, the relevance threshold and diversity; prints the best
/// settings by MRR (ties: hit@5). The defaults in `AssembleSettings` come from this.
async fn tune_settings(
    engine: &Engine,
    data: &Dataset,
    ids: &HashMap<String, String>,
) -> Result<()> {
    let mut results = Vec::new();
    for relevance in [0.4f32, 0.55, 0.7, 0.85] {
        for min_relevance in [0.1f32, 0.15, 0.2, 0.25, 0.3] {
            for diversity in [0.0f32, 0.3] {
                let mut s = AssembleSettings::default();
                let rest = 1.0 - relevance;
                // The other parts keep their default proportions.
                let d = s.weights;
                let others = d.importance + d.recency + d.frequency + d.confidence;
                s.weights.relevance = relevance;
                s.weights.importance = d.importance / others * rest;
                s.weights.recency = d.recency / others * rest;
                s.weights.frequency = d.frequency / others * rest;
                s.weights.confidence = d.confidence / others * rest;
                s.min_relevance = min_relevance;
                s.diversity = diversity;
                let score = evaluate(engine, data, ids, &s).await?;
                results.push((relevance, min_relevance, diversity, score));
            }
        }
    }
    results.sort_by(|a, b| {
        b.3.mrr
            .total_cmp(&a.3.mrr)
            .then(b.3.hit5.total_cmp(&a.3.hit5))
    });
    println!("best settings (relevance weight, minRelevance, diversity → hit@1, hit@5, MRR):");
    for (rel, min, div, s) in results.iter().take(8) {
        println!(
            "  {rel:.2} {min:.2} {div:.1} → {:.3} {:.3} {:.3}",
            s.hit1, s.hit5, s.mrr
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dataset_parses_and_every_fact_id_it_expects_exists() {
        let data = dataset().unwrap();
        assert!(data.query.len() >= 40, "{} queries", data.query.len());
        for q in &data.query {
            for e in &q.expect {
                if !e.starts_with("key:") && !e.starts_with("text:") {
                    assert!(
                        data.fact.iter().any(|f| f.id == *e),
                        "query `{}` expects unknown fact `{e}`",
                        q.q
                    );
                }
            }
        }
    }

    /// The benchmark's targets, with the real model: a regression in scoring, search or
    /// extraction shows up here. Needs the weights (`scripts/fetch-model`, run by
    /// `scripts/test`); without them the embedder falls back and this fails, as it should.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn default_settings_meet_the_retrieval_targets() {
        let data = dataset().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (engine, ids) = build(&dir.path().join("store"), None, &data).await.unwrap();
        assert!(
            !engine.embedder_info().fallback,
            "the retrieval targets are for all-MiniLM-L6-v2; run scripts/fetch-model"
        );
        let score = evaluate(&engine, &data, &ids, &AssembleSettings::default())
            .await
            .unwrap();
        let misses: Vec<_> = score
            .outcomes
            .iter()
            .filter(|o| o.rank.is_none_or(|r| r > 5))
            .map(|o| (&o.query, &o.top))
            .collect();
        assert!(
            score.hit5 >= 0.9 && score.mrr >= 0.75,
            "hit@5 {:.3}, MRR {:.3}; missed: {misses:#?}",
            score.hit5,
            score.mrr
        );
    }
}
