//! How several tacit processes (one server per editor window, the CLI, an MCP server) share
//! one local store without stepping on each other.
//!
//! LanceDB commits are atomic, but its maintenance is not safe against other writers: a prune
//! deletes files that an uncommitted transaction of another process may be about to
//! reference, and a compaction racing an index build or a merge fails with a commit
//! conflict. So every tacit process takes an advisory lock on `<store>/.tacit-write.lock`:
//! exclusive around every write (commit, compaction, prune), shared around reads of the
//! tables on disk (the reload of another process's writes). A reader therefore never sees a
//! version whose files a prune is removing, and no two writers ever commit at once. The
//! kernel drops the lock of a process that dies, so a killed writer never blocks the others.
//!
//! Each exclusive holder that changed a table bumps a counter in `<store>/.tacit-generation`
//! (written to a temporary file and renamed, so a reader sees the old or the new value,
//! never half of one). Other processes poll that small file to learn, cheaply and within a
//! poll interval, that there is something to reload.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LOCK_FILE: &str = ".tacit-write.lock";
const GENERATION_FILE: &str = ".tacit-generation";

#[derive(Debug, thiserror::Error)]
#[error("cannot lock {path}: {source}")]
pub struct LockError {
    path: PathBuf,
    source: std::io::Error,
}

/// The lock file and generation counter of one local store.
pub struct Coordination {
    dir: PathBuf,
    lock: Arc<File>,
}

/// Holds the store lock until dropped.
pub struct Held {
    lock: Arc<File>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Unlocking an flock'ed descriptor cannot block; an error here means the descriptor
        // is already gone, and with it the lock.
        let _ = self.lock.unlock();
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Shared,
    Exclusive,
}

impl Coordination {
    pub fn open(dir: &Path) -> Result<Coordination, LockError> {
        let path = dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| LockError { path, source })?;
        Ok(Coordination {
            dir: dir.to_path_buf(),
            lock: Arc::new(lock),
        })
    }

    /// Waits for the lock, off the async runtime's threads. If the waiting future is dropped,
    /// the blocking call still completes and its `Held` is dropped with the unread result,
    /// which releases the lock again.
    async fn take(&self, mode: Mode) -> Result<Held, LockError> {
        let lock = Arc::clone(&self.lock);
        let path = self.dir.join(LOCK_FILE);
        tokio::task::spawn_blocking(move || {
            let taken = match mode {
                Mode::Shared => lock.lock_shared(),
                Mode::Exclusive => lock.lock(),
            };
            taken.map(|()| Held { lock })
        })
        .await
        .map_err(|e| LockError {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?
        .map_err(|source| LockError { path, source })
    }

    /// For writes: no other process reads or writes the tables while it is held.
    pub async fn exclusive(&self) -> Result<Held, LockError> {
        self.take(Mode::Exclusive).await
    }

    /// For reads of the tables on disk: no process writes while it is held.
    pub async fn shared(&self) -> Result<Held, LockError> {
        self.take(Mode::Shared).await
    }

    /// The counter as last written; 0 for a store no writer has bumped yet.
    pub fn generation(&self) -> u64 {
        std::fs::read_to_string(self.dir.join(GENERATION_FILE))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Tells other processes that the tables changed. Call with the exclusive lock held.
    pub fn bump(&self) -> std::io::Result<u64> {
        let next = self.generation() + 1;
        let tmp = self
            .dir
            .join(format!("{GENERATION_FILE}.{}", std::process::id()));
        std::fs::write(&tmp, next.to_string())?;
        std::fs::rename(&tmp, self.dir.join(GENERATION_FILE))?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_exclusive_holder_excludes_a_second_handle_until_it_drops() {
        let dir = tempfile::tempdir().unwrap();
        // Two handles stand for two processes: flock locks belong to the open file.
        let a = Coordination::open(dir.path()).unwrap();
        let b = Coordination::open(dir.path()).unwrap();
        let held = a.exclusive().await.unwrap();
        assert!(
            b.lock.try_lock_shared().is_err(),
            "a reader got in beside a writer"
        );
        drop(held);
        let shared = b.shared().await.unwrap();
        assert!(
            a.lock.try_lock().is_err(),
            "a writer got in beside a reader"
        );
        drop(shared);
        assert_eq!(a.generation(), 0);
        let _w = a.exclusive().await.unwrap();
        assert_eq!(a.bump().unwrap(), 1);
        assert_eq!(b.generation(), 1);
    }
}
