//! The read side of the store: every row of the scopes it serves, held in memory, searched by a
//! vector scan and an in-memory BM25 index.
//!
//! LanceDB stays the durable store; a flat LanceDB vector search costs 13 ms at 10k rows and
//! 143 ms at 100k on these machines (DESIGN.md), too slow for the hot path. Each vector is
//! held once, as int8 codes and a scale (388 bytes instead of the 1,536 of its f32 floats):
//! the scan reads the codes against an int8 copy of the query (a quarter of the memory
//! traffic of f32, which is what a scan of 100k rows waits on), then ranks the best few times
//! `limit` of each layer again by the f32 query against the codes, which takes the query's
//! rounding out of the score; what remains is the stored rounding, a cosine within about
//! 0.002 of the model's (tested). BM25 is a small inverted index. Every write through
//! [`super::Store`] updates the mirror after LanceDB accepted it, so the two never disagree
//! about what this process wrote.

use std::collections::HashMap;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::Hit;
use crate::memory::{Entry, Layer, Status};
use crate::vector::{self, DIMENSION};

/// BM25 parameters as in Lucene and Lance.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Words that carry no meaning for matching; without this list "how do we …" matches
/// every sentence that says "we".
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "has", "have",
    "how", "i", "if", "in", "into", "is", "it", "its", "of", "on", "or", "our", "so", "that",
    "the", "their", "then", "there", "these", "this", "to", "was", "we", "what", "when", "where",
    "which", "who", "why", "will", "with", "you", "your", "can", "should", "my", "me", "us",
    "them", "they", "here", "about",
];

/// Lower-cased words of a text, split on anything that is not a letter or digit, with
/// `snake_case` and `camelCase` identifiers also split into their parts, each stemmed so that
/// "naming" finds "named" and "functions" finds "function".
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if raw.is_empty() {
            continue;
        }
        let mut parts: Vec<String> = Vec::new();
        for piece in raw.split('_').filter(|p| !p.is_empty()) {
            // camelCase → camel, case
            let mut current = String::new();
            let mut prev_lower = false;
            for c in piece.chars() {
                if c.is_uppercase() && prev_lower && !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
                prev_lower = c.is_lowercase() || c.is_ascii_digit();
                current.extend(c.to_lowercase());
            }
            if !current.is_empty() {
                parts.push(current);
            }
        }
        let whole = raw.to_lowercase();
        if parts.len() > 1 && !STOP_WORDS.contains(&whole.as_str()) {
            // An identifier is matched as written; its parts are words.
            out.push(whole);
        }
        for p in parts {
            if !STOP_WORDS.contains(&p.as_str()) {
                out.push(stem(&p));
            }
        }
    }
    out
}

/// Snowball's English stemmer: "naming" and "named" meet at "name", "policies" and "policy"
/// at "polici". Built once; it holds only its tables.
fn stem(word: &str) -> String {
    static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
    ENGLISH.stem(word).into_owned()
}

/// What a query may see; checked per row before it can rank. Empty means any, except that a
/// search with no statuses sees only active entries.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub layers: Vec<Layer>,
    pub scopes: Vec<String>,
    pub statuses: Vec<Status>,
}

/// A [`Filter`] in slot terms, so that checking a row compares small integers in
/// [`SlotMeta`] and never reads the row itself: a listing of one layer of a 100k-row store
/// reads 1.2 MB of packed codes instead of 100k scattered entries.
struct SlotTest {
    layers: Vec<bool>,
    /// `None`: any status.
    statuses: Option<Vec<u8>>,
    /// `None`: any scope.
    scopes: Option<Vec<u32>>,
}

impl SlotTest {
    fn passes(&self, m: &SlotMeta) -> bool {
        m.alive
            && self.layers[m.layer as usize]
            && self
                .statuses
                .as_ref()
                .is_none_or(|ok| ok.contains(&m.status))
            && self.scopes.as_ref().is_none_or(|ok| ok.contains(&m.scope))
    }
}

struct Row {
    /// The entry without its vector, which lives in [`Mirror::codes`].
    entry: Entry,
    /// The distinct terms of the row's search text, to take the row out of the postings: a
    /// slice of ids, not the map of their counts it was (a server on 100k entries held
    /// 411–419 MB instead of 424).
    terms: Box<[u32]>,
}

/// What the scan checks per slot, packed so that 100k rows stay in a few cache lines' reach.
#[derive(Clone, Copy, Default)]
struct SlotMeta {
    alive: bool,
    layer: u8,
    status: u8,
    scope: u32,
    /// Terms in the row's search text, for BM25's length normalisation.
    length: u32,
}

fn layer_code(l: Layer) -> u8 {
    l as u8
}

fn status_code(s: Status) -> u8 {
    s as u8
}

/// Rows in slots that never move, so the vector matrix and the postings can refer to them by
/// number; a removed row leaves a free slot that the next insert reuses.
#[derive(Default)]
pub struct Mirror {
    slots: Vec<Option<Row>>,
    meta: Vec<SlotMeta>,
    scopes: HashMap<String, u32>,
    free: Vec<usize>,
    by_id: HashMap<String, usize>,
    /// Each slot's vector quantised to int8 ([`vector::quantize`]), row-major, `DIMENSION`
    /// per slot; zeros in free slots and for entries without a vector.
    codes: Vec<i8>,
    /// Per slot, the float that one step of `codes` stands for; 0 for no vector.
    scales: Vec<f32>,
    vocabulary: HashMap<String, u32>,
    /// term → (slot, term frequency)
    postings: HashMap<u32, Vec<(u32, u32)>>,
    total_length: u64,
    live: usize,
}

impl Mirror {
    /// A copy of the entry in `slot` with its vector as the codes give it back. A row
    /// rewritten from this copy (a status change) stores that vector: quantising it again
    /// gives the same codes, so repeated rewrites lose nothing more.
    fn full(&self, slot: usize) -> Option<Entry> {
        let mut e = self.slots.get(slot)?.as_ref()?.entry.clone();
        let scale = self.scales[slot];
        if scale != 0.0 {
            e.vector = self.codes[slot * DIMENSION..(slot + 1) * DIMENSION]
                .iter()
                .map(|&c| f32::from(c) * scale)
                .collect();
        }
        Some(e)
    }

    pub fn by_id_len(&self) -> usize {
        self.by_id.len()
    }

    pub fn holds(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn get(&self, id: &str) -> Option<Entry> {
        self.full(*self.by_id.get(id)?)
    }

    /// Entries (without vectors) for scans that only read their fields.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten().map(|r| &r.entry)
    }

    /// `filter` in slot terms; empty fields admit anything.
    fn slot_test(&self, filter: &Filter) -> SlotTest {
        SlotTest {
            layers: Layer::ALL
                .iter()
                .map(|l| filter.layers.is_empty() || filter.layers.contains(l))
                .collect(),
            statuses: (!filter.statuses.is_empty())
                .then(|| filter.statuses.iter().copied().map(status_code).collect()),
            scopes: (!filter.scopes.is_empty()).then(|| {
                filter
                    .scopes
                    .iter()
                    .filter_map(|s| self.scopes.get(s).copied())
                    .collect()
            }),
        }
    }

    /// The entries (without vectors) in the layers, scopes and statuses `filter` admits
    /// (empty: any), for scans that only read their fields.
    pub fn entries_in(&self, filter: &Filter) -> impl Iterator<Item = &Entry> {
        let test = self.slot_test(filter);
        self.meta
            .iter()
            .zip(&self.slots)
            .filter(move |(m, _)| test.passes(m))
            .filter_map(|(_, row)| row.as_ref().map(|r| &r.entry))
    }

    /// Copies, with vectors, of the entries in the layers, scopes and statuses `filter`
    /// admits (empty: any) that `keep` accepts.
    pub fn collect(&self, filter: &Filter, keep: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        let test = self.slot_test(filter);
        (0..self.slots.len())
            .filter(|&s| test.passes(&self.meta[s]))
            .filter(|&s| self.slots[s].as_ref().is_some_and(|r| keep(&r.entry)))
            .filter_map(|s| self.full(s))
            .collect()
    }

    /// Inserts or replaces rows by id. Entries without a full vector are kept for listing but
    /// cannot be found by the vector scan.
    pub fn upsert(&mut self, entries: &[Entry]) {
        for e in entries {
            self.remove(&e.id);
            let mut entry = e.clone();
            let vector = std::mem::take(&mut entry.vector);
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.slots.push(None);
                    self.meta.push(SlotMeta::default());
                    self.codes.extend(std::iter::repeat_n(0, DIMENSION));
                    self.scales.push(0.0);
                    self.slots.len() - 1
                }
            };
            let next_scope = self.scopes.len() as u32;
            let scope = *self.scopes.entry(entry.scope.clone()).or_insert(next_scope);
            let words = terms(&super::rows::search_text(&entry));
            self.meta[slot] = SlotMeta {
                alive: true,
                layer: layer_code(entry.layer),
                status: status_code(entry.status),
                scope,
                length: words.len() as u32,
            };
            let codes = &mut self.codes[slot * DIMENSION..(slot + 1) * DIMENSION];
            self.scales[slot] = if vector.len() == DIMENSION {
                vector::quantize(&vector, codes)
            } else {
                codes.fill(0);
                0.0
            };
            let mut tf: HashMap<u32, u32> = HashMap::new();
            for w in &words {
                let next = self.vocabulary.len() as u32;
                let id = *self.vocabulary.entry(w.clone()).or_insert(next);
                *tf.entry(id).or_insert(0) += 1;
            }
            for (&term, &count) in &tf {
                self.postings
                    .entry(term)
                    .or_default()
                    .push((slot as u32, count));
            }
            self.total_length += words.len() as u64;
            self.by_id.insert(entry.id.clone(), slot);
            self.slots[slot] = Some(Row {
                entry,
                terms: tf.into_keys().collect(),
            });
            self.live += 1;
        }
    }

    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let slot = self.by_id.remove(id)?;
        let row = self.slots[slot].take()?;
        for term in &row.terms {
            if let Some(list) = self.postings.get_mut(term) {
                list.retain(|(s, _)| *s as usize != slot);
            }
        }
        self.total_length -= u64::from(self.meta[slot].length);
        self.codes[slot * DIMENSION..(slot + 1) * DIMENSION].fill(0);
        self.scales[slot] = 0.0;
        self.meta[slot] = SlotMeta::default();
        self.free.push(slot);
        self.live -= 1;
        Some(row.entry)
    }

    /// Applies an in-place change of counters (access counts) without touching the slot's
    /// vector, terms, layer, scope or status.
    pub fn modify(&mut self, id: &str, change: impl FnOnce(&mut Entry)) {
        if let Some(&slot) = self.by_id.get(id) {
            if let Some(row) = self.slots[slot].as_mut() {
                change(&mut row.entry);
            }
        }
    }

    /// The approximate cosine of `query` with every slot's vector, from the int8 codes.
    fn approximate_similarities(&self, query: &[f32]) -> Option<Vec<f32>> {
        if self.slots.is_empty() || query.len() != DIMENSION {
            return None;
        }
        let mut q = [0i8; DIMENSION];
        let q_scale = vector::quantize(query, &mut q);
        let mut out = Vec::with_capacity(self.slots.len());
        vector::scan_int8(&self.codes, &self.scales, &q, q_scale, &mut out);
        Some(out)
    }

    /// The cosine of the f32 `query` with the vector in `slot` as its codes give it back.
    fn similarity(&self, query: &[f32], slot: u32) -> f32 {
        let at = slot as usize * DIMENSION;
        vector::cosine_with_codes(
            query,
            &self.codes[at..at + DIMENSION],
            self.scales[slot as usize],
        )
    }

    /// BM25 scores of the slots that share a term with `text`, as (slot, score).
    fn bm25(&self, text: &str) -> Vec<(u32, f32)> {
        if self.live == 0 {
            return Vec::new();
        }
        let n = self.live as f32;
        let avg = (self.total_length as f32 / n).max(1.0);
        // Dense by slot: a common word's postings run to most of the store, and a hash map
        // update per posting cost more than the whole vector scan at 100k rows.
        let mut scores = vec![0f32; self.slots.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut seen = Vec::new();
        for word in terms(text) {
            let Some(&term) = self.vocabulary.get(&word) else {
                continue;
            };
            if seen.contains(&term) {
                continue;
            }
            seen.push(term);
            let Some(list) = self.postings.get(&term) else {
                continue;
            };
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(slot, tf) in list {
                let m = &self.meta[slot as usize];
                if !m.alive {
                    continue;
                }
                let tf = tf as f32;
                let norm = tf + K1 * (1.0 - B + B * m.length as f32 / avg);
                let score = &mut scores[slot as usize];
                if *score == 0.0 {
                    touched.push(slot);
                }
                // Always positive: idf > 0 and tf ≥ 1.
                *score += idf * tf * (K1 + 1.0) / norm;
            }
        }
        touched
            .into_iter()
            .map(|slot| (slot, scores[slot as usize]))
            .collect()
    }

    /// Vector and BM25 legs per layer, `limit` candidates each, fused by reciprocal rank as
    /// the LanceDB search does.
    pub fn search(
        &self,
        text: &str,
        vector: Option<&[f32]>,
        filter: &Filter,
        limit: usize,
    ) -> Vec<Hit> {
        let limit = limit.max(1);
        let mut test = self.slot_test(filter);
        test.statuses
            .get_or_insert_with(|| vec![status_code(Status::Active)]);
        let passes = |m: &SlotMeta| test.passes(m);

        let mut vector_legs: Vec<TopK> = Layer::ALL.iter().map(|_| TopK::new(limit)).collect();
        if let Some(query) = vector {
            if let Some(sims) = self.approximate_similarities(query) {
                let mut candidates: Vec<TopK> = Layer::ALL
                    .iter()
                    .map(|_| TopK::new(limit * RESCORE))
                    .collect();
                for (slot, (&sim, m)) in sims.iter().zip(&self.meta).enumerate() {
                    let leg = &mut candidates[m.layer as usize];
                    if leg.would_take(sim) && passes(m) {
                        leg.push(sim, slot as u32);
                    }
                }
                for (leg, found) in vector_legs.iter_mut().zip(candidates) {
                    for (_, slot) in found.sorted() {
                        leg.push(self.similarity(query, slot), slot);
                    }
                }
            }
        }
        let mut text_legs: Vec<TopK> = Layer::ALL.iter().map(|_| TopK::new(limit)).collect();
        if !text.trim().is_empty() {
            for (slot, score) in self.bm25(text) {
                let m = &self.meta[slot as usize];
                if passes(m) {
                    text_legs[m.layer as usize].push(score, slot);
                }
            }
        }

        let mut hits = Vec::new();
        for (vector_leg, text_leg) in vector_legs.into_iter().zip(text_legs) {
            let mut legs: HashMap<u32, (Leg, Leg)> = HashMap::new();
            for (rank, (sim, slot)) in vector_leg.sorted().into_iter().enumerate() {
                legs.entry(slot).or_default().0 = Some((rank, sim));
            }
            for (rank, (score, slot)) in text_leg.sorted().into_iter().enumerate() {
                legs.entry(slot).or_default().1 = Some((rank, score));
            }
            for (slot, (v, t)) in legs {
                let Some(entry) = self.full(slot as usize) else {
                    continue;
                };
                hits.push(Hit {
                    entry,
                    similarity: v.map(|p| p.1),
                    bm25: t.map(|p| p.1),
                    relevance: super::fuse(v.map(|p| p.0), t.map(|p| p.0)),
                });
            }
        }
        hits.sort_by(|a, b| {
            b.relevance
                .total_cmp(&a.relevance)
                .then(a.entry.id.cmp(&b.entry.id))
        });
        hits
    }
}

/// Candidates per result that the int8 scan passes on to be ranked by their exact cosine.
/// int8 codes put a cosine within about 0.01 of its true value, far less than the gap
/// between the best few and the fourth-best few of a layer.
const RESCORE: usize = 4;

/// Where a slot ranked in one leg of the search and with what score, if it was found there.
type Leg = Option<(usize, f32)>;

/// The `limit` best (score, slot) pairs seen so far. The scan asks [`TopK::would_take`]
/// first, a single comparison, so almost every row of a large store costs one load.
struct TopK {
    items: Vec<(f32, u32)>,
    limit: usize,
    /// Index of the worst kept item once full.
    worst: usize,
}

impl TopK {
    fn new(limit: usize) -> TopK {
        TopK {
            items: Vec::with_capacity(limit),
            limit,
            worst: 0,
        }
    }

    fn would_take(&self, score: f32) -> bool {
        self.items.len() < self.limit || score >= self.items[self.worst].0
    }

    fn push(&mut self, score: f32, slot: u32) {
        if self.items.len() < self.limit {
            self.items.push((score, slot));
            if self.items.len() == self.limit {
                self.find_worst();
            }
            return;
        }
        if better((score, slot), self.items[self.worst]) {
            self.items[self.worst] = (score, slot);
            self.find_worst();
        }
    }

    fn find_worst(&mut self) {
        let mut worst = 0;
        for i in 1..self.items.len() {
            if better(self.items[worst], self.items[i]) {
                worst = i;
            }
        }
        self.worst = worst;
    }

    fn sorted(mut self) -> Vec<(f32, u32)> {
        self.items
            .sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        self.items
    }
}

/// Higher score first; ties go to the lower slot so results are deterministic.
fn better(a: (f32, u32), b: (f32, u32)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Source;

    fn entry(text: &str, axis: usize, layer: Layer) -> Entry {
        let mut e = Entry::user("s", layer, Source::User, text);
        e.vector = vec![0.0; DIMENSION];
        e.vector[axis] = 1.0;
        e
    }

    #[test]
    fn terms_split_identifiers_drop_stop_words_and_stem() {
        let t = terms("How do we name functions? snake_case and camelCase naming");
        assert!(t.contains(&"function".to_string()), "{t:?}");
        assert!(t.contains(&"snake".to_string()) && t.contains(&"snake_case".to_string()));
        assert!(t.contains(&"camel".to_string()) && t.contains(&"case".to_string()));
        assert!(
            t.contains(&"name".to_string()),
            "naming and name meet: {t:?}"
        );
        assert_eq!(terms("named policies"), terms("naming policy"));
        assert!(!t.contains(&"we".to_string()) && !t.contains(&"how".to_string()));
    }

    #[test]
    fn vector_leg_ranks_by_cosine_and_filters_by_layer_and_status() {
        let mut m = Mirror::default();
        let mut gone = entry("superseded", 0, Layer::Memory);
        gone.status = Status::Superseded;
        m.upsert(&[
            entry("exact", 0, Layer::Memory),
            entry("other", 1, Layer::Memory),
            entry("procedure", 0, Layer::Procedure),
            gone,
        ]);
        let mut q = vec![0.0; DIMENSION];
        q[0] = 1.0;
        let hits = m.search(
            "",
            Some(&q),
            &Filter {
                layers: vec![Layer::Memory],
                ..Default::default()
            },
            5,
        );
        assert_eq!(hits[0].entry.text, "exact");
        assert!((hits[0].similarity.unwrap() - 1.0).abs() < 1e-5);
        assert!(hits.iter().all(|h| h.entry.layer == Layer::Memory));
        assert!(hits.iter().all(|h| h.entry.text != "superseded"));
    }

    /// The int8 scan, re-ranked by the f32 query against the stored codes, returns what an
    /// exact f32 scan of the model's vectors returns, up to rows whose cosines the stored
    /// rounding cannot tell apart, with similarities within 0.002 of the exact ones.
    #[test]
    fn int8_scan_finds_the_exact_nearest_vectors() {
        const ROUNDING: f32 = 0.002;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut unit = || {
            let mut v: Vec<f32> = (0..DIMENSION)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= n);
            v
        };
        let entries: Vec<Entry> = (0..3000)
            .map(|i| {
                let mut e = entry(&format!("row {i}"), 0, Layer::Memory);
                e.vector = unit();
                e
            })
            .collect();
        let mut m = Mirror::default();
        m.upsert(&entries);
        let mut in_exact_order = 0;
        for round in 0..20 {
            // Queries near a stored row, as real questions are near their answers.
            let base = &entries[round * 149].vector;
            let noise = unit();
            let mut q: Vec<f32> = base.iter().zip(&noise).map(|(a, b)| a + 0.8 * b).collect();
            let n = q.iter().map(|x| x * x).sum::<f32>().sqrt();
            q.iter_mut().for_each(|x| *x /= n);

            let exact_of: HashMap<&str, f32> = entries
                .iter()
                .map(|e| (e.text.as_str(), vector::cosine(&q, &e.vector)))
                .collect();
            let mut exact: Vec<(f32, &str)> = exact_of.iter().map(|(t, c)| (*c, *t)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let tenth = exact[9].0;
            let hits = m.search("", Some(&q), &Filter::default(), 10);
            assert_eq!(hits.len(), 10);
            for h in &hits {
                let truth = exact_of[h.entry.text.as_str()];
                let found = h.similarity.unwrap();
                assert!((found - truth).abs() < ROUNDING, "{found} vs {truth}");
                assert!(
                    truth > tenth - 2.0 * ROUNDING,
                    "{} is not among the nearest",
                    h.entry.text
                );
                assert_eq!(h.entry.vector.len(), DIMENSION);
            }
            for (c, text) in exact
                .iter()
                .take_while(|(c, _)| *c > tenth + 2.0 * ROUNDING)
            {
                assert!(
                    hits.iter().any(|h| h.entry.text == *text),
                    "{text} ({c}) was missed"
                );
            }
            let order: Vec<&str> = hits.iter().map(|h| h.entry.text.as_str()).collect();
            in_exact_order +=
                usize::from(order == exact[..10].iter().map(|e| e.1).collect::<Vec<_>>());
        }
        // The rounding reorders near ties only: most queries get the exact order.
        assert!(
            in_exact_order >= 10,
            "{in_exact_order} of 20 in the exact order"
        );
        // The vector a hit carries is the model's to within the rounding.
        let back = m.get(&entries[7].id).unwrap();
        assert!(vector::cosine(&back.vector, &entries[7].vector) > 0.9999);
    }

    #[test]
    fn bm25_prefers_rare_words_and_forgets_removed_rows() {
        let mut m = Mirror::default();
        m.upsert(&[
            entry("Use tokio for async code", 0, Layer::Memory),
            entry("Use tracing for logs", 1, Layer::Memory),
            entry("Use thiserror for errors", 2, Layer::Memory),
        ]);
        let hits = m.search("which async runtime, tokio?", None, &Filter::default(), 5);
        assert_eq!(hits[0].entry.text, "Use tokio for async code");
        let id = hits[0].entry.id.clone();
        m.remove(&id);
        let hits = m.search("tokio", None, &Filter::default(), 5);
        assert!(hits.is_empty(), "removed row still found: {hits:?}");
        assert_eq!(m.live, 2);
        // The freed slot is reused and the new row is searchable.
        m.upsert(&[entry(
            "Prefer tokio::spawn_blocking for CPU work",
            3,
            Layer::Memory,
        )]);
        assert_eq!(m.search("tokio", None, &Filter::default(), 5).len(), 1);
    }
}
