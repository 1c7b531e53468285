//! The scalar (B-tree) index on `id`, LanceDB's own, on tables large enough to need it.
//!
//! Every write of a known entry (an edit, a pin, a merge, the access counts a server writes
//! every few seconds) is a LanceDB merge by `id`, and a lookup or delete by id is a filter on
//! it. Without an index each scans the table's whole `id` column: on the 600,000-row
//! memories table of a 1M-entry store an edit's write took 155–211 ms, and 12–24 ms with
//! it. With the index LanceDB looks the ids up, and scans only the fragments written since
//! the index was last brought up to date, which maintenance keeps few.

use lancedb::index::scalar::BTreeIndexBuilder;
use lancedb::index::Index;
use lancedb::table::{OptimizeAction, OptimizeOptions};

use crate::memory::Layer;

use super::{Result, Store};

/// Tables from this many rows get the index: below it a scan of the `id` column takes about
/// as long as a lookup, and the index would only be one more file to keep up to date.
pub(super) const ID_INDEX_FROM: usize = 10_000;
/// The index is brought up to date once this many rows are not in it yet: fewer are
/// scanned in a moment, and each update rewrites the index.
const UNINDEXED_LIMIT: usize = 2_000;
/// LanceDB's default name for an index on `id`, given explicitly so that it is always found.
pub(super) const ID_INDEX: &str = "id_idx";

impl Store {
    /// Creates the index on the tables of `layers` that reached [`ID_INDEX_FROM`] rows and
    /// adds recent rows to an existing one. Called by maintenance and after a bulk load:
    /// with the exclusive store lock on a local store, and on object storage by the one
    /// writer whose commit is due to merge (see `note_written`), so that two processes never
    /// build it at once.
    pub(super) async fn index_ids(&self, layers: &[Layer]) -> Result<()> {
        for &layer in layers {
            let table = self.table(layer);
            match table.index_stats(ID_INDEX).await? {
                None => {
                    if table.count_rows(None).await? >= self.id_index_from {
                        table
                            .create_index(&["id"], Index::BTree(BTreeIndexBuilder::default()))
                            .name(ID_INDEX.to_string())
                            .execute()
                            .await?;
                        tracing::debug!("indexed the ids of `{}`", table.name());
                    }
                }
                Some(stats) if stats.num_unindexed_rows >= UNINDEXED_LIMIT => {
                    table
                        // Merged into the one index, not kept as a delta beside it.
                        .optimize(OptimizeAction::Index(
                            OptimizeOptions::merge(1).index_names(vec![ID_INDEX.to_string()]),
                        ))
                        .await?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}
