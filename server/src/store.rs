//! The LanceDB store: one table per layer, a `meta` table for the schema version and the
//! embedding model, writes by id, hybrid (vector + BM25) search, and hard deletes that leave
//! no older table version behind. Nothing above this module knows Arrow.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{ArrowError, SchemaRef};
use futures::TryStreamExt;
use lancedb::index::scalar::{FtsIndexBuilder, FullTextSearchQuery};
use lancedb::index::Index;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::{CompactionOptions, Duration, OptimizeAction};
use lancedb::{Connection, DistanceType, Table};
use tokio::sync::Mutex;

use crate::memory::{Entry, Layer, Source, Status};

mod coordination;
mod mirror;
mod rows;

use coordination::{Coordination, Held, LockError};
use rows::{
    batch_to_entries, entries_to_batch, entry_schema, meta_schema, reader, search_text, sql_in,
    sql_str, table_name, Legs,
};

/// Bumped whenever the table layout changes; a store written by a newer tacit is refused
/// rather than misread.
pub const SCHEMA_VERSION: u32 = 1;
// Every embedder tacit ships produces vectors of this length, so that switching between the
// model and the fallback only re-embeds and never changes the table layout.
use crate::vector::DIMENSION;
const FTS_COLUMN: &str = "search_text";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Another writer changed what this write was based on; read again and retry.
    #[error("write conflict: {0}")]
    Conflict(String),
    /// A group commit failed; every write in it gets this.
    #[error("store write failed: {0}")]
    Write(String),
    #[error("the store at {uri} cannot be opened: {source}. If it is damaged, move it aside (your memories can be restored from a `tacit export` file) or point --store elsewhere")]
    Open { uri: String, source: lancedb::Error },
    #[error("the store at {uri} was written by a newer tacit (schema {found}, this build reads {SCHEMA_VERSION}); upgrade tacit")]
    NewerSchema { uri: String, found: u32 },
    #[error("the store at {uri} has an older layout (table `{table}` lacks {missing}); export what you need with the tacit that wrote it, then move the store aside and import")]
    OldLayout {
        uri: String,
        table: String,
        missing: String,
    },
    #[error("store operation failed: {0}")]
    Lance(#[from] lancedb::Error),
    #[error("store data could not be converted: {0}")]
    Arrow(#[from] ArrowError),
    #[error("row {id} in the store is damaged: {reason}")]
    Corrupt { id: String, reason: String },
    #[error("`{0}` is not a valid entry id")]
    InvalidId(String),
    #[error("vector of {got} dimensions given; the store holds {DIMENSION}")]
    Dimension { got: usize },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What a search asks for. Empty `layers` means every layer; empty `statuses` means active only.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub text: String,
    pub vector: Option<Vec<f32>>,
    pub layers: Vec<Layer>,
    pub scopes: Vec<String>,
    pub statuses: Vec<Status>,
    /// How many candidates each of the vector and full-text legs returns per layer.
    pub limit: usize,
}

/// One search result with the parts its rank was built from.
#[derive(Debug, Clone)]
pub struct Hit {
    pub entry: Entry,
    /// Cosine similarity to the query vector, when the vector leg found it.
    pub similarity: Option<f32>,
    /// BM25 score, when the full-text leg found it.
    pub bm25: Option<f32>,
    /// Reciprocal-rank fusion of both legs, normalised to 0..1 (1 = first in both).
    pub relevance: f32,
}

/// Filters for browsing.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub layers: Vec<Layer>,
    pub scopes: Vec<String>,
    /// Empty means every status.
    pub statuses: Vec<Status>,
    pub key_prefix: Option<String>,
    pub language: Option<String>,
    pub source: Option<Source>,
}

impl ListFilter {
    fn matches(&self, e: &Entry) -> bool {
        (self.layers.is_empty() || self.layers.contains(&e.layer))
            && (self.scopes.is_empty() || self.scopes.contains(&e.scope))
            && (self.statuses.is_empty() || self.statuses.contains(&e.status))
            && self
                .key_prefix
                .as_ref()
                .is_none_or(|p| e.key.as_deref().is_some_and(|k| k.starts_with(p.as_str())))
            && self
                .language
                .as_ref()
                .is_none_or(|l| e.language.as_ref() == Some(l))
            && self.source.is_none_or(|s| e.source == s)
    }
}

pub struct Store {
    uri: String,
    db: Connection,
    tables: HashMap<Layer, Table>,
    meta: Table,
    /// One disk operation of this process at a time (a group commit, a reload, a
    /// compaction); readers of the mirror never wait on it.
    disk: Mutex<()>,
    /// The lock and change counter shared with other processes on a local store; `None`
    /// for object storage, where LanceDB's own commit protocol arbitrates.
    coordination: Option<Coordination>,
    /// Every row in memory, for the hot path; a plain lock, never held across an await.
    mirror: std::sync::Mutex<mirror::Mirror>,
    /// What of the disk the mirror reflects.
    synced: std::sync::Mutex<Synced>,
    /// Accesses counted in memory and not yet written: (layer, id) → (count, latest time).
    pending_access: std::sync::Mutex<HashMap<(Layer, String), (u32, i64)>>,
    /// Writes waiting for the next group commit.
    queue: std::sync::Mutex<Vec<PendingWrite>>,
    /// Commits of this process since its last compaction, and the layers they wrote.
    commits_since_compaction: AtomicUsize,
    dirty: std::sync::Mutex<HashSet<Layer>>,
    /// Layers that changed, whoever changed them; the LSP turns these into notifications.
    changes: tokio::sync::broadcast::Sender<Vec<Layer>>,
}

/// The state of the disk that the mirror reflects.
#[derive(Default)]
struct Synced {
    /// Table version per layer.
    versions: HashMap<Layer, u64>,
    /// Lance row id of each entry as last read; a row rewritten by anyone gets a new one.
    row_ids: HashMap<String, u64>,
    /// The coordination counter at the last reload.
    generation: u64,
    /// Ids deleted since this process started (by it or by others): a write of a copy read
    /// before the delete must not bring the entry back.
    deleted: HashSet<String>,
}

/// How a write treats ids that were deleted since this process read them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// A copy of a deleted entry is refused with [`StoreError::Conflict`].
    Update,
    /// Written whatever happened to the id (import restores what it is given).
    Restore,
}

struct PendingWrite {
    entries: Vec<Entry>,
    mode: WriteMode,
    done: tokio::sync::oneshot::Sender<Result<()>>,
}

/// Redaction is done where texts enter (the indexer counts it for the index report); this
/// is the last gate, for any path that skipped it. Redacting redacted text changes nothing.
fn last_gate(entries: &[Entry]) -> Vec<Entry> {
    let mut entries = entries.to_vec();
    for e in &mut entries {
        let found = crate::redact::redact_entry(e);
        if found > 0 {
            tracing::warn!(
                "{found} secret(s) reached the store's write path unredacted in entry {}; redacted",
                e.id
            );
        }
    }
    entries
}

/// Small fragments are merged once a process has made this many commits; with at most
/// [`FRAGMENT_ROWS`] rows per merged fragment the merge rewrites only the recent tail.
const COMPACT_EVERY: usize = 16;
const FRAGMENT_ROWS: usize = 4096;
/// Fetching rows by id beats a full scan only for a small share of the table.
const FETCH_BY_ID_MAX: usize = 256;

fn merge_options(materialize_all: bool) -> CompactionOptions {
    CompactionOptions {
        target_rows_per_fragment: FRAGMENT_ROWS,
        materialize_deletions: true,
        // Zero makes a forget rewrite every fragment that lost a row, so the deleted text
        // leaves the data files; otherwise LanceDB's default share applies.
        materialize_deletions_threshold: if materialize_all {
            0.0
        } else {
            CompactionOptions::default().materialize_deletions_threshold
        },
        ..CompactionOptions::default()
    }
}

/// Removes every version but the latest. Safe only under the exclusive store lock: no
/// tacit process is then reading an older version or committing. Files no manifest
/// references (a crashed writer's) are left to LanceDB's own seven-day margin.
async fn prune_old_versions(table: &Table) -> Result<()> {
    table
        .optimize(OptimizeAction::Prune {
            older_than: Some(Duration::zero()),
            delete_unverified: Some(false),
            error_if_tagged_old_versions: Some(false),
        })
        .await?;
    Ok(())
}

/// Ids are hex digests or UUIDs; anything else is refused before it reaches a filter.
pub fn validate_id(id: &str) -> Result<()> {
    let ok =
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidId(id.to_string()))
    }
}

/// The default store location: `$XDG_DATA_HOME/tacit`, i.e. `~/.local/share/tacit`.
pub fn default_store_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("tacit")
}

fn create_private_dir(path: &Path) -> Result<()> {
    let err = |source| StoreError::CreateDir {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

fn is_local(uri: &str) -> bool {
    !uri.contains("://") || uri.starts_with("file://")
}

/// Opens a table, creating it if needed.
async fn open_or_create(
    db: &Connection,
    existing: &[String],
    name: &str,
    schema: SchemaRef,
) -> lancedb::Result<Table> {
    if existing.iter().any(|t| t == name) {
        return db.open_table(name).execute().await;
    }
    match db.create_empty_table(name, schema).execute().await {
        Ok(table) => Ok(table),
        Err(create_err) => db.open_table(name).execute().await.map_err(|_| create_err),
    }
}

/// (id, Lance row id) of every row of a table.
async fn row_ids(table: &Table) -> Result<Vec<(String, u64)>> {
    let batches: Vec<RecordBatch> = table
        .query()
        .select(Select::columns(&["id"]))
        .with_row_id()
        .execute()
        .await?
        .try_collect()
        .await?;
    let mut out = Vec::new();
    for batch in &batches {
        let ids = batch
            .column_by_name("id")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>());
        let rows = batch
            .column_by_name("_rowid")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
        let (Some(ids), Some(rows)) = (ids, rows) else {
            return Err(StoreError::Corrupt {
                id: String::new(),
                reason: "the id or row id column is missing".into(),
            });
        };
        out.extend((0..batch.num_rows()).map(|i| (ids.value(i).to_string(), rows.value(i))));
    }
    Ok(out)
}

/// Entries of a table (all, or those the filter selects) with their Lance row ids.
async fn read_rows(table: &Table, filter: Option<String>) -> Result<Vec<(Entry, u64)>> {
    let mut query = table.query().with_row_id();
    if let Some(f) = filter {
        query = query.only_if(f);
    }
    let batches: Vec<RecordBatch> = query.execute().await?.try_collect().await?;
    let mut out = Vec::new();
    for batch in &batches {
        let rows = batch
            .column_by_name("_rowid")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
        let entries = batch_to_entries(batch, true)?;
        // A damaged row is skipped by `batch_to_entries`, so row ids are matched by id.
        let by_id: HashMap<&str, u64> = match rows {
            Some(rows) => batch
                .column_by_name("id")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                .map(|ids| {
                    (0..batch.num_rows())
                        .map(|i| (ids.value(i), rows.value(i)))
                        .collect()
                })
                .unwrap_or_default(),
            None => HashMap::new(),
        };
        for (entry, _, _) in entries {
            let row = by_id.get(entry.id.as_str()).copied().unwrap_or(u64::MAX);
            out.push((entry, row));
        }
    }
    Ok(out)
}

impl Store {
    /// Opens (creating if needed) the store at `uri`: a local directory or an object-store URI.
    pub async fn open(uri: &str) -> Result<Store> {
        let coordination = if is_local(uri) {
            let dir = Path::new(uri.trim_start_matches("file://"));
            create_private_dir(dir)?;
            Some(Coordination::open(dir)?)
        } else {
            None
        };
        // Two processes starting on a new store (two editors opening at once) would race to
        // create the same tables; they take turns.
        let held = match &coordination {
            Some(c) => Some(c.exclusive().await?),
            None => None,
        };
        let open_err = |source| StoreError::Open {
            uri: uri.to_string(),
            source,
        };
        let db = lancedb::connect(uri).execute().await.map_err(open_err)?;
        let existing = db.table_names().execute().await.map_err(open_err)?;
        let mut tables = HashMap::new();
        for layer in Layer::ALL {
            let name = table_name(layer);
            let table = open_or_create(&db, &existing, name, entry_schema())
                .await
                .map_err(open_err)?;
            // A table written by an older development build lacks columns this one needs;
            // say so instead of failing on the first search.
            let schema = table.schema().await.map_err(open_err)?;
            let missing: Vec<String> = entry_schema()
                .fields()
                .iter()
                .filter(|f| schema.field_with_name(f.name()).is_err())
                .map(|f| f.name().clone())
                .collect();
            if !missing.is_empty() {
                return Err(StoreError::OldLayout {
                    uri: uri.to_string(),
                    table: name.to_string(),
                    missing: missing.join(", "),
                });
            }
            tables.insert(layer, table);
        }
        let meta = open_or_create(&db, &existing, "meta", meta_schema())
            .await
            .map_err(open_err)?;
        let store = Store {
            uri: uri.to_string(),
            db,
            tables,
            meta,
            disk: Mutex::new(()),
            coordination,
            mirror: std::sync::Mutex::new(mirror::Mirror::default()),
            synced: std::sync::Mutex::new(Synced::default()),
            pending_access: std::sync::Mutex::new(HashMap::new()),
            queue: std::sync::Mutex::new(Vec::new()),
            commits_since_compaction: AtomicUsize::new(0),
            dirty: std::sync::Mutex::new(HashSet::new()),
            changes: tokio::sync::broadcast::channel(64).0,
        };
        match store.meta_read("schema_version").await? {
            Some(v) => {
                let found: u32 = v.parse().unwrap_or(u32::MAX);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        uri: uri.to_string(),
                        found,
                    });
                }
            }
            None => {
                store
                    .meta_write("schema_version", &SCHEMA_VERSION.to_string())
                    .await?;
                // Recorded so that a store can be read, or re-embedded, knowing its vectors.
                store
                    .meta_write("dimension", &DIMENSION.to_string())
                    .await?;
            }
        }
        // Every table is read into the mirror: nothing is known yet.
        store.sync_all().await?;
        drop(held);
        Ok(store)
    }

    fn mirror(&self) -> std::sync::MutexGuard<'_, mirror::Mirror> {
        // A panic while the lock was held leaves a mirror that is at worst one write behind;
        // serving it beats refusing every read.
        self.mirror.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn synced(&self) -> std::sync::MutexGuard<'_, Synced> {
        self.synced.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    fn table(&self, layer: Layer) -> &Table {
        // Every layer's table is opened in `open`, so the map is total.
        &self.tables[&layer]
    }

    /// Layers that changed from now on, by this process or another one.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Vec<Layer>> {
        self.changes.subscribe()
    }

    fn announce(&self, layers: Vec<Layer>) {
        if !layers.is_empty() {
            // No receiver is fine: nobody listens in the CLI.
            let _ = self.changes.send(layers);
        }
    }

    async fn exclusive(&self) -> Result<Option<Held>> {
        Ok(match &self.coordination {
            Some(c) => Some(c.exclusive().await?),
            None => None,
        })
    }

    async fn shared(&self) -> Result<Option<Held>> {
        Ok(match &self.coordination {
            Some(c) => Some(c.shared().await?),
            None => None,
        })
    }

    /// Tells other processes that the tables changed. Called with the exclusive lock held.
    fn bump(&self) {
        if let Some(c) = &self.coordination {
            match c.bump() {
                Ok(generation) => self.synced().generation = generation,
                // The write is committed; others see it at their next full check.
                Err(e) => tracing::warn!("cannot tell other processes about a write: {e}"),
            }
        }
    }

    /// Brings one layer of the mirror up to the table on disk: rows that others added or
    /// rewrote are read, rows they deleted are dropped. Called with the disk lock and a
    /// store lock held. Returns whether anything changed.
    async fn sync_layer(&self, layer: Layer) -> Result<bool> {
        let table = self.table(layer);
        table.checkout_latest().await?;
        let on_disk = table.version().await?;
        if self.synced().versions.get(&layer) == Some(&on_disk) {
            return Ok(false);
        }
        let rows = row_ids(table).await?;
        let on_disk_ids: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
        let gone: Vec<String> = self
            .mirror()
            .entries()
            .filter(|e| e.layer == layer && !on_disk_ids.contains(e.id.as_str()))
            .map(|e| e.id.clone())
            .collect();
        let stale: Vec<String> = {
            let synced = self.synced();
            rows.iter()
                .filter(|(id, row)| synced.row_ids.get(id) != Some(row))
                .map(|(id, _)| id.clone())
                .collect()
        };
        let fresh = if stale.is_empty() {
            Vec::new()
        } else if stale.len() <= FETCH_BY_ID_MAX {
            read_rows(table, Some(sql_in("id", &stale))).await?
        } else {
            read_rows(table, None).await?
        };
        {
            let mut mirror = self.mirror();
            for id in &gone {
                mirror.remove(id);
            }
            let entries: Vec<Entry> = fresh.iter().map(|(e, _)| e.clone()).collect();
            mirror.upsert(&entries);
        }
        let mut synced = self.synced();
        for id in gone {
            synced.row_ids.remove(&id);
            synced.deleted.insert(id);
        }
        for (entry, row) in fresh {
            synced.row_ids.insert(entry.id, row);
        }
        synced.versions.insert(layer, on_disk);
        Ok(true)
    }

    /// Syncs every layer and announces the ones that changed.
    async fn sync_all(&self) -> Result<Vec<Layer>> {
        let generation = self.coordination.as_ref().map(Coordination::generation);
        if let Some(g) = generation {
            // Every tacit writer bumps the counter under the exclusive lock: unchanged, and
            // every table read once, means there is nothing to read.
            let synced = self.synced();
            if g == synced.generation && synced.versions.len() == Layer::ALL.len() {
                return Ok(Vec::new());
            }
        }
        let mut changed = Vec::new();
        for layer in Layer::ALL {
            if self.sync_layer(layer).await? {
                changed.push(layer);
            }
        }
        if let Some(g) = generation {
            self.synced().generation = g;
        }
        Ok(changed)
    }

    /// Picks up what other processes (a CLI, a second editor) wrote to this store. Costs one
    /// small file read when nothing changed, so the server calls it often. Returns whether
    /// anything was reloaded.
    pub async fn refresh(&self) -> Result<bool> {
        if let Some(c) = &self.coordination {
            if c.generation() == self.synced().generation {
                return Ok(false);
            }
        }
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        let changed = self.sync_all().await?;
        let any = !changed.is_empty();
        self.announce(changed);
        Ok(any)
    }

    async fn meta_read(&self, key: &str) -> Result<Option<String>> {
        self.meta.checkout_latest().await?;
        let batches: Vec<RecordBatch> = self
            .meta
            .query()
            .only_if(format!("key = {}", sql_str(key)))
            .execute()
            .await?
            .try_collect()
            .await?;
        for batch in batches {
            if let Some(values) = batch
                .column_by_name("value")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            {
                if values.len() > 0 {
                    return Ok(Some(values.value(0).to_string()));
                }
            }
        }
        Ok(None)
    }

    /// Called with the exclusive lock held (or before the store is shared, in `open`).
    async fn meta_write(&self, key: &str, value: &str) -> Result<()> {
        let batch = RecordBatch::try_new(
            meta_schema(),
            vec![
                Arc::new(StringArray::from(vec![key])),
                Arc::new(StringArray::from(vec![value])),
            ],
        )?;
        let mut merge = self.meta.merge_insert(&["key"]);
        merge
            .when_matched_update_all(None)
            .when_not_matched_insert_all();
        merge.execute(reader(batch)).await?;
        Ok(())
    }

    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        self.meta_read(key).await
    }

    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        self.meta_write(key, value).await
    }

    /// Ids of extracted entries the user forgot; extraction must not bring them back.
    pub async fn forgotten(&self) -> Result<HashSet<String>> {
        Ok(match self.meta_get("forgotten").await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Default::default(),
        })
    }

    /// Adds an id to the forgotten set, in one step under the exclusive lock, so that two
    /// processes forgetting at once keep both ids.
    pub async fn add_forgotten(&self, id: &str) -> Result<()> {
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        let mut ids: Vec<String> = match self.meta_read("forgotten").await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Vec::new(),
        };
        ids.push(id.to_string());
        ids.sort();
        ids.dedup();
        let json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        self.meta_write("forgotten", &json).await
    }

    /// Writes entries, replacing any row with the same id. A copy of an entry that another
    /// writer deleted in the meantime is refused with [`StoreError::Conflict`] (the caller
    /// reads again and retries), so a forget is never undone by a stale write.
    pub async fn upsert(&self, entries: &[Entry]) -> Result<()> {
        self.write(entries, WriteMode::Update).await
    }

    /// Writes entries whatever became of their ids: an import restores what it is given.
    pub async fn restore_entries(&self, entries: &[Entry]) -> Result<()> {
        self.write(entries, WriteMode::Restore).await
    }

    /// Group commit: the write joins a queue; whoever holds the disk lock next writes the
    /// whole queue as one commit per layer, so concurrent writers share table versions.
    async fn write(&self, entries: &[Entry], mode: WriteMode) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        for e in entries {
            if e.vector.len() != DIMENSION {
                return Err(StoreError::Dimension {
                    got: e.vector.len(),
                });
            }
        }
        let (done, result) = tokio::sync::oneshot::channel();
        let entries = last_gate(entries);
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(PendingWrite {
                entries,
                mode,
                done,
            });
        {
            let _disk = self.disk.lock().await;
            let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
            if !batch.is_empty() {
                self.commit(batch).await;
            }
        }
        result.await.unwrap_or_else(|_| {
            Err(StoreError::Conflict(
                "the write was dropped before it was committed".into(),
            ))
        })
    }

    /// Writes a batch of queued writes under the exclusive lock and answers each.
    async fn commit(&self, batch: Vec<PendingWrite>) {
        match self.commit_rows(&batch).await {
            Ok(refused) => {
                for (pending, refused) in batch.into_iter().zip(refused) {
                    let verdict = match refused {
                        Some(id) => Err(StoreError::Conflict(format!(
                            "entry {id} was deleted by another writer"
                        ))),
                        None => Ok(()),
                    };
                    let _ = pending.done.send(verdict);
                }
            }
            Err(e) => {
                tracing::warn!("store write failed: {e}");
                let message = e.to_string();
                for pending in batch {
                    let _ = pending.done.send(Err(StoreError::Write(message.clone())));
                }
            }
        }
    }

    /// The refused id of each queued write (or `None`: written).
    async fn commit_rows(&self, batch: &[PendingWrite]) -> Result<Vec<Option<String>>> {
        let started = std::time::Instant::now();
        let _held = self.exclusive().await?;
        let locked = started.elapsed();
        // What others committed is read first: the mirror then knows every id on disk, and
        // which were deleted since our callers read them.
        let changed = self.sync_all().await?;
        self.announce(changed);
        let synced = started.elapsed();
        let refused: Vec<Option<String>> = {
            let synced = self.synced();
            batch
                .iter()
                .map(|p| {
                    p.entries
                        .iter()
                        .find(|e| p.mode == WriteMode::Update && synced.deleted.contains(&e.id))
                        .map(|e| e.id.clone())
                })
                .collect()
        };
        let entries: Vec<Entry> = batch
            .iter()
            .zip(&refused)
            .filter(|(_, r)| r.is_none())
            .flat_map(|(p, _)| p.entries.iter().cloned())
            .collect();
        {
            let mut synced = self.synced();
            for e in &entries {
                synced.deleted.remove(&e.id);
            }
        }
        self.write_rows(&entries).await?;
        let written = started.elapsed();
        if self
            .commits_since_compaction
            .fetch_add(1, Ordering::Relaxed)
            + 1
            >= COMPACT_EVERY
        {
            let dirty: Vec<Layer> = self
                .dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain()
                .collect();
            self.merge_fragments(&dirty, false).await?;
        }
        tracing::debug!(
            "group commit of {} write(s): lock {locked:?}, sync {:?}, write {:?}, merge {:?}",
            batch.len(),
            synced - locked,
            written - synced,
            started.elapsed() - written
        );
        Ok(refused)
    }

    /// Writes rows: new ids are appended, known ones merged, and an entry that moved to
    /// another layer leaves its old table. Called with the exclusive lock held, synced.
    async fn write_rows(&self, entries: &[Entry]) -> Result<()> {
        // The same id twice in one merge is an error in Lance; the last one wins.
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            last.insert(e.id.as_str(), i);
        }
        let unique: Vec<&Entry> = entries
            .iter()
            .enumerate()
            .filter(|(i, e)| last.get(e.id.as_str()) == Some(i))
            .map(|(_, e)| e)
            .collect();
        if unique.is_empty() {
            return Ok(());
        }
        let stored: HashMap<String, Layer> = {
            let mirror = self.mirror();
            unique
                .iter()
                .filter_map(|e| mirror.get(&e.id).map(|m| (e.id.clone(), m.layer)))
                .collect()
        };
        let mut touched = Vec::new();
        for layer in Layer::ALL {
            let (known, new): (Vec<&Entry>, Vec<&Entry>) = unique
                .iter()
                .filter(|e| e.layer == layer)
                .partition(|e| stored.get(&e.id) == Some(&layer));
            if known.is_empty() && new.is_empty() {
                continue;
            }
            let table = self.table(layer);
            if !new.is_empty() {
                table.add(entries_to_batch(&new)?).execute().await?;
            }
            if !known.is_empty() {
                let mut merge = table.merge_insert(&["id"]);
                merge
                    .when_matched_update_all(None)
                    .when_not_matched_insert_all();
                merge.execute(reader(entries_to_batch(&known)?)).await?;
            }
            touched.push(layer);
        }
        for layer in Layer::ALL {
            let moved: Vec<String> = unique
                .iter()
                .filter(|e| e.layer != layer && stored.get(&e.id) == Some(&layer))
                .map(|e| e.id.clone())
                .collect();
            if !moved.is_empty() {
                self.table(layer)
                    .delete(sql_in("id", &moved).as_str())
                    .await?;
                touched.push(layer);
            }
        }
        let written: Vec<Entry> = unique.into_iter().cloned().collect();
        self.mirror().upsert(&written);
        self.note_written(&written, &touched).await?;
        Ok(())
    }

    /// After a write of ours: the tables' new versions hold nothing we have not seen, since
    /// we synced under the same exclusive lock. The written rows' new row ids are unknown
    /// until the next sync reads them.
    async fn note_written(&self, written: &[Entry], touched: &[Layer]) -> Result<()> {
        let mut versions = Vec::new();
        for &layer in touched {
            versions.push((layer, self.table(layer).version().await?));
        }
        {
            let mut synced = self.synced();
            for e in written {
                synced.row_ids.remove(&e.id);
            }
            synced.versions.extend(versions);
        }
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(touched.iter().copied());
        self.bump();
        self.announce(touched.to_vec());
        Ok(())
    }

    /// Merges small fragments and removes old versions, so that neither the file count nor
    /// the cost of a write grows with the number of writes. Called with the exclusive lock.
    async fn merge_fragments(&self, layers: &[Layer], materialize_all: bool) -> Result<()> {
        self.commits_since_compaction.store(0, Ordering::Relaxed);
        for &layer in layers {
            let table = self.table(layer);
            table
                .optimize(OptimizeAction::Compact {
                    options: merge_options(materialize_all),
                    remap_options: None,
                })
                .await?;
            if materialize_all {
                // A text index (built only by the latency benchmark) lists the tokens of
                // deleted rows; dropping it leaves its files to the prune.
                for index in table.list_indices().await? {
                    if index.columns.iter().any(|c| c == FTS_COLUMN) {
                        table.drop_index(&index.name).await?;
                    }
                }
            }
            prune_old_versions(table).await?;
            // The content is what the mirror holds; only the rows' addresses moved.
            let rows = row_ids(table).await?;
            let version = table.version().await?;
            let mut synced = self.synced();
            synced.row_ids.extend(rows);
            synced.versions.insert(layer, version);
        }
        self.meta.checkout_latest().await?;
        prune_old_versions(&self.meta).await?;
        self.bump();
        Ok(())
    }

    /// Adds entries whose ids are new to the store in one write per layer, without the
    /// merge an upsert does: bulk loads (benchmarks, a fresh import) of many rows.
    pub async fn append(&self, entries: &[Entry]) -> Result<()> {
        let entries = &last_gate(entries)[..];
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        let changed = self.sync_all().await?;
        self.announce(changed);
        let mut touched = Vec::new();
        for layer in Layer::ALL {
            let of_layer: Vec<&Entry> = entries.iter().filter(|e| e.layer == layer).collect();
            if of_layer.is_empty() {
                continue;
            }
            self.table(layer)
                .add(entries_to_batch(&of_layer)?)
                .execute()
                .await?;
            touched.push(layer);
        }
        self.mirror().upsert(entries);
        self.note_written(entries, &touched).await
    }

    /// Builds LanceDB's own full-text index on every table. Only the latency benchmark's
    /// reference ([`Store::search_on_disk`]) reads it; the served path ranks in memory.
    pub async fn build_text_index(&self) -> Result<()> {
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        for layer in Layer::ALL {
            let table = self.table(layer);
            table.checkout_latest().await?;
            if table.count_rows(None).await? > 0 {
                table
                    .create_index(&[FTS_COLUMN], Index::FTS(FtsIndexBuilder::default()))
                    .execute()
                    .await?;
            }
        }
        self.bump();
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<Entry>> {
        validate_id(id)?;
        Ok(self.mirror().get(id))
    }

    /// Entries matching the filter, from the mirror (vectors included).
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<Entry>> {
        let mut out: Vec<Entry> = self.mirror().collect(|e| filter.matches(e));
        sort_listing(&mut out);
        Ok(out)
    }

    /// Entries matching the filter that `keep` accepts; `keep` sees each entry before it is
    /// copied, so a narrow selection from a large store copies little.
    pub fn select(&self, filter: &ListFilter, keep: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        self.mirror().collect(|e| filter.matches(e) && keep(e))
    }

    /// The `k` entries matching the filter that rank highest by `rank`, best first (ties by id).
    pub fn top_by(
        &self,
        filter: &ListFilter,
        k: usize,
        rank: impl Fn(&Entry) -> f32,
    ) -> Vec<Entry> {
        let mirror = self.mirror();
        let mut ranked: Vec<(f32, &Entry)> = mirror
            .entries()
            .filter(|e| filter.matches(e))
            .map(|e| (rank(e), e))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let ids: Vec<String> = ranked.iter().take(k).map(|(_, e)| e.id.clone()).collect();
        ids.iter().filter_map(|id| mirror.get(id)).collect()
    }

    /// The same listing read from LanceDB; the mirror's reference in tests.
    pub async fn list_from_disk(&self, filter: &ListFilter) -> Result<Vec<Entry>> {
        let mut clauses = Vec::new();
        if !filter.scopes.is_empty() {
            clauses.push(sql_in("scope", &filter.scopes));
        }
        if !filter.statuses.is_empty() {
            let s: Vec<String> = filter
                .statuses
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            clauses.push(sql_in("status", &s));
        }
        if let Some(prefix) = &filter.key_prefix {
            let escaped = prefix
                .replace('\'', "''")
                .replace('%', "\\%")
                .replace('_', "\\_");
            clauses.push(format!("key LIKE '{escaped}%'"));
        }
        if let Some(language) = &filter.language {
            clauses.push(format!("language = {}", sql_str(language)));
        }
        if let Some(source) = filter.source {
            clauses.push(format!("source = {}", sql_str(source.as_str())));
        }
        let where_clause = (!clauses.is_empty()).then(|| clauses.join(" AND "));
        let layers = if filter.layers.is_empty() {
            Layer::ALL.to_vec()
        } else {
            filter.layers.clone()
        };
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        let mut out = Vec::new();
        for layer in layers {
            let table = self.table(layer);
            table.checkout_latest().await?;
            out.extend(
                read_rows(table, where_clause.clone())
                    .await?
                    .into_iter()
                    .map(|(e, _)| e),
            );
        }
        sort_listing(&mut out);
        Ok(out)
    }

    /// Vector and full-text search per layer, fused by reciprocal rank, in memory.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        if let Some(v) = &request.vector {
            if v.len() != DIMENSION {
                return Err(StoreError::Dimension { got: v.len() });
            }
        }
        let filter = mirror::Filter {
            layers: request.layers.clone(),
            scopes: request.scopes.clone(),
            statuses: request.statuses.clone(),
        };
        Ok(self.mirror().search(
            request.text.trim(),
            request.vector.as_deref(),
            &filter,
            request.limit,
        ))
    }

    /// The same search run by LanceDB (flat vector scan + its BM25 index): the reference the
    /// latency benchmark compares the mirror with.
    pub async fn search_on_disk(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        let statuses: Vec<String> = if request.statuses.is_empty() {
            vec![Status::Active.as_str().to_string()]
        } else {
            request
                .statuses
                .iter()
                .map(|s| s.as_str().to_string())
                .collect()
        };
        let mut filter = sql_in("status", &statuses);
        if !request.scopes.is_empty() {
            filter = format!("{filter} AND {}", sql_in("scope", &request.scopes));
        }
        let layers = if request.layers.is_empty() {
            Layer::ALL.to_vec()
        } else {
            request.layers.clone()
        };
        let limit = request.limit.max(1);
        let mut hits: Vec<Hit> = Vec::new();
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        for layer in layers {
            let table = self.table(layer);
            table.checkout_latest().await?;
            let mut by_id: HashMap<String, Legs> = HashMap::new();
            if let Some(vector) = &request.vector {
                if vector.len() != DIMENSION {
                    return Err(StoreError::Dimension { got: vector.len() });
                }
                let batches: Vec<RecordBatch> = table
                    .query()
                    .nearest_to(vector.as_slice())?
                    .distance_type(DistanceType::Cosine)
                    .only_if(filter.clone())
                    .limit(limit)
                    .execute()
                    .await?
                    .try_collect()
                    .await?;
                let mut rank = 0;
                for batch in &batches {
                    for (entry, distance, _) in batch_to_entries(batch, false)? {
                        let similarity = 1.0 - distance.unwrap_or(1.0);
                        by_id.insert(entry.id.clone(), (entry, Some((rank, similarity)), None));
                        rank += 1;
                    }
                }
            }
            let text = request.text.trim();
            if !text.is_empty() && table.count_rows(None).await? > 0 {
                let batches: Vec<RecordBatch> = table
                    .query()
                    .full_text_search(
                        FullTextSearchQuery::new(text.to_string())
                            .with_column(FTS_COLUMN.to_string())
                            .map_err(lancedb::Error::from)?,
                    )
                    .select(Select::All)
                    .only_if(filter.clone())
                    .limit(limit)
                    .execute()
                    .await?
                    .try_collect()
                    .await?;
                let mut rank = 0;
                for batch in &batches {
                    for (entry, _, score) in batch_to_entries(batch, false)? {
                        let part = Some((rank, score.unwrap_or(0.0)));
                        by_id
                            .entry(entry.id.clone())
                            .and_modify(|slot| slot.2 = part)
                            .or_insert((entry, None, part));
                        rank += 1;
                    }
                }
            }
            hits.extend(by_id.into_values().map(|(entry, vec_part, text_part)| Hit {
                relevance: fuse(vec_part.map(|p| p.0), text_part.map(|p| p.0)),
                similarity: vec_part.map(|p| p.1),
                bm25: text_part.map(|p| p.1),
                entry,
            }));
        }
        hits.sort_by(|a, b| {
            b.relevance
                .total_cmp(&a.relevance)
                .then(a.entry.id.cmp(&b.entry.id))
        });
        Ok(hits)
    }

    /// Hard delete: the row, its vector, every older table version that held it, and every
    /// mention of its id and text in other entries' audit trails. Atomic with respect to
    /// other tacit processes: they never see the store half-way.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        validate_id(id)?;
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        let changed = self.sync_all().await?;
        self.announce(changed);
        let Some(entry) = self.mirror().get(id) else {
            return Ok(false);
        };
        // "contradicted by <id>: <its text>" and the like would keep the forgotten words.
        let mentions: Vec<Entry> = self
            .mirror()
            .collect(|e| {
                e.id != id
                    && e.history.iter().any(|h| {
                        h.detail
                            .as_deref()
                            .is_some_and(|d| d.contains(id) || d.contains(entry.text.as_str()))
                    })
            })
            .into_iter()
            .map(|mut e| {
                for h in &mut e.history {
                    if h.detail
                        .as_deref()
                        .is_some_and(|d| d.contains(id) || d.contains(entry.text.as_str()))
                    {
                        h.detail = Some("a forgotten entry".into());
                    }
                }
                e
            })
            .collect();
        self.write_rows(&mentions).await?;
        let table = self.table(entry.layer);
        table
            .delete(format!("id = {}", sql_str(id)).as_str())
            .await?;
        self.mirror().remove(id);
        {
            let mut synced = self.synced();
            synced.row_ids.remove(id);
            synced.deleted.insert(id.to_string());
        }
        let mut layers: Vec<Layer> = mentions.iter().map(|e| e.layer).collect();
        layers.push(entry.layer);
        layers.sort();
        layers.dedup();
        // Every fragment that lost a row is rewritten and every older version removed, so
        // the text is gone from the data files, the manifests and any index.
        self.merge_fragments(&layers, true).await?;
        self.announce(layers);
        Ok(true)
    }

    /// Counts one access of each entry: at once in memory, so that the next score sees it,
    /// and queued for disk, where [`Store::persist_access`] writes a batch. One LanceDB write
    /// per served context would cost more than serving it, and leave a table version each.
    pub fn note_access(&self, ids: &[(Layer, String)], at: i64) {
        {
            let mut mirror = self.mirror();
            for (_, id) in ids {
                mirror.modify(id, |e| {
                    e.access_count = e.access_count.saturating_add(1);
                    e.last_accessed_at = at;
                });
            }
        }
        let mut pending = self
            .pending_access
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (layer, id) in ids {
            let slot = pending.entry((*layer, id.clone())).or_insert((0, at));
            slot.0 += 1;
            slot.1 = slot.1.max(at);
        }
    }

    /// Writes the queued access counts. An SQL update, not an upsert of a copy: a copy read
    /// before a concurrent forget would otherwise bring the forgotten row back.
    pub async fn persist_access(&self) -> Result<usize> {
        if self
            .pending_access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            return Ok(0);
        }
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        let changed = self.sync_all().await?;
        self.announce(changed);
        let pending: HashMap<(Layer, String), (u32, i64)> = std::mem::take(
            &mut *self
                .pending_access
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        // One update per layer and count, each with the latest access time of its group.
        let mut groups: HashMap<(Layer, u32), (Vec<String>, i64)> = HashMap::new();
        for ((layer, id), (count, at)) in &pending {
            if validate_id(id).is_err() {
                continue;
            }
            let g = groups.entry((*layer, *count)).or_insert((Vec::new(), 0));
            g.0.push(id.clone());
            g.1 = g.1.max(*at);
        }
        let mut touched = Vec::new();
        for ((layer, count), (ids, at)) in groups {
            self.table(layer)
                .update()
                .only_if(sql_in("id", &ids))
                .column("access_count", format!("access_count + {count}"))
                .column("last_accessed_at", at.to_string())
                .execute()
                .await?;
            touched.push(layer);
        }
        touched.sort();
        touched.dedup();
        // Counts only: the mirror already has them, so others are told but nothing is
        // announced here.
        let mut versions = Vec::new();
        for &layer in &touched {
            versions.push((layer, self.table(layer).version().await?));
        }
        self.synced().versions.extend(versions);
        if !touched.is_empty() {
            self.bump();
        }
        Ok(pending.len())
    }

    /// Row counts per layer and status.
    /// Entries per layer and status in these scopes (every scope when `scopes` is empty).
    pub async fn counts(&self, scopes: &[String]) -> Result<Vec<(Layer, Status, usize)>> {
        const STATUSES: [Status; 3] = [Status::Active, Status::Superseded, Status::Expired];
        let mut n = [[0usize; 3]; 4];
        for e in self.mirror().entries() {
            if !scopes.is_empty() && !scopes.contains(&e.scope) {
                continue;
            }
            let (Some(l), Some(s)) = (
                Layer::ALL.iter().position(|l| *l == e.layer),
                STATUSES.iter().position(|s| *s == e.status),
            ) else {
                continue;
            };
            n[l][s] += 1;
        }
        Ok(Layer::ALL
            .iter()
            .enumerate()
            .flat_map(|(l, layer)| {
                STATUSES
                    .iter()
                    .enumerate()
                    .map(move |(s, status)| (*layer, *status, n[l][s]))
            })
            .collect())
    }

    /// Merges small files left by single-row writes and removes old versions.
    pub async fn compact(&self) -> Result<()> {
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        let changed = self.sync_all().await?;
        self.announce(changed);
        self.merge_fragments(&Layer::ALL, false).await
    }

    /// Files under a local store's directory: what `tacit bench write` reports.
    pub fn file_count(&self) -> Option<usize> {
        let dir = Path::new(self.uri.trim_start_matches("file://"));
        if !is_local(&self.uri) {
            return None;
        }
        Some(
            walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(std::result::Result::ok)
                .filter(|e| e.file_type().is_file())
                .count(),
        )
    }

    /// The database handle, for tests that inspect older table versions.
    pub fn connection(&self) -> &Connection {
        &self.db
    }
}

/// Listings come by layer, most important first, then by id: stable for dashboards.
fn sort_listing(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        a.layer
            .cmp(&b.layer)
            .then(b.importance.total_cmp(&a.importance))
            .then(a.id.cmp(&b.id))
    });
}

/// Reciprocal-rank fusion (k = 60), scaled so that rank 0 in both legs is 1.0.
fn fuse(vector_rank: Option<usize>, text_rank: Option<usize>) -> f32 {
    const K: f32 = 60.0;
    let part = |r: Option<usize>| r.map(|r| 1.0 / (K + r as f32)).unwrap_or(0.0);
    (part(vector_rank) + part(text_rank)) / (2.0 / K)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Evidence;
    use crate::memory::Source;

    fn vector(seed: usize) -> Vec<f32> {
        let mut v = vec![0.0; DIMENSION];
        v[seed % DIMENSION] = 1.0;
        v
    }

    fn entry(text: &str, seed: usize) -> Entry {
        let mut e = Entry::user("user", Layer::Memory, Source::User, text);
        e.vector = vector(seed);
        e
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test runtime")
    }

    #[test]
    fn upsert_get_search_and_every_field_round_trips() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
            let mut a = entry("Use tracing for logging, never println", 1);
            a.tags = vec!["logging".into()];
            a.key = Some("stack.logging".into());
            a.value = Some("tracing".into());
            a.evidence = Some(Evidence {
                matching: 3,
                total: 4,
            });
            a.examples = vec!["src/main.rs:3".into()];
            a.record("created", Some("test".into()));
            let b = entry("Errors propagate with anyhow and the question mark", 2);
            store.upsert(&[a.clone(), b.clone()]).await.unwrap();

            assert_eq!(store.get(&a.id).await.unwrap(), Some(a.clone()));

            let hits = store
                .search(&SearchRequest {
                    text: "logging".into(),
                    vector: Some(vector(1)),
                    limit: 5,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(hits[0].entry.id, a.id, "{hits:?}");
            assert!(hits[0].bm25.is_some() && hits[0].similarity.unwrap() > 0.99);

            // Upsert by id replaces, it never duplicates.
            let mut a2 = a.clone();
            a2.status = Status::Superseded;
            store.upsert(&[a2]).await.unwrap();
            let all = store.list(&ListFilter::default()).await.unwrap();
            assert_eq!(all.len(), 2);
            let active = store
                .search(&SearchRequest {
                    text: "logging".into(),
                    vector: Some(vector(1)),
                    limit: 5,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert!(active.iter().all(|h| h.entry.id != a.id));
        });
    }

    #[test]
    fn the_mirror_agrees_with_lancedb_and_sees_other_processes_writes() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let uri = dir.path().to_str().unwrap();
            let server = Store::open(uri).await.unwrap();
            let entries: Vec<Entry> = (0..40)
                .map(|i| entry(&format!("convention number {i} about topic {}", i % 7), i))
                .collect();
            server.upsert(&entries).await.unwrap();
            let filter = ListFilter::default();
            let mut from_disk = server.list_from_disk(&filter).await.unwrap();
            let mut from_memory = server.list(&filter).await.unwrap();
            from_disk.sort_by(|a, b| a.id.cmp(&b.id));
            from_memory.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(from_disk, from_memory);

            // Both searches rank the exact match first.
            let request = SearchRequest {
                text: "topic 3".into(),
                vector: Some(vector(10)),
                limit: 5,
                ..Default::default()
            };
            let memory = server.search(&request).await.unwrap();
            server.build_text_index().await.unwrap();
            let disk = server.search_on_disk(&request).await.unwrap();
            assert_eq!(memory[0].entry.id, entries[10].id);
            assert_eq!(disk[0].entry.id, entries[10].id);

            // A second process (a CLI) writes; the server sees it after a refresh.
            let cli = Store::open(uri).await.unwrap();
            let late = entry("written by another process", 77);
            cli.upsert(std::slice::from_ref(&late)).await.unwrap();
            assert_eq!(server.get(&late.id).await.unwrap(), None);
            assert!(server.refresh().await.unwrap());
            assert_eq!(server.get(&late.id).await.unwrap(), Some(late));
            // Nothing new: nothing reloaded.
            assert!(!server.refresh().await.unwrap());
        });
    }

    #[test]
    fn a_damaged_row_is_skipped_and_the_others_are_served() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let uri = dir.path().to_str().unwrap();
            let kept = entry("kept memory", 1);
            let damaged = entry("damaged memory", 2);
            {
                let store = Store::open(uri).await.unwrap();
                store.upsert(std::slice::from_ref(&kept)).await.unwrap();
                let batch = entries_to_batch(&[&damaged]).unwrap();
                let at = batch.schema().index_of("extra").unwrap();
                let mut columns = batch.columns().to_vec();
                columns[at] = Arc::new(StringArray::from(vec!["{not json"]));
                let batch = RecordBatch::try_new(batch.schema(), columns).unwrap();
                store
                    .table(Layer::Memory)
                    .add(batch)
                    .execute()
                    .await
                    .unwrap();
            }
            let store = Store::open(uri).await.unwrap();
            assert_eq!(store.get(&kept.id).await.unwrap(), Some(kept));
            assert_eq!(store.get(&damaged.id).await.unwrap(), None);
        });
    }

    #[test]
    fn delete_removes_the_row_from_every_version_on_disk() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
            let gone = entry("zanzibar quokka deployment secret handshake", 3);
            let kept = entry("marmalade pelican release checklist", 4);
            store.upsert(std::slice::from_ref(&gone)).await.unwrap();
            store.upsert(std::slice::from_ref(&kept)).await.unwrap();
            assert!(store.delete(&gone.id).await.unwrap());
            assert!(store.get(&gone.id).await.unwrap().is_none());
            assert!(!store.delete(&gone.id).await.unwrap());

            // Decoded: every version still on disk, read back through Lance.
            let table = store
                .connection()
                .open_table("memories")
                .execute()
                .await
                .unwrap();
            let versions = table.list_versions().await.unwrap();
            let mut seen_kept = false;
            for v in versions {
                table.checkout(v.version).await.unwrap();
                let batches: Vec<RecordBatch> = table
                    .query()
                    .execute()
                    .await
                    .unwrap()
                    .try_collect()
                    .await
                    .unwrap();
                for b in &batches {
                    for (e, _, _) in batch_to_entries(b, false).unwrap() {
                        assert_ne!(e.id, gone.id, "version {} still holds it", v.version);
                        seen_kept |= e.id == kept.id;
                    }
                }
            }
            assert!(seen_kept, "control: the kept row must be readable");
        });
    }

    #[test]
    fn a_write_between_two_of_anothers_is_seen_by_both() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let uri = dir.path().to_str().unwrap();
            // Two handles on one directory behave as two processes: each has its own lock
            // descriptor, mirror and table handles.
            let server = Store::open(uri).await.unwrap();
            let cli = Store::open(uri).await.unwrap();
            let a1 = entry("server wrote this first", 1);
            let b1 = entry("the cli wrote this in between", 2);
            let a2 = entry("server wrote this last", 3);
            server.upsert(std::slice::from_ref(&a1)).await.unwrap();
            cli.upsert(std::slice::from_ref(&b1)).await.unwrap();
            server.upsert(std::slice::from_ref(&a2)).await.unwrap();
            // The server's own write read the cli's first, so it has it without a refresh.
            assert_eq!(server.get(&b1.id).await.unwrap(), Some(b1.clone()));
            assert!(cli.refresh().await.unwrap());
            for e in [&a1, &b1, &a2] {
                assert_eq!(cli.get(&e.id).await.unwrap().as_ref(), Some(e));
            }
        });
    }

    #[test]
    fn a_stale_copy_does_not_bring_back_what_another_process_forgot() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let uri = dir.path().to_str().unwrap();
            let server = Store::open(uri).await.unwrap();
            let cli = Store::open(uri).await.unwrap();
            let e = entry("merge target that the cli forgets", 5);
            server.upsert(std::slice::from_ref(&e)).await.unwrap();
            cli.refresh().await.unwrap();
            assert!(cli.delete(&e.id).await.unwrap());
            // The server still holds its copy and writes it back, as a merge would.
            let mut stale = server.get(&e.id).await.unwrap().unwrap();
            stale.confidence = 0.9;
            let err = server.upsert(&[stale]).await.unwrap_err();
            assert!(matches!(err, StoreError::Conflict(_)), "{err}");
            assert_eq!(server.get(&e.id).await.unwrap(), None);
            let reopened = Store::open(uri).await.unwrap();
            assert_eq!(reopened.get(&e.id).await.unwrap(), None);
            // An import restores deliberately.
            reopened
                .restore_entries(std::slice::from_ref(&e))
                .await
                .unwrap();
            assert!(reopened.get(&e.id).await.unwrap().is_some());
        });
    }

    #[test]
    fn forgetting_an_entry_removes_its_text_from_other_entries_audit_trails() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
            let newer = entry("deploy only on tuesdays with the quokka checklist", 6);
            let mut older = entry("deploy any day", 7);
            older.supersede(
                &newer.id,
                format!("contradicted by {}: {}", newer.id, newer.text),
            );
            store.upsert(&[older.clone(), newer.clone()]).await.unwrap();
            assert!(store.delete(&newer.id).await.unwrap());
            let kept = store.get(&older.id).await.unwrap().unwrap();
            assert!(kept.history.iter().all(|h| !h
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains("quokka")));
            assert!(
                !bytes_under(dir.path(), "quokka"),
                "the forgotten text is still in a file under the store"
            );
            assert!(
                bytes_under(dir.path(), "deploy any day"),
                "control: the kept text is on disk"
            );
        });
    }

    /// Whether any file under `dir` contains `needle`.
    fn bytes_under(dir: &Path, needle: &str) -> bool {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_type().is_file())
            .any(|e| {
                std::fs::read(e.path())
                    .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                    .unwrap_or(false)
            })
    }

    #[test]
    fn many_single_writes_leave_a_bounded_number_of_files() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
            let mut counts = Vec::new();
            for i in 0..160 {
                let e = entry(&format!("remembered fact number {i}"), i);
                store.upsert(std::slice::from_ref(&e)).await.unwrap();
                if i == 79 || i == 159 {
                    counts.push(store.file_count().unwrap());
                }
            }
            assert_eq!(store.list(&ListFilter::default()).await.unwrap().len(), 160);
            // Without compaction and pruning every write adds a data file, a manifest and a
            // transaction file: 80 more writes would add about 240 files.
            assert!(
                counts[1] <= counts[0] + 20,
                "file count grows with writes: {counts:?}"
            );
            assert!(counts[1] < 150, "{counts:?}");
        });
    }

    #[test]
    fn ids_that_could_inject_sql_are_refused() {
        assert!(validate_id("0190a1b2-cdef-7000-8000-000000000000").is_ok());
        assert!(matches!(
            validate_id("x' OR '1'='1"),
            Err(StoreError::InvalidId(_))
        ));
    }

    #[test]
    fn fusion_prefers_agreement_of_both_legs() {
        assert!((fuse(Some(0), Some(0)) - 1.0).abs() < 1e-6);
        assert!(fuse(Some(0), Some(3)) > fuse(Some(0), None));
        assert!(fuse(Some(1), None) < fuse(Some(0), None));
    }
}
