//! The core API: one method per command of DESIGN.md, used alike by the CLI, the LSP and
//! MCP front doors and tests. `Engine` is a facade over three services that change for
//! different reasons:
//! - [`context`]: assemble and recall, reading one [`snapshot`] of settings and workspaces;
//! - [`memories`]: what people and copilots write (CRUD, pin, import/export);
//! - [`indexing`]: what is learnt from the workspace (full runs, incremental updates).
//!
//! Requests and results ([`protocol`]) are plain serde structs in camelCase, so a front door
//! only parses arguments and forwards them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::assemble::{self, Scored};
use crate::embed;
use crate::indexer::{IndexError, Indexer};
use crate::memory::{now_millis, Entry, Layer, ParseEnumError};
use crate::store::{Store, StoreError};

mod context;
mod indexing;
mod instructions;
mod memories;
mod protocol;
pub mod snapshot;

pub use context::ContextService;
pub use indexing::{IndexProgress, IndexService};
pub use memories::MemoryService;
pub use protocol::*;
pub use snapshot::{Settings, Snapshot, Workspace};

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

/// Input over a size limit is the caller's to fix, like any invalid argument.
impl From<crate::limits::TooLarge> for EngineError {
    fn from(e: crate::limits::TooLarge) -> Self {
        EngineError::InvalidArgument(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// How the engine is set up; everything has a default.
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

pub struct Engine {
    store: Arc<Store>,
    snapshots: Arc<Snapshots>,
    pub context: ContextService,
    pub memories: MemoryService,
    pub indexing: IndexService,
}

use snapshot::Snapshots;

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
        let embedder = selected.embedder;
        let indexer = Indexer::new(store.clone(), embedder.clone());
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let snapshots = Arc::new(Snapshots::new(snapshot::scope_of_dir(cwd).await));
        let stored = store.meta_get("embedder").await?;
        if stored.as_deref() != Some(embedder.id()) {
            if stored.is_some() {
                let n = indexer.reembed_all().await?;
                tracing::info!(
                    "embedder changed from {} to {}: re-embedded {n} entries",
                    stored.unwrap_or_default(),
                    embedder.id()
                );
            }
            store.meta_set("embedder", embedder.id()).await?;
        }
        let expired = indexer.expire_stale(now_millis()).await?;
        if !expired.is_empty() {
            tracing::info!("{} entries expired by decay", expired.len());
        }
        // Counting tokens needs the BPE ranks; load them now, not in the first request.
        tokio::task::spawn_blocking(assemble::warm_up_tokenizer);
        Ok(Engine {
            context: ContextService {
                store: store.clone(),
                embedder,
                embedder_info,
                snapshots: snapshots.clone(),
                frozen: options.frozen,
            },
            memories: MemoryService {
                store: store.clone(),
                indexer: indexer.clone(),
                snapshots: snapshots.clone(),
            },
            indexing: IndexService {
                store: store.clone(),
                indexer,
                snapshots: snapshots.clone(),
                last_index: Default::default(),
                code: Default::default(),
                history: Default::default(),
            },
            store,
            snapshots,
        })
    }

    pub fn embedder_info(&self) -> &EmbedderInfo {
        &self.context.embedder_info
    }

    /// Layers of the store that changed, by this process or another one.
    pub fn store_changes(&self) -> tokio::sync::broadcast::Receiver<Vec<Layer>> {
        self.store.subscribe()
    }

    pub fn store_uri(&self) -> &str {
        self.store.uri()
    }

    /// Changes the settings from the next request on (index settings from the next run).
    pub fn configure(&self, change: impl FnOnce(&mut Settings)) {
        self.snapshots.update(|s| change(&mut s.settings));
    }

    /// Registers a workspace root (idempotent) and returns its scope.
    pub async fn add_root(&self, root: &Path) -> String {
        self.snapshots.add_root(root).await
    }

    pub async fn remove_root(&self, root: &Path) {
        self.snapshots.remove_root(root)
    }

    pub async fn roots(&self) -> Vec<(PathBuf, String)> {
        self.snapshots
            .current()
            .workspaces
            .iter()
            .map(|w| (w.root.clone(), w.scope.clone()))
            .collect()
    }

    /// Walks a workspace root, runs the extractors and writes what they found.
    pub async fn index(
        &self,
        root: &Path,
        extra_ignores: &[String],
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<IndexReport> {
        self.indexing.index(root, extra_ignores, progress).await
    }

    /// The hot path: the few entries that matter for this query and file, within budget.
    pub async fn assemble_context(&self, request: ContextRequest) -> Result<ContextResult> {
        self.context.assemble_context(request).await
    }

    pub async fn recall(&self, request: RecallRequest) -> Result<Vec<Scored>> {
        self.context.recall(request).await
    }

    /// Writes what is only in memory (access counts); a short-lived CLI calls this before it
    /// exits, the server every few seconds and at shutdown.
    pub async fn flush(&self) {
        if let Err(e) = self.store.persist_access().await {
            tracing::warn!("access counts not written: {e}");
        }
    }

    pub async fn remember(&self, request: RememberRequest) -> Result<RememberResult> {
        self.memories.remember(request).await
    }

    /// Stores the conventions stated in free text (a chat transcript, a review comment).
    pub async fn extract(&self, text: &str, scope: Option<String>) -> Result<Vec<RememberResult>> {
        self.memories.extract(text, scope).await
    }

    pub async fn get(&self, id: &str) -> Result<Entry> {
        self.memories.get(id).await
    }

    pub async fn update(&self, request: UpdateRequest) -> Result<Entry> {
        self.memories.update(request).await
    }

    /// Hard delete: gone from the table and from every older version on disk.
    pub async fn forget(&self, id: &str) -> Result<Entry> {
        self.memories.forget(id).await
    }

    pub async fn restore(&self, id: &str) -> Result<Entry> {
        self.memories.restore(id).await
    }

    pub async fn purge_expired(&self) -> Result<Vec<String>> {
        self.memories.purge_expired().await
    }

    pub async fn pin(&self, text: Option<String>, id: Option<String>) -> Result<Entry> {
        self.memories.pin(text, id).await
    }

    pub async fn unpin(&self, id: &str) -> Result<Entry> {
        self.memories.unpin(id).await
    }

    pub async fn list(&self, request: ListRequest) -> Result<Vec<Entry>> {
        self.memories.list(request).await
    }

    pub async fn export(&self, request: &ExportRequest) -> Result<String> {
        self.memories.export(request).await
    }

    pub async fn import(&self, jsonl: &str) -> Result<usize> {
        self.memories.import(jsonl).await
    }

    /// Writes queued access counts, then reloads what other processes wrote to the store
    /// since this one last looked.
    pub async fn refresh_store(&self) -> Result<bool> {
        self.store.persist_access().await?;
        Ok(self.store.refresh().await?)
    }

    /// What the store holds for the open workspaces and `user` (or for every scope), the
    /// embedder, and what the last index runs did.
    pub async fn status(&self, request: StatusRequest) -> Result<StatusReport> {
        let scopes = self
            .snapshots
            .current()
            .scopes_unless_all(request.all_scopes);
        let mut counts = std::collections::BTreeMap::new();
        for (layer, status, n) in self.store.counts(&scopes).await? {
            counts
                .entry(layer.to_string())
                .or_insert_with(std::collections::BTreeMap::new)
                .insert(status.to_string(), n);
        }
        Ok(StatusReport {
            version: env!("CARGO_PKG_VERSION"),
            store: self.store.uri().to_string(),
            schema_version: crate::store::SCHEMA_VERSION,
            embedder: self.embedder_info().clone(),
            workspaces: self
                .roots()
                .await
                .into_iter()
                .map(|(root, scope)| WorkspaceStatus { root, scope })
                .collect(),
            scopes,
            counts,
            last_index: self.indexing.last_index().await,
            history: self.indexing.history_report().await,
        })
    }

    /// Compacts the store's small files; run in the background after indexing.
    pub async fn compact(&self) -> Result<()> {
        Ok(self.store.compact().await?)
    }
}

/// Other processes (the CLI, a second editor, an MCP server) write to the same store. The
/// check costs one small file read when nothing changed, so it runs twice a second: every
/// process sees every committed write within a second.
pub fn spawn_store_refresh(engine: std::sync::Weak<Engine>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(engine) = engine.upgrade() else {
                break;
            };
            if let Err(e) = engine.refresh_store().await {
                tracing::debug!("store refresh failed: {e}");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Embedder;
    use crate::memory::{Source, Status};

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
        let expected = engine.context.embedder.embed(&[text]).unwrap().remove(0);
        assert!(crate::vector::cosine(&entry.vector, &expected) > 0.999);
        assert!(crate::vector::cosine(&entry.vector, &lexical) < 0.9);
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
            .memories
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
    async fn a_configured_fact_stored_before_it_rode_with_the_measured_one_is_superseded_by_it() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fallback_engine(dir.path()).await;
        let indexer = &engine.memories.indexer;
        let fact = |source, value: &str, text: &str| {
            let mut e = Entry::extracted(
                "user",
                Layer::Memory,
                source,
                "test.framework",
                Some("java"),
                value,
                text,
            );
            e.examples = vec!["pom.xml:40".into()];
            e
        };
        // What an older tacit stored: the configured fact and, apart, the measured one (the
        // two spell the value differently, so they are two rows).
        let configured = fact(Source::Config, "junit5", "Tests use junit5.");
        indexer
            .write_extracted("user", vec![configured.clone()])
            .await
            .unwrap();
        // Today's run takes the configured fact into the measured entry instead.
        let mut measured = fact(
            Source::Code,
            "JUnit 5",
            "Java tests use JUnit 5 (15 of 15 test files). Also stated in `pom.xml:40`.",
        );
        measured.evidence = Some(crate::memory::Evidence {
            matching: 15,
            total: 15,
        });
        assert_ne!(configured.id, measured.id);
        let report = indexer
            .write_extracted("user", vec![measured.clone()])
            .await
            .unwrap();
        assert_eq!(report.superseded, 1);
        let old = engine.get(&configured.id).await.unwrap();
        assert_eq!(old.status, Status::Superseded);
        assert_eq!(old.superseded_by.as_deref(), Some(measured.id.as_str()));
        assert_eq!(
            engine.get(&measured.id).await.unwrap().status,
            Status::Active
        );

        // A configured value the code does not show stays beside the measured one.
        let other = fact(Source::Config, "testng", "Tests use TestNG.");
        indexer
            .write_extracted("user", vec![other.clone()])
            .await
            .unwrap();
        let mut recounted = measured.clone();
        recounted.text = recounted.text.replace("15 of 15", "16 of 16");
        recounted.evidence = Some(crate::memory::Evidence {
            matching: 16,
            total: 16,
        });
        let report = indexer
            .write_extracted("user", vec![recounted])
            .await
            .unwrap();
        assert_eq!((report.written, report.superseded), (1, 0));
        assert_eq!(engine.get(&other.id).await.unwrap().status, Status::Active);
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
