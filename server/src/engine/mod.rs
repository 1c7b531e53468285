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
mod publication;
pub mod snapshot;
mod team;

pub use context::ContextService;
pub use indexing::{IndexProgress, IndexService};
pub use memories::MemoryService;
pub use protocol::*;
pub use snapshot::{Settings, Snapshot, Workspace};
pub use team::{TeamStore, TEAM_SCOPE};

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
    #[error("the team store {uri} is unreachable ({reason}); nothing was written to it")]
    TeamUnreachable { uri: String, reason: String },
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
    /// The team store's object-store URI; none (and no `TACIT_TEAM_STORE`): no team store.
    pub team_store_uri: Option<String>,
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

/// The team store: explicit, then `TACIT_TEAM_STORE`; none by default.
pub fn resolve_team_store_uri(explicit: Option<&str>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var("TACIT_TEAM_STORE").ok())
        .filter(|s| !s.trim().is_empty())
}

pub struct Engine {
    store: Arc<Store>,
    team: Arc<TeamStore>,
    /// Layers that changed in either store; the front doors turn these into notifications.
    changes: tokio::sync::broadcast::Sender<Vec<Layer>>,
    snapshots: Arc<Snapshots>,
    pub context: ContextService,
    pub memories: MemoryService,
    pub indexing: IndexService,
}

use snapshot::Snapshots;

impl Engine {
    /// Opens the store and loads the embedder; re-embeds the store if the embedder changed.
    pub async fn open(options: EngineOptions) -> Result<Engine> {
        // The grammars' manifest and the model (about 100 ms to read and pack) are made ready
        // on threads of their own while the store opens: on two cores a start takes the
        // longest of the three, not their sum. The queries are compiled as files need them.
        let grammars = tokio::task::spawn_blocking(|| crate::code::registry().map(|_| ()));
        let model_dir = options.model_dir.clone();
        let force_fallback = options.force_fallback;
        let model = tokio::task::spawn_blocking(move || {
            if force_fallback {
                embed::Selected {
                    embedder: Arc::new(embed::CachedEmbedder::new(embed::LexicalEmbedder)),
                    model_dir: None,
                    fallback_reason: Some("the lexical fallback was requested".into()),
                }
            } else {
                embed::select(model_dir.as_deref())
            }
        });
        let uri = resolve_store_uri(options.store_uri.as_deref());
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let snapshots = Arc::new(Snapshots::new(snapshot::scope_of_dir(cwd).await));
        // Only the scopes served now are read into memory; a workspace's come with its root.
        let store = Arc::new(Store::open_scopes(&uri, &snapshots.current().scopes()).await?);
        // A broken grammar manifest stops start-up with what is wrong.
        grammars
            .await
            .map_err(|e| EngineError::Task(e.to_string()))??;
        let selected = model.await.map_err(|e| EngineError::Task(e.to_string()))?;
        let embedder_info = EmbedderInfo {
            id: selected.embedder.id().to_string(),
            fallback: selected.embedder.is_fallback(),
            fallback_reason: selected.fallback_reason,
            model_dir: selected.model_dir,
        };
        let embedder = selected.embedder;
        let indexer = Indexer::new(store.clone(), embedder.clone());
        let changes = tokio::sync::broadcast::channel(64).0;
        forward_changes(store.subscribe(), changes.clone());
        let team = TeamStore::start(
            resolve_team_store_uri(options.team_store_uri.as_deref()),
            embedder.clone(),
            changes.clone(),
            snapshots.clone(),
        );
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
                team: team.clone(),
                embedder,
                embedder_info,
                snapshots: snapshots.clone(),
                frozen: options.frozen,
            },
            memories: MemoryService {
                store: store.clone(),
                team: team.clone(),
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
                team: team.clone(),
            },
            store,
            team,
            changes,
            snapshots,
        })
    }

    pub fn embedder_info(&self) -> &EmbedderInfo {
        &self.context.embedder_info
    }

    /// Layers of the local or the team store that changed, by this process or another one.
    pub fn store_changes(&self) -> tokio::sync::broadcast::Receiver<Vec<Layer>> {
        self.changes.subscribe()
    }

    /// Waits until the team store (if one is configured) is connected or known to be
    /// unreachable: a short-lived CLI command reads and writes it whole.
    pub async fn team_settled(&self) {
        self.team.settled().await;
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
        let scope = self.snapshots.add_root(root).await;
        self.serve_current_scopes().await;
        scope
    }

    pub async fn remove_root(&self, root: &Path) {
        self.snapshots.remove_root(root);
        self.serve_current_scopes().await;
    }

    /// Holds in memory the scopes the workspaces read and no others, so that the first
    /// context of a new workspace does not wait on the disk and a closed one's rows leave.
    /// Decay is applied to what was loaded, as it is at start-up.
    async fn serve_current_scopes(&self) {
        if let Some(team) = self.team.store() {
            let scopes = self.team.scopes();
            team.retain_scopes(&scopes).await;
            if let Err(e) = team.load_scopes(&scopes).await {
                tracing::warn!("cannot load the team's memories of the workspaces: {e}");
            }
        }
        let scopes = context::read_scopes(self.snapshots.current().scopes(), &self.team);
        self.store.retain_scopes(&scopes).await;
        if let Err(e) = self.store.load_scopes(&scopes).await {
            // A request for these scopes will try again.
            tracing::warn!("cannot load the workspaces' memories: {e}");
            return;
        }
        match self.indexing.indexer.expire_stale(now_millis()).await {
            Ok(expired) if !expired.is_empty() => {
                tracing::info!("{} entries expired by decay", expired.len())
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("decay of the loaded entries failed: {e}"),
        }
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

    /// Writes what the last index run of `root` found to the team store, as the publication
    /// of its repository at HEAD (`tacit index --publish`, in the team's CI).
    pub async fn publish(&self, root: &Path) -> Result<PublishReport> {
        self.indexing.publish(root).await
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

    /// Reloads what other processes wrote to the store since this one last looked.
    pub async fn refresh_store(&self) -> Result<bool> {
        let local = self.store.refresh().await?;
        // The team store's trouble is its own: the status reports it, local memory goes on.
        let team = match self.team.refresh().await {
            Ok(any) => any,
            Err(e) => {
                tracing::debug!("team store refresh failed: {e}");
                false
            }
        };
        Ok(local || team)
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
            team_store: self.team.status(),
            resident_bytes: resident_bytes(),
        })
    }

    /// Compacts the store's small files; run in the background after indexing.
    pub async fn compact(&self) -> Result<()> {
        Ok(self.store.compact().await?)
    }
}

/// Passes one store's change announcements on to the engine's channel, until the store is
/// dropped. Too many changes to pass one by one become "every layer may have changed".
fn forward_changes(
    mut from: tokio::sync::broadcast::Receiver<Vec<Layer>>,
    to: tokio::sync::broadcast::Sender<Vec<Layer>>,
) {
    tokio::spawn(async move {
        loop {
            let layers = match from.recv().await {
                Ok(layers) => layers,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Layer::ALL.to_vec(),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            // Nobody listening (the CLI) is fine.
            let _ = to.send(layers);
        }
    });
}

/// Ticks of the refresh between two writes of the access counts (5 s). Each write makes a
/// table version that every other process on the store then syncs with, and has LanceDB
/// scan the table's `id` column: twice a second, on a 1M-entry store, that cost a server
/// serving contexts much of its p99. The counts are in memory at once and written at
/// shutdown; a crash loses at most these seconds of them.
const ACCESS_WRITE_EVERY: u32 = 10;

/// Other processes (the CLI, a second editor, an MCP server) write to the same store. The
/// check costs one small file read when nothing changed, so it runs twice a second: every
/// process sees every committed write within a second.
pub fn spawn_store_refresh(engine: std::sync::Weak<Engine>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks = 0u32;
        loop {
            tick.tick().await;
            let Some(engine) = engine.upgrade() else {
                break;
            };
            ticks = ticks.wrapping_add(1);
            if ticks.is_multiple_of(ACCESS_WRITE_EVERY) {
                engine.flush().await;
            }
            if let Err(e) = engine.refresh_store().await {
                tracing::debug!("store refresh failed: {e}");
            }
        }
    });
}

/// This process's resident memory (`VmRSS` of `/proc/self/status`), on Linux.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests;
