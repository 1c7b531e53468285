//! The one way into the store: takes entries from extractors or people, redacts them,
//! embeds them, merges duplicates, supersedes what they replace, and writes them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use crate::embed::{EmbedError, Embedder};
use crate::memory::{contradicts, now_millis, Entry, Source, Status};
use crate::redact::redact_entry;
use crate::store::{ListFilter, SearchRequest, Store, StoreError};
use crate::vector::cosine;

/// Token Jaccard at or above this merges a new entry into an existing one (DESIGN.md).
pub const DEDUP_JACCARD: f32 = 0.6;
/// Cosine at or above this merges too.
pub const DEDUP_COSINE: f32 = 0.92;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// What became of one entry handed to [`Indexer::remember`].
#[derive(Debug, Clone)]
pub struct Written {
    pub entry: Entry,
    /// True when it merged into an entry that was already stored.
    pub merged: bool,
    /// Ids of entries this one superseded.
    pub superseded: Vec<String>,
    /// How many secrets were redacted before writing.
    pub redacted: usize,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractionReport {
    pub written: usize,
    pub unchanged: usize,
    pub superseded: usize,
    pub redacted: usize,
    /// Time spent embedding what was written, and reading and writing the store.
    pub embed_ms: u64,
    pub store_ms: u64,
}

impl ExtractionReport {
    /// Adds another run's counts and times to these.
    pub fn add(&mut self, other: &ExtractionReport) {
        self.written += other.written;
        self.unchanged += other.unchanged;
        self.superseded += other.superseded;
        self.redacted += other.redacted;
        self.embed_ms += other.embed_ms;
        self.store_ms += other.store_ms;
    }
}

#[derive(Clone)]
pub struct Indexer {
    store: Arc<Store>,
    embedder: Arc<dyn Embedder>,
}

fn tokens(text: &str) -> HashSet<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.len() > 1)
        .map(str::to_string)
        .collect()
}

pub fn jaccard(a: &str, b: &str) -> f32 {
    let (a, b) = (tokens(a), tokens(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(&b).count() as f32;
    let union = a.union(&b).count() as f32;
    inter / union
}

impl Indexer {
    pub fn new(store: Arc<Store>, embedder: Arc<dyn Embedder>) -> Indexer {
        Indexer { store, embedder }
    }

    /// Off the runtime's threads: a batch of documents keeps every core busy for seconds,
    /// while the server goes on answering (a context asked for during an index run).
    async fn embed_all(&self, entries: &mut [Entry]) -> Result<(), EmbedError> {
        let texts: Vec<String> = entries.iter().map(Entry::embedding_text).collect();
        let embedder = self.embedder.clone();
        let vectors = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            embedder.embed(&refs)
        })
        .await
        .map_err(|e| EmbedError::Task(e.to_string()))??;
        for (entry, vector) in entries.iter_mut().zip(vectors) {
            entry.vector = vector;
        }
        Ok(())
    }

    /// Writes one extraction run's output for `scope`. Every slot the run produced is
    /// replaced as a set: active entries of that slot the run did not produce again are
    /// superseded (kept, restorable) by the run's first value for the slot.
    pub async fn write_extracted(
        &self,
        scope: &str,
        mut entries: Vec<Entry>,
    ) -> Result<ExtractionReport, IndexError> {
        let mut report = ExtractionReport::default();
        for e in &mut entries {
            report.redacted += redact_entry(e);
        }
        let read_started = Instant::now();
        let existing: HashMap<String, Entry> = self
            .store
            .list(&ListFilter {
                scopes: vec![scope.to_string()],
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();

        let mut to_write: Vec<Entry> = Vec::new();
        let forgotten = self.store.forgotten().await?;
        let mut store_time = read_started.elapsed();
        for mut e in entries {
            if forgotten.contains(&e.id) {
                continue;
            }
            if let Some(old) = existing.get(&e.id) {
                let same = old.text == e.text
                    && old.evidence == e.evidence
                    && old.examples == e.examples
                    && old.steps == e.steps
                    && old.status == Status::Active;
                if same {
                    report.unchanged += 1;
                    continue;
                }
                e.created_at = old.created_at;
                e.access_count = old.access_count;
                e.last_accessed_at = old.last_accessed_at;
                e.history = old.history.clone();
                if old.status != Status::Active {
                    e.record("reactivated", Some("extracted again".into()));
                } else {
                    e.record("refreshed", None);
                }
            } else {
                e.record("extracted", None);
            }
            to_write.push(e);
        }

        let produced: HashSet<&str> = to_write.iter().map(|e| e.id.as_str()).collect();
        let mut first_of_slot = HashMap::new();
        for e in &to_write {
            if let Some(slot) = e.slot() {
                first_of_slot.entry(slot).or_insert_with(|| e.id.clone());
            }
        }
        let mut superseded = Vec::new();
        for old in existing.values() {
            if old.status != Status::Active || produced.contains(old.id.as_str()) {
                continue;
            }
            let Some(slot) = old.slot() else { continue };
            // Only what the same kind of source found can replace an extracted fact, or a
            // measured entry that now carries this configured fact as its stated evidence
            // (a store written before the two were served as one still holds the other).
            if !to_write.iter().any(|n| {
                n.slot().as_ref() == Some(&slot)
                    && (n.source == old.source
                        || (n.source == Source::Code
                            && old.source == Source::Config
                            && crate::code::agreement::same_fact(n, old)))
            }) {
                continue;
            }
            if let Some(new_id) = first_of_slot.get(&slot) {
                let mut old = old.clone();
                old.supersede(new_id, format!("by {new_id}"));
                superseded.push(old);
            }
        }
        report.superseded = superseded.len();

        let embed_started = Instant::now();
        self.embed_all(&mut to_write).await?;
        report.embed_ms = embed_started.elapsed().as_millis() as u64;
        report.written = to_write.len();
        to_write.extend(superseded);
        if !to_write.is_empty() {
            let write_started = Instant::now();
            self.store.upsert(&to_write).await?;
            store_time += write_started.elapsed();
        }
        report.store_ms = store_time.as_millis() as u64;
        Ok(report)
    }

    /// Stores an entry from a person or a copilot: merged into a near-duplicate if there is
    /// one, superseding the active entry of the same key if it has one.
    pub async fn remember(&self, mut entry: Entry) -> Result<Written, IndexError> {
        let redacted = redact_entry(&mut entry);
        self.embed_all(std::slice::from_mut(&mut entry)).await?;
        // Another process may forget the entry this one merges into between our read and
        // our write; the store refuses the stale copy, and the decision is taken again on
        // what is there now.
        let mut attempts = 0;
        loop {
            match self.remember_embedded(entry.clone(), redacted).await {
                Err(IndexError::Store(StoreError::Conflict(why))) if attempts < 5 => {
                    attempts += 1;
                    tracing::debug!("remember retried after a write conflict: {why}");
                }
                other => return other,
            }
        }
    }

    async fn remember_embedded(
        &self,
        mut entry: Entry,
        redacted: usize,
    ) -> Result<Written, IndexError> {
        let candidates = self
            .store
            .search(&SearchRequest {
                text: entry.text.clone(),
                vector: Some(entry.vector.clone()),
                layers: vec![entry.layer],
                scopes: vec![entry.scope.clone()],
                statuses: vec![Status::Active],
                limit: 10,
            })
            .await?;
        // A statement that says the opposite of an active one replaces it (kept, restorable):
        // "never use tabs" after "always use tabs" must not merge into it, however alike the
        // words are. Only what people and copilots said is replaced so: a fact read from the
        // code would come back with the next index run, and stays beside the new statement.
        let mut superseded = Vec::new();
        let mut others = Vec::new();
        for c in candidates.into_iter().map(|h| h.entry) {
            let close = cosine(&c.vector, &entry.vector);
            let said = matches!(c.source, Source::User | Source::Copilot);
            if said && c.id != entry.id && contradicts(&entry.text, &c.text, close) {
                let mut old = c;
                old.supersede(
                    &entry.id,
                    format!("contradicted by {}: {}", entry.id, entry.text),
                );
                superseded.push(old);
            } else {
                others.push(c);
            }
        }
        let duplicate = others.into_iter().find(|c| match &entry.key {
            // A keyed statement is a new value for its slot: it supersedes whatever the slot
            // held ("use pnpm" → "use yarn" reads alike but says the opposite); only the very
            // same words are a repetition.
            Some(_) => c.key == entry.key && c.text.trim().eq_ignore_ascii_case(entry.text.trim()),
            None => {
                jaccard(&c.text, &entry.text) >= DEDUP_JACCARD
                    || cosine(&c.vector, &entry.vector) >= DEDUP_COSINE
            }
        });
        if let Some(mut existing) = duplicate {
            existing.confidence = (existing.confidence + 0.1).min(1.0);
            existing.importance = existing.importance.max(entry.importance);
            existing.updated_at = now_millis();
            for tag in entry.tags {
                if !existing.tags.contains(&tag) {
                    existing.tags.push(tag);
                }
            }
            if let Some(ev) = existing.evidence.as_mut() {
                ev.matching += 1;
                ev.total += 1;
            }
            // A repeated workflow may be the first to say its steps.
            if existing.steps.is_empty() && !entry.steps.is_empty() {
                existing.steps = entry.steps;
                existing.trigger = existing.trigger.or(entry.trigger);
            }
            existing.record("merged", Some(entry.text.clone()));
            let mut batch = superseded;
            let superseded: Vec<String> = batch.iter().map(|e| e.id.clone()).collect();
            for old in &mut batch {
                old.superseded_by = Some(existing.id.clone());
            }
            batch.push(existing.clone());
            self.store.upsert(&batch).await?;
            return Ok(Written {
                entry: existing,
                merged: true,
                superseded,
                redacted,
            });
        }

        if let Some(key) = entry.key.clone() {
            let same_key = self
                .store
                .list(&ListFilter {
                    layers: vec![entry.layer],
                    scopes: vec![entry.scope.clone()],
                    statuses: vec![Status::Active],
                    key_prefix: Some(key.clone()),
                    ..Default::default()
                })
                .await?;
            let already: HashSet<String> = superseded.iter().map(|s| s.id.clone()).collect();
            for mut old in same_key.into_iter().filter(|o| {
                o.key.as_deref() == Some(key.as_str())
                    && o.language == entry.language
                    && o.id != entry.id
                    && !already.contains(&o.id)
            }) {
                old.supersede(&entry.id, format!("by {}", entry.id));
                superseded.push(old);
            }
        }
        entry.record("created", None);
        let superseded_ids = superseded.iter().map(|e| e.id.clone()).collect();
        let mut batch = superseded;
        batch.push(entry.clone());
        self.store.upsert(&batch).await?;
        Ok(Written {
            entry,
            merged: false,
            superseded: superseded_ids,
            redacted,
        })
    }

    /// Re-embeds and rewrites an edited entry (text, tags, importance...).
    pub async fn rewrite(&self, mut entry: Entry) -> Result<Entry, IndexError> {
        redact_entry(&mut entry);
        self.embed_all(std::slice::from_mut(&mut entry)).await?;
        self.store.upsert(std::slice::from_ref(&entry)).await?;
        Ok(entry)
    }

    /// Writes entries as they are (import), embedding those whose vector is missing or was
    /// made by another embedder.
    pub async fn import(
        &self,
        mut entries: Vec<Entry>,
        reembed: bool,
    ) -> Result<usize, IndexError> {
        for e in &mut entries {
            redact_entry(e);
        }
        let mut stale: Vec<usize> = (0..entries.len())
            .filter(|&i| reembed || entries[i].vector.len() != crate::vector::DIMENSION)
            .collect();
        if !stale.is_empty() {
            let mut subset: Vec<Entry> = stale.iter().map(|&i| entries[i].clone()).collect();
            self.embed_all(&mut subset).await?;
            for (i, e) in stale.drain(..).zip(subset) {
                entries[i].vector = e.vector;
            }
        }
        let n = entries.len();
        for chunk in entries.chunks(512) {
            self.store.restore_entries(chunk).await?;
        }
        Ok(n)
    }

    /// Decay (DESIGN.md): active entries of importance below 0.1 untouched for 120 days
    /// become `expired`: hidden from context and search, restorable, purged only on request.
    pub async fn expire_stale(&self, now: i64) -> Result<Vec<String>, IndexError> {
        let mut stale: Vec<Entry> = self.store.select(
            &ListFilter {
                statuses: vec![Status::Active],
                ..Default::default()
            },
            |e| e.is_stale(now),
        );
        for e in &mut stale {
            e.status = Status::Expired;
            e.updated_at = now;
            e.record(
                "expired",
                Some(format!(
                    "importance {:.2} < {} and untouched for {} days",
                    e.importance,
                    crate::memory::DECAY_IMPORTANCE,
                    crate::memory::DECAY_DAYS
                )),
            );
        }
        if !stale.is_empty() {
            self.store.upsert(&stale).await?;
        }
        Ok(stale.into_iter().map(|e| e.id).collect())
    }

    /// Every entry of every layer, for the re-embedding that follows a change of model.
    pub async fn reembed_all(&self) -> Result<usize, IndexError> {
        let all = self.store.list(&ListFilter::default()).await?;
        self.import(all, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_counts_shared_words() {
        assert!(
            jaccard(
                "Always use tracing for logs",
                "always use tracing for the logs"
            ) >= DEDUP_JACCARD
        );
        assert!(jaccard("Always use tracing for logs", "Indent with four spaces") < 0.2);
    }
}
