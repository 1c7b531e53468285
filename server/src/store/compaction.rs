//! Compaction: merging the small fragments single writes leave and pruning every older
//! table version, so that neither the file count nor the cost of a write grows with the
//! number of writes, and a forgotten text leaves the data files.

use std::sync::atomic::Ordering;

use lancedb::table::{CompactionOptions, Duration, OptimizeAction};
use lancedb::Table;

use crate::memory::Layer;

use super::disk::row_ids;
use super::{Result, Store, FTS_COLUMN};

/// Small fragments are merged once a process has made this many commits; with at most
/// [`FRAGMENT_ROWS`] rows per merged fragment the merge rewrites only the recent tail.
pub(super) const COMPACT_EVERY: usize = 16;
const FRAGMENT_ROWS: usize = 4096;

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

/// How old a version of a store on object storage must be before a routine merge removes
/// it: no lock keeps other machines from reading or committing on top of an older version,
/// and an hour is far longer than any of their reads or commits takes.
const SHARED_PRUNE_MARGIN_MINUTES: i64 = 60;

/// Removes versions older than `older_than`. Every version but the latest (zero) is safe only
/// under the exclusive store lock: no tacit process is then reading an older version or
/// committing. Files no manifest references (a crashed writer's) are left to LanceDB's own
/// seven-day margin.
async fn prune_old_versions(table: &Table, older_than: Duration) -> Result<()> {
    table
        .optimize(OptimizeAction::Prune {
            older_than: Some(older_than),
            delete_unverified: Some(false),
            error_if_tagged_old_versions: Some(false),
        })
        .await?;
    Ok(())
}

impl Store {
    /// Merges small fragments and removes old versions, so that neither the file count nor
    /// the cost of a write grows with the number of writes. Called with the exclusive lock.
    pub(super) async fn merge_fragments(
        &self,
        layers: &[Layer],
        materialize_all: bool,
    ) -> Result<()> {
        self.commits_since_compaction.store(0, Ordering::Relaxed);
        // A forget removes every older version wherever the store is: that is what forget
        // means. A routine merge on object storage leaves the recent ones to other machines.
        let older_than = if materialize_all || self.coordination.is_some() {
            Duration::zero()
        } else {
            Duration::minutes(SHARED_PRUNE_MARGIN_MINUTES)
        };
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
            prune_old_versions(table, older_than).await?;
            if self.coordination.is_none() {
                // Other machines may have committed meanwhile: what the mirror holds is not
                // known to be the table's content, so the next sync compares the row ids.
                self.synced().versions.remove(&layer);
                continue;
            }
            // The content is what the mirror holds; only the rows' addresses moved.
            let rows = row_ids(table).await?;
            let version = table.version().await?;
            let mut synced = self.synced();
            synced.row_ids.extend(rows);
            synced.versions.insert(layer, version);
        }
        self.meta.checkout_latest().await?;
        prune_old_versions(&self.meta, older_than).await?;
        self.bump();
        Ok(())
    }

    /// Merges small files left by single-row writes and removes old versions.
    pub async fn compact(&self) -> Result<()> {
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        let changed = self.sync_all().await?;
        self.announce(changed);
        self.merge_fragments(&Layer::ALL, false).await
    }
}
