//! Learning from the workspace: a full index run (walk, configuration, code, history) with
//! progress events, and the incremental updates after saves and commits. The slow parts run
//! off the runtime threads; the front doors turn the progress events into `$/progress` or
//! MCP progress notifications.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::RwLock;

use super::snapshot::Snapshots;
use super::{EngineError, FilesChanged, IndexPhases, IndexReport, Result};
use crate::indexer::{ExtractionReport, Indexer};
use crate::memory::{Layer, Source, Status};
use crate::store::{ListFilter, Store};
use crate::workspace;

/// A stage of indexing, for progress reports.
#[derive(Debug, Clone)]
pub struct IndexProgress {
    pub message: String,
    pub percentage: u32,
    /// True on the one event of a run after which everything it found is stored but the
    /// history's episodes (summaries of past weeks and merged branches, for recall): from
    /// then on a context carries every convention, procedure and rule of the run.
    pub conventions_stored: bool,
}

/// A history mining run on a thread of its own, or the news that there is nothing to mine.
enum Mining {
    /// HEAD has not moved since the last run (asked with `only_if_moved`).
    Unchanged(crate::history::HistoryStatus),
    Running {
        task: tokio::task::JoinHandle<crate::history::Mined>,
        /// Commits read, of how many.
        progress: tokio::sync::mpsc::UnboundedReceiver<(usize, usize)>,
    },
}

pub struct IndexService {
    pub(super) store: Arc<Store>,
    pub(super) indexer: Indexer,
    pub(super) snapshots: Arc<Snapshots>,
    pub(super) last_index: RwLock<Vec<IndexReport>>,
    /// Per-file code evidence of each indexed root, so that a changed file is re-counted
    /// alone. A plain mutex, held only to take an index out or put it back.
    pub(super) code: std::sync::Mutex<HashMap<PathBuf, crate::code::CodeIndex>>,
    /// The last history mining status of each root, for `tacit.status`.
    pub(super) history: RwLock<Vec<crate::history::HistoryStatus>>,
    /// Where a first run looks for the team's publication of its repository.
    pub(super) team: Arc<super::TeamStore>,
}

impl IndexService {
    /// Walks a workspace root, runs the extractors and writes what they found.
    pub async fn index(
        &self,
        root: &Path,
        extra_ignores: &[String],
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<IndexReport> {
        let started = Instant::now();
        // The scope names the repository by its root commit, which takes reading every commit
        // (about 90 ms on a 6,500-commit repository): it is found while the files are walked
        // and parsed, which need it only for the configuration's entries. A team store is
        // asked for its publication first, since one can stand in for the parse.
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let mut problems = Vec::new();
        let mut known_scope = None;
        let mut published = None;
        if self.team.configured() {
            let scope = self.snapshots.add_root(&root).await;
            published = match self.published_start(&root, &scope).await {
                Ok(start) => start,
                Err(why) => {
                    problems.push(format!(
                        "the team's publication of {scope} was not used: {why}"
                    ));
                    None
                }
            };
            known_scope = Some(scope);
        }
        progress(IndexProgress {
            message: match &published {
                Some(p) => format!(
                    "starting from the team's publication at {} ({} entries), scanning files",
                    crate::history::short(&p.used.commit),
                    p.used.entries_copied
                ),
                None => "scanning files".into(),
            },
            percentage: 5,
            conventions_stored: false,
        });
        let max_file_bytes = self.snapshots.current().settings.max_file_bytes;
        let (scope_to_walk, scope_for_walk) = tokio::sync::oneshot::channel::<String>();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<IndexProgress>();
        let task = {
            let (root, ignores) = (root.clone(), extra_ignores.to_vec());
            tokio::task::spawn_blocking(move || {
                let mut phases = IndexPhases::default();
                let t = Instant::now();
                let walk = workspace::walk(&root, &ignores, max_file_bytes);
                phases.walk_ms = t.elapsed().as_millis() as u64;
                let t = Instant::now();
                let instructions = crate::instructions::read_all(&root, &walk.files);
                let mut config_ms = t.elapsed().as_millis() as u64;
                // Parsing source files fills 5–55% of the progress bar.
                let t = Instant::now();
                let mut used = None;
                let from_publication = published.and_then(|start| {
                    match start.into_index(&root, &walk.files, &ignores, max_file_bytes) {
                        Ok((index, mut report, u)) => {
                            report.duration_ms = t.elapsed().as_millis() as u64;
                            used = Some(u);
                            Some((index, report))
                        }
                        Err(why) => {
                            tracing::warn!("the published code counts were not used: {why}");
                            None
                        }
                    }
                });
                let (code_index, code_report) = match from_publication {
                    Some(counted) => counted,
                    None => match crate::code::registry() {
                        Ok(registry) => crate::code::CodeIndex::scan(
                            registry,
                            &root,
                            &walk.files,
                            &ignores,
                            max_file_bytes,
                            &|done, total| {
                                let _ = tx.send(IndexProgress {
                                    message: format!("parsed {done} of {total} files"),
                                    percentage: 5 + (50 * done / total.max(1)) as u32,
                                    conventions_stored: false,
                                });
                            },
                        ),
                        Err(e) => {
                            tracing::error!("{e}");
                            Default::default()
                        }
                    },
                };
                phases.parse_ms = code_report.duration_ms;
                // The index run sends the scope as soon as it has it; should it have stopped
                // first, this thread's result is dropped anyway.
                let scope = scope_for_walk
                    .blocking_recv()
                    .unwrap_or_else(|_| workspace::scope_for(&root));
                let t = Instant::now();
                let extraction = crate::config::extract(&root, &walk.files, &scope);
                config_ms += t.elapsed().as_millis() as u64;
                phases.config_ms = config_ms;
                (
                    walk,
                    extraction,
                    code_index,
                    code_report,
                    instructions,
                    phases,
                    used,
                )
            })
        };
        let scope = match known_scope {
            Some(scope) => scope,
            None => self.snapshots.add_root(&root).await,
        };
        let _ = scope_to_walk.send(scope.clone());
        // The history is read on a thread of its own while the files are parsed and their
        // findings embedded: on two cores a first run's mining fills the core that the walk
        // and the writes leave idle.
        let mining = self.start_mining(&root, &scope, false).await?;
        while let Some(p) = rx.recv().await {
            progress(p);
        }
        let (walk, mut extraction, mut code_index, code_report, instructions, mut phases, used) =
            task.await.map_err(|e| EngineError::Task(e.to_string()))?;
        // A fact both configured and measured is served once, with both evidences.
        code_index.absorb_config(&scope, &mut extraction.entries);
        let code_entries = code_index.entries(&scope);
        progress(IndexProgress {
            message: format!(
                "{} files scanned, storing {} findings",
                walk.files.len(),
                extraction.entries.len()
            ),
            percentage: 60,
            conventions_stored: false,
        });
        for problem in &extraction.problems {
            tracing::warn!("{problem}");
        }
        let produced: std::collections::HashSet<String> = extraction
            .entries
            .iter()
            .chain(&code_entries)
            .map(|e| e.id.clone())
            .collect();
        let mut written = self
            .indexer
            .write_extracted(&scope, extraction.entries)
            .await?;
        let code_written = self
            .indexer
            .write_extracted(&scope, code_entries.clone())
            .await?;
        code_index.mark_written(&code_entries);
        written.add(&code_written);
        if used.is_some() {
            written.superseded += self.retire_unfound(&scope, &produced).await?;
        }
        let rules = self.store_instructions(&scope, &instructions).await?;
        written.add(&rules);
        problems.extend(extraction.problems);
        problems.extend(
            instructions
                .problems
                .iter()
                .map(|p| format!("{}:{}: {}", p.file, p.line, p.message)),
        );
        self.code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(root.clone(), code_index);
        let (history, history_written) = self.store_mined(&root, &scope, mining, progress).await?;
        // The history's duration is its git walk and analysis; its writes count above.
        phases.embed_ms = written.embed_ms + history_written.embed_ms;
        phases.store_ms = written.store_ms + history_written.store_ms;
        phases.history_ms = history.duration_ms;
        written.add(&history_written);
        let mut skipped = std::collections::BTreeMap::new();
        for (_, reason) in &walk.skipped {
            *skipped.entry(reason.name().to_string()).or_insert(0) += 1;
        }
        for (reason, n) in &code_report.skipped {
            *skipped.entry(reason.clone()).or_insert(0) += n;
        }
        let report = IndexReport {
            root: root.clone(),
            scope,
            files_scanned: walk.files.len(),
            skipped,
            problems,
            written,
            duration_ms: started.elapsed().as_millis() as u64,
            phases,
            code: code_report,
            history: Some(history),
            publication: used,
        };
        let mut last = self.last_index.write().await;
        last.retain(|r| r.root != root);
        last.push(report.clone());
        drop(last);
        // Walks the allocator's free lists: off the runtime's threads.
        tokio::task::spawn_blocking(crate::heap::release_free_pages);
        Ok(report)
    }

    /// The last mining status of each root; for a root not mined by this process (a CLI
    /// run), what the last run left in the state file.
    pub async fn history_report(&self) -> Vec<crate::history::HistoryStatus> {
        let mut report = self.history.read().await.clone();
        let missing: Vec<(PathBuf, String)> = self
            .snapshots
            .current()
            .workspaces
            .iter()
            .filter(|w| {
                !report
                    .iter()
                    .any(|s| s.root.as_deref() == Some(w.root.as_path()))
            })
            .map(|w| (w.root.clone(), w.scope.clone()))
            .collect();
        if missing.is_empty() {
            return report;
        }
        let state_dir = crate::history::state_dir_for(self.store.uri());
        let stored = tokio::task::spawn_blocking(move || {
            missing
                .iter()
                .filter_map(|(root, scope)| crate::history::stored_status(&state_dir, scope, root))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        report.extend(stored);
        report
    }

    /// Mines the git history of `root` into `scope` (commit conventions, co-change
    /// procedures, episodes, decisions), reading only commits new since the last run, and
    /// writes what it found. Progress runs from 80 to 100%. With `only_if_moved`, an unchanged
    /// HEAD writes nothing. No repository, no commits and the like are a status, not an error.
    async fn mine_history(
        &self,
        root: &Path,
        scope: &str,
        only_if_moved: bool,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<(crate::history::HistoryStatus, ExtractionReport)> {
        let mining = self.start_mining(root, scope, only_if_moved).await?;
        self.store_mined(root, scope, mining, progress).await
    }

    /// Starts mining the history of `root` on a blocking thread, where the caller may do other
    /// work (an index run stores the configuration and code findings meanwhile); with
    /// `only_if_moved`, an unchanged HEAD mines nothing.
    async fn start_mining(&self, root: &Path, scope: &str, only_if_moved: bool) -> Result<Mining> {
        if only_if_moved {
            // Most writes under `.git` (the index, objects, fetches) leave HEAD where it was.
            let last = self
                .history
                .read()
                .await
                .iter()
                .find(|s| s.root.as_deref() == Some(root))
                .cloned();
            let r = root.to_path_buf();
            let head = tokio::task::spawn_blocking(move || crate::history::current_head(&r))
                .await
                .map_err(|e| EngineError::Task(e.to_string()))?;
            if let Some(mut last) = last.filter(|l| head.is_some() && l.head == head) {
                last.state = crate::history::HistoryState::Unchanged;
                last.new_commits = 0;
                last.written = 0;
                last.superseded = 0;
                last.redacted = 0;
                return Ok(Mining::Unchanged(last));
            }
        }
        let options = crate::history::HistoryOptions {
            // Zero would mine nothing and retire every mined fact as no longer shown.
            max_commits: self.snapshots.current().settings.history_max_commits.max(1),
            ..Default::default()
        };
        let state_dir = crate::history::state_dir_for(self.store.uri());
        let (tx, progress) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
        let (root, scope) = (root.to_path_buf(), scope.to_string());
        let task = tokio::task::spawn_blocking(move || {
            crate::history::mine(
                &root,
                &scope,
                Some(&state_dir),
                &options,
                only_if_moved,
                &|done, total| {
                    let _ = tx.send((done, total));
                },
            )
        });
        Ok(Mining::Running { task, progress })
    }

    /// Waits for `mining` and writes what it found: the conventions first, then, after an
    /// event with `conventions_stored`, the episodes, whose embedding is most of a first
    /// run's (about half of the tokens the first run on a public repository embeds).
    async fn store_mined(
        &self,
        root: &Path,
        scope: &str,
        mining: Mining,
        progress: &(dyn Fn(IndexProgress) + Send + Sync),
    ) -> Result<(crate::history::HistoryStatus, ExtractionReport)> {
        let (task, mut rx) = match mining {
            Mining::Unchanged(status) => return Ok((status, ExtractionReport::default())),
            Mining::Running { task, progress } => (task, progress),
        };
        while let Some((done, total)) = rx.recv().await {
            // Reading the last commit is not the end: they are analysed, then stored.
            let message = if done == total {
                format!("mined {total} commits, finding conventions and episodes in them")
            } else {
                format!("mined {done} of {total} commits")
            };
            progress(IndexProgress {
                message,
                percentage: 80 + (10 * done / total.max(1)) as u32,
                conventions_stored: false,
            });
        }
        let mined = task.await.map_err(|e| EngineError::Task(e.to_string()))?;
        let mut status = mined.status;
        status.root = Some(root.to_path_buf());
        // Recorded before the writes, so that a client told the store changed (by the writes
        // below) finds the mining that changed it in the status; the counts of what was
        // written follow at the end.
        self.record_history(&status).await;
        // An old choice (`log` before `tracing`) is written superseded once; after that the
        // stored row, which a person may have restored, stands.
        let mut keep = Vec::with_capacity(mined.entries.len());
        for e in mined.entries {
            if e.status == Status::Active || self.store.get(&e.id).await?.is_none() {
                keep.push(e);
            }
        }
        let produced: std::collections::HashSet<String> =
            keep.iter().map(|e| e.id.clone()).collect();
        let (episodes, conventions): (Vec<_>, Vec<_>) =
            keep.into_iter().partition(|e| e.layer == Layer::Episode);
        progress(IndexProgress {
            message: format!(
                "embedding and storing {} conventions from the history",
                conventions.len()
            ),
            percentage: 90,
            conventions_stored: false,
        });
        let mut written = ExtractionReport::default();
        if !conventions.is_empty() {
            written = self.indexer.write_extracted(scope, conventions).await?;
        }
        progress(IndexProgress {
            message: format!(
                "conventions stored; embedding and storing {} episodes from the history",
                episodes.len()
            ),
            percentage: 92,
            conventions_stored: true,
        });
        if !episodes.is_empty() {
            written.add(&self.indexer.write_extracted(scope, episodes).await?);
        }
        status.written = written.written;
        status.superseded = written.superseded;
        status.redacted += written.redacted;
        // A coupling or habit the history no longer shows is retired; only after a run that
        // derived everything, never because the repository could not be read.
        if status.entries > 0 {
            let current = self
                .store
                .list(&ListFilter {
                    scopes: vec![scope.to_string()],
                    statuses: vec![Status::Active],
                    source: Some(Source::History),
                    ..Default::default()
                })
                .await?;
            let retired = crate::history::retired(current, &produced);
            if !retired.is_empty() {
                status.retired = retired.len();
                self.store.upsert(&retired).await?;
            }
        }
        self.record_history(&status).await;
        Ok((status, written))
    }

    /// Replaces the mining status of `status.root`.
    async fn record_history(&self, status: &crate::history::HistoryStatus) {
        let mut all = self.history.write().await;
        all.retain(|s| s.root != status.root);
        all.push(status.clone());
    }

    /// Stores the rules of the instruction files read (`source: instructions`) and retires
    /// those no longer in their file; a file that could not be read keeps its rules.
    async fn store_instructions(
        &self,
        scope: &str,
        reading: &crate::instructions::Reading,
    ) -> Result<ExtractionReport> {
        let entries = crate::instructions::read::entries(reading, scope);
        let produced: std::collections::HashSet<String> =
            entries.iter().map(|e| e.id.clone()).collect();
        let mut report = self.indexer.write_extracted(scope, entries).await?;
        let current = self
            .store
            .list(&ListFilter {
                scopes: vec![scope.to_string()],
                statuses: vec![Status::Active],
                source: Some(Source::Instructions),
                ..Default::default()
            })
            .await?;
        let retired = crate::instructions::read::retired(current, &produced, reading);
        if !retired.is_empty() {
            report.superseded += retired.len();
            self.store.upsert(&retired).await?;
        }
        Ok(report)
    }

    /// Re-counts the code evidence of changed files (absolute, or relative to `root`) and
    /// stores only the conventions whose value changed; the old value is superseded, kept and
    /// restorable. A root that was never indexed is left alone. Paths under `.git` are
    /// accepted and ignored here, for history mining to pick up.
    async fn files_changed(&self, root: &Path, paths: &[PathBuf]) -> Result<FilesChanged> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let scope = self.snapshots.current().scope_of(&root).map(str::to_string);
        let mut outcome = FilesChanged {
            root: root.clone(),
            ..Default::default()
        };
        let Some(scope) = scope else {
            tracing::debug!("{} is not a workspace root", root.display());
            return Ok(outcome);
        };
        // HEAD or a ref moved (a commit, a checkout, a pull): mine the new commits. Cheap
        // when HEAD did not move, as for most writes under `.git`.
        if paths
            .iter()
            .any(|p| p.components().any(|c| c.as_os_str() == ".git"))
        {
            outcome.history = Some(self.mine_history(&root, &scope, true, &|_| {}).await?.0);
        }
        let rels: Vec<PathBuf> = paths.iter().filter_map(|p| relative_to(&root, p)).collect();
        // An instruction file changed: read them all again (they are few), retire what went.
        if rels.iter().any(|r| {
            r.to_str()
                .and_then(crate::instructions::formats::recognise)
                .is_some()
        }) {
            let max_file_bytes = self.snapshots.current().settings.max_file_bytes;
            let r = root.clone();
            let reading = tokio::task::spawn_blocking(move || {
                let walk = workspace::walk(&r, &[], max_file_bytes);
                crate::instructions::read_all(&r, &walk.files)
            })
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?;
            outcome.written = self.store_instructions(&scope, &reading).await?;
        }
        let taken = self
            .code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&root);
        let Some(mut index) = taken else {
            tracing::debug!("{} has not been indexed yet", root.display());
            return Ok(outcome);
        };
        let max_file_bytes = self.snapshots.current().settings.max_file_bytes;
        let config_reread = rels.iter().any(|r| crate::config::reads(r));
        let (mut index, code_entries, config_entries, report) = {
            let (root, scope) = (root.clone(), scope.clone());
            tokio::task::spawn_blocking(move || {
                let report = match crate::code::registry() {
                    Ok(registry) => index.update(registry, &root, &rels),
                    Err(_) => Default::default(),
                };
                // A saved manifest, Makefile, workflow or linter config: its facts are read
                // again with the rest of the configuration (the walk is cheap next to a
                // parse, and facts such as the package manager span several files). What the
                // code scan also measures rides along with the measured entry, as in a run.
                let config_entries = if config_reread {
                    let walk = workspace::walk(&root, index.ignores(), max_file_bytes);
                    let mut config = crate::config::extract(&root, &walk.files, &scope).entries;
                    index.absorb_config(&scope, &mut config);
                    config
                } else {
                    Vec::new()
                };
                let code_entries = index.changed_entries(&scope);
                (index, code_entries, config_entries, report)
            })
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
        };
        outcome.code = report;
        outcome.config_reread = config_reread;
        // One write for the whole burst of saves: one table version, however many facts moved.
        let mut entries = config_entries;
        entries.extend(code_entries.iter().cloned());
        let written = if entries.is_empty() {
            Ok(ExtractionReport::default())
        } else {
            self.indexer.write_extracted(&scope, entries).await
        };
        if written.is_ok() {
            index.mark_written(&code_entries);
        }
        self.code
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(root, index);
        let written = written?;
        outcome.written.add(&written);
        Ok(outcome)
    }

    /// Hands changed files (absolute paths, from saves and file watchers) to
    /// the incremental update of each workspace root that holds them.
    pub async fn paths_changed(&self, paths: &[PathBuf]) -> Vec<(PathBuf, Result<FilesChanged>)> {
        let mut outcomes = Vec::new();
        for w in self.snapshots.current().workspaces.iter() {
            let mine: Vec<PathBuf> = paths
                .iter()
                .filter(|p| p.is_absolute() && relative_to(&w.root, p).is_some())
                .cloned()
                .collect();
            if !mine.is_empty() {
                outcomes.push((w.root.clone(), self.files_changed(&w.root, &mine).await));
            }
        }
        outcomes
    }

    pub async fn last_index(&self) -> Vec<IndexReport> {
        self.last_index.read().await.clone()
    }
}

/// `path` relative to `root`; a deleted file is resolved through its parent directory.
fn relative_to(root: &Path, path: &Path) -> Option<PathBuf> {
    if path.is_relative() {
        return Some(path.to_path_buf());
    }
    if let Ok(rel) = path.strip_prefix(root) {
        return Some(rel.to_path_buf());
    }
    let canonical = path.canonicalize().ok().or_else(|| {
        let parent = path.parent()?.canonicalize().ok()?;
        Some(parent.join(path.file_name()?))
    })?;
    canonical.strip_prefix(root).ok().map(Path::to_path_buf)
}
