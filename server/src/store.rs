//! The LanceDB store: one table per layer, a `meta` table for the schema version and the
//! embedding model, writes by id, hybrid (vector + BM25) search, and hard deletes that leave
//! no older table version behind. Nothing above this module knows Arrow.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    Array, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, RecordBatchIterator,
    RecordBatchReader, StringArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use futures::TryStreamExt;
use lancedb::index::scalar::{FtsIndexBuilder, FullTextSearchQuery};
use lancedb::index::Index;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::{CompactionOptions, Duration, OptimizeAction};
use lancedb::{Connection, DistanceType, Table};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::memory::{AuditEvent, Entry, Evidence, Layer, Period, Source, Status, Step};

mod mirror;

/// Bumped whenever the table layout changes; a store written by a newer tacit is refused
/// rather than misread.
pub const SCHEMA_VERSION: u32 = 1;
/// Every embedder tacit ships produces vectors of this length, so that switching between the
/// model and the fallback only re-embeds and never changes the table layout.
pub const DIMENSION: usize = 384;
const FTS_COLUMN: &str = "search_text";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock {path} while opening the store: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
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
    /// Writers queue here so that Lance never has to retry conflicting commits of ours; it
    /// is a dedicated lock, so readers never wait on it.
    write_lock: Mutex<()>,
    /// Every row in memory, for the hot path; a plain lock, never held across an await.
    mirror: std::sync::Mutex<mirror::Mirror>,
    /// The table versions the mirror reflects; another process's write shows up as a newer
    /// version on disk (see [`Store::refresh`]).
    versions: std::sync::Mutex<HashMap<Layer, u64>>,
    /// Accesses counted in memory and not yet written: (layer, id) → (count, latest time).
    pending_access: std::sync::Mutex<HashMap<(Layer, String), (u32, i64)>>,
}

/// Layer-specific and structured fields, stored as one JSON column: they are read back whole
/// and never filtered on inside LanceDB.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Extra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    examples: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<Period>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commits: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<AuditEvent>,
}

fn table_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Memory => "memories",
        Layer::Episode => "episodes",
        Layer::Procedure => "procedures",
        Layer::Pinned => "pinned",
    }
}

fn entry_schema() -> SchemaRef {
    let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        utf8("id", false),
        utf8("scope", false),
        utf8("layer", false),
        utf8("key", true),
        utf8("language", true),
        utf8("value", true),
        utf8("text", false),
        // What BM25 searches: the sentence plus the slot (`stack.async_runtime: tokio`) and
        // tags, so that "what is our stack" finds facts whose sentence never says "stack".
        utf8("search_text", false),
        Field::new(
            "vector",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                DIMENSION as i32,
            ),
            false,
        ),
        Field::new("importance", DataType::Float32, false),
        Field::new("confidence", DataType::Float32, false),
        Field::new("access_count", DataType::Int64, false),
        Field::new("created_at", DataType::Int64, false),
        Field::new("updated_at", DataType::Int64, false),
        Field::new("last_accessed_at", DataType::Int64, false),
        utf8("source", false),
        utf8("status", false),
        utf8("superseded_by", true),
        utf8("tags", false),
        utf8("extra", false),
    ]))
}

fn meta_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ]))
}

/// Quotes a string for a Lance SQL filter.
fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_in(column: &str, values: &[String]) -> String {
    let list: Vec<String> = values.iter().map(|v| sql_str(v)).collect();
    format!("{column} IN ({})", list.join(", "))
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

/// What BM25 matches: the sentence, the structured slot and the tags.
fn search_text(e: &Entry) -> String {
    let mut s = e.embedding_text();
    for tag in &e.tags {
        s.push(' ');
        s.push_str(tag);
    }
    s
}

fn entries_to_batch(entries: &[&Entry]) -> Result<RecordBatch> {
    for e in entries {
        if e.vector.len() != DIMENSION {
            return Err(StoreError::Dimension {
                got: e.vector.len(),
            });
        }
    }
    let strings = |f: &dyn Fn(&Entry) -> String| {
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| f(e))))
    };
    let opt_strings = |f: &dyn Fn(&Entry) -> Option<String>| {
        Arc::new(StringArray::from_iter(entries.iter().map(|e| f(e))))
    };
    let ints = |f: &dyn Fn(&Entry) -> i64| {
        Arc::new(Int64Array::from_iter_values(entries.iter().map(|e| f(e))))
    };
    let floats = |f: &dyn Fn(&Entry) -> f32| {
        Arc::new(Float32Array::from_iter_values(entries.iter().map(|e| f(e))))
    };
    let vectors = FixedSizeListArray::from_iter_primitive::<arrow_array::types::Float32Type, _, _>(
        entries
            .iter()
            .map(|e| Some(e.vector.iter().map(|v| Some(*v)).collect::<Vec<_>>())),
        DIMENSION as i32,
    );
    let extra = |e: &Entry| {
        serde_json::to_string(&Extra {
            evidence: e.evidence,
            examples: e.examples.clone(),
            steps: e.steps.clone(),
            trigger: e.trigger.clone(),
            period: e.period,
            commits: e.commits,
            paths: e.paths.clone(),
            history: e.history.clone(),
        })
        .unwrap_or_else(|_| "{}".to_string())
    };
    let batch = RecordBatch::try_new(
        entry_schema(),
        vec![
            strings(&|e| e.id.clone()),
            strings(&|e| e.scope.clone()),
            strings(&|e| e.layer.as_str().to_string()),
            opt_strings(&|e| e.key.clone()),
            opt_strings(&|e| e.language.clone()),
            opt_strings(&|e| e.value.clone()),
            strings(&|e| e.text.clone()),
            strings(&search_text),
            Arc::new(vectors),
            floats(&|e| e.importance),
            floats(&|e| e.confidence),
            ints(&|e| i64::from(e.access_count)),
            ints(&|e| e.created_at),
            ints(&|e| e.updated_at),
            ints(&|e| e.last_accessed_at),
            strings(&|e| e.source.as_str().to_string()),
            strings(&|e| e.status.as_str().to_string()),
            opt_strings(&|e| e.superseded_by.clone()),
            strings(&|e| serde_json::to_string(&e.tags).unwrap_or_else(|_| "[]".into())),
            strings(&extra),
        ],
    )?;
    Ok(batch)
}

/// An entry read back, with the `_distance` and `_score` columns a search adds.
type ReadRow = (Entry, Option<f32>, Option<f32>);
/// An entry with its (rank, score) in the vector leg and in the full-text leg.
type Legs = (Entry, Option<(usize, f32)>, Option<(usize, f32)>);

/// Reads rows back into entries.
fn batch_to_entries(batch: &RecordBatch, lossy: bool) -> Result<Vec<ReadRow>> {
    let column = |name: &str| batch.column_by_name(name);
    let string_col = |name: &str| -> Result<&StringArray> {
        column(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| StoreError::Corrupt {
                id: String::new(),
                reason: format!("column `{name}` is missing or not text"),
            })
    };
    let i64_col = |name: &str| column(name).and_then(|c| c.as_any().downcast_ref::<Int64Array>());
    let f32_col = |name: &str| column(name).and_then(|c| c.as_any().downcast_ref::<Float32Array>());

    let ids = string_col("id")?;
    let scopes = string_col("scope")?;
    let layers = string_col("layer")?;
    let keys = string_col("key")?;
    let languages = string_col("language")?;
    let values = string_col("value")?;
    let texts = string_col("text")?;
    let sources = string_col("source")?;
    let statuses = string_col("status")?;
    let superseded = string_col("superseded_by")?;
    let tags = string_col("tags")?;
    let extras = string_col("extra")?;
    let importance = f32_col("importance");
    let confidence = f32_col("confidence");
    let access = i64_col("access_count");
    let created = i64_col("created_at");
    let updated = i64_col("updated_at");
    let accessed = i64_col("last_accessed_at");
    let vectors = column("vector").and_then(|c| c.as_any().downcast_ref::<FixedSizeListArray>());
    let distance = f32_col("_distance");
    let score = f32_col("_score");

    let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let row = (|| -> Result<ReadRow> {
            let id = ids.value(i).to_string();
            let corrupt = |reason: String| StoreError::Corrupt {
                id: id.clone(),
                reason,
            };
            let extra: Extra = serde_json::from_str(extras.value(i))
                .map_err(|e| corrupt(format!("extra: {e}")))?;
            let vector = vectors
                .map(|v| {
                    let values = v.value(i);
                    values
                        .as_any()
                        .downcast_ref::<Float32Array>()
                        .map(|f| f.values().to_vec())
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let entry = Entry {
                scope: scopes.value(i).to_string(),
                layer: layers
                    .value(i)
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                text: texts.value(i).to_string(),
                vector,
                importance: importance.map(|a| a.value(i)).unwrap_or(0.5),
                confidence: confidence.map(|a| a.value(i)).unwrap_or(0.5),
                access_count: access
                    .map(|a| a.value(i).clamp(0, u32::MAX as i64) as u32)
                    .unwrap_or(0),
                created_at: created.map(|a| a.value(i)).unwrap_or(0),
                updated_at: updated.map(|a| a.value(i)).unwrap_or(0),
                last_accessed_at: accessed.map(|a| a.value(i)).unwrap_or(0),
                source: sources
                    .value(i)
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                status: statuses
                    .value(i)
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                superseded_by: opt(superseded, i),
                tags: serde_json::from_str(tags.value(i))
                    .map_err(|e| corrupt(format!("tags: {e}")))?,
                key: opt(keys, i),
                language: opt(languages, i),
                value: opt(values, i),
                evidence: extra.evidence,
                examples: extra.examples,
                steps: extra.steps,
                trigger: extra.trigger,
                period: extra.period,
                commits: extra.commits,
                paths: extra.paths,
                history: extra.history,
                id,
            };
            let dist = distance.and_then(|d| (!d.is_null(i)).then(|| d.value(i)));
            let bm25 = score.and_then(|s| (!s.is_null(i)).then(|| s.value(i)));
            Ok((entry, dist, bm25))
        })();
        match row {
            Ok(row) => out.push(row),
            // One damaged row must not take every other memory with it: it is left out
            // (still on disk, untouched) and named in the log.
            Err(e) if lossy => tracing::warn!("skipping an unreadable stored entry: {e}"),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn reader(batch: RecordBatch) -> Box<dyn RecordBatchReader + Send> {
    let schema = batch.schema();
    Box::new(RecordBatchIterator::new(vec![Ok(batch)], schema))
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

/// Takes an exclusive advisory lock, released when the returned file is dropped.
async fn lock_file(path: PathBuf) -> Result<std::fs::File> {
    let err = |source| StoreError::Lock {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| err(std::io::Error::other(e)))?
        .map_err(err)
}

fn is_local(uri: &str) -> bool {
    !uri.contains("://") || uri.starts_with("file://")
}

/// Opens a table, creating it if needed. Two processes starting on a new store race to
/// create the same tables; the loser opens what the winner created.
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

impl Store {
    /// Opens (creating if needed) the store at `uri`: a local directory or an object-store URI.
    pub async fn open(uri: &str) -> Result<Store> {
        // Two processes starting on a new store (two editors opening at once) would race to
        // create the same tables; an advisory lock on a local store makes them take turns.
        let _init_lock = if is_local(uri) {
            let dir = Path::new(uri.trim_start_matches("file://"));
            create_private_dir(dir)?;
            Some(lock_file(dir.join(".tacit-open.lock")).await?)
        } else {
            None
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
            write_lock: Mutex::new(()),
            mirror: std::sync::Mutex::new(mirror::Mirror::default()),
            versions: std::sync::Mutex::new(HashMap::new()),
            pending_access: std::sync::Mutex::new(HashMap::new()),
        };
        match store.meta_get("schema_version").await? {
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
                    .meta_set("schema_version", &SCHEMA_VERSION.to_string())
                    .await?;
                // Recorded so that a store can be read, or re-embedded, knowing its vectors.
                store.meta_set("dimension", &DIMENSION.to_string()).await?;
            }
        }
        // No table version is known yet, so this reads every table into the mirror.
        store.refresh().await?;
        Ok(store)
    }

    /// Records the version a table is at after a write of ours, so that [`Store::refresh`]
    /// only reloads for writes made elsewhere. Called with the write lock held.
    async fn note_version(&self, layer: Layer) -> Result<()> {
        let v = self.table(layer).version().await?;
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(layer, v);
        Ok(())
    }

    /// Picks up what other processes (a CLI, a second editor) wrote to this store: a table
    /// whose latest version on disk is not the one the mirror reflects is read again (at
    /// open, every table). Cheap when nothing changed; the LSP server calls it every few
    /// seconds. Returns whether anything was reloaded.
    pub async fn refresh(&self) -> Result<bool> {
        let _guard = self.write_lock.lock().await;
        let mut reloaded = false;
        for layer in Layer::ALL {
            let table = self.table(layer);
            table.checkout_latest().await?;
            let on_disk = table.version().await?;
            let known = self
                .versions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&layer)
                .copied();
            if known == Some(on_disk) {
                continue;
            }
            let rows = self.query_rows(layer, None).await?;
            {
                let mut mirror = self.mirror();
                let stale: Vec<String> = mirror
                    .entries()
                    .filter(|e| e.layer == layer)
                    .map(|e| e.id.clone())
                    .collect();
                for id in stale {
                    mirror.remove(&id);
                }
                mirror.upsert(&rows);
            }
            self.note_version(layer).await?;
            reloaded = true;
        }
        Ok(reloaded)
    }

    fn mirror(&self) -> std::sync::MutexGuard<'_, mirror::Mirror> {
        // A panic while the lock was held leaves a mirror that is at worst one write behind;
        // serving it beats refusing every read.
        self.mirror.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uri(&self) -> &str {
        &self.uri
    }

    fn table(&self, layer: Layer) -> &Table {
        // Every layer's table is opened in `open`, so the map is total.
        &self.tables[&layer]
    }

    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
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

    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        let batch = RecordBatch::try_new(
            meta_schema(),
            vec![
                Arc::new(StringArray::from(vec![key])),
                Arc::new(StringArray::from(vec![value])),
            ],
        )?;
        let _guard = self.write_lock.lock().await;
        let mut merge = self.meta.merge_insert(&["key"]);
        merge
            .when_matched_update_all(None)
            .when_not_matched_insert_all();
        merge.execute(reader(batch)).await?;
        Ok(())
    }

    /// Ids of extracted entries the user forgot; extraction must not bring them back.
    pub async fn forgotten(&self) -> Result<std::collections::HashSet<String>> {
        Ok(match self.meta_get("forgotten").await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Default::default(),
        })
    }

    pub async fn add_forgotten(&self, id: &str) -> Result<()> {
        let mut ids: Vec<String> = self.forgotten().await?.into_iter().collect();
        ids.push(id.to_string());
        ids.sort();
        ids.dedup();
        let json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
        self.meta_set("forgotten", &json).await
    }

    /// Writes entries, replacing any row with the same id.
    pub async fn upsert(&self, entries: &[Entry]) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        for layer in Layer::ALL {
            let of_layer: Vec<&Entry> = entries.iter().filter(|e| e.layer == layer).collect();
            if of_layer.is_empty() {
                continue;
            }
            // The same id twice in one merge is an error in Lance; the last one wins here.
            let mut last: HashMap<&str, &Entry> = HashMap::new();
            for e in &of_layer {
                last.insert(e.id.as_str(), e);
            }
            let unique: Vec<&Entry> = of_layer
                .into_iter()
                .filter(|e| {
                    last.get(e.id.as_str())
                        .is_some_and(|l| std::ptr::eq(*l, *e))
                })
                .collect();
            let batch = entries_to_batch(&unique)?;
            let table = self.table(layer);
            let mut merge = table.merge_insert(&["id"]);
            merge
                .when_matched_update_all(None)
                .when_not_matched_insert_all();
            merge.execute(reader(batch)).await?;
            let written: Vec<Entry> = unique.iter().map(|e| (*e).clone()).collect();
            self.mirror().upsert(&written);
            self.ensure_fts_index(table).await?;
            self.note_version(layer).await?;
        }
        Ok(())
    }

    /// Adds entries whose ids are new to the store in one write per layer, without the
    /// merge an upsert does: bulk loads (benchmarks, a fresh import) of many rows.
    pub async fn append(&self, entries: &[Entry]) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        for layer in Layer::ALL {
            let of_layer: Vec<&Entry> = entries.iter().filter(|e| e.layer == layer).collect();
            if of_layer.is_empty() {
                continue;
            }
            let table = self.table(layer);
            table.add(entries_to_batch(&of_layer)?).execute().await?;
            let written: Vec<Entry> = of_layer.into_iter().cloned().collect();
            self.mirror().upsert(&written);
            self.ensure_fts_index(table).await?;
            self.note_version(layer).await?;
        }
        Ok(())
    }

    /// BM25 search needs an inverted index; rows added after it was built are still searched
    /// (flat), so building it once per table is enough until the next compaction.
    async fn ensure_fts_index(&self, table: &Table) -> Result<()> {
        let has_index = table
            .list_indices()
            .await?
            .iter()
            .any(|i| i.columns.iter().any(|c| c == FTS_COLUMN));
        if !has_index && table.count_rows(None).await? > 0 {
            table
                .create_index(&[FTS_COLUMN], Index::FTS(FtsIndexBuilder::default()))
                .execute()
                .await?;
        }
        Ok(())
    }

    async fn query_rows(&self, layer: Layer, filter: Option<String>) -> Result<Vec<Entry>> {
        let mut query = self.table(layer).query();
        if let Some(f) = filter {
            query = query.only_if(f);
        }
        let batches: Vec<RecordBatch> = query.execute().await?.try_collect().await?;
        let mut out = Vec::new();
        for batch in &batches {
            out.extend(
                batch_to_entries(batch, true)?
                    .into_iter()
                    .map(|(e, _, _)| e),
            );
        }
        Ok(out)
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
        let mut out = Vec::new();
        for layer in layers {
            out.extend(self.query_rows(layer, where_clause.clone()).await?);
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
        for layer in layers {
            let table = self.table(layer);
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

    /// Hard delete: the row, its vector and every older table version that held it.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        validate_id(id)?;
        let Some(entry) = self.get(id).await? else {
            return Ok(false);
        };
        let _guard = self.write_lock.lock().await;
        let table = self.table(entry.layer);
        table
            .delete(format!("id = {}", sql_str(id)).as_str())
            .await?;
        self.mirror().remove(id);
        self.purge_history(table).await?;
        self.note_version(entry.layer).await?;
        Ok(true)
    }

    /// Rewrites the table so that no file, index or manifest still holds deleted rows.
    async fn purge_history(&self, table: &Table) -> Result<()> {
        // A compaction only rewrites fragments above a share of deleted rows; zero makes it
        // rewrite every fragment that lost a row, so the deleted text leaves the data files.
        let options = CompactionOptions {
            materialize_deletions: true,
            materialize_deletions_threshold: 0.0,
            ..CompactionOptions::default()
        };
        table
            .optimize(OptimizeAction::Compact {
                options,
                remap_options: None,
            })
            .await?;
        // The inverted index lists the deleted row's tokens; rebuilding it (or dropping it
        // when the table is empty) leaves the old index files unreferenced for the prune.
        let indices = table.list_indices().await?;
        for index in indices
            .iter()
            .filter(|i| i.columns.iter().any(|c| c == FTS_COLUMN))
        {
            table.drop_index(&index.name).await?;
        }
        self.ensure_fts_index(table).await?;
        table
            .optimize(OptimizeAction::Prune {
                older_than: Some(Duration::zero()),
                delete_unverified: Some(true),
                error_if_tagged_old_versions: Some(false),
            })
            .await?;
        Ok(())
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
        let _guard = self.write_lock.lock().await;
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
        for layer in touched {
            self.note_version(layer).await?;
        }
        Ok(pending.len())
    }

    /// Row counts per layer and status.
    pub async fn counts(&self) -> Result<Vec<(Layer, Status, usize)>> {
        let mut out = Vec::new();
        for layer in Layer::ALL {
            for status in [Status::Active, Status::Superseded, Status::Expired] {
                let n = self
                    .table(layer)
                    .count_rows(Some(format!("status = {}", sql_str(status.as_str()))))
                    .await?;
                out.push((layer, status, n));
            }
        }
        Ok(out)
    }

    /// Compacts small files left by single-row writes; search slows down without it.
    pub async fn compact(&self) -> Result<()> {
        let _guard = self.write_lock.lock().await;
        for layer in Layer::ALL {
            self.table(layer)
                .optimize(OptimizeAction::Compact {
                    options: CompactionOptions::default(),
                    remap_options: None,
                })
                .await?;
            self.note_version(layer).await?;
        }
        Ok(())
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
