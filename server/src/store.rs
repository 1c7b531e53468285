//! The LanceDB store: one table per layer, a `meta` table for the schema version and the
//! embedding model, writes by id, hybrid (vector + BM25) search, and hard deletes that leave
//! no older table version behind. Nothing above this module knows Arrow.
//!
//! This file is the facade: the `Store` handle, its errors and request types, opening and
//! the locks. What it does lives in its submodules, one responsibility each.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use arrow_schema::ArrowError;
use lancedb::{Connection, Table};
use tokio::sync::Mutex;

use crate::memory::{Entry, Layer, Source, Status};

mod access;
mod compaction;
mod coordination;
mod disk;
mod id_index;
mod loading;
mod meta;
mod mirror;
mod query;
mod reference;
mod rows;
mod sync;
mod write;

use coordination::{Coordination, Held, LockError};
use disk::{create_private_dir, is_local, open_or_create};
use rows::{entry_schema, meta_schema, table_name};
use write::PendingWrite;

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
    /// What to do next differs for a directory (damaged?) and an object-store URI (`remote`:
    /// far more often a wrong URI or missing credentials than a damaged store).
    #[error(
        "the store at {uri} cannot be opened: {}. {}",
        .source.to_string().trim_end_matches('.'),
        open_hint(*.remote)
    )]
    Open {
        uri: String,
        source: lancedb::Error,
        remote: bool,
    },
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
    /// The part of the filter the mirror checks on its packed slot codes, before it reads a
    /// row ([`ListFilter::matches`] checks the rest).
    fn in_slot_terms(&self) -> mirror::Filter {
        mirror::Filter {
            layers: self.layers.clone(),
            scopes: self.scopes.clone(),
            statuses: self.statuses.clone(),
        }
    }

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
    /// Tables from this many rows get an index on `id` ([`id_index::ID_INDEX_FROM`]; tests
    /// lower it).
    id_index_from: usize,
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
    /// The scopes whose rows the mirror holds.
    loaded: Loaded,
}

/// Which rows the mirror holds: every row, or those of some scopes. A server holds the
/// scopes of the workspaces it serves (plus `user`), so its memory follows the work in
/// hand, not the size of the store; a read of any other scope loads it (a search) or reads
/// it from disk (a listing, a count), and a write of one goes to disk only.
#[derive(Debug, Clone, Default)]
enum Loaded {
    #[default]
    All,
    Scopes(HashSet<String>),
}

impl Loaded {
    fn holds(&self, scope: &str) -> bool {
        match self {
            Loaded::All => true,
            Loaded::Scopes(s) => s.contains(scope),
        }
    }

    /// Whether every row of these scopes is in the mirror; no scopes means every scope.
    fn covers(&self, scopes: &[String]) -> bool {
        match self {
            Loaded::All => true,
            Loaded::Scopes(s) => !scopes.is_empty() && scopes.iter().all(|x| s.contains(x)),
        }
    }

    /// The rows of a table the mirror holds, as a LanceDB filter: `None` for every row,
    /// `Some(None)` for no row at all.
    fn rows(&self) -> Option<Option<String>> {
        match self {
            Loaded::All => None,
            Loaded::Scopes(s) if s.is_empty() => Some(None),
            Loaded::Scopes(s) => {
                let mut scopes: Vec<String> = s.iter().cloned().collect();
                scopes.sort();
                Some(Some(rows::sql_in("scope", &scopes)))
            }
        }
    }
}

/// How long a commit may retry against other writers' commits before it fails. Lance's own
/// default is 30 s; on a team store each retry is a round of object-storage requests, and with
/// several machines writing a write could run out of time ("Too many concurrent writers")
/// although waiting longer would have committed it. The CLI gives it to Lance through
/// `LANCE_COMMIT_RETRY_TIMEOUT_SECS` (appends, deletes' commits) and upserts set it per call.
pub const COMMIT_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);

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

/// The next step [`StoreError::Open`] suggests.
fn open_hint(remote: bool) -> &'static str {
    if remote {
        "Check the URI, the credentials in the environment (AWS_* for s3://, AZURE_* for az://) \
         and that the bucket can be reached"
    } else {
        "If it is damaged, move it aside (your memories can be restored from a `tacit export` \
         file) or point --store elsewhere"
    }
}

/// What LanceDB may cache of a local store's table metadata (manifests, fragments, deletion
/// files) and indices. Its defaults (1 GiB and 6 GiB) suit a database that serves reads;
/// here the mirror serves them, and every batch of access counts and every remember makes a
/// new table version whose metadata the cache kept: a server that had served 1,000 contexts
/// held 21 MB more than after one; with 1 MiB, 2 MB more. A local store rereads what it
/// needs from the page cache. The team store keeps LanceDB's own session: a miss there is a
/// request to the bucket, and its concurrent writers have not been tested with another.
const LANCE_CACHE_BYTES_LOCAL: usize = 1 << 20;

impl Store {
    /// Opens (creating if needed) the store at `uri`, a local directory or an object-store
    /// URI, and reads every row into memory.
    pub async fn open(uri: &str) -> Result<Store> {
        Store::open_loading(uri, Loaded::All).await
    }

    /// Opens the store reading only these scopes' rows into memory; others are read when a
    /// request needs them (see [`Loaded`]).
    pub async fn open_scopes(uri: &str, scopes: &[String]) -> Result<Store> {
        Store::open_loading(uri, Loaded::Scopes(scopes.iter().cloned().collect())).await
    }

    async fn open_loading(uri: &str, loaded: Loaded) -> Result<Store> {
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
            remote: !is_local(uri),
        };
        let mut connect = lancedb::connect(uri);
        if is_local(uri) {
            connect = connect.session(Arc::new(lancedb::Session::new(
                LANCE_CACHE_BYTES_LOCAL,
                LANCE_CACHE_BYTES_LOCAL,
                Arc::new(lancedb::ObjectStoreRegistry::default()),
            )));
        }
        let db = connect.execute().await.map_err(open_err)?;
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
            synced: std::sync::Mutex::new(Synced {
                loaded,
                ..Synced::default()
            }),
            pending_access: std::sync::Mutex::new(HashMap::new()),
            queue: std::sync::Mutex::new(Vec::new()),
            commits_since_compaction: AtomicUsize::new(0),
            dirty: std::sync::Mutex::new(HashSet::new()),
            changes: tokio::sync::broadcast::channel(64).0,
            id_index_from: id_index::ID_INDEX_FROM,
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
        // The loaded scopes' rows are read into the mirror: nothing is known yet.
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

    /// The database handle, for tests that inspect older table versions.
    pub fn connection(&self) -> &Connection {
        &self.db
    }
}

/// Reciprocal-rank fusion (k = 60), scaled so that rank 0 in both legs is 1.0.
fn fuse(vector_rank: Option<usize>, text_rank: Option<usize>) -> f32 {
    const K: f32 = 60.0;
    let part = |r: Option<usize>| r.map(|r| 1.0 / (K + r as f32)).unwrap_or(0.0);
    (part(vector_rank) + part(text_rank)) / (2.0 / K)
}

#[cfg(test)]
mod tests;
