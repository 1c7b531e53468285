//! The one write path: group commits of upserts (a write joins a queue and whoever holds
//! the disk lock next commits the whole queue), bulk appends, and hard deletes. Every write
//! first syncs with what other processes committed, under the exclusive store lock.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use crate::memory::{Entry, Layer};
use crate::vector::DIMENSION;

use super::compaction::COMPACT_EVERY;
use super::rows::{entries_to_batch, reader, sql_in, sql_str};
use super::{validate_id, Result, Store, StoreError};

/// How a write treats ids that were deleted since this process read them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// A copy of a deleted entry is refused with [`StoreError::Conflict`].
    Update,
    /// Written whatever happened to the id (import restores what it is given).
    Restore,
}

pub(super) struct PendingWrite {
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

impl Store {
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
        let due = if self.coordination.is_some() {
            self.commits_since_compaction
                .fetch_add(1, Ordering::Relaxed)
                + 1
                >= COMPACT_EVERY
        } else {
            // On object storage only the layers `note_written` found due are dirty.
            !self
                .dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
        };
        if due {
            let dirty: Vec<Layer> = self
                .dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain()
                .collect();
            // The rows are committed whatever the merge does: failing the write now would
            // make its caller write them again. On a local store the next merge takes the
            // layers up again; on object storage the writer of the next multiple does.
            if let Err(e) = self.merge_fragments(&dirty, false).await {
                tracing::warn!("merging small files failed (the write is committed): {e}");
                if self.coordination.is_some() {
                    self.dirty
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(dirty);
                }
            }
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
        let mut stored: HashMap<String, Layer> = {
            let mirror = self.mirror();
            unique
                .iter()
                .filter_map(|e| mirror.get(&e.id).map(|m| (e.id.clone(), m.layer)))
                .collect()
        };
        // An entry of a scope the mirror does not hold may be on disk all the same.
        let unloaded: Vec<String> = unique
            .iter()
            .filter(|e| !stored.contains_key(&e.id) && !self.holds_scope(&e.scope))
            .map(|e| e.id.clone())
            .collect();
        stored.extend(self.layers_on_disk(&unloaded).await?);
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
                if self.coordination.is_none() {
                    // Other machines' commits are what it retries against (see COMMIT_BUDGET).
                    merge.timeout(super::COMMIT_BUDGET);
                }
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
        self.mirror_written(&written);
        self.note_written(&written, &touched).await?;
        Ok(())
    }

    /// After a write of ours: on a local store the tables' new versions hold nothing we have
    /// not seen, since we synced under the same exclusive lock. On object storage another
    /// machine may have committed between our sync and our commit (LanceDB rebases an append
    /// on theirs): unless our version directly follows the one we synced with, it is left
    /// unrecorded and the next sync reads the table's ids. The written rows' new row ids are
    /// unknown until the next sync reads them.
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
            if self.coordination.is_some() {
                synced.versions.extend(versions.iter().copied());
            } else {
                for (layer, version) in &versions {
                    // Our commit came right after the version we synced with: nobody else
                    // committed in between, so there is nothing of theirs to read.
                    if synced.versions.get(layer).map(|v| v + 1) == Some(*version) {
                        synced.versions.insert(*layer, *version);
                    } else {
                        synced.versions.remove(layer);
                    }
                }
            }
        }
        let mut dirty = self.dirty.lock().unwrap_or_else(|e| e.into_inner());
        if self.coordination.is_some() {
            dirty.extend(touched.iter().copied());
        } else {
            // On object storage no lock keeps two machines from merging the same small files
            // at once, and the loser's rewritten files would stay behind, unreferenced, with
            // copies of the rows. So a layer is merged only by the writer whose commit gave
            // its table a version that is a multiple of COMPACT_EVERY: each version is made
            // by exactly one commit, so exactly one machine merges.
            dirty.extend(
                versions
                    .iter()
                    .filter(|(_, v)| v % COMPACT_EVERY as u64 == 0)
                    .map(|(layer, _)| *layer),
            );
        }
        drop(dirty);
        self.bump();
        self.announce(touched.to_vec());
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
        self.mirror_written(entries);
        self.note_written(entries, &touched).await?;
        // A bulk load is what makes a table large at once; its lookups are indexed from now
        // on, not from the first merge after it. The rows are committed whatever this does.
        if let Err(e) = self.index_ids(&touched).await {
            tracing::warn!("indexing the ids after a bulk load failed: {e}");
        }
        Ok(())
    }

    /// Puts what was just written into the mirror, as far as it holds the entries' scopes;
    /// an entry that moved to a scope it does not hold leaves it.
    fn mirror_written(&self, written: &[Entry]) {
        let (held, elsewhere): (Vec<&Entry>, Vec<&Entry>) =
            written.iter().partition(|e| self.holds_scope(&e.scope));
        let held: Vec<Entry> = held.into_iter().cloned().collect();
        let mut mirror = self.mirror();
        for e in elsewhere {
            mirror.remove(&e.id);
        }
        mirror.upsert(&held);
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
        let in_mirror = self.mirror().get(id);
        let Some(entry) = (match in_mirror {
            Some(e) => Some(e),
            None => self.read_ids(&[id.to_string()]).await?.pop(),
        }) else {
            return Ok(false);
        };
        // "contradicted by <id>: <its text>" and the like would keep the forgotten words,
        // in whatever scope they are.
        let mentions_it = |e: &Entry| {
            e.id != id
                && e.history.iter().any(|h| {
                    h.detail
                        .as_deref()
                        .is_some_and(|d| d.contains(id) || d.contains(entry.text.as_str()))
                })
        };
        let mut mentions = self.mirror().collect(&Default::default(), mentions_it);
        mentions.extend(self.unloaded_matching(mentions_it).await?);
        let mentions: Vec<Entry> = mentions
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
}
