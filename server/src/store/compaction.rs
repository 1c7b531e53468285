//! Compaction: merging the small fragments single writes leave and pruning every older
//! table version, so that neither the file count nor the cost of a write grows with the
//! number of writes, and a forgotten text leaves the data files.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use lance::dataset::index::DatasetIndexRemapperOptions;
use lance::dataset::optimize::{commit_compaction, plan_compaction, RewriteResult};
use lance::table::format::Fragment;
use lance::Dataset;
use lancedb::table::{CompactionOptions, Duration, OptimizeAction};
use lancedb::Table;

use crate::memory::Layer;

use super::{Result, Store, StoreError, FTS_COLUMN};

/// Small fragments are merged once a process has made this many commits; with at most
/// [`FRAGMENT_ROWS`] rows per merged fragment the merge rewrites only the recent tail.
pub(super) const COMPACT_EVERY: usize = 16;
const FRAGMENT_ROWS: usize = 4096;

pub(super) fn merge_options(materialize_all: bool) -> CompactionOptions {
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

fn lance_error(e: lance::Error) -> StoreError {
    StoreError::Lance(e.into())
}

/// A merge whose new files are written and not yet committed.
///
/// LanceDB's own compaction runs these steps in one call and, when its commit loses to
/// another writer's (another machine's merge or forget, on object storage), leaves the files
/// it wrote in place for a cleanup that only removes unreferenced files after seven days.
/// Those files are copies of rows: a forgotten text would outlive its forget there. Run in
/// steps, the loser knows which files are its own and removes them.
pub(super) struct Rewrite {
    dataset: Dataset,
    results: Vec<RewriteResult>,
    options: CompactionOptions,
}

impl Rewrite {
    /// Writes the merged files of `table`'s small fragments; `None` when nothing is to merge.
    pub(super) async fn write(table: &Table, options: CompactionOptions) -> Result<Option<Self>> {
        let Some(handle) = table.dataset() else {
            // Only a remote LanceDB table has no dataset here, and tacit opens none.
            table
                .optimize(OptimizeAction::Compact {
                    options,
                    remap_options: None,
                })
                .await?;
            return Ok(None);
        };
        let dataset = (*handle.get().await?).clone();
        let plan = plan_compaction(&dataset, &options)
            .await
            .map_err(lance_error)?;
        if plan.num_tasks() == 0 {
            return Ok(None);
        }
        let mut rewrite = Rewrite {
            dataset,
            results: Vec::new(),
            options,
        };
        for task in plan.compaction_tasks() {
            match task.execute(&rewrite.dataset).await {
                Ok(result) => rewrite.results.push(result),
                Err(e) => {
                    rewrite.remove_files().await;
                    return Err(lance_error(e));
                }
            }
        }
        Ok(Some(rewrite))
    }

    /// Commits the merge: `true` when it committed, `false` when another writer's commit
    /// conflicted with it; nothing then references the files it wrote, and they are removed.
    pub(super) async fn commit(mut self, table: &Table) -> Result<bool> {
        let results = std::mem::take(&mut self.results);
        let written = fragments_written(&results);
        let mut dataset = self.dataset.clone();
        let committed = commit_compaction(
            &mut dataset,
            results,
            Arc::new(DatasetIndexRemapperOptions::default()),
            &self.options,
        )
        .await;
        match committed {
            Ok(_) => {
                if let Some(handle) = table.dataset() {
                    handle.update(dataset);
                }
                Ok(true)
            }
            // A conflict is decided before any manifest is written; any other failure may
            // have come after it, and then the files are the table's.
            Err(
                e @ (lance::Error::CommitConflict { .. }
                | lance::Error::RetryableCommitConflict { .. }
                | lance::Error::IncompatibleTransaction { .. }),
            ) => {
                tracing::debug!("a merge lost to another writer's commit: {e}");
                remove_fragment_files(&self.dataset, &written).await;
                Ok(false)
            }
            Err(e) => Err(lance_error(e)),
        }
    }

    async fn remove_files(&self) {
        remove_fragment_files(&self.dataset, &fragments_written(&self.results)).await;
    }
}

fn fragments_written(results: &[RewriteResult]) -> Vec<Fragment> {
    results
        .iter()
        .flat_map(|r| r.new_fragments.iter().cloned())
        .collect()
}

/// Deletes the data files of fragments no manifest references. A file that cannot be deleted
/// is logged: the error that made it an orphan is the one the caller reports.
async fn remove_fragment_files(dataset: &Dataset, fragments: &[Fragment]) {
    let store = match dataset.object_store(None).await {
        Ok(store) => store,
        Err(e) => {
            tracing::warn!("cannot reach the store to remove a failed merge's files: {e}");
            return;
        }
    };
    for file in fragments.iter().flat_map(|f| &f.files) {
        // tacit's tables keep every file under their own data directory.
        if file.base_id.is_some() {
            continue;
        }
        let path = dataset.data_dir().join(file.path.as_str());
        if let Err(e) = store.delete(&path).await {
            tracing::warn!("cannot remove {path}, written by a merge that did not commit: {e}");
        }
    }
}

/// How often a forget's merge starts again from the latest version when another machine's
/// commit beat it; each loss means that machine committed, so this bounds a busy moment.
const FORGET_MERGE_ATTEMPTS: usize = 4;

/// Merges `table`'s small fragments, leaving no file behind when the merge loses. A routine
/// merge that loses is an error the caller logs (the next one takes the layer up); a forget's
/// (`retry`) starts again from the latest version, because a forget cannot be run twice: a
/// second one no longer finds the entry, and the text would stay in its fragment.
async fn merge_table(table: &Table, options: CompactionOptions, retry: bool) -> Result<()> {
    let attempts = if retry { FORGET_MERGE_ATTEMPTS } else { 1 };
    for _ in 0..attempts {
        let committed = match Rewrite::write(table, options.clone()).await? {
            Some(rewrite) => rewrite.commit(table).await?,
            None => true,
        };
        if committed {
            return Ok(());
        }
        table.checkout_latest().await?;
    }
    Err(StoreError::Conflict(format!(
        "merging `{}` lost to other writers' commits {attempts} time(s)",
        table.name()
    )))
}

/// How old a version of a store on object storage must be before a routine merge removes
/// it: no lock keeps other machines from reading or committing on top of an older version,
/// and an hour is far longer than any of their reads or commits takes.
const SHARED_PRUNE_MARGIN_MINUTES: i64 = 60;

/// Removes versions older than `older_than`. Every version but the latest (zero) is safe only
/// under the exclusive store lock: no tacit process is then reading an older version or
/// committing. Files no manifest references (a writer's killed mid-write) go too with
/// `unreferenced`, which only the exclusive lock makes safe: otherwise they may be another
/// writer's files not yet committed, and are left to LanceDB's own seven-day margin.
async fn prune_old_versions(table: &Table, older_than: Duration, unreferenced: bool) -> Result<()> {
    table
        .optimize(OptimizeAction::Prune {
            older_than: Some(older_than),
            delete_unverified: Some(unreferenced),
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
        // A forget on a local store also removes what a killed writer left: its files may
        // hold the forgotten text, and the lock we hold means no writer is mid-commit.
        let unreferenced = materialize_all && self.coordination.is_some();
        for &layer in layers {
            let table = self.table(layer);
            merge_table(table, merge_options(materialize_all), materialize_all).await?;
            if materialize_all {
                // A text index (built only by the latency benchmark) lists the tokens of
                // deleted rows; dropping it leaves its files to the prune.
                for index in table.list_indices().await? {
                    if index.columns.iter().any(|c| c == FTS_COLUMN) {
                        table.drop_index(&index.name).await?;
                    }
                }
            }
            // The rows are merged whatever the index does: a failed update leaves the
            // lookups to scan a little more until the next merge.
            if let Err(e) = self.index_ids(&[layer]).await {
                tracing::warn!("indexing the ids of `{}` failed: {e}", table.name());
            }
            prune_old_versions(table, older_than, unreferenced).await?;
            if self.coordination.is_none() {
                // Other machines may have committed meanwhile: what the mirror holds is not
                // known to be the table's content, so the next sync compares the row ids.
                self.synced().versions.remove(&layer);
                continue;
            }
            // The content is what the mirror holds; only the rows' addresses moved.
            let rows = self.loaded_row_ids(table).await?;
            let version = table.version().await?;
            let mut synced = self.synced();
            synced.row_ids.extend(rows);
            synced.versions.insert(layer, version);
        }
        self.meta.checkout_latest().await?;
        prune_old_versions(&self.meta, older_than, unreferenced).await?;
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
