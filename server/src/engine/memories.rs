//! Writing what people and copilots state: remember, extract, update, forget, restore, pin
//! and unpin, list, import and export. Every write goes through the indexer's one write path
//! (redaction, limits, dedup and contradiction), which goes through the store's group commit.

use std::sync::Arc;

use super::context::{read_scopes, read_stores};
use super::snapshot::Snapshots;
use super::team::{TeamStore, TEAM_SCOPE};
use super::{
    EngineError, ExportRequest, ListRequest, RememberRequest, RememberResult, Result, StoreKind,
    UpdateRequest,
};
use crate::indexer::Indexer;
use crate::memory::{now_millis, Entry, Layer, Source, Status};
use crate::store::{ListFilter, Store};

/// The audit detail of a pin records the layer an entry came from, so unpin can restore it.
const PINNED_FROM: &str = "from ";

pub struct MemoryService {
    pub(super) store: Arc<Store>,
    pub(super) team: Arc<TeamStore>,
    pub(super) indexer: Indexer,
    pub(super) snapshots: Arc<Snapshots>,
}

/// The store an entry lives in, so that a change to it is written back there.
struct Home {
    store: Arc<Store>,
    indexer: Indexer,
    kind: StoreKind,
}

fn check_unit(name: &str, v: Option<f32>) -> Result<()> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) || x.is_nan() => Err(EngineError::InvalidArgument(
            format!("`{name}` must be between 0 and 1, got {x}"),
        )),
        _ => Ok(()),
    }
}

/// Entries handed back to callers carry no vector: it is the store's business.
fn without_vector(mut entry: Entry) -> Entry {
    entry.vector.clear();
    entry
}

impl MemoryService {
    pub async fn remember(&self, request: RememberRequest) -> Result<RememberResult> {
        let entry = self.remembered_entry(request).await?;
        self.write_remembered(entry).await
    }

    /// The entry a `remember` request describes, checked, before it is written.
    async fn remembered_entry(&self, request: RememberRequest) -> Result<Entry> {
        let text = request.text.trim();
        if text.is_empty() {
            return Err(EngineError::InvalidArgument(
                "`text` must not be empty".into(),
            ));
        }
        crate::limits::entry_text(text)?;
        crate::limits::entry_fields(
            request.key.as_deref(),
            None,
            request.language.as_deref(),
            &request.tags,
        )?;
        check_unit("importance", request.importance)?;
        let scope = match request.scope {
            Some(s)
                if s == "user"
                    || s == TEAM_SCOPE
                    || s.starts_with("repo:")
                    || s.starts_with("dir:") =>
            {
                s
            }
            Some(s) => {
                return Err(EngineError::InvalidArgument(format!(
                "`scope` must be `user`, `{TEAM_SCOPE}`, `repo:<hash>` or `dir:<hash>`, got `{s}`"
            )))
            }
            None => self.snapshots.current().default_scope().to_string(),
        };
        let layer = request.layer.unwrap_or(Layer::Memory);
        let mut entry = Entry::user(&scope, layer, request.source.unwrap_or(Source::User), text);
        entry.key = request.key.filter(|k| !k.is_empty());
        entry.language = request.language;
        entry.tags = request.tags;
        if let Some(i) = request.importance {
            entry.importance = i;
        }
        Ok(entry)
    }

    async fn write_remembered(&self, entry: Entry) -> Result<RememberResult> {
        let home = if entry.scope == TEAM_SCOPE {
            self.team_home().await?
        } else {
            self.local_home()
        };
        let written = home.indexer.remember(entry).await?;
        Ok(RememberResult {
            entry: without_vector(written.entry),
            merged: written.merged,
            superseded: written.superseded,
            redacted: written.redacted,
            store: home.kind,
        })
    }

    fn local_home(&self) -> Home {
        Home {
            store: Arc::clone(&self.store),
            indexer: self.indexer.clone(),
            kind: StoreKind::Local,
        }
    }

    async fn team_home(&self) -> Result<Home> {
        let (store, indexer) = self.team.writer().await?;
        Ok(Home {
            store,
            indexer,
            kind: StoreKind::Team,
        })
    }

    /// An entry and the store that holds it: the local one first, then the team's.
    async fn locate(&self, id: &str) -> Result<(Entry, Home)> {
        if let Some(entry) = self.store.get(id).await? {
            return Ok((entry, self.local_home()));
        }
        if let Some(team) = self.team.store() {
            if let Some(entry) = team.get(id).await? {
                return Ok((entry, self.team_home().await?));
            }
        }
        Err(EngineError::NotFound(id.to_string()))
    }

    /// Stores the conventions stated in free text (a chat transcript, a review comment).
    pub async fn extract(&self, text: &str, scope: Option<String>) -> Result<Vec<RememberResult>> {
        crate::limits::transcript(text)?;
        let mut out = Vec::new();
        for statement in crate::transcript::extract_statements(text) {
            let mut tags = vec![statement.kind.as_str().to_string()];
            if !statement.positive {
                tags.push("negative".into());
            }
            let workflow =
                statement.kind == crate::transcript::Kind::Workflow && !statement.steps.is_empty();
            let mut entry = self
                .remembered_entry(RememberRequest {
                    text: statement.text,
                    tags,
                    scope: scope.clone(),
                    layer: workflow.then_some(Layer::Procedure),
                    source: Some(Source::Copilot),
                    ..Default::default()
                })
                .await?;
            if workflow {
                // The steps and trigger are structure the sentence carries; they make the
                // procedure render as a checklist and attach it to its file or event.
                entry.steps = statement.steps;
                entry.trigger = statement.trigger;
            }
            out.push(self.write_remembered(entry).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, id: &str) -> Result<Entry> {
        Ok(self.locate(id).await?.0)
    }

    pub async fn update(&self, request: UpdateRequest) -> Result<Entry> {
        check_unit("importance", request.importance)?;
        check_unit("confidence", request.confidence)?;
        let (mut entry, home) = self.locate(&request.id).await?;
        let mut changed = Vec::new();
        if let Some(text) = request.text {
            if text.trim().is_empty() {
                return Err(EngineError::InvalidArgument(
                    "`text` must not be empty".into(),
                ));
            }
            entry.text = text.trim().to_string();
            changed.push("text");
        }
        if let Some(tags) = request.tags {
            entry.tags = tags;
            changed.push("tags");
        }
        if let Some(i) = request.importance {
            entry.importance = i;
            changed.push("importance");
        }
        if let Some(c) = request.confidence {
            entry.confidence = c;
            changed.push("confidence");
        }
        if let Some(k) = request.key {
            entry.key = Some(k);
            changed.push("key");
        }
        if let Some(v) = request.value {
            entry.value = Some(v);
            changed.push("value");
        }
        crate::limits::entry(&entry)?;
        entry.updated_at = now_millis();
        entry.record("updated", Some(changed.join(", ")));
        Ok(without_vector(home.indexer.rewrite(entry).await?))
    }

    /// Hard delete: gone from the table and from every older version on disk.
    pub async fn forget(&self, id: &str) -> Result<Entry> {
        let (entry, home) = self.locate(id).await?;
        home.store.delete(id).await?;
        if matches!(
            entry.source,
            Source::Code | Source::Config | Source::History | Source::Instructions
        ) {
            // An extracted fact would come back with the next index run; its id (a hash, no
            // text) is kept so that extraction leaves it out; `remember` can still state it anew.
            home.store.add_forgotten(id).await?;
        }
        if entry.source == Source::History && home.kind == StoreKind::Local {
            // The mining state beside the store keeps the commit texts an episode or decision
            // was made from. It is a cache: without it the next run reads git again.
            let state = crate::history::state_file(
                &crate::history::state_dir_for(self.store.uri()),
                &entry.scope,
            );
            if let Err(e) = std::fs::remove_file(&state) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot remove the history state {}: {e}", state.display());
                }
            }
        }
        // Anything this entry had superseded stays superseded: forgetting the new fact is not
        // the same as restoring the old one, which `restore` does on request.
        Ok(entry)
    }

    /// Makes a superseded or expired entry active again, superseding whatever holds its slot.
    pub async fn restore(&self, id: &str) -> Result<Entry> {
        let (mut entry, home) = self.locate(id).await?;
        if entry.status == Status::Active {
            return Ok(without_vector(entry));
        }
        let mut batch = Vec::new();
        if let Some(slot) = entry.slot() {
            let holders = home
                .store
                .list(&ListFilter {
                    layers: vec![entry.layer],
                    scopes: vec![entry.scope.clone()],
                    statuses: vec![Status::Active],
                    key_prefix: entry.key.clone(),
                    ..Default::default()
                })
                .await?;
            for mut holder in holders
                .into_iter()
                .filter(|h| h.slot().as_ref() == Some(&slot))
            {
                holder.supersede(&entry.id, format!("by restore of {}", entry.id));
                batch.push(holder);
            }
        } else if let Some(newer) = entry.superseded_by.as_deref() {
            // A statement superseded because a later one contradicted it: bringing it back
            // retires the contradiction, or the two opposite rules would both be served.
            if let Some(mut holder) = home.store.get(newer).await? {
                if holder.status == Status::Active
                    && entry.status == Status::Superseded
                    && holder.layer == entry.layer
                {
                    holder.supersede(&entry.id, format!("by restore of {}", entry.id));
                    batch.push(holder);
                }
            }
        }
        let was = entry.status;
        entry.status = Status::Active;
        entry.superseded_by = None;
        entry.updated_at = now_millis();
        entry.record("restored", Some(format!("was {was}")));
        batch.push(entry.clone());
        home.store.upsert(&batch).await?;
        Ok(without_vector(entry))
    }

    /// Hard-deletes every expired entry (decay hides them; only this removes them).
    pub async fn purge_expired(&self) -> Result<Vec<String>> {
        let expired = self
            .store
            .list(&ListFilter {
                statuses: vec![Status::Expired],
                scopes: self.snapshots.current().scopes(),
                ..Default::default()
            })
            .await?;
        let mut purged = Vec::new();
        for e in expired {
            self.forget(&e.id).await?;
            purged.push(e.id);
        }
        Ok(purged)
    }

    /// Pins text (a new block) or an existing entry. An entry is moved to the pinned layer
    /// with its id and history, so it is served once, as a pinned block; unpinning moves it
    /// back.
    pub async fn pin(&self, text: Option<String>, id: Option<String>) -> Result<Entry> {
        match (text, id) {
            (Some(t), _) if !t.trim().is_empty() => {
                let result = self
                    .remember(RememberRequest {
                        text: t,
                        layer: Some(Layer::Pinned),
                        importance: Some(1.0),
                        ..Default::default()
                    })
                    .await?;
                Ok(result.entry)
            }
            (_, Some(id)) => {
                let (mut entry, home) = self.locate(&id).await?;
                if entry.layer == Layer::Pinned {
                    return Ok(without_vector(entry));
                }
                let was = entry.layer;
                entry.layer = Layer::Pinned;
                entry.importance = 1.0;
                entry.updated_at = now_millis();
                entry.record("pinned", Some(format!("{PINNED_FROM}{was}")));
                home.store.upsert(std::slice::from_ref(&entry)).await?;
                Ok(without_vector(entry))
            }
            _ => Err(EngineError::InvalidArgument(
                "give `text` to pin, or the `id` of an entry to pin".into(),
            )),
        }
    }

    /// Unpins: an entry that was pinned from another layer goes back there; a block that was
    /// written as pinned text is deleted.
    pub async fn unpin(&self, id: &str) -> Result<Entry> {
        let (mut entry, home) = self.locate(id).await?;
        if entry.layer != Layer::Pinned {
            return Err(EngineError::InvalidArgument(format!(
                "`{id}` is a {} entry, not a pinned block",
                entry.layer
            )));
        }
        let origin = entry
            .history
            .iter()
            .rev()
            .find(|h| h.action == "pinned")
            .and_then(|h| {
                h.detail
                    .as_deref()?
                    .strip_prefix(PINNED_FROM)?
                    .parse::<Layer>()
                    .ok()
            });
        match origin {
            Some(layer) => {
                entry.layer = layer;
                entry.updated_at = now_millis();
                entry.record("unpinned", None);
                home.store.upsert(std::slice::from_ref(&entry)).await?;
                Ok(without_vector(entry))
            }
            None => self.forget(id).await,
        }
    }

    /// The entries of the local store, then the team store's (`scope: "team"` and, with
    /// `all_scopes`, every scope it holds).
    pub async fn list(&self, request: ListRequest) -> Result<Vec<Entry>> {
        let scopes = self
            .snapshots
            .current()
            .scopes_unless_all(request.all_scopes);
        let filter = ListFilter {
            layers: request.layers.unwrap_or_default(),
            scopes: if scopes.is_empty() {
                scopes
            } else {
                read_scopes(scopes, &self.team)
            },
            statuses: request.statuses.unwrap_or_default(),
            key_prefix: request.key_prefix,
            language: request.language,
            source: request.source,
        };
        let mut entries = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for store in read_stores(&self.store, &self.team) {
            let listed = store.list(&filter).await?;
            entries.extend(listed.into_iter().filter(|e| seen.insert(e.id.clone())));
        }
        if let Some(limit) = request.limit {
            entries.truncate(limit);
        }
        Ok(entries)
    }

    /// The entries of the open workspaces and `user` (or of every scope), one JSON object a
    /// line; vectors only on request, since import re-embeds what has none.
    pub async fn export(&self, request: &ExportRequest) -> Result<String> {
        let scopes = self
            .snapshots
            .current()
            .scopes_unless_all(request.all_scopes);
        let entries = self
            .store
            .list(&ListFilter {
                scopes,
                ..Default::default()
            })
            .await?;
        let mut out = String::new();
        for mut e in entries {
            if !request.with_vectors {
                e.vector.clear();
            }
            let line = serde_json::to_string(&e)
                .map_err(|err| EngineError::Task(format!("serialising {}: {err}", e.id)))?;
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }

    /// Reads JSON lines as `export` writes them. Nothing is written unless every line parses.
    pub async fn import(&self, jsonl: &str) -> Result<usize> {
        crate::limits::import("jsonl", jsonl.len())?;
        let mut entries = Vec::new();
        for (i, line) in jsonl.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(line).map_err(|e| EngineError::Import {
                line: i + 1,
                message: e.to_string(),
            })?;
            crate::store::validate_id(&entry.id).map_err(|e| EngineError::Import {
                line: i + 1,
                message: e.to_string(),
            })?;
            crate::limits::entry(&entry).map_err(|e| EngineError::Import {
                line: i + 1,
                message: e.to_string(),
            })?;
            entries.push(entry);
        }
        Ok(self.indexer.import(entries, false).await?)
    }
}
