//! What requests read besides the store: the settings and the open workspaces. A request
//! takes one immutable [`Snapshot`] at its start and works from it to the end, so a settings
//! change or a new workspace folder never shows half-applied; writers build a new snapshot
//! and swap it in.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::assemble::{AssembleSettings, FileFocus};
use crate::workspace;

/// A workspace root and the scope its entries live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub root: PathBuf,
    pub scope: String,
}

/// The settings a client can change while the server runs (`didChangeConfiguration`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub assemble: AssembleSettings,
    /// Source files larger than this are not read (`maxFileBytes`); from the next run.
    pub max_file_bytes: u64,
    /// Commits mined per root, newest first (`historyMaxCommits`); from the next run.
    pub history_max_commits: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            assemble: AssembleSettings::default(),
            max_file_bytes: workspace::DEFAULT_MAX_FILE_BYTES,
            history_max_commits: crate::history::DEFAULT_MAX_COMMITS,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub settings: Settings,
    /// In the order the client gave them; the first one is the default scope of a write.
    pub workspaces: Vec<Workspace>,
    /// The scope of the directory the process runs in, for a process with no workspace.
    pub fallback_scope: String,
}

impl Snapshot {
    /// The scopes a request reads: the workspaces' (or the fallback's), then `user`.
    pub fn scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self.workspaces.iter().map(|w| w.scope.clone()).collect();
        if scopes.is_empty() {
            scopes.push(self.fallback_scope.clone());
        }
        scopes.push("user".into());
        scopes
    }

    /// The scopes a count, list or export covers: the request's (as [`Snapshot::scopes`]),
    /// or, with `all_scopes`, none, which the store reads as every scope.
    pub fn scopes_unless_all(&self, all_scopes: bool) -> Vec<String> {
        if all_scopes {
            Vec::new()
        } else {
            self.scopes()
        }
    }

    /// Where an entry goes when its request names no scope: the first workspace, else the
    /// directory the process runs in. Never `user`: the user scope reaches every project, so
    /// only an explicit `scope: "user"` puts an entry there.
    pub fn default_scope(&self) -> &str {
        self.workspaces
            .first()
            .map_or(self.fallback_scope.as_str(), |w| w.scope.as_str())
    }

    pub fn scope_of(&self, root: &Path) -> Option<&str> {
        self.workspaces
            .iter()
            .find(|w| w.root == root)
            .map(|w| w.scope.as_str())
    }

    /// A request's file (a path, absolute or relative to the first workspace root) relative
    /// to the workspace that holds it.
    pub fn focus_for(&self, file: &str) -> Option<FileFocus> {
        let path = PathBuf::from(file);
        if path.is_relative() {
            return Some(FileFocus::new(&path));
        }
        let canonical = path.canonicalize().unwrap_or(path.clone());
        for w in &self.workspaces {
            if let Ok(rel) = canonical
                .strip_prefix(&w.root)
                .or_else(|_| path.strip_prefix(&w.root))
            {
                return Some(FileFocus::new(rel));
            }
        }
        Some(FileFocus::new(Path::new(path.file_name()?)))
    }
}

/// The current snapshot. The lock is held only to clone or replace an `Arc`, never across
/// an await.
pub struct Snapshots(RwLock<Arc<Snapshot>>);

impl Snapshots {
    pub fn new(fallback_scope: String) -> Snapshots {
        Snapshots(RwLock::new(Arc::new(Snapshot {
            settings: Settings::default(),
            workspaces: Vec::new(),
            fallback_scope,
        })))
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Builds the next snapshot from the current one and swaps it in.
    pub fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        let mut next = Snapshot::clone(&slot);
        change(&mut next);
        *slot = Arc::new(next);
    }

    /// Registers a workspace root (idempotent) and returns its scope.
    pub async fn add_root(&self, root: &Path) -> String {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let scope = scope_of_dir(root.clone()).await;
        self.update(|s| {
            if !s.workspaces.iter().any(|w| w.root == root) {
                s.workspaces.push(Workspace {
                    root,
                    scope: scope.clone(),
                });
            }
        });
        scope
    }

    pub fn remove_root(&self, root: &Path) {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        self.update(|s| s.workspaces.retain(|w| w.root != root));
    }
}

/// The scope of a directory: finding its repository reads the disk, so it runs off the
/// runtime threads.
pub async fn scope_of_dir(dir: PathBuf) -> String {
    tokio::task::spawn_blocking(move || workspace::scope_for(&dir))
        .await
        .unwrap_or_else(|_| "dir:unknown".into())
}
