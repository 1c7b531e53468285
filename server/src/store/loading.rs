//! Which scopes' rows the mirror holds ([`super::Loaded`]): loading a scope when a search
//! needs it, dropping the scopes a server no longer serves, and reading the rest from disk
//! for the rarer requests (a listing, a count, a lookup by id, a write's old row).

use std::collections::{HashMap, HashSet};

use lancedb::Table;

use crate::memory::{Entry, Layer};

use super::disk::{read_rows, row_ids};
use super::rows::sql_in;
use super::{Loaded, Result, Store};

impl Store {
    /// (id, Lance row id) of the rows of `table` that the mirror holds.
    pub(super) async fn loaded_row_ids(&self, table: &Table) -> Result<Vec<(String, u64)>> {
        let rows = self.synced().loaded.rows();
        match rows {
            None => row_ids(table, None).await,
            Some(None) => Ok(Vec::new()),
            Some(filter) => row_ids(table, filter).await,
        }
    }

    /// The rows of `table` that the mirror holds, read from disk.
    pub(super) async fn loaded_rows(&self, table: &Table) -> Result<Vec<(Entry, u64)>> {
        let rows = self.synced().loaded.rows();
        match rows {
            None => read_rows(table, None).await,
            Some(None) => Ok(Vec::new()),
            Some(filter) => read_rows(table, filter).await,
        }
    }

    /// Whether the mirror holds every row of these scopes (every scope when empty), so a
    /// read of them may use it alone.
    pub(super) fn covers(&self, scopes: &[String]) -> bool {
        self.synced().loaded.covers(scopes)
    }

    /// Whether the mirror holds the rows of this scope.
    pub(super) fn holds_scope(&self, scope: &str) -> bool {
        self.synced().loaded.holds(scope)
    }

    /// Reads every row of these scopes (every scope when empty) into memory, unless it is
    /// there already. The scopes stay loaded and in step with the disk from then on.
    pub async fn load_scopes(&self, scopes: &[String]) -> Result<()> {
        if self.covers(scopes) {
            return Ok(());
        }
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        // `None`: every scope.
        let missing: Option<Vec<String>> = {
            let synced = self.synced();
            if synced.loaded.covers(scopes) {
                return Ok(());
            }
            (!scopes.is_empty()).then(|| {
                let mut m: Vec<String> = scopes
                    .iter()
                    .filter(|s| !synced.loaded.holds(s))
                    .cloned()
                    .collect();
                m.sort();
                m.dedup();
                m
            })
        };
        let filter = missing.as_ref().map(|m| sql_in("scope", m));
        let mut read = Vec::new();
        for layer in Layer::ALL {
            let table = self.table(layer);
            table.checkout_latest().await?;
            read.extend(read_rows(table, filter.clone()).await?);
        }
        let rows: Vec<(String, u64)> = read.iter().map(|(e, row)| (e.id.clone(), *row)).collect();
        let entries: Vec<Entry> = read.into_iter().map(|(e, _)| e).collect();
        tracing::debug!(
            "loaded {} entries of {}",
            entries.len(),
            missing
                .as_ref()
                .map_or("every scope".to_string(), |m| m.join(", "))
        );
        self.mirror().upsert(&entries);
        // The tables may have moved on since the other scopes were read; the next sync
        // compares row ids, and these rows' are known now.
        let mut synced = self.synced();
        synced.row_ids.extend(rows);
        match (missing, &mut synced.loaded) {
            (Some(m), Loaded::Scopes(s)) => s.extend(m),
            _ => synced.loaded = Loaded::All,
        }
        Ok(())
    }

    /// Drops from memory the rows of every scope not in `keep`; they stay on disk and come
    /// back when a request needs them.
    pub async fn retain_scopes(&self, keep: &[String]) {
        let _disk = self.disk.lock().await;
        let kept: HashSet<String> = {
            let synced = self.synced();
            keep.iter()
                .filter(|s| synced.loaded.holds(s))
                .cloned()
                .collect()
        };
        let dropped: Vec<String> = {
            let mut mirror = self.mirror();
            let ids: Vec<String> = mirror
                .entries()
                .filter(|e| !kept.contains(&e.scope))
                .map(|e| e.id.clone())
                .collect();
            for id in &ids {
                mirror.remove(id);
            }
            ids
        };
        let mut synced = self.synced();
        for id in &dropped {
            synced.row_ids.remove(id);
        }
        synced.loaded = Loaded::Scopes(kept);
        if !dropped.is_empty() {
            tracing::debug!(
                "dropped {} entries of scopes no longer served",
                dropped.len()
            );
        }
    }

    /// Entries with these ids, read from disk: for ids of scopes the mirror does not hold.
    pub(super) async fn read_ids(&self, ids: &[String]) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        if ids.is_empty() {
            return Ok(out);
        }
        for layer in Layer::ALL {
            let table = self.table(layer);
            table.checkout_latest().await?;
            out.extend(
                read_rows(table, Some(sql_in("id", ids)))
                    .await?
                    .into_iter()
                    .map(|(e, _)| e),
            );
        }
        Ok(out)
    }

    /// The layer whose table holds each of these ids, read from disk. Called with the disk
    /// lock held.
    pub(super) async fn layers_on_disk(&self, ids: &[String]) -> Result<HashMap<String, Layer>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        for layer in Layer::ALL {
            for (id, _) in row_ids(self.table(layer), Some(sql_in("id", ids))).await? {
                out.insert(id, layer);
            }
        }
        Ok(out)
    }

    /// Entries of the scopes the mirror does not hold that `keep` accepts, read from disk
    /// one table at a time. Called with the disk lock held.
    pub(super) async fn unloaded_matching(
        &self,
        keep: impl Fn(&Entry) -> bool,
    ) -> Result<Vec<Entry>> {
        let filter = match self.synced().loaded.rows() {
            None => return Ok(Vec::new()),
            Some(None) => None,
            Some(Some(loaded)) => Some(format!("NOT ({loaded})")),
        };
        let mut out = Vec::new();
        for layer in Layer::ALL {
            let rows = read_rows(self.table(layer), filter.clone()).await?;
            out.extend(rows.into_iter().map(|(e, _)| e).filter(|e| keep(e)));
        }
        Ok(out)
    }
}
