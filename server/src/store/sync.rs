//! Keeping the mirror in step with the tables on disk, which other processes (a CLI, a
//! second editor) write too: a change counter says whether anything changed, and only rows
//! with a new Lance row id are read again.

use std::collections::HashSet;

use crate::memory::{Entry, Layer};

use super::coordination::Coordination;
use super::disk::read_rows;
use super::rows::sql_in;
use super::{Result, Store};

/// Fetching rows by id beats a full scan only for a small share of the table.
const FETCH_BY_ID_MAX: usize = 256;

impl Store {
    /// Brings one layer of the mirror up to the table on disk: rows of the loaded scopes
    /// that others added or rewrote are read, rows they deleted are dropped. Called with the
    /// disk lock and a store lock held. Returns whether anything changed.
    async fn sync_layer(&self, layer: Layer) -> Result<bool> {
        let table = self.table(layer);
        table.checkout_latest().await?;
        let on_disk = table.version().await?;
        if self.synced().versions.get(&layer) == Some(&on_disk) {
            return Ok(false);
        }
        let rows = self.loaded_row_ids(table).await?;
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
            self.loaded_rows(table).await?
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
    pub(super) async fn sync_all(&self) -> Result<Vec<Layer>> {
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
}
