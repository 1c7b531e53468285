//! The served reads: lookups, listings, rankings and hybrid search, from the in-memory
//! mirror for the scopes it holds; a search of another scope loads it first, and a listing
//! or count of one reads the disk (see [`super::Loaded`]).

use crate::memory::{Entry, Layer, Status};
use crate::vector::DIMENSION;

use super::{mirror, validate_id, Hit, ListFilter, Result, SearchRequest, Store, StoreError};

impl Store {
    /// How many entries the mirror holds: the loaded scopes', every status.
    pub fn len(&self) -> usize {
        self.mirror().by_id_len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether an entry of this id is in the mirror.
    pub fn holds(&self, id: &str) -> bool {
        self.mirror().holds(id)
    }

    pub async fn get(&self, id: &str) -> Result<Option<Entry>> {
        validate_id(id)?;
        if let Some(e) = self.mirror().get(id) {
            return Ok(Some(e));
        }
        if self.covers(&[]) {
            return Ok(None);
        }
        let _disk = self.disk.lock().await;
        let _held = self.shared().await?;
        Ok(self.read_ids(&[id.to_string()]).await?.pop())
    }

    /// Entries matching the filter (vectors included): from the mirror when it holds the
    /// filter's scopes, else from disk, without loading them.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<Entry>> {
        if !self.covers(&filter.scopes) {
            return self.list_from_disk(filter).await;
        }
        let mut out: Vec<Entry> = self
            .mirror()
            .collect(&filter.in_slot_terms(), |e| filter.matches(e));
        sort_listing(&mut out);
        Ok(out)
    }

    /// Entries of the loaded scopes matching the filter that `keep` accepts; `keep` sees
    /// each entry before it is copied, so a narrow selection from a large store copies
    /// little. The caller loads the scopes it reads ([`Store::load_scopes`]).
    pub fn select(&self, filter: &ListFilter, keep: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        self.mirror()
            .collect(&filter.in_slot_terms(), |e| filter.matches(e) && keep(e))
    }

    /// The `k` entries of the loaded scopes matching the filter that rank highest by `rank`,
    /// best first (ties by id).
    pub fn top_by(
        &self,
        filter: &ListFilter,
        k: usize,
        rank: impl Fn(&Entry) -> f32,
    ) -> Vec<Entry> {
        let mirror = self.mirror();
        let mut ranked: Vec<(f32, &Entry)> = mirror
            .entries_in(&filter.in_slot_terms())
            .filter(|e| filter.matches(e))
            .map(|e| (rank(e), e))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let ids: Vec<String> = ranked.iter().take(k).map(|(_, e)| e.id.clone()).collect();
        ids.iter().filter_map(|id| mirror.get(id)).collect()
    }

    /// Vector and full-text search per layer, fused by reciprocal rank, in memory; the
    /// request's scopes are loaded first if they are not.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>> {
        if let Some(v) = &request.vector {
            if v.len() != DIMENSION {
                return Err(StoreError::Dimension { got: v.len() });
            }
        }
        self.load_scopes(&request.scopes).await?;
        let filter = mirror::Filter {
            layers: request.layers.clone(),
            scopes: request.scopes.clone(),
            statuses: request.statuses.clone(),
        };
        Ok(self.mirror().search(
            request.text.trim(),
            request.vector.as_deref(),
            &filter,
            request.limit,
        ))
    }

    /// Entries per layer and status in these scopes (every scope when `scopes` is empty).
    pub async fn counts(&self, scopes: &[String]) -> Result<Vec<(Layer, Status, usize)>> {
        const STATUSES: [Status; 3] = [Status::Active, Status::Superseded, Status::Expired];
        let mut n = [[0usize; 3]; 4];
        let mut count = |e: &Entry| {
            let (Some(l), Some(s)) = (
                Layer::ALL.iter().position(|l| *l == e.layer),
                STATUSES.iter().position(|s| *s == e.status),
            ) else {
                return;
            };
            n[l][s] += 1;
        };
        if self.covers(scopes) {
            for e in self.mirror().entries() {
                if scopes.is_empty() || scopes.contains(&e.scope) {
                    count(e);
                }
            }
        } else {
            let filter = ListFilter {
                scopes: scopes.to_vec(),
                ..Default::default()
            };
            self.list_from_disk(&filter).await?.iter().for_each(count);
        }
        Ok(Layer::ALL
            .iter()
            .enumerate()
            .flat_map(|(l, layer)| {
                STATUSES
                    .iter()
                    .enumerate()
                    .map(move |(s, status)| (*layer, *status, n[l][s]))
            })
            .collect())
    }
}

/// Listings come by layer, most important first, then by id: stable for dashboards.
pub(super) fn sort_listing(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        a.layer
            .cmp(&b.layer)
            .then(b.importance.total_cmp(&a.importance))
            .then(a.id.cmp(&b.id))
    });
}
