//! The store's footprint on disk: its private directory, opening (or creating) its LanceDB
//! tables, and reading rows together with their Lance row ids.

use std::collections::HashMap;
use std::path::Path;

use arrow_array::{Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::SchemaRef;
use futures::TryStreamExt;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::{Connection, Table};

use super::rows::batch_to_entries;
use super::{Result, Store, StoreError};
use crate::memory::Entry;

pub(super) fn create_private_dir(path: &Path) -> Result<()> {
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

pub(super) fn is_local(uri: &str) -> bool {
    !uri.contains("://") || uri.starts_with("file://")
}

/// Opens a table, creating it if needed.
pub(super) async fn open_or_create(
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

/// (id, Lance row id) of every row of a table, or of the rows the filter selects.
pub(super) async fn row_ids(table: &Table, filter: Option<String>) -> Result<Vec<(String, u64)>> {
    let mut query = table.query().select(Select::columns(&["id"])).with_row_id();
    if let Some(f) = filter {
        query = query.only_if(f);
    }
    let batches: Vec<RecordBatch> = query.execute().await?.try_collect().await?;
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
pub(super) async fn read_rows(table: &Table, filter: Option<String>) -> Result<Vec<(Entry, u64)>> {
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
}
