//! The same reads done by LanceDB itself (filters in SQL, a flat vector scan, its own BM25
//! index): the references that tests and the latency benchmark hold the mirror to. Nothing
//! on the served path calls them.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use futures::TryStreamExt;
use lancedb::index::scalar::{FtsIndexBuilder, FullTextSearchQuery};
use lancedb::index::Index;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::DistanceType;

use crate::memory::{Entry, Layer, Status};
use crate::vector::DIMENSION;

use super::disk::read_rows;
use super::query::sort_listing;
use super::rows::{batch_to_entries, sql_in, sql_str, Legs};
use super::{fuse, Hit, ListFilter, Result, SearchRequest, Store, StoreError, FTS_COLUMN};

impl Store {
    /// Builds LanceDB's own full-text index on every table. Only the latency benchmark's
    /// reference ([`Store::search_on_disk`]) reads it; the served path ranks in memory.
    pub async fn build_text_index(&self) -> Result<()> {
        let _disk = self.disk.lock().await;
        let _held = self.exclusive().await?;
        for layer in Layer::ALL {
            let table = self.table(layer);
            table.checkout_latest().await?;
            if table.count_rows(None).await? > 0 {
                table
                    .create_index(&[FTS_COLUMN], Index::FTS(FtsIndexBuilder::default()))
                    .execute()
                    .await?;
            }
        }
        self.bump();
        Ok(())
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
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        let mut out = Vec::new();
        for layer in layers {
            let table = self.table(layer);
            table.checkout_latest().await?;
            out.extend(
                read_rows(table, where_clause.clone())
                    .await?
                    .into_iter()
                    .map(|(e, _)| e),
            );
        }
        sort_listing(&mut out);
        Ok(out)
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
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        for layer in layers {
            let table = self.table(layer);
            table.checkout_latest().await?;
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
}
