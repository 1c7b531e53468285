//! The core API: one method per command of DESIGN.md, used alike by the CLI, the LSP
//! layer and tests. Requests and results are plain serde structs in camelCase, so the LSP
//! layer only parses arguments and forwards them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::RwLock;

use crate::assemble::{self, AssembleSettings, Assembled, FileFocus, Scored};
use crate::embed::{self, Embedder};
use crate::indexer::{ExtractionReport, IndexError, Indexer};
use crate::memory::{now_millis, Entry, Layer, ParseEnumError, Source, Status};
use crate::store::{ListFilter, SearchRequest, Store, StoreError};
use crate::workspace;

mod protocol;
pub use protocol::*;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Embed(#[from] embed::EmbedError),
    #[error("no entry with id `{0}`")]
    NotFound(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("line {line} of the import: {message}")]
    Import { line: usize, message: String },
    #[error("the background task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Grammar(#[from] crate::code::GrammarError),
}

impl From<ParseEnumError> for EngineError {
    fn from(e: ParseEnumError) -> Self {
        EngineError::InvalidArgument(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// How the engine is set up; everything has a default.
/// The audit detail of a pin records the layer an entry came from, so unpin can restore it.
const PINNED_FROM: &str = "from ";

#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub store_uri: Option<String>,
    pub model_dir: Option<PathBuf>,
    /// Use the lexical embedder even if the model is installed (tests of the fallback).
    pub force_fallback: bool,
    /// Serve context without counting accesses, so that every query sees the same store
    /// (benchmarks and snapshot tests).
    pub frozen: bool,
}

/// The store location: explicit, then `TACIT_STORE`, then the user data directory.
pub fn resolve_store_uri(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var("TACIT_STORE").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| {
            crate::store::default_store_dir()
                .to_string_lossy()
                .into_owned()
        })
}

/// A stage of indexing, for progress reports.
#[derive(Debug, Clone)]
pub struct IndexProgress {
    pub message: String,
    pub percentage: u32,
}

pub struct Engine {
    store: Arc<Store>,
    embedder: Arc<dyn Embedder>,
    embedder_info: EmbedderInfo,
    indexer: Indexer,
    settings: RwLock<AssembleSettings>,
    /// Workspace roots and their scopes, in the order the client gave them.
    roots: RwLock<Vec<(PathBuf, String)>>,
    last_index: RwLock<Vec<IndexReport>>,
    /// Per-file code evidence of each indexed root, so that a changed file is re-counted
    /// alone. A plain mutex, held only to take an index out or put it back.
    code: std::sync::Mutex<std::collections::HashMap<PathBuf, crate::code::CodeIndex>>,
    /// Source files larger than this are not read (`maxFileBytes`).
    max_file_bytes: std::sync::atomic::AtomicU64,
    frozen: bool,
    /// Commits mined per root, newest first (`historyMaxCommits`).
    history_max_commits: std::sync::atomic::AtomicUsize,
    /// The last history mining status of each root, for `tacit.status`.
    history: RwLock<Vec<crate::history::HistoryStatus>>,
}

fn check_unit(name: &str, v: Option<f32>) -> Result<()> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) || x.is_nan() => Err(EngineError::InvalidArgument(
            format!("`{name}` must be between 0 and 1, got {x}"),
        )),
        _ => Ok(()),
    }
}

impl Engine {
    /// Opens the store and loads the embedder; re-embeds the store if the embedder changed.
    pub async fn open(options: EngineOptions) -> Result<Engine> {
        // A broken grammar query stops start-up with its file and line.
        crate::code::registry()?;
        let uri = resolve_store_uri(options.store_uri.as_deref());
        let store = Arc::new(Store::open(&uri).await?);
        let model_dir = options.model_dir.clone();
        let force_fallback = options.force_fallback;
        let selected = tokio::task::spawn_blocking(move || {
            if force_fallback {
                embed::Selected {
                    embedder: Arc::new(embed::CachedEmbedder::new(embed::LexicalEmbedder)),
                    model_dir: None,
                    fallback_reason: Some("the lexical fallback was requested".into()),
                }
            } else {
                embed::select(model_dir.as_deref())
            }
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?;
        let embedder_info = EmbedderInfo {
            id: selected.embedder.id().to_string(),
            fallback: selected.embedder.is_fallback(),
            fallback_reason: selected.fallback_reason,
            model_dir: selected.model_dir,
        };
        let indexer = Indexer::new(store.clone(), selected.embedder.clone());
        let engine = Engine {
            store,
            embedder: selected.embedder,
            embedder_info,
            indexer,
            settings: RwLock::new(AssembleSettings::default()),
            roots: RwLock::new(Vec::new()),
            last_index: RwLock::new(Vec::new()),
            code: std::sync::Mutex::new(std::collections::HashMap::new()),
            max_file_bytes: std::sync::atomic::AtomicU64::new(workspace::DEFAULT_MAX_FILE_BYTES),
            frozen: options.frozen,
            history_max_commits: std::sync::atomic::AtomicUsize::new(
                crate::history::DEFAULT_MAX_COMMITS,
            ),
            history: RwLock::new(Vec::new()),
        };
        let stored = engine.store.meta_get("embedder").await?;
        if stored.as_deref() != Some(engine.embedder.id()) {
            if stored.is_some() {
                let n = engine.indexer.reembed_all().await?;
                tracing::info!(
                    "embedder changed from {} to {}: re-embedded {n} entries",
                    stored.unwrap_or_default(),
                    engine.embedder.id()
                );
            }
            engine
                .store
                .meta_set("embedder", engine.embedder.id())
                .await?;
        }
        let expired = engine.indexer.expire_stale(now_millis()).await?;
        if !expired.is_empty() {
            tracing::info!("{} entries expired by decay", expired.len());
        }
        // Counting tokens needs the BPE ranks; load them now, not in the first request.
        tokio::task::spawn_blocking(assemble::warm_up_tokenizer);
        Ok(engine)
    }

    pub fn embedder_info(&self) -> &EmbedderInfo {
        &self.embedder_info
    }

    /// Layers of the store that changed, by this process or another one.
    pub fn store_changes(&self) -> tokio::sync::broadcast::Receiver<Vec<Layer>> {
        self.store.subscribe()
    }

    pub fn store_uri(&self) -> &str {
        self.store.uri()
    }

    pub async fn set_settings(&self, settings: AssembleSettings) {
        *self.settings.write().await = settings;
    }

    /// Registers a workspace root (idempotent) and returns its scope.
    pub async fn add_root(&self, root: &Path) -> String {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let scope = {
            let r = root.clone();
            tokio::task::spawn_blocking(move || workspace::scope_for(&r))
                .await
                .unwrap_or_else(|_| "dir:unknown".into())
        };
        let mut roots = self.roots.write().await;
        if !roots.iter().any(|(r, _)| *r == root) {
            roots.push((root, scope.clone()));
        }
        scope
    }

    pub async fn remove_root(&self, root: &Path) {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        self.roots.write().await.retain(|(r, _)| *r != root);
    }

    pub async fn roots(&self) -> Vec<(PathBuf, String)> {
        self.roots.read().await.clone()
    }

    async fn scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self
            .roots
            .read()
            .await
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        if scopes.is_empty() {
            scopes.push(self.default_scope().await);
        }
        scopes.push("user".into());
        scopes
    }

    /// Where an entry goes when its request names no scope: the first workspace, else the
    /// directory the process runs in. Never `user`: the user scope reaches every project, so
    /// only an explicit `scope: "user"` puts an entry there.
    async fn default_scope(&self) -> String {
        if let Some((_, scope)) = self.roots.read().await.first() {
            return scope.clone();
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        tokio::task::spawn_blocking(move || workspace::scope_for(&cwd))
            .await
            .unwrap_or_else(|_| "dir:unknown".into())
    }

    /// Walks a workspace root, runs the extractors and writes what they found.
    pub async fn index(
        &self,
        root: &Path,
        extra_ignores: &[String],
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<IndexReport> {
        let started = Instant::now();
        let scope = self.add_root(root).await;
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        progress(IndexProgress {
            message: "scanning files".into(),
            percentage: 5,
        });
        let max_file_bytes = self
            .max_file_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        let (walk, extraction, mut code_index, code_report) = {
            let (root, scope, ignores) = (root.clone(), scope.clone(), extra_ignores.to_vec());
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<IndexProgress>();
            let task = tokio::task::spawn_blocking(move || {
                let walk = workspace::walk(&root, &ignores, max_file_bytes);
                let extraction = crate::config::extract(&root, &walk.files, &scope);
                // Parsing source files fills 5–55% of the progress bar.
                let (code_index, code_report) = match crate::code::registry() {
                    Ok(registry) => crate::code::CodeIndex::scan(
                        registry,
                        &root,
                        &walk.files,
                        &ignores,
                        max_file_bytes,
                        &|done, total| {
                            let _ = tx.send(IndexProgress {
                                message: format!("parsed {done} of {total} files"),
                                percentage: 5 + (50 * done / total.max(1)) as u32,
                            });
                        },
                    ),
                    Err(e) => {
                        tracing::error!("{e}");
                        Default::default()
                    }
                };
                (walk, extraction, code_index, code_report)
            });
            while let Some(p) = rx.recv().await {
                progress(p);
            }
            task.await.map_err(|e| EngineError::Task(e.to_string()))?
        };
        let code_entries = code_index.entries(&scope);
        progress(IndexProgress {
            message: format!(
                "{} files scanned, storing {} findings",
                walk.files.len(),
                extraction.entries.len()
            ),
            percentage: 60,
        });
        for problem in &extraction.problems {
            tracing::warn!("{problem}");
        }
        let mut written = self
            .indexer
            .write_extracted(&scope, extraction.entries)
            .await?;
        let code_written = self
            .indexer
            .write_extracted(&scope, code_entries.clone())
            .await?;
        code_index.mark_written(&code_entries);
        written.written += code_written.written;
        written.unchanged += code_written.unchanged;
        written.superseded += code_written.superseded;
        written.redacted += code_written.redacted;
        self.code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(root.clone(), code_index);
        let history = self.mine_history(&root, &scope, false, progress).await?;
        written.written += history.written;
        written.superseded += history.superseded;
        written.redacted += history.redacted;
        let mut skipped = std::collections::BTreeMap::new();
        for (_, reason) in &walk.skipped {
            *skipped.entry(reason.name().to_string()).or_insert(0) += 1;
        }
        for (reason, n) in &code_report.skipped {
            *skipped.entry(reason.clone()).or_insert(0) += n;
        }
        let report = IndexReport {
            root: root.clone(),
            scope,
            files_scanned: walk.files.len(),
            skipped,
            problems: extraction.problems,
            written,
            duration_ms: started.elapsed().as_millis() as u64,
            code: code_report,
            history: Some(history),
        };
        let mut last = self.last_index.write().await;
        last.retain(|r| r.root != root);
        last.push(report.clone());
        Ok(report)
    }

    /// Source files larger than this are not read (`maxFileBytes`); applies from the next
    /// index run.
    pub fn set_max_file_bytes(&self, bytes: u64) {
        self.max_file_bytes
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Commits mined per root, newest first (`historyMaxCommits`); applies from the next run.
    pub fn set_history_max_commits(&self, commits: usize) {
        self.history_max_commits
            .store(commits.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// The last mining status of each root; for a root not mined by this process (a CLI
    /// run), what the last run left in the state file.
    async fn history_report(&self) -> Vec<crate::history::HistoryStatus> {
        let mut report = self.history.read().await.clone();
        let missing: Vec<(PathBuf, String)> = self
            .roots()
            .await
            .into_iter()
            .filter(|(root, _)| !report.iter().any(|s| s.root.as_deref() == Some(root)))
            .collect();
        if missing.is_empty() {
            return report;
        }
        let state_dir = crate::history::state_dir_for(self.store.uri());
        let stored = tokio::task::spawn_blocking(move || {
            missing
                .iter()
                .filter_map(|(root, scope)| crate::history::stored_status(&state_dir, scope, root))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        report.extend(stored);
        report
    }

    /// Mines the git history of `root` into `scope` (commit conventions, co-change
    /// procedures, episodes, decisions), reading only commits new since the last run, and
    /// writes what it found. Progress runs from 80 to 100%. With `only_if_moved`, an unchanged
    /// HEAD writes nothing. No repository, no commits and the like are a status, not an error.
    pub async fn mine_history(
        &self,
        root: &Path,
        scope: &str,
        only_if_moved: bool,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<crate::history::HistoryStatus> {
        if only_if_moved {
            // Most writes under `.git` (the index, objects, fetches) leave HEAD where it was.
            let last = self
                .history
                .read()
                .await
                .iter()
                .find(|s| s.root.as_deref() == Some(root))
                .cloned();
            let r = root.to_path_buf();
            let head = tokio::task::spawn_blocking(move || crate::history::current_head(&r))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))?;
            if let Some(mut last) = last.filter(|l| head.is_some() && l.head == head) {
                last.state = crate::history::HistoryState::Unchanged;
                last.new_commits = 0;
                last.written = 0;
                last.superseded = 0;
                last.redacted = 0;
                return Ok(last);
            }
        }
        let options = crate::history::HistoryOptions {
            max_commits: self
                .history_max_commits
                .load(std::sync::atomic::Ordering::Relaxed),
            ..Default::default()
        };
        let state_dir = crate::history::state_dir_for(self.store.uri());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
        let task = {
            let (root, scope) = (root.to_path_buf(), scope.to_string());
            tokio::task::spawn_blocking(move || {
                crate::history::mine(
                    &root,
                    &scope,
                    Some(&state_dir),
                    &options,
                    only_if_moved,
                    &|done, total| {
                        let _ = tx.send((done, total));
                    },
                )
            })
        };
        while let Some((done, total)) = rx.recv().await {
            // Reading the last commit is not the end: they are analysed, then stored.
            let message = if done == total {
                format!("mined {total} commits, finding conventions and episodes in them")
            } else {
                format!("mined {done} of {total} commits")
            };
            progress(IndexProgress {
                message,
                percentage: 80 + (19 * done / total.max(1)) as u32,
            });
        }
        let mined = task.await.map_err(|e| EngineError::Task(e.to_string()))?;
        let mut status = mined.status;
        status.root = Some(root.to_path_buf());
        let mut entries = mined.entries;
        progress(IndexProgress {
            message: format!(
                "embedding and storing {} entries from the history",
                entries.len()
            ),
            percentage: 99,
        });
        // An old choice (`log` before `tracing`) is written superseded once; after that the
        // stored row, which a person may have restored, stands.
        let mut keep = Vec::with_capacity(entries.len());
        for e in entries.drain(..) {
            if e.status == Status::Active || self.store.get(&e.id).await?.is_none() {
                keep.push(e);
            }
        }
        let produced: std::collections::HashSet<String> =
            keep.iter().map(|e| e.id.clone()).collect();
        if !keep.is_empty() {
            let written = self.indexer.write_extracted(scope, keep).await?;
            status.written = written.written;
            status.superseded = written.superseded;
            status.redacted += written.redacted;
        }
        // A coupling or habit the history no longer shows is retired; only after a run that
        // derived everything, never because the repository could not be read.
        if status.entries > 0 {
            let current = self
                .store
                .list(&ListFilter {
                    scopes: vec![scope.to_string()],
                    statuses: vec![Status::Active],
                    source: Some(Source::History),
                    ..Default::default()
                })
                .await?;
            let retired = crate::history::retired(current, &produced);
            if !retired.is_empty() {
                status.retired = retired.len();
                self.store.upsert(&retired).await?;
            }
        }
        let mut all = self.history.write().await;
        all.retain(|s| s.root.as_deref() != Some(root));
        all.push(status.clone());
        Ok(status)
    }

    /// Re-counts the code evidence of changed files (absolute, or relative to `root`) and
    /// stores only the conventions whose value changed; the old value is superseded, kept and
    /// restorable. A root that was never indexed is left alone. Paths under `.git` are
    /// accepted and ignored here, for history mining to pick up.
    pub async fn files_changed(&self, root: &Path, paths: &[PathBuf]) -> Result<FilesChanged> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let scope = self
            .roots
            .read()
            .await
            .iter()
            .find(|(r, _)| *r == root)
            .map(|(_, s)| s.clone());
        let mut outcome = FilesChanged {
            root: root.clone(),
            ..Default::default()
        };
        let Some(scope) = scope else {
            tracing::debug!("{} is not a workspace root", root.display());
            return Ok(outcome);
        };
        // HEAD or a ref moved (a commit, a checkout, a pull): mine the new commits. Cheap
        // when HEAD did not move, as for most writes under `.git`.
        if paths
            .iter()
            .any(|p| p.components().any(|c| c.as_os_str() == ".git"))
        {
            outcome.history = Some(self.mine_history(&root, &scope, true, &|_| {}).await?);
        }
        let rels: Vec<PathBuf> = paths.iter().filter_map(|p| relative_to(&root, p)).collect();
        let taken = self
            .code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&root);
        let Some(mut index) = taken else {
            tracing::debug!("{} has not been indexed yet", root.display());
            return Ok(outcome);
        };
        let (mut index, entries, report) = {
            let (root, scope) = (root.clone(), scope.clone());
            tokio::task::spawn_blocking(move || {
                let report = match crate::code::registry() {
                    Ok(registry) => index.update(registry, &root, &rels),
                    Err(_) => Default::default(),
                };
                let entries = index.changed_entries(&scope);
                (index, entries, report)
            })
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
        };
        outcome.code = report;
        let written = if entries.is_empty() {
            Ok(ExtractionReport::default())
        } else {
            self.indexer.write_extracted(&scope, entries.clone()).await
        };
        if written.is_ok() {
            index.mark_written(&entries);
        }
        self.code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(root, index);
        outcome.written = written?;
        Ok(outcome)
    }

    /// Resolves a request's `uri` to a path relative to one of the workspace roots.
    async fn focus_for(&self, uri: &str) -> Option<FileFocus> {
        let path = uri
            .strip_prefix("file://")
            .map(percent_decode)
            .unwrap_or_else(|| uri.to_string());
        let path = PathBuf::from(path);
        let roots = self.roots.read().await;
        if path.is_relative() {
            return Some(FileFocus::new(&path));
        }
        let canonical = path.canonicalize().unwrap_or(path.clone());
        for (root, _) in roots.iter() {
            if let Ok(rel) = canonical
                .strip_prefix(root)
                .or_else(|_| path.strip_prefix(root))
            {
                return Some(FileFocus::new(rel));
            }
        }
        Some(FileFocus::new(Path::new(path.file_name()?)))
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embedder.embed(&[text])?.pop().unwrap_or_default())
    }

    /// The hot path: the few entries that matter for this query and file, within budget.
    pub async fn assemble_context(&self, request: ContextRequest) -> Result<ContextResult> {
        let started = Instant::now();
        let settings = self.settings.read().await.clone();
        let scopes = self.scopes().await;
        let query = request.query.clone().unwrap_or_default();
        let query = query.trim();
        let focus = match &request.uri {
            Some(uri) => self.focus_for(uri).await,
            None => None,
        };
        let layers: Vec<Layer> = request
            .layers
            .clone()
            .unwrap_or_else(|| vec![Layer::Memory, Layer::Procedure, Layer::Episode])
            .into_iter()
            .filter(|l| *l != Layer::Pinned)
            .collect();
        let limit = request.limit.unwrap_or(settings.limit).clamp(1, 200);
        let budget = request
            .budget_tokens
            .unwrap_or(settings.budget_tokens)
            .max(16);

        let t_embed = Instant::now();
        let vector = if query.is_empty() {
            None
        } else {
            Some(self.embed_query(query)?)
        };
        let embed_ms = t_embed.elapsed().as_secs_f64() * 1e3;

        let t_search = Instant::now();
        let now = now_millis();
        let mut ranked: Vec<Scored> = Vec::new();
        if let Some(vector) = vector {
            let hits = self
                .store
                .search(&SearchRequest {
                    text: query.to_string(),
                    vector: Some(vector),
                    layers: layers.clone(),
                    scopes: scopes.clone(),
                    statuses: vec![Status::Active],
                    limit: (limit * 3).max(30),
                })
                .await?;
            for hit in &hits {
                let s = assemble::score(&hit.entry, Some(hit), focus.as_ref(), &settings, now);
                if s.parts.relevance >= settings.min_relevance_for(hit.entry.layer) {
                    ranked.push(s);
                }
            }
            // What is bound to the file in hand (its co-change partners, the procedure to
            // follow after editing it) belongs in its context whatever the words of the query.
            if let Some(f) = &focus {
                let found: HashSet<String> = ranked.iter().map(|s| s.entry.id.clone()).collect();
                let bound = self.store.select(
                    &ListFilter {
                        layers: layers.clone(),
                        scopes: scopes.clone(),
                        statuses: vec![Status::Active],
                        ..Default::default()
                    },
                    |e| !found.contains(&e.id) && f.is_bound_to(e),
                );
                ranked.extend(
                    bound
                        .iter()
                        .map(|e| assemble::score(e, None, Some(f), &settings, now)),
                );
            }
        } else {
            // No query: what matters for the file in hand, else the most important entries.
            // Scoring is cheap, copying is not: rank in place, copy only each layer's best.
            for layer in &layers {
                let best = self.store.top_by(
                    &ListFilter {
                        layers: vec![*layer],
                        scopes: scopes.clone(),
                        statuses: vec![Status::Active],
                        ..Default::default()
                    },
                    limit * 2,
                    |e| assemble::score_parts(e, None, focus.as_ref(), &settings, now).0,
                );
                ranked.extend(
                    best.iter()
                        .map(|e| assemble::score(e, None, focus.as_ref(), &settings, now)),
                );
            }
        }
        let pinned: Vec<Scored> = self
            .store
            .list(&ListFilter {
                layers: vec![Layer::Pinned],
                scopes: scopes.clone(),
                statuses: vec![Status::Active],
                ..Default::default()
            })
            .await?
            .iter()
            .map(|e| assemble::score(e, None, None, &settings, now))
            .collect();
        let search_ms = t_search.elapsed().as_secs_f64() * 1e3;

        let t_score = Instant::now();
        let title = match (&focus, query.is_empty()) {
            (Some(f), true) => format!("Project context for {}", f.relative_path),
            (Some(f), false) => format!("Project context for {} — {query}", f.relative_path),
            (None, false) => format!("Project context — {query}"),
            (None, true) => "Project context".to_string(),
        };
        let mut assembled =
            assemble::select_and_render(&title, pinned, ranked, budget, limit, settings.diversity);
        let score_ms = t_score.elapsed().as_secs_f64() * 1e3;
        self.touch(&assembled);
        // Callers want the entries, not 384 floats each.
        for list in [
            &mut assembled.pinned,
            &mut assembled.memories,
            &mut assembled.procedures,
            &mut assembled.episodes,
        ] {
            list.iter_mut().for_each(|s| s.entry.vector.clear());
        }
        Ok(ContextResult {
            assembled,
            scopes,
            embedder: self.embedder_info.clone(),
            timing: Timing {
                embed_ms,
                search_ms,
                score_ms,
                total_ms: started.elapsed().as_secs_f64() * 1e3,
            },
        })
    }

    /// Counts an access for what was served, off the request path.
    fn touch(&self, assembled: &Assembled) {
        let ids: Vec<(Layer, String)> = [
            &assembled.memories,
            &assembled.procedures,
            &assembled.episodes,
        ]
        .into_iter()
        .flatten()
        .map(|s| (s.entry.layer, s.entry.id.clone()))
        .collect();
        if ids.is_empty() || self.frozen {
            return;
        }
        self.store.note_access(&ids, now_millis());
    }

    /// Writes what is only in memory (access counts); a short-lived CLI calls this before it
    /// exits, the server every few seconds and at shutdown.
    pub async fn flush(&self) {
        if let Err(e) = self.store.persist_access().await {
            tracing::warn!("access counts not written: {e}");
        }
    }

    pub async fn recall(&self, request: RecallRequest) -> Result<Vec<Scored>> {
        let query = request.query.trim();
        if query.is_empty() {
            return Err(EngineError::InvalidArgument(
                "`query` must not be empty".into(),
            ));
        }
        let settings = self.settings.read().await.clone();
        let limit = request.limit.unwrap_or(settings.limit).clamp(1, 500);
        let vector = self.embed_query(query)?;
        let mut statuses = vec![Status::Active];
        if request.include_superseded {
            statuses.extend([Status::Superseded, Status::Expired]);
        }
        let hits = self
            .store
            .search(&SearchRequest {
                text: query.to_string(),
                vector: Some(vector),
                layers: request.layers.clone().unwrap_or_default(),
                scopes: self.scopes().await,
                statuses,
                limit: limit.max(10),
            })
            .await?;
        let now = now_millis();
        let mut scored: Vec<Scored> = hits
            .iter()
            .map(|h| assemble::score(&h.entry, Some(h), None, &settings, now))
            .filter(|s| s.parts.relevance >= settings.min_relevance_for(s.entry.layer))
            .collect();
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.entry.id.cmp(&b.entry.id))
        });
        scored.truncate(limit);
        scored.iter_mut().for_each(|s| s.entry.vector.clear());
        Ok(scored)
    }

    pub async fn remember(&self, request: RememberRequest) -> Result<RememberResult> {
        let entry = self.remembered_entry(request).await?;
        self.write_remembered(entry).await
    }

    /// The entry a `remember` request describes, checked, before it is written.
    async fn remembered_entry(&self, request: RememberRequest) -> Result<Entry> {
        let text = request.text.trim();
        if text.is_empty() {
            return Err(EngineError::InvalidArgument(
                "`text` must not be empty".into(),
            ));
        }
        crate::limits::entry_text(text)?;
        crate::limits::entry_fields(
            request.key.as_deref(),
            None,
            request.language.as_deref(),
            &request.tags,
        )?;
        check_unit("importance", request.importance)?;
        let scope = match request.scope {
            Some(s) if s == "user" || s.starts_with("repo:") || s.starts_with("dir:") => s,
            Some(s) => {
                return Err(EngineError::InvalidArgument(format!(
                    "`scope` must be `user`, `repo:<hash>` or `dir:<hash>`, got `{s}`"
                )))
            }
            None => self.default_scope().await,
        };
        let layer = request.layer.unwrap_or(Layer::Memory);
        let mut entry = Entry::user(&scope, layer, request.source.unwrap_or(Source::User), text);
        entry.key = request.key.filter(|k| !k.is_empty());
        entry.language = request.language;
        entry.tags = request.tags;
        if let Some(i) = request.importance {
            entry.importance = i;
        }
        Ok(entry)
    }

    async fn write_remembered(&self, entry: Entry) -> Result<RememberResult> {
        let written = self.indexer.remember(entry).await?;
        Ok(RememberResult {
            entry: without_vector(written.entry),
            merged: written.merged,
            superseded: written.superseded,
            redacted: written.redacted,
        })
    }

    /// Stores the conventions stated in free text (a chat transcript, a review comment).
    pub async fn extract(&self, text: &str, scope: Option<String>) -> Result<Vec<RememberResult>> {
        crate::limits::transcript(text)?;
        let mut out = Vec::new();
        for statement in crate::transcript::extract_statements(text) {
            let mut tags = vec![statement.kind.as_str().to_string()];
            if !statement.positive {
                tags.push("negative".into());
            }
            let workflow =
                statement.kind == crate::transcript::Kind::Workflow && !statement.steps.is_empty();
            let mut entry = self
                .remembered_entry(RememberRequest {
                    text: statement.text,
                    tags,
                    scope: scope.clone(),
                    layer: workflow.then_some(Layer::Procedure),
                    source: Some(Source::Copilot),
                    ..Default::default()
                })
                .await?;
            if workflow {
                // The steps and trigger are structure the sentence carries; they make the
                // procedure render as a checklist and attach it to its file or event.
                entry.steps = statement.steps;
                entry.trigger = statement.trigger;
            }
            out.push(self.write_remembered(entry).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, id: &str) -> Result<Entry> {
        self.store
            .get(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(id.to_string()))
    }

    pub async fn update(&self, request: UpdateRequest) -> Result<Entry> {
        check_unit("importance", request.importance)?;
        check_unit("confidence", request.confidence)?;
        let mut entry = self.get(&request.id).await?;
        let mut changed = Vec::new();
        if let Some(text) = request.text {
            if text.trim().is_empty() {
                return Err(EngineError::InvalidArgument(
                    "`text` must not be empty".into(),
                ));
            }
            entry.text = text.trim().to_string();
            changed.push("text");
        }
        if let Some(tags) = request.tags {
            entry.tags = tags;
            changed.push("tags");
        }
        if let Some(i) = request.importance {
            entry.importance = i;
            changed.push("importance");
        }
        if let Some(c) = request.confidence {
            entry.confidence = c;
            changed.push("confidence");
        }
        if let Some(k) = request.key {
            entry.key = Some(k);
            changed.push("key");
        }
        if let Some(v) = request.value {
            entry.value = Some(v);
            changed.push("value");
        }
        crate::limits::entry(&entry)?;
        entry.updated_at = now_millis();
        entry.record("updated", Some(changed.join(", ")));
        Ok(without_vector(self.indexer.rewrite(entry).await?))
    }

    /// Hard delete: gone from the table and from every older version on disk.
    pub async fn forget(&self, id: &str) -> Result<Entry> {
        let entry = self.get(id).await?;
        self.store.delete(id).await?;
        if matches!(
            entry.source,
            Source::Code | Source::Config | Source::History
        ) {
            // An extracted fact would come back with the next index run; its id (a hash, no
            // text) is kept so that extraction leaves it out; `remember` can still state it anew.
            self.store.add_forgotten(id).await?;
        }
        if entry.source == Source::History {
            // The mining state beside the store keeps the commit texts an episode or decision
            // was made from. It is a cache: without it the next run reads git again.
            let state = crate::history::state_file(
                &crate::history::state_dir_for(self.store.uri()),
                &entry.scope,
            );
            if let Err(e) = std::fs::remove_file(&state) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove the history state {}: {e}", state.display());
                }
            }
        }
        // Anything this entry had superseded stays superseded: forgetting the new fact is not
        // the same as restoring the old one, which `restore` does on request.
        Ok(entry)
    }

    /// Makes a superseded or expired entry active again, superseding whatever holds its slot.
    pub async fn restore(&self, id: &str) -> Result<Entry> {
        let mut entry = self.get(id).await?;
        if entry.status == Status::Active {
            return Ok(without_vector(entry));
        }
        let mut batch = Vec::new();
        if let Some(slot) = entry.slot() {
            let holders = self
                .store
                .list(&ListFilter {
                    layers: vec![entry.layer],
                    scopes: vec![entry.scope.clone()],
                    statuses: vec![Status::Active],
                    key_prefix: entry.key.clone(),
                    ..Default::default()
                })
                .await?;
            for mut holder in holders
                .into_iter()
                .filter(|h| h.slot().as_ref() == Some(&slot))
            {
                holder.supersede(&entry.id, format!("by restore of {}", entry.id));
                batch.push(holder);
            }
        } else if let Some(newer) = entry.superseded_by.as_deref() {
            // A statement superseded because a later one contradicted it: bringing it back
            // retires the contradiction, or the two opposite rules would both be served.
            if let Some(mut holder) = self.store.get(newer).await? {
                if holder.status == Status::Active
                    && entry.status == Status::Superseded
                    && holder.layer == entry.layer
                {
                    holder.supersede(&entry.id, format!("by restore of {}", entry.id));
                    batch.push(holder);
                }
            }
        }
        let was = entry.status;
        entry.status = Status::Active;
        entry.superseded_by = None;
        entry.updated_at = now_millis();
        entry.record("restored", Some(format!("was {was}")));
        batch.push(entry.clone());
        self.store.upsert(&batch).await?;
        Ok(without_vector(entry))
    }

    /// Writes queued access counts, then reloads what other processes wrote to the store
    /// since this one last looked.
    pub async fn refresh_store(&self) -> Result<bool> {
        self.store.persist_access().await?;
        Ok(self.store.refresh().await?)
    }

    /// Hard-deletes every expired entry (decay hides them; only this removes them).
    pub async fn purge_expired(&self) -> Result<Vec<String>> {
        let expired = self
            .store
            .list(&ListFilter {
                statuses: vec![Status::Expired],
                scopes: self.scopes().await,
                ..Default::default()
            })
            .await?;
        let mut purged = Vec::new();
        for e in expired {
            self.forget(&e.id).await?;
            purged.push(e.id);
        }
        Ok(purged)
    }

    /// Pins text (a new block) or an existing entry. An entry is moved to the pinned layer
    /// with its id and history, so it is served once, as a pinned block; unpinning moves it
    /// back.
    pub async fn pin(&self, text: Option<String>, id: Option<String>) -> Result<Entry> {
        match (text, id) {
            (Some(t), _) if !t.trim().is_empty() => {
                let result = self
                    .remember(RememberRequest {
                        text: t,
                        layer: Some(Layer::Pinned),
                        importance: Some(1.0),
                        ..Default::default()
                    })
                    .await?;
                Ok(result.entry)
            }
            (_, Some(id)) => {
                let mut entry = self.get(&id).await?;
                if entry.layer == Layer::Pinned {
                    return Ok(without_vector(entry));
                }
                let was = entry.layer;
                entry.layer = Layer::Pinned;
                entry.importance = 1.0;
                entry.updated_at = now_millis();
                entry.record("pinned", Some(format!("{PINNED_FROM}{was}")));
                self.store.upsert(std::slice::from_ref(&entry)).await?;
                Ok(without_vector(entry))
            }
            _ => Err(EngineError::InvalidArgument(
                "give `text` to pin, or the `id` of an entry to pin".into(),
            )),
        }
    }

    /// Unpins: an entry that was pinned from another layer goes back there; a block that was
    /// written as pinned text is deleted.
    pub async fn unpin(&self, id: &str) -> Result<Entry> {
        let mut entry = self.get(id).await?;
        if entry.layer != Layer::Pinned {
            return Err(EngineError::InvalidArgument(format!(
                "`{id}` is a {} entry, not a pinned block",
                entry.layer
            )));
        }
        let origin = entry
            .history
            .iter()
            .rev()
            .find(|h| h.action == "pinned")
            .and_then(|h| {
                h.detail
                    .as_deref()?
                    .strip_prefix(PINNED_FROM)?
                    .parse::<Layer>()
                    .ok()
            });
        match origin {
            Some(layer) => {
                entry.layer = layer;
                entry.updated_at = now_millis();
                entry.record("unpinned", None);
                self.store.upsert(std::slice::from_ref(&entry)).await?;
                Ok(without_vector(entry))
            }
            None => self.forget(id).await,
        }
    }

    pub async fn list(&self, request: ListRequest) -> Result<Vec<Entry>> {
        let scopes = if request.all_scopes {
            Vec::new()
        } else {
            self.scopes().await
        };
        let mut entries = self
            .store
            .list(&ListFilter {
                layers: request.layers.unwrap_or_default(),
                scopes,
                statuses: request.statuses.unwrap_or_default(),
                key_prefix: request.key_prefix,
                language: request.language,
                source: request.source,
            })
            .await?;
        if let Some(limit) = request.limit {
            entries.truncate(limit);
        }
        Ok(entries)
    }

    /// Every entry of every scope and layer, vectors included, one JSON object a line.
    pub async fn export(&self) -> Result<String> {
        let entries = self.store.list(&ListFilter::default()).await?;
        let mut out = String::new();
        for e in entries {
            let line = serde_json::to_string(&e)
                .map_err(|err| EngineError::Task(format!("serialising {}: {err}", e.id)))?;
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }

    /// Reads JSON lines as `export` writes them. Nothing is written unless every line parses.
    pub async fn import(&self, jsonl: &str) -> Result<usize> {
        crate::limits::import("jsonl", jsonl.len())?;
        let mut entries = Vec::new();
        for (i, line) in jsonl.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(line).map_err(|e| EngineError::Import {
                line: i + 1,
                message: e.to_string(),
            })?;
            crate::store::validate_id(&entry.id).map_err(|e| EngineError::Import {
                line: i + 1,
                message: e.to_string(),
            })?;
            crate::limits::entry(&entry).map_err(|e| EngineError::Import {
                line: i + 1,
                message: e.to_string(),
            })?;
            entries.push(entry);
        }
        Ok(self.indexer.import(entries, false).await?)
    }

    pub async fn status(&self) -> Result<StatusReport> {
        let mut counts = std::collections::BTreeMap::new();
        for (layer, status, n) in self.store.counts().await? {
            counts
                .entry(layer.to_string())
                .or_insert_with(std::collections::BTreeMap::new)
                .insert(status.to_string(), n);
        }
        Ok(StatusReport {
            version: env!("CARGO_PKG_VERSION"),
            store: self.store.uri().to_string(),
            schema_version: crate::store::SCHEMA_VERSION,
            embedder: self.embedder_info.clone(),
            workspaces: self
                .roots()
                .await
                .into_iter()
                .map(|(root, scope)| WorkspaceStatus { root, scope })
                .collect(),
            counts,
            last_index: self.last_index.read().await.clone(),
            history: self.history_report().await,
        })
    }

    /// Compacts the store's small files; run in the background after indexing.
    pub async fn compact(&self) -> Result<()> {
        Ok(self.store.compact().await?)
    }
}

/// Entries handed back to callers carry no vector: it is the store's business.
fn without_vector(mut entry: Entry) -> Entry {
    entry.vector.clear();
    entry
}

/// `path` relative to `root`; a deleted file is resolved through its parent directory.
fn relative_to(root: &Path, path: &Path) -> Option<PathBuf> {
    if path.is_relative() {
        return Some(path.to_path_buf());
    }
    if let Ok(rel) = path.strip_prefix(root) {
        return Some(rel.to_path_buf());
    }
    let canonical = path.canonicalize().ok().or_else(|| {
        let parent = path.parent()?.canonicalize().ok()?;
        Some(parent.join(path.file_name()?))
    })?;
    canonical.strip_prefix(root).ok().map(Path::to_path_buf)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(store: &Path, force_fallback: bool) -> EngineOptions {
        EngineOptions {
            store_uri: Some(store.to_string_lossy().into_owned()),
            model_dir: None,
            force_fallback,
            ..Default::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_of_embedder_re_embeds_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let text = "Database migrations live in db/migrations.";
        let id = {
            let engine = Engine::open(options(&store, true)).await.unwrap();
            assert!(engine.embedder_info().fallback);
            let r = engine
                .remember(RememberRequest {
                    text: text.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            r.entry.id
        };
        let lexical = crate::embed::LexicalEmbedder
            .embed(&[text])
            .unwrap()
            .remove(0);

        // The real model is installed by scripts/fetch-model (CI runs it first).
        let engine = Engine::open(options(&store, false)).await.unwrap();
        assert!(
            !engine.embedder_info().fallback,
            "{:?}",
            engine.embedder_info()
        );
        let entry = engine.get(&id).await.unwrap();
        let expected = engine.embedder.embed(&[text]).unwrap().remove(0);
        assert!(crate::embed::cosine(&entry.vector, &expected) > 0.999);
        assert!(crate::embed::cosine(&entry.vector, &lexical) < 0.9);
        assert_eq!(
            engine.store.meta_get("embedder").await.unwrap().as_deref(),
            Some(crate::embed::MODEL_REPO)
        );
    }

    async fn fallback_engine(dir: &Path) -> Engine {
        let mut o = options(&dir.join("store"), true);
        o.frozen = true;
        Engine::open(o).await.unwrap()
    }

    async fn say(engine: &Engine, text: &str) -> RememberResult {
        engine
            .remember(RememberRequest {
                text: text.into(),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    fn actions(e: &Entry) -> Vec<&str> {
        e.history.iter().map(|h| h.action.as_str()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_near_duplicate_merges_and_raises_confidence() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fallback_engine(dir.path()).await;
        let first = say(&engine, "Always use tracing for logs in library code.").await;
        let again = say(&engine, "always use tracing for the logs in library code").await;
        assert!(again.merged);
        assert_eq!(again.entry.id, first.entry.id);
        assert!(again.entry.confidence > first.entry.confidence);
        let stored = engine.get(&first.entry.id).await.unwrap();
        assert_eq!(actions(&stored), vec!["created", "merged"]);
        let active = engine
            .list(ListRequest {
                statuses: Some(vec![Status::Active]),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(active.len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_opposite_statement_supersedes_and_restore_swaps_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fallback_engine(dir.path()).await;
        let old = say(&engine, "Always use tabs for indentation in Go files.").await;
        let new = say(&engine, "Never use tabs for indentation in Go files.").await;
        assert!(!new.merged, "a contradiction must not merge");
        assert_eq!(new.superseded, vec![old.entry.id.clone()]);

        let old_now = engine.get(&old.entry.id).await.unwrap();
        assert_eq!(old_now.status, Status::Superseded);
        assert_eq!(
            old_now.superseded_by.as_deref(),
            Some(new.entry.id.as_str())
        );
        let detail = old_now.history.last().and_then(|h| h.detail.clone());
        assert!(
            detail.is_some_and(|d| d.contains("contradicted by")),
            "{:?}",
            old_now.history
        );
        let context = engine
            .assemble_context(ContextRequest {
                query: Some("tabs for indentation in Go".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(context.assembled.markdown.contains("Never use tabs"));
        assert!(!context.assembled.markdown.contains("Always use tabs"));

        engine.restore(&old.entry.id).await.unwrap();
        assert_eq!(
            engine.get(&old.entry.id).await.unwrap().status,
            Status::Active
        );
        let retired = engine.get(&new.entry.id).await.unwrap();
        assert_eq!(retired.status, Status::Superseded);
        assert_eq!(actions(&retired), vec!["created", "superseded"]);
        assert_eq!(
            actions(&engine.get(&old.entry.id).await.unwrap()),
            vec!["created", "superseded", "restored"]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn choosing_x_instead_of_y_supersedes_the_rule_that_chose_y() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fallback_engine(dir.path()).await;
        let npm = say(&engine, "We use npm to install the frontend packages.").await;
        let unrelated = say(&engine, "Money amounts are integers in cents.").await;
        let pnpm = say(
            &engine,
            "Use pnpm instead of npm for the frontend packages.",
        )
        .await;
        assert_eq!(pnpm.superseded, vec![npm.entry.id.clone()]);
        assert_eq!(
            engine.get(&unrelated.entry.id).await.unwrap().status,
            Status::Active
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_unimportant_entries_expire_hide_restore_and_purge_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let day = 86_400_000;
        let (stale_id, fresh_id) = {
            let engine = Engine::open(options(&store, true)).await.unwrap();
            let stale = say(
                &engine,
                "The legacy importer reads CSV files from /srv/drop.",
            )
            .await;
            let fresh = say(&engine, "The new importer reads JSON from the queue.").await;
            let mut old = engine.get(&stale.entry.id).await.unwrap();
            old.importance = 0.05;
            old.created_at = now_millis() - 300 * day;
            old.updated_at = now_millis() - 200 * day;
            old.last_accessed_at = now_millis() - 130 * day;
            engine.store.upsert(&[old]).await.unwrap();
            (stale.entry.id, fresh.entry.id)
        };
        // Decay runs when the store is opened.
        let engine = Engine::open(options(&store, true)).await.unwrap();
        let expired = engine.get(&stale_id).await.unwrap();
        assert_eq!(expired.status, Status::Expired);
        assert_eq!(actions(&expired).last(), Some(&"expired"));
        assert_eq!(engine.get(&fresh_id).await.unwrap().status, Status::Active);
        let context = engine
            .assemble_context(ContextRequest {
                query: Some("legacy importer CSV".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!context.assembled.markdown.contains("/srv/drop"));

        // Restorable; then expired again by hand and purged on request.
        engine.restore(&stale_id).await.unwrap();
        assert_eq!(engine.get(&stale_id).await.unwrap().status, Status::Active);
        let mut again = engine.get(&stale_id).await.unwrap();
        again.status = Status::Expired;
        engine.store.upsert(&[again]).await.unwrap();
        assert_eq!(
            engine.purge_expired().await.unwrap(),
            vec![stale_id.clone()]
        );
        assert!(matches!(
            engine.get(&stale_id).await,
            Err(EngineError::NotFound(_))
        ));
        assert_eq!(engine.get(&fresh_id).await.unwrap().status, Status::Active);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn served_entries_count_an_access_that_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let id = {
            let engine = Engine::open(options(&store, true)).await.unwrap();
            let fact = say(&engine, "Release tags look like v1.2.3.").await;
            for _ in 0..3 {
                engine
                    .assemble_context(ContextRequest {
                        query: Some("release tags".into()),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
            // Counted at once for scoring, before anything is written.
            assert_eq!(engine.get(&fact.entry.id).await.unwrap().access_count, 3);
            engine.flush().await;
            fact.entry.id
        };
        let engine = Engine::open(options(&store, true)).await.unwrap();
        let e = engine.get(&id).await.unwrap();
        assert_eq!(e.access_count, 3);
        assert!(e.last_accessed_at > 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_file_in_hand_brings_its_co_change_procedure_with_or_without_a_query() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fallback_engine(dir.path()).await;
        let mut partner = Entry::extracted(
            "user",
            Layer::Procedure,
            Source::History,
            "cochange.src/schema.rs",
            None,
            "migrations/,docs/schema.md",
            "After editing `src/schema.rs`, also update `migrations/` and `docs/schema.md` (9 of 11 commits).",
        );
        partner.trigger = Some("after-editing:src/schema.rs".into());
        partner.paths = vec![
            "src/schema.rs".into(),
            "migrations/".into(),
            "docs/schema.md".into(),
        ];
        let mut other = partner.clone();
        other.id = "other-cochange".into();
        other.text =
            "After editing `web/app.tsx`, also update `web/app.css` (5 of 6 commits).".into();
        other.trigger = Some("after-editing:web/app.tsx".into());
        other.paths = vec!["web/app.tsx".into(), "web/app.css".into()];
        other.key = Some("cochange.web/app.tsx".into());
        engine
            .indexer
            .write_extracted("user", vec![partner, other])
            .await
            .unwrap();
        say(&engine, "Functions are named in snake_case.").await;

        for query in [None, Some("how do we name functions?")] {
            let md = engine
                .assemble_context(ContextRequest {
                    query: query.map(str::to_string),
                    uri: Some("src/schema.rs".into()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .assembled
                .markdown;
            assert!(md.contains("also update `migrations/`"), "{query:?}: {md}");
            if query.is_some() {
                assert!(md.contains("snake_case"), "{md}");
                assert!(!md.contains("web/app.css"), "{md}");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn assembled_markdown_is_the_same_for_the_same_store() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fallback_engine(dir.path()).await;
        for text in [
            "Log with the tracing macros; println! is not allowed in library code.",
            "Library crates define errors as thiserror enums.",
            "Money amounts are integers in cents.",
        ] {
            say(&engine, text).await;
        }
        engine
            .remember(RememberRequest {
                text: "Before committing, run `cargo fmt` and `cargo test`.".into(),
                layer: Some(Layer::Procedure),
                ..Default::default()
            })
            .await
            .unwrap();
        engine
            .pin(Some("Answer in English.".into()), None)
            .await
            .unwrap();
        let ask = || async {
            engine
                .assemble_context(ContextRequest {
                    query: Some("how do we log and handle errors in library code?".into()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .assembled
                .markdown
        };
        let first = ask().await;
        assert_eq!(first, ask().await);
        assert_eq!(
            first,
            "# Project context — how do we log and handle errors in library code?\n\
             \n## Pinned\n\
             - Answer in English.\n\
             \n## Conventions\n\
             - Log with the tracing macros; println! is not allowed in library code.\n\
             - Library crates define errors as thiserror enums.\n"
        );
    }

    /// A workflow stated in a transcript becomes a procedure with its steps and trigger;
    /// saying it again merges into it instead of adding a second copy.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_extracted_workflow_becomes_one_procedure_with_its_steps() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(options(&dir.path().join("store"), true))
            .await
            .unwrap();
        let said = "Before you commit, run `cargo fmt` and `cargo test`.";
        let first = engine.extract(said, None).await.unwrap();
        assert_eq!(first.len(), 1, "{first:?}");
        let stored = engine.get(&first[0].entry.id).await.unwrap();
        assert_eq!(stored.layer, Layer::Procedure);
        assert_eq!(stored.trigger.as_deref(), Some("before-commit"));
        let steps: Vec<&str> = stored.steps.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(steps.len(), 2, "{steps:?}");
        let actions: Vec<&str> = stored.history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["created"]);

        let again = engine.extract(said, None).await.unwrap();
        assert!(again[0].merged);
        assert_eq!(again[0].entry.id, stored.id);
        assert_eq!(again[0].entry.steps.len(), 2);
    }
}
