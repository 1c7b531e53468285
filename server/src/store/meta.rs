//! The `meta` table: schema version, embedding model, dimension, and the ids of extracted
//! entries the user forgot. Small key/value rows, read and written under the store lock.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray};
use futures::TryStreamExt;
use lancedb::query::{ExecutableQuery, QueryBase};

use super::rows::{meta_schema, reader, sql_str};
use super::{Result, Store};

impl Store {
    pub(super) async fn meta_read(&self, key: &str) -> Result<Option<String>> {
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
    pub(super) async fn meta_write(&self, key: &str, value: &str) -> Result<()> {
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
}
