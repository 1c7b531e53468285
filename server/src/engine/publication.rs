//! Publications: what `tacit index --publish`, run in the team's CI on the main branch, leaves
//! in the team store for a repository scope (the extracted entries with their vectors, the
//! per-file code counts and the history mining state of one commit), and the start that a
//! teammate's first index run of a clone takes from it: the entries are copied (nothing is
//! embedded again), only the files that differ from the published commit are parsed, and only
//! the commits after it are mined.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::indexing::IndexService;
use super::{EngineError, PublicationUsed, PublishReport, Result};
use crate::code::{CodeIndex, PortableCounts};
use crate::memory::{now_millis, Entry, Source, Status};
use crate::store::ListFilter;

/// The layout of a publication; one of another layout is not read (a full local run instead).
const FORMAT: u32 = 1;
/// How long a first run waits for a team store still connecting before it indexes alone.
const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// What extraction writes: the only sources a publication carries and replaces.
const EXTRACTED: [Source; 4] = [
    Source::Code,
    Source::Config,
    Source::History,
    Source::Instructions,
];

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Publication {
    format: u32,
    /// The tacit that counted: another version may count a file differently.
    tacit: String,
    scope: String,
    commit: String,
    published_at: i64,
    entries: usize,
    code: PortableCounts,
    history: Option<serde_json::Value>,
}

fn meta_key(scope: &str) -> String {
    format!("publication:{scope}")
}

fn of_scope(scope: &str) -> ListFilter {
    ListFilter {
        scopes: vec![scope.to_string()],
        ..Default::default()
    }
}

/// The start a first run takes from a publication: the counts as they were at its commit, and
/// the files of this clone that differ from it.
pub(super) struct PublishedStart {
    pub counts: PortableCounts,
    pub changed: Vec<PathBuf>,
    pub used: PublicationUsed,
}

impl PublishedStart {
    /// The published counts with the differing files counted again, and how many of each.
    /// Runs on a blocking thread: it parses.
    pub fn into_index(
        self,
        root: &Path,
        walked: &[PathBuf],
        ignores: &[String],
        max_file_bytes: u64,
    ) -> std::result::Result<(CodeIndex, crate::code::ScanReport, PublicationUsed), String> {
        let registry = crate::code::registry().map_err(|e| e.to_string())?;
        let (mut index, unknown) =
            CodeIndex::from_portable(registry, self.counts, ignores, max_file_bytes)
                .map_err(|e| e.to_string())?;
        // Besides what git says differs: files of a language the publisher did not parse,
        // and counted files this run leaves out (its own ignores, size limit).
        let walked: HashSet<&PathBuf> = walked.iter().collect();
        let mut recount: Vec<PathBuf> = self.changed;
        recount.extend(unknown);
        recount.extend(
            index
                .counted_paths()
                .filter(|p| !walked.contains(p))
                .cloned(),
        );
        recount.sort();
        recount.dedup();
        let report = index.update(registry, root, &recount);
        let mut used = self.used;
        used.files_recounted = recount.len();
        used.files_reused = index.file_count().saturating_sub(report.files_parsed);
        Ok((index, report, used))
    }
}

impl IndexService {
    /// Writes what the last index run of `root` found to the team store as the publication of
    /// its scope at HEAD: the extracted entries (new or changed ones; those of an earlier
    /// publication no longer found are expired), the code counts and the mining state.
    pub async fn publish(&self, root: &Path) -> Result<PublishReport> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let scope = self.snapshots.current().scope_of(&root).map(str::to_string);
        let counts = self
            .code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&root)
            .map(CodeIndex::portable);
        let (Some(scope), Some(counts)) = (scope, counts) else {
            return Err(EngineError::InvalidArgument(format!(
                "{} has not been indexed by this process: publish after `tacit index`",
                root.display()
            )));
        };
        let commit = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || clean_head(&root))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))?
                .map_err(EngineError::InvalidArgument)?
        };
        let (team, team_indexer) = self.team.writer().await?;
        let history = {
            let (dir, scope) = (
                crate::history::state_dir_for(self.store.uri()),
                scope.clone(),
            );
            tokio::task::spawn_blocking(move || crate::history::exported_state(&dir, &scope))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))?
        };
        let ours: Vec<Entry> = self
            .store
            .list(&of_scope(&scope))
            .await?
            .into_iter()
            .filter(|e| EXTRACTED.contains(&e.source))
            .collect();
        let theirs: HashMap<String, Entry> = team
            .list(&of_scope(&scope))
            .await?
            .into_iter()
            .filter(|e| EXTRACTED.contains(&e.source))
            .map(|e| (e.id.clone(), e))
            .collect();
        let mut report = PublishReport {
            uri: team.uri().to_string(),
            scope: scope.clone(),
            commit: commit.clone(),
            files: counts.files.len(),
            history: history.is_some(),
            ..Default::default()
        };
        let published: HashSet<&str> = ours.iter().map(|e| e.id.as_str()).collect();
        let gone = expired(
            theirs
                .values()
                .filter(|e| e.status == Status::Active && !published.contains(e.id.as_str()))
                .cloned()
                .collect(),
            &format!("not found at {}", crate::history::short(&commit)),
        );
        let changed: Vec<Entry> = ours
            .iter()
            .filter(|e| theirs.get(&e.id).is_none_or(|t| !same_entry(t, e)))
            .cloned()
            .collect();
        report.unchanged = ours.len() - changed.len();
        report.written = team_indexer.import(changed, false).await?;
        if !gone.is_empty() {
            report.expired = gone.len();
            team.upsert(&gone).await?;
        }
        let publication = Publication {
            format: FORMAT,
            tacit: env!("CARGO_PKG_VERSION").to_string(),
            scope: scope.clone(),
            commit,
            published_at: now_millis(),
            entries: ours.len(),
            code: counts,
            history,
        };
        let json = serde_json::to_string(&publication)
            .map_err(|e| EngineError::Task(format!("cannot encode the publication: {e}")))?;
        report.bytes = json.len();
        // Last: a reader that finds the record finds the entries it describes.
        team.meta_set(&meta_key(&scope), &json).await?;
        Ok(report)
    }

    /// The start a first index run of `root` takes from the team's publication of `scope`,
    /// after copying the published entries into the local store. `Ok(None)` when there is
    /// nothing to start from: no team store, not a first run, no publication. `Err` says why
    /// a publication that exists was not used.
    pub(super) async fn published_start(
        &self,
        root: &Path,
        scope: &str,
    ) -> std::result::Result<Option<PublishedStart>, String> {
        if !self.team.configured() {
            return Ok(None);
        }
        // Only a first run: after it, this store's own counts and state are as good.
        let known = self
            .store
            .list(&of_scope(scope))
            .await
            .map_err(|e| e.to_string())?;
        if known.iter().any(|e| EXTRACTED.contains(&e.source)) {
            return Ok(None);
        }
        let _ = tokio::time::timeout(CONNECT_WAIT, self.team.settled()).await;
        let Some(team) = self.team.store() else {
            return Ok(None);
        };
        let Some(json) = team
            .meta_get(&meta_key(scope))
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let publication: Publication = serde_json::from_str(&json)
            .map_err(|e| format!("the publication is unreadable ({e})"))?;
        if publication.format != FORMAT || publication.tacit != env!("CARGO_PKG_VERSION") {
            return Err(format!(
                "published by tacit {} (layout {}), this is tacit {} (layout {FORMAT})",
                publication.tacit,
                publication.format,
                env!("CARGO_PKG_VERSION")
            ));
        }
        if publication.scope != scope {
            return Err(format!("it names the scope {}", publication.scope));
        }
        let changed = {
            let (root, commit) = (root.to_path_buf(), publication.commit.clone());
            tokio::task::spawn_blocking(move || differing_files(&root, &commit))
                .await
                .map_err(|e| e.to_string())??
        };
        let entries: Vec<Entry> = team
            .list(&of_scope(scope))
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|e| EXTRACTED.contains(&e.source))
            .collect();
        let copied = self
            .indexer
            .import(entries, false)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(history) = publication.history {
            let (dir, scope) = (
                crate::history::state_dir_for(self.store.uri()),
                scope.to_string(),
            );
            let adopted = tokio::task::spawn_blocking(move || {
                crate::history::adopt_state(&dir, &scope, history)
            })
            .await
            .map_err(|e| e.to_string())?;
            if let Err(e) = adopted {
                tracing::warn!("the published history state was not kept: {e}");
            }
        }
        Ok(Some(PublishedStart {
            counts: publication.code,
            changed,
            used: PublicationUsed {
                commit: publication.commit,
                published_at: publication.published_at,
                entries_copied: copied,
                ..Default::default()
            },
        }))
    }
}

impl IndexService {
    /// After a run that started from a publication: the copied code and configuration facts
    /// that this clone no longer shows (a convention gone since the published commit) are
    /// expired, so that the store holds what a full run over the clone would.
    pub(super) async fn retire_unfound(
        &self,
        scope: &str,
        produced: &HashSet<String>,
    ) -> Result<usize> {
        let gone = expired(
            self.store
                .list(&ListFilter {
                    scopes: vec![scope.to_string()],
                    statuses: vec![Status::Active],
                    ..Default::default()
                })
                .await?
                .into_iter()
                .filter(|e| matches!(e.source, Source::Code | Source::Config))
                .filter(|e| !produced.contains(&e.id))
                .collect(),
            "published, but not found in this clone's files",
        );
        if !gone.is_empty() {
            self.store.upsert(&gone).await?;
        }
        Ok(gone.len())
    }
}

/// The entries marked expired (hidden, restorable), with why in their audit trail.
fn expired(mut entries: Vec<Entry>, why: &str) -> Vec<Entry> {
    for e in &mut entries {
        e.status = Status::Expired;
        e.updated_at = now_millis();
        e.record("expired", Some(why.to_string()));
    }
    entries
}

/// Whether the team's copy says what ours says (a publication rewrites only what moved).
fn same_entry(a: &Entry, b: &Entry) -> bool {
    a.text == b.text
        && a.status == b.status
        && a.evidence == b.evidence
        && a.examples == b.examples
        && a.steps == b.steps
        && a.superseded_by == b.superseded_by
}

/// HEAD of the repository at `root`, refused when tracked files differ from it: a
/// publication describes one commit, which every teammate can diff against.
fn clean_head(root: &Path) -> std::result::Result<String, String> {
    let repo = git2::Repository::discover(root).map_err(|e| {
        format!(
            "{} is not in a git repository ({})",
            root.display(),
            e.message()
        )
    })?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| format!("HEAD does not name a commit ({})", e.message()))?;
    let mut options = git2::StatusOptions::new();
    options.include_untracked(false).include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(|e| e.message().to_string())?;
    let dirty: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .filter_map(|s| s.path().map(str::to_string))
        .take(5)
        .collect();
    if !dirty.is_empty() {
        return Err(format!(
            "tracked files differ from HEAD ({}): a publication describes one commit; publish \
             from a clean checkout",
            dirty.join(", ")
        ));
    }
    Ok(head.id().to_string())
}

/// The files under `root` (relative to it) that differ between `commit` and the working
/// tree: changed, added (untracked included, ignored not) and deleted. Refused when HEAD does
/// not descend from `commit`, whose counts would then describe another line of work.
fn differing_files(root: &Path, commit: &str) -> std::result::Result<Vec<PathBuf>, String> {
    let repo = git2::Repository::discover(root).map_err(|e| e.message().to_string())?;
    let workdir = repo
        .workdir()
        .ok_or("the repository has no working tree")?
        .to_path_buf();
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    let published = git2::Oid::from_str(commit)
        .and_then(|oid| repo.find_commit(oid))
        .map_err(|_| {
            format!(
                "its commit {} is not in this clone (fetch it, or the clone is shallow)",
                crate::history::short(commit)
            )
        })?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| e.message().to_string())?;
    if head.id() != published.id()
        && !repo
            .graph_descendant_of(head.id(), published.id())
            .unwrap_or(false)
    {
        return Err(format!(
            "HEAD {} does not descend from its commit {}",
            crate::history::short(&head.id().to_string()),
            crate::history::short(commit)
        ));
    }
    let tree = published.tree().map_err(|e| e.message().to_string())?;
    let mut options = git2::DiffOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true);
    let diff = repo
        .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options))
        .map_err(|e| e.message().to_string())?;
    let mut paths = Vec::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(rel) = file.path().and_then(|p| {
                workdir
                    .join(p)
                    .strip_prefix(root)
                    .ok()
                    .map(Path::to_path_buf)
            }) {
                paths.push(rel);
            }
        }
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}
