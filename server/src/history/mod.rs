//! Git history mining with git2: how this team writes commits and names branches
//! ([`style`]), which files change together ([`cochange`]), what happened when
//! ([`episodes`]) and which tools replaced which ([`decisions`]).
//!
//! Mining is incremental. Each commit read is kept as a small [`walk::CommitInfo`] in a JSON
//! state file per scope (next to the store), with the head it was mined at per branch; the
//! next run walks only the commits the new head added and reuses the rest. The analyses are
//! pure functions of that list, so re-deriving every memory from it costs milliseconds.
//!
//! [`mine`] never fails as a whole: no repository, no commits, a bare repository, a shallow
//! clone or a detached HEAD each give a [`HistoryStatus`] that says so.

pub mod cochange;
pub mod decisions;
pub mod episodes;
pub mod style;
pub mod walk;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use crate::memory::Entry;
use crate::redact::redact_in_place;
use walk::CommitInfo;

/// Commits read newest first; older ones are left out (server option `historyMaxCommits`).
pub const DEFAULT_MAX_COMMITS: usize = 5_000;

/// Bumped when [`CommitInfo`] or what is extracted into it changes: older state is re-mined.
/// 2: subjects, trailers, paths and branch names are redacted before they are kept.
const STATE_VERSION: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("cannot write the history state {path}: {source}")]
    State {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How mining is set up.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub max_commits: usize,
    /// Threads reading commits; 0 picks by the machine (at most 4). Default 1: on the
    /// 2-core machines this was measured on, a second thread did not pay for itself while
    /// anything else ran (`tacit bench history` prints both).
    pub threads: usize,
    pub cochange: cochange::CoChangeSettings,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            max_commits: DEFAULT_MAX_COMMITS,
            threads: 1,
            cochange: cochange::CoChangeSettings::default(),
        }
    }
}

/// What a mining run found, for `tacit.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HistoryState {
    /// New commits were read.
    Mined,
    /// HEAD is where it was at the last run: nothing to read.
    Unchanged,
    /// The workspace is not inside a git repository.
    #[default]
    NoRepository,
    /// A repository without commits yet.
    NoCommits,
    /// Reading failed; `message` says why.
    Error,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryStatus {
    /// The workspace root mined (set by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    pub state: HistoryState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Commits the memories are derived from.
    pub commits_mined: usize,
    /// Commits read in this run (the rest came from the state file).
    pub new_commits: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The branch HEAD is on, or `HEAD` when detached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub detached: bool,
    pub shallow: bool,
    pub bare: bool,
    /// The walk stopped at the `historyMaxCommits` cap.
    pub truncated: bool,
    pub duration_ms: u64,
    /// Entries derived from the commits, and how many of them the store did not hold yet
    /// (set by the engine after writing).
    pub entries: usize,
    pub written: usize,
    pub superseded: usize,
    /// Active entries of an earlier run the history no longer shows, now expired.
    pub retired: usize,
    /// Secrets replaced in commits, branch names and the entries derived from them before
    /// they were kept (the engine adds those of the entries).
    #[serde(default)]
    pub redacted: usize,
}

/// A mining run's output.
#[derive(Debug, Default)]
pub struct Mined {
    pub entries: Vec<Entry>,
    pub status: HistoryStatus,
}

/// What is kept between runs, one file per scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// The head of the last run, and per branch the last head mined on it.
    head: Option<String>,
    #[serde(default)]
    branches: BTreeMap<String, String>,
    truncated: bool,
    /// Newest first.
    commits: Vec<CommitInfo>,
    /// Commits mined on other branches that the current head does not reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    others: Vec<CommitInfo>,
}

/// The commit HEAD names, if `root` is in a repository with commits: a cheap check (no state
/// file, no walk) before mining on a `.git` change event.
pub fn current_head(root: &Path) -> Option<String> {
    let repo = Repository::discover(root).ok()?;
    let head = repo.head().ok()?.peel_to_commit().ok()?.id().to_string();
    Some(head)
}

/// Kinds of history entry that describe the present: when a run no longer finds one (a
/// coupling that ended, a trailer habit that stopped), it is retired. Episodes and decisions
/// describe the past and stay.
const CURRENT_PREFIXES: &[&str] = &["commit.", "branch.", "cochange."];

/// The active history entries of `existing` that describe the present but were not produced
/// by the latest run, marked expired (hidden, restorable) with the reason in their audit trail.
pub fn retired(existing: Vec<Entry>, produced: &HashSet<String>) -> Vec<Entry> {
    existing
        .into_iter()
        .filter(|e| {
            e.source == crate::memory::Source::History
                && e.status == crate::memory::Status::Active
                && !produced.contains(&e.id)
                && e.key
                    .as_deref()
                    .is_some_and(|k| CURRENT_PREFIXES.iter().any(|p| k.starts_with(p)))
        })
        .map(|mut e| {
            e.status = crate::memory::Status::Expired;
            e.updated_at = crate::memory::now_millis();
            e.record("expired", Some("no longer found in the git history".into()));
            e
        })
        .collect()
}

/// One line for people: what was mined, or why nothing was.
pub fn describe(status: &HistoryStatus) -> String {
    let root = status
        .root
        .as_ref()
        .map(|r| format!("{}: ", r.display()))
        .unwrap_or_default();
    let why = status.message.clone().unwrap_or_default();
    match status.state {
        HistoryState::Mined | HistoryState::Unchanged => {
            let mut line = format!(
                "{root}{} commits mined at {} ({})",
                status.commits_mined,
                status.head.as_deref().map(short).unwrap_or("?"),
                status.branch.as_deref().unwrap_or("?")
            );
            for (flag, label) in [
                (status.truncated, "capped at historyMaxCommits"),
                (status.shallow, "shallow clone"),
                (status.detached, "detached HEAD"),
                (status.bare, "bare repository"),
            ] {
                if flag {
                    line.push_str(&format!(", {label}"));
                }
            }
            if !why.is_empty() {
                line.push_str(&format!(", {why}"));
            }
            line
        }
        HistoryState::NoRepository => format!("{root}no history: not a git repository"),
        HistoryState::NoCommits => format!("{root}no history: no commits yet"),
        HistoryState::Error => format!("{root}no history: {why}"),
    }
}

/// What the last run, of any process, left in the state file of `scope`: for a status asked
/// of a process that has not mined yet (the CLI's `tacit status`).
pub fn stored_status(state_dir: &Path, scope: &str, root: &Path) -> Option<HistoryStatus> {
    let path = state_file(state_dir, scope);
    if !path.exists() {
        return None;
    }
    let state = load_state(&path);
    Some(HistoryStatus {
        root: Some(root.to_path_buf()),
        state: HistoryState::Mined,
        message: Some("as of the last run".into()),
        commits_mined: state.commits.len(),
        head: state.head.clone(),
        branch: state
            .branches
            .iter()
            .find(|(_, h)| Some(*h) == state.head.as_ref())
            .map(|(b, _)| b.clone()),
        truncated: state.truncated,
        ..Default::default()
    })
}

/// Where the mining state of a store lives: a `history` folder inside a local store, or the
/// user cache directory for a store behind a URI (the state is a cache: losing it costs one
/// full mining run, nothing else).
pub fn state_dir_for(store_uri: &str) -> PathBuf {
    let local = !store_uri.contains("://") || store_uri.starts_with("file://");
    if local {
        Path::new(store_uri.trim_start_matches("file://")).join("history")
    } else {
        dirs::cache_dir()
            .unwrap_or_else(|| PathBuf::from(".cache"))
            .join("tacit/history")
            .join(crate::memory::short_hash(&[store_uri]))
    }
}

/// Where the state of `scope` is kept inside `state_dir`.
pub fn state_file(state_dir: &Path, scope: &str) -> PathBuf {
    let name: String = scope
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    state_dir.join(format!("{name}.json"))
}

/// The mining state of `scope` as this store keeps it, for a team publication: a server that
/// adopts it ([`adopt_state`]) reads only the commits its head does not reach.
pub fn exported_state(state_dir: &Path, scope: &str) -> Option<serde_json::Value> {
    let state = load_state(&state_file(state_dir, scope));
    state.head.as_ref()?;
    serde_json::to_value(state).ok()
}

/// Takes a published mining state as this store's for `scope`, unless this store has mined
/// the scope already (its own state is at least as close to its head). `Ok(false)` when the
/// state is not one this build reads.
pub fn adopt_state(
    state_dir: &Path,
    scope: &str,
    published: serde_json::Value,
) -> Result<bool, HistoryError> {
    let path = state_file(state_dir, scope);
    if load_state(&path).head.is_some() {
        return Ok(false);
    }
    let mut state = match serde_json::from_value::<State>(published) {
        Ok(s) if s.version == STATE_VERSION && s.head.is_some() => s,
        Ok(_) => return Ok(false),
        Err(e) => {
            tracing::warn!("published history state of {scope} unreadable: {e}");
            return Ok(false);
        }
    };
    // Redacted where it was mined; redacted again, as every text that reaches a file here.
    for commit in state.commits.iter_mut().chain(state.others.iter_mut()) {
        commit.redact();
    }
    save_state(&path, &state)?;
    Ok(true)
}

fn load_state(path: &Path) -> State {
    let Ok(bytes) = std::fs::read(path) else {
        return State::default();
    };
    match serde_json::from_slice::<State>(&bytes) {
        Ok(s) if s.version == STATE_VERSION => s,
        Ok(_) => State::default(),
        Err(e) => {
            tracing::warn!(
                "history state {} unreadable, re-mining: {e}",
                path.display()
            );
            State::default()
        }
    }
}

fn save_state(path: &Path, state: &State) -> Result<(), HistoryError> {
    let err = |source| HistoryError::State {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let json = serde_json::to_vec(state).map_err(|e| err(std::io::Error::other(e)))?;
    // Write and rename, so that a second server reading the file never sees half of it.
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, json).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Mines the history of the repository at `root` for `scope`. With `state_dir`, the commits
/// read are kept there and the next run reads only new ones. `progress(done, total)` is called
/// while commits are read. With `only_if_moved`, an unchanged HEAD returns no entries (the
/// cheap answer to a `.git` change event); otherwise every memory is derived again.
pub fn mine(
    root: &Path,
    scope: &str,
    state_dir: Option<&Path>,
    options: &HistoryOptions,
    only_if_moved: bool,
    progress: &dyn Fn(usize, usize),
) -> Mined {
    let started = Instant::now();
    let mut mined = match mine_inner(root, scope, state_dir, options, only_if_moved, progress) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("history of {}: {e}", root.display());
            Mined {
                entries: Vec::new(),
                status: HistoryStatus {
                    state: HistoryState::Error,
                    message: Some(e.to_string()),
                    ..Default::default()
                },
            }
        }
    };
    mined.status.duration_ms = started.elapsed().as_millis() as u64;
    mined.status.entries = mined.entries.len();
    mined
}

fn mine_inner(
    root: &Path,
    scope: &str,
    state_dir: Option<&Path>,
    options: &HistoryOptions,
    only_if_moved: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<Mined, HistoryError> {
    // libgit2 hashes every object it reads to verify it; git itself trusts its packs when
    // reading, and so does a miner that only looks at paths (a tenth of the time otherwise).
    git2::opts::strict_hash_verification(false);
    let repo = match Repository::discover(root) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Mined {
                entries: Vec::new(),
                status: HistoryStatus {
                    state: HistoryState::NoRepository,
                    message: Some(format!(
                        "{} is not in a git repository ({})",
                        root.display(),
                        e.message()
                    )),
                    ..Default::default()
                },
            })
        }
    };
    let mut status = HistoryStatus {
        bare: repo.is_bare(),
        shallow: repo.is_shallow(),
        detached: repo.head_detached().unwrap_or(false),
        ..Default::default()
    };
    let head = match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(c) => c.id(),
        Err(e) => {
            status.state = HistoryState::NoCommits;
            status.message = Some(match e.code() {
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound => {
                    "the repository has no commits yet".to_string()
                }
                _ => format!("HEAD does not name a commit ({})", e.message()),
            });
            return Ok(Mined {
                entries: Vec::new(),
                status,
            });
        }
    };
    let mut branch = if status.detached {
        "HEAD".to_string()
    } else {
        repo.head()
            .ok()
            .and_then(|h| h.shorthand().map(str::to_string))
            .unwrap_or_else(|| "HEAD".into())
    };
    // Branch names are kept in the state file and shown in the status.
    status.redacted += redact_in_place(&mut branch);
    status.head = Some(head.to_string());
    status.branch = Some(branch.clone());

    let path = state_dir.map(|d| state_file(d, scope));
    let mut state = path.as_deref().map(load_state).unwrap_or_default();
    let cap = options.max_commits.max(1);
    if state.head.as_deref() == Some(&head.to_string())
        && state.commits.len() <= cap
        && !state.truncated_below(cap)
    {
        status.state = HistoryState::Unchanged;
        status.commits_mined = state.commits.len();
        status.truncated = state.truncated;
        if only_if_moved {
            return Ok(Mined {
                entries: Vec::new(),
                status,
            });
        }
        let (entries, redacted) = analyze(&repo, scope, &state.commits, options);
        status.redacted += redacted;
        return Ok(Mined { entries, status });
    }

    // A head that the new one descends from: only the commits in between are new. Anything
    // else (another branch, a rebase) walks again from the new head, but every commit already
    // read is reused, so only unknown commits cost a diff.
    let previous: Option<Oid> = state.head.as_deref().and_then(|h| Oid::from_str(h).ok());
    let fast_forward = previous.is_some_and(|p| {
        repo.graph_descendant_of(head, p).unwrap_or(false) && !state.truncated_below(cap)
    });
    let hide: Vec<Oid> = if fast_forward {
        previous.into_iter().collect()
    } else {
        Vec::new()
    };
    let oids = walk::new_commits(&repo, head, &hide, cap)?;
    // Commits of the branch mined before (and of the ones before it) are reused, so that
    // switching back and forth between branches reads only what neither has seen.
    let mut known: HashMap<String, CommitInfo> = if fast_forward {
        HashMap::new()
    } else {
        std::mem::take(&mut state.commits)
            .into_iter()
            .chain(std::mem::take(&mut state.others))
            .map(|c| (c.id.clone(), c))
            .collect()
    };
    let total = oids.len();
    let unknown: Vec<Oid> = oids
        .iter()
        .filter(|o| !known.contains_key(&o.to_string()))
        .copied()
        .collect();
    let mut read_now = read_commits(&repo, &unknown, status.shallow, options.threads, &|done| {
        progress(total - unknown.len() + done, total)
    });
    let read = read_now.len();
    // Redacted before anything keeps them: the state file and every analysis.
    for commit in read_now.values_mut() {
        status.redacted += commit.redact();
    }
    let mut fresh = Vec::with_capacity(total);
    for oid in &oids {
        let id = oid.to_string();
        if let Some(c) = read_now.remove(&id).or_else(|| known.remove(&id)) {
            fresh.push(c);
        }
    }
    progress(total, total);
    if !fast_forward {
        // What the new head does not reach is kept aside, newest first, up to the cap.
        let mut others: Vec<CommitInfo> = known.into_values().collect();
        others.sort_by(|a, b| b.time.cmp(&a.time).then(a.id.cmp(&b.id)));
        others.truncate(cap);
        state.others = others;
    }
    let walked_to_cap = oids.len() >= cap;
    if fast_forward {
        fresh.append(&mut state.commits);
        if fresh.len() > cap {
            fresh.truncate(cap);
            state.truncated = true;
        }
    } else {
        state.truncated = walked_to_cap;
    }
    state.commits = fresh;
    state.version = STATE_VERSION;
    state.head = Some(head.to_string());
    state.branches.insert(branch, head.to_string());
    if let Some(path) = &path {
        save_state(path, &state)?;
    }
    status.state = HistoryState::Mined;
    status.new_commits = read;
    status.commits_mined = state.commits.len();
    status.truncated = state.truncated;
    let (entries, redacted) = analyze(&repo, scope, &state.commits, options);
    status.redacted += redacted;
    Ok(Mined { entries, status })
}

/// Below this many commits to read, one thread does it faster than starting others.
const PARALLEL_FROM: usize = 2_000;

/// Reads commits, in parallel on large histories: each thread opens the repository itself
/// (a `Repository` is not shared between threads) and takes a contiguous run of commits, so
/// that consecutive commits share the trees its object cache holds. `progress(done)` is
/// called from this thread only.
fn read_commits(
    repo: &Repository,
    oids: &[Oid],
    shallow: bool,
    threads: usize,
    progress: &dyn Fn(usize),
) -> HashMap<String, CommitInfo> {
    let threads = match threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4),
        n => n,
    };
    let read_run = |repo: &Repository, run: &[Oid], report: Option<(&dyn Fn(usize), usize)>| {
        let mut out = HashMap::with_capacity(run.len());
        let mut reader = walk::Reader::new(repo, shallow);
        for (i, oid) in run.iter().enumerate() {
            if let Some((report, scale)) = report.filter(|_| i % 250 == 0) {
                // The other threads advance at about the same pace.
                report(i * scale);
            }
            match reader.read(*oid) {
                Ok(c) => {
                    out.insert(c.id.clone(), c);
                }
                Err(e) => tracing::debug!("history: skipping commit {oid}: {}", e.message()),
            }
        }
        out
    };
    if threads < 2 || oids.len() < PARALLEL_FROM {
        return read_run(repo, oids, Some((progress, 1)));
    }
    let chunk = oids.len().div_ceil(threads);
    let path = repo.path().to_path_buf();
    std::thread::scope(|scope| {
        let mut runs = oids.chunks(chunk);
        let first = runs.next().unwrap_or(&[]);
        let handles: Vec<_> = runs
            .map(|run| {
                let path = path.clone();
                scope.spawn(move || match Repository::open(&path) {
                    Ok(repo) => Ok(read_run(&repo, run, None)),
                    // Read on this thread after all.
                    Err(_) => Err(run),
                })
            })
            .collect();
        let mut out = read_run(repo, first, Some((progress, threads)));
        for h in handles {
            match h.join() {
                Ok(Ok(part)) => out.extend(part),
                Ok(Err(run)) => out.extend(read_run(repo, run, None)),
                Err(_) => tracing::warn!("history: a reader thread panicked"),
            }
        }
        out
    })
}

impl State {
    /// True when the kept list was cut at a smaller cap than the one asked for now: a
    /// fast-forward would leave the older commits missing, so walk again.
    fn truncated_below(&self, cap: usize) -> bool {
        self.truncated && self.commits.len() < cap
    }
}

/// Every memory, procedure and episode derived from the mined commits, and how many
/// secrets were replaced in the branch names read for them.
fn analyze(
    repo: &Repository,
    scope: &str,
    commits: &[CommitInfo],
    options: &HistoryOptions,
) -> (Vec<Entry>, usize) {
    let mut out = style::entries(scope, commits);
    let mut branches = branch_names(repo, commits);
    let redacted: usize = branches.iter_mut().map(redact_in_place).sum();
    out.extend(style::branch_entry(scope, &branches));
    let tree = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let exists = |path: &str| -> bool {
        let Some(tree) = &tree else { return true };
        tree.get_path(Path::new(path.trim_end_matches('/'))).is_ok()
    };
    out.extend(cochange::entries(
        scope,
        commits,
        &exists,
        &options.cochange,
    ));
    out.extend(episodes::entries(scope, commits));
    out.extend(decisions::entries(scope, commits));
    (out, redacted)
}

/// Branch names from local and remote-tracking refs and from merge subjects, once each.
fn branch_names(repo: &Repository, commits: &[CommitInfo]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    if let Ok(branches) = repo.branches(None) {
        for (b, kind) in branches.flatten() {
            let Ok(Some(name)) = b.name() else { continue };
            let name = match kind {
                git2::BranchType::Remote => match name.split_once('/') {
                    Some((_, rest)) => rest.to_string(),
                    None => continue,
                },
                git2::BranchType::Local => name.to_string(),
            };
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
    }
    for c in commits.iter().filter(|c| c.parents > 1) {
        if let Some(name) = style::merged_branch(&c.subject) {
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
    }
    names
}

/// The first 7 hex digits of a commit id, as `git log --oneline` shows it.
pub(crate) fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` (UTC) of a Unix time in seconds.
pub(crate) fn date(secs: i64) -> String {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The ISO 8601 week (year, week) of a Unix time in seconds, UTC.
pub(crate) fn iso_week(secs: i64) -> (i32, u32) {
    let days = secs.div_euclid(86_400);
    // 1970-01-01 was a Thursday; Monday is 0.
    let weekday = (days + 3).rem_euclid(7);
    let thursday = days - weekday + 3;
    let (year, _, _) = civil(thursday);
    let jan1 = days_from_civil(year, 1, 1);
    (year as i32, ((thursday - jan1) / 7 + 1) as u32)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
