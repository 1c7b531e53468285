//! Reading: the context for a query and a file, and recall. Each request works from one
//! snapshot of settings and workspaces and the store's in-memory mirror; nothing here writes
//! except the access counts, which are queued off the request path.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::snapshot::Snapshots;
use super::team::{TeamStore, TEAM_SCOPE};
use super::{
    ContextRequest, ContextResult, EmbedderInfo, EngineError, RecallRequest, Result, Timing,
};
use crate::assemble::{self, Assembled, Scored};
use crate::embed::Embedder;
use crate::memory::{now_millis, Layer, Status};
use crate::store::{Hit, ListFilter, SearchRequest, Store};

/// The largest budget a request may ask for.
pub const MAX_BUDGET_TOKENS: usize = 1_000_000;

pub struct ContextService {
    pub(super) store: Arc<Store>,
    pub(super) team: Arc<TeamStore>,
    pub(super) embedder: Arc<dyn Embedder>,
    pub(super) embedder_info: EmbedderInfo,
    pub(super) snapshots: Arc<Snapshots>,
    /// Serve without counting accesses (benchmarks and snapshot tests).
    pub(super) frozen: bool,
}

/// The stores a read covers, the local one first: it wins over the team's on the same id.
pub(super) fn read_stores(local: &Arc<Store>, team: &TeamStore) -> Vec<Arc<Store>> {
    let mut stores = vec![Arc::clone(local)];
    stores.extend(team.store());
    stores
}

/// The scopes a read covers: the snapshot's, and the team's when a team store is connected.
pub(super) fn read_scopes(mut scopes: Vec<String>, team: &TeamStore) -> Vec<String> {
    if team.store().is_some() {
        scopes.push(TEAM_SCOPE.to_string());
    }
    scopes
}

/// Search results of every store, each id once (the local copy first).
async fn search_all(stores: &[Arc<Store>], request: &SearchRequest) -> Result<Vec<Hit>> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut seen = HashSet::new();
    for store in stores {
        for hit in store.search(request).await? {
            if seen.insert(hit.entry.id.clone()) {
                hits.push(hit);
            }
        }
    }
    Ok(hits)
}

impl ContextService {
    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embedder.embed(&[text])?.pop().unwrap_or_default())
    }

    /// The hot path: the few entries that matter for this query and file, within budget.
    pub async fn assemble_context(&self, request: ContextRequest) -> Result<ContextResult> {
        let started = Instant::now();
        let snapshot = self.snapshots.current();
        let settings = &snapshot.settings.assemble;
        let scopes = read_scopes(snapshot.scopes(), &self.team);
        let stores = read_stores(&self.store, &self.team);
        let query = request.query.clone().unwrap_or_default();
        let query = query.trim();
        let focus = request.uri.as_deref().and_then(|f| snapshot.focus_for(f));
        let layers: Vec<Layer> = request
            .layers
            .clone()
            .unwrap_or_else(|| vec![Layer::Memory, Layer::Procedure, Layer::Episode])
            .into_iter()
            .filter(|l| *l != Layer::Pinned)
            .collect();
        let limit = request.limit.unwrap_or(settings.limit).clamp(1, 200);
        let budget = request
            .budget_tokens
            .unwrap_or(settings.budget_tokens)
            // No model's window is near a million tokens; the cap keeps the layer
            // arithmetic far from overflow whatever a client sends.
            .clamp(16, MAX_BUDGET_TOKENS);

        let t_embed = Instant::now();
        let vector = if query.is_empty() {
            None
        } else {
            Some(self.embed_query(query)?)
        };
        let embed_ms = t_embed.elapsed().as_secs_f64() * 1e3;

        let t_search = Instant::now();
        // What follows reads the mirrors; a scope they do not hold yet is read in first.
        for store in &stores {
            store.load_scopes(&scopes).await?;
        }
        let now = now_millis();
        let mut ranked: Vec<Scored> = Vec::new();
        if let Some(vector) = vector {
            let hits = search_all(
                &stores,
                &SearchRequest {
                    text: query.to_string(),
                    vector: Some(vector),
                    layers: layers.clone(),
                    scopes: scopes.clone(),
                    statuses: vec![Status::Active],
                    limit: (limit * 3).max(30),
                },
            )
            .await?;
            for hit in &hits {
                let s = assemble::score(&hit.entry, Some(hit), focus.as_ref(), settings, now);
                if s.parts.relevance >= settings.min_relevance_for(hit.entry.layer) {
                    ranked.push(s);
                }
            }
            // What is bound to the file in hand (its co-change partners, the procedure to
            // follow after editing it) belongs in its context whatever the words of the query.
            if let Some(f) = &focus {
                let mut found: HashSet<String> =
                    ranked.iter().map(|s| s.entry.id.clone()).collect();
                for store in &stores {
                    let bound = store.select(
                        &ListFilter {
                            layers: layers.clone(),
                            scopes: scopes.clone(),
                            statuses: vec![Status::Active],
                            ..Default::default()
                        },
                        |e| !found.contains(&e.id) && f.is_bound_to(e),
                    );
                    found.extend(bound.iter().map(|e| e.id.clone()));
                    ranked.extend(
                        bound
                            .iter()
                            .map(|e| assemble::score(e, None, Some(f), settings, now)),
                    );
                }
            }
        } else {
            // No query: what matters for the file in hand, else the most important entries.
            // Scoring is cheap, copying is not: rank in place, copy only each layer's best.
            let mut found = HashSet::new();
            for store in &stores {
                for layer in &layers {
                    let best = store.top_by(
                        &ListFilter {
                            layers: vec![*layer],
                            scopes: scopes.clone(),
                            statuses: vec![Status::Active],
                            ..Default::default()
                        },
                        limit * 2,
                        |e| assemble::score_parts(e, None, focus.as_ref(), settings, now).0,
                    );
                    ranked.extend(
                        best.iter()
                            .filter(|e| found.insert(e.id.clone()))
                            .map(|e| assemble::score(e, None, focus.as_ref(), settings, now)),
                    );
                }
            }
        }
        let mut pinned: Vec<Scored> = Vec::new();
        let mut found = HashSet::new();
        for store in &stores {
            let blocks = store
                .list(&ListFilter {
                    layers: vec![Layer::Pinned],
                    scopes: scopes.clone(),
                    statuses: vec![Status::Active],
                    ..Default::default()
                })
                .await?;
            pinned.extend(
                blocks
                    .iter()
                    .filter(|e| found.insert(e.id.clone()))
                    .map(|e| assemble::score(e, None, None, settings, now)),
            );
        }
        let search_ms = t_search.elapsed().as_secs_f64() * 1e3;

        let t_score = Instant::now();
        let title = match (&focus, query.is_empty()) {
            (Some(f), true) => format!("Project context for {}", f.relative_path),
            (Some(f), false) => format!("Project context for {} — {query}", f.relative_path),
            (None, false) => format!("Project context — {query}"),
            (None, true) => "Project context".to_string(),
        };
        let mut assembled =
            assemble::select_and_render(&title, pinned, ranked, budget, limit, settings.diversity);
        let score_ms = t_score.elapsed().as_secs_f64() * 1e3;
        self.touch(&assembled);
        // Callers want the entries, not 384 floats each.
        for list in [
            &mut assembled.pinned,
            &mut assembled.memories,
            &mut assembled.procedures,
            &mut assembled.episodes,
        ] {
            list.iter_mut().for_each(|s| s.entry.vector.clear());
        }
        Ok(ContextResult {
            assembled,
            scopes,
            embedder: self.embedder_info.clone(),
            timing: Timing {
                embed_ms,
                search_ms,
                score_ms,
                total_ms: started.elapsed().as_secs_f64() * 1e3,
            },
        })
    }

    /// Counts an access for what was served, off the request path.
    fn touch(&self, assembled: &Assembled) {
        let ids: Vec<(Layer, String)> = [
            &assembled.memories,
            &assembled.procedures,
            &assembled.episodes,
        ]
        .into_iter()
        .flatten()
        .map(|s| (s.entry.layer, s.entry.id.clone()))
        // The team store's entries are served without a count: a count is one person's
        // habit, and a write to the shared bucket per served context would cost every
        // teammate a table version.
        .filter(|(_, id)| self.store.holds(id))
        .collect();
        if ids.is_empty() || self.frozen {
            return;
        }
        self.store.note_access(&ids, now_millis());
    }

    pub async fn recall(&self, request: RecallRequest) -> Result<Vec<Scored>> {
        let query = request.query.trim();
        if query.is_empty() {
            return Err(EngineError::InvalidArgument(
                "`query` must not be empty".into(),
            ));
        }
        let snapshot = self.snapshots.current();
        let settings = &snapshot.settings.assemble;
        let limit = request.limit.unwrap_or(settings.limit).clamp(1, 500);
        let vector = self.embed_query(query)?;
        let mut statuses = vec![Status::Active];
        if request.include_superseded {
            statuses.extend([Status::Superseded, Status::Expired]);
        }
        let hits = search_all(
            &read_stores(&self.store, &self.team),
            &SearchRequest {
                text: query.to_string(),
                vector: Some(vector),
                layers: request.layers.clone().unwrap_or_default(),
                scopes: read_scopes(snapshot.scopes(), &self.team),
                statuses,
                limit: limit.max(10),
            },
        )
        .await?;
        let now = now_millis();
        let mut scored: Vec<Scored> = hits
            .iter()
            .map(|h| assemble::score(&h.entry, Some(h), None, settings, now))
            .filter(|s| s.parts.relevance >= settings.min_relevance_for(s.entry.layer))
            .collect();
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.entry.id.cmp(&b.entry.id))
        });
        scored.truncate(limit);
        scored.iter_mut().for_each(|s| s.entry.vector.clear());
        Ok(scored)
    }
}
