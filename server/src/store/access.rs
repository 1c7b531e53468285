//! Access counts: counted at once in the mirror, so the next score sees them, and written to
//! disk in batches, so that serving a context does not cost a table version.

use std::collections::HashMap;

use crate::memory::Layer;

use super::rows::sql_in;
use super::{validate_id, Result, Store};

impl Store {
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
}
