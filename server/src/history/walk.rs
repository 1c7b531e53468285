//! Reading commits with git2: one [`CommitInfo`] per commit, holding only what the analyses
//! need (subject, trailers, issue references, changed paths, dependency changes), so that the
//! next run can reuse it instead of reading the history again.
//!
//! Paths come from tree-to-tree comparisons without content: no blob is read except for the
//! few manifests whose dependency lists are compared.

use std::collections::{BTreeSet, HashMap, HashSet};

use git2::{Commit, Oid, Repository, Sort, Tree};
use serde::{Deserialize, Serialize};

use crate::manifest::{self, DepChange};
use crate::memory::short_hash;
use crate::redact::redact_in_place;

/// A merge brings in at most this many commits into one episode; a longer "branch" is a
/// merge of two long-lived lines, whose commits are better described week by week.
const MAX_MERGED: usize = 500;

/// Everything kept about one commit. Authors are kept as a short hash only: episodes count
/// authors and never name them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub id: String,
    /// Committer time, Unix seconds.
    pub time: i64,
    pub author: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trailers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issue_refs: Vec<String>,
    pub parents: u32,
    /// For a merge: the commits it brought in (reachable from the merged side only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<String>,
    /// Changed paths (against the first parent); empty for merges and shallow boundaries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The first commit of a shallow clone: its parent is missing, so its diff is unknown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub boundary: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<DepChange>,
    /// The commit a `git revert` commit undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<String>,
}

impl CommitInfo {
    /// Replaces the secrets in everything kept of the commit: a subject can carry a token
    /// ("Rotate xoxb-…"), and this record is written to the state file beside the store and
    /// read by every analysis. The message body is not kept, only its trailer keys, issue
    /// references and reverted commit. Returns how many secrets were replaced.
    pub fn redact(&mut self) -> usize {
        let mut count = redact_in_place(&mut self.subject);
        for text in self
            .trailers
            .iter_mut()
            .chain(self.issue_refs.iter_mut())
            .chain(self.paths.iter_mut())
        {
            count += redact_in_place(text);
        }
        for dep in &mut self.deps {
            count += redact_in_place(&mut dep.name);
        }
        count
    }
}

/// The commits reachable from `head` (newest first) that are not reachable from any of
/// `hide`, at most `cap` of them.
pub fn new_commits(
    repo: &Repository,
    head: Oid,
    hide: &[Oid],
    cap: usize,
) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    // Time order without the topological pass: libgit2 then walks lazily, so a cap of 5,000
    // on a history of a million commits reads about 5,000 commits.
    walk.set_sorting(Sort::TIME)?;
    walk.push(head)?;
    for oid in hide {
        // A hidden head that is gone (a force-push) just hides nothing.
        if let Err(e) = walk.hide(*oid) {
            tracing::debug!("history: cannot hide {oid}: {}", e.message());
        }
    }
    let mut out = Vec::new();
    for oid in walk {
        match oid {
            Ok(oid) => out.push(oid),
            // A shallow clone ends in missing parents; what was read so far is the history.
            Err(e) => {
                tracing::debug!("history: walk stopped: {}", e.message());
                break;
            }
        }
        if out.len() >= cap {
            break;
        }
    }
    Ok(out)
}

/// Sets libgit2's object cache for mining: commits are kept, trees are not. The revwalk reads
/// every commit and [`Reader`] reads it again, and once more as its child's parent, so with
/// commits cached each is inflated once (`bench history`: logrus 1.57–2.13x `git log` →
/// 1.35–1.39x, fd 2.37–2.53x → 1.72–1.87x).
/// Trees are kept by [`Reader`] for the two commits that share them; libgit2 kept every tree
/// read until the repository was dropped, and clearing them cost more than it saved (30% of
/// the `gen-history` repository's mining).
///
/// The cache's whole size is bounded by [`CACHE_BYTES`].
///
/// # Safety
/// libgit2 keeps these limits in globals without synchronisation: call this while the process
/// has a single thread. Without it mining is just as right, with libgit2's default limits.
pub unsafe fn tune_object_cache() {
    git2::opts::enable_caching(true);
    // SAFETY: the caller's promise, above.
    if let Err(e) = unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 0) } {
        tracing::debug!("history: libgit2 keeps its tree cache: {}", e.message());
    }
    // SAFETY: the caller's promise; the option takes one `ssize_t`, as passed.
    let status = unsafe {
        libgit2_sys::git_libgit2_opts(
            libgit2_sys::GIT_OPT_SET_CACHE_MAX_SIZE as libc::c_int,
            CACHE_BYTES as libc::ssize_t,
        )
    };
    if status < 0 {
        tracing::debug!("history: libgit2 keeps its default cache size");
    }
}

/// libgit2's object cache, in bytes of raw objects (256 MB by default). A parsed commit holds
/// several times its raw size: a 12,000-commit mining (2.9 MB of commits) peaked about 21 MB
/// higher with them cached. 4 MB holds a default 5,000-commit run on every corpus repository
/// (their commits average 240–620 bytes) and stops a longer walk from holding them all; past
/// it libgit2 evicts, and a commit evicted is inflated again, as before the cache.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// Reads commits of one repository, sharing what consecutive commits have in common: fed
/// newest first, as the revwalk yields them, a commit's trees are the ones its child's
/// comparison read on the parent's side. Before, each changed tree was inflated twice, and
/// each commit three times (the revwalk, the commit, and again as its child's parent), which
/// [`tune_object_cache`] now spares (`perf` on logrus: 2.5 times git's inflating). Newest
/// first is also the order git packs for: read oldest first, the generated 12,000-commit
/// repository mined in 770–786 ms instead of 674–698.
pub struct Reader<'r> {
    repo: &'r Repository,
    shallow: bool,
    graph: CommitGraph,
    manifests: ManifestNames,
    trees: Trees<'r>,
}

impl<'r> Reader<'r> {
    pub fn new(repo: &'r Repository, shallow: bool) -> Self {
        Reader {
            repo,
            shallow,
            graph: CommitGraph::default(),
            manifests: ManifestNames::default(),
            trees: Trees {
                repo,
                current: HashMap::new(),
                previous: HashMap::new(),
            },
        }
    }

    /// Reads one commit. Any order is right; newest first is the fast one.
    pub fn read(&mut self, oid: Oid) -> Result<CommitInfo, git2::Error> {
        let repo = self.repo;
        let commit = repo.find_commit(oid)?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let subject = message.lines().next().unwrap_or("").trim().to_string();
        let author =
            short_hash(&[&String::from_utf8_lossy(commit.author().email_bytes()).to_lowercase()]);
        let parents = commit.parent_count() as u32;
        let mut info = CommitInfo {
            id: oid.to_string(),
            time: commit.time().seconds(),
            author,
            trailers: trailers(&message),
            issue_refs: issue_refs(&message),
            reverts: reverted(&message),
            subject,
            parents,
            merged: Vec::new(),
            paths: Vec::new(),
            boundary: false,
            deps: Vec::new(),
        };
        if parents > 1 {
            info.merged = merged_commits(&mut self.graph, repo, &commit).unwrap_or_default();
            return Ok(info);
        }
        // The trees the last commit's comparison read are this one's candidates.
        self.trees.next_commit();
        let parent_tree = if parents == 1 {
            match commit
                .parent_id(0)
                .and_then(|p| repo.find_commit(p))
                .and_then(|p| self.trees.get(p.tree_id()))
            {
                Ok(tree) => Some(tree),
                Err(_) => {
                    info.boundary = true;
                    return Ok(info);
                }
            }
        } else if self.shallow && is_shallow_boundary(repo, oid) {
            // A shallow clone's oldest commit shows no parent, but it is not a root: diffing it
            // against nothing would report the whole tree as added.
            info.boundary = true;
            return Ok(info);
        } else {
            None
        };
        let tree = self.trees.get(commit.tree_id())?;
        changed_paths(
            &mut self.trees,
            parent_tree.as_ref(),
            &tree,
            &mut info,
            &mut self.manifests,
        )?;
        Ok(info)
    }
}

/// The trees read for the commit in hand and for the one before it: a tree that did not
/// change between the two is read once. Two generations, so what is held stays the size of
/// two comparisons however long the history.
struct Trees<'r> {
    repo: &'r Repository,
    current: HashMap<Oid, Tree<'r>>,
    previous: HashMap<Oid, Tree<'r>>,
}

impl<'r> Trees<'r> {
    fn get(&mut self, id: Oid) -> Result<Tree<'r>, git2::Error> {
        if let Some(tree) = self.current.get(&id) {
            return Ok(tree.clone());
        }
        let tree = match self.previous.remove(&id) {
            Some(tree) => tree,
            None => self.repo.find_tree(id)?,
        };
        self.current.insert(id, tree.clone());
        Ok(tree)
    }

    fn next_commit(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

fn is_shallow_boundary(repo: &Repository, oid: Oid) -> bool {
    let shallow_file = repo.path().join("shallow");
    std::fs::read_to_string(shallow_file)
        .map(|s| s.lines().any(|l| l.trim() == oid.to_string()))
        .unwrap_or(false)
}

/// Paths changed between two trees, and dependency changes in the manifests among them.
fn changed_paths(
    trees: &mut Trees,
    old: Option<&Tree>,
    new: &Tree,
    info: &mut CommitInfo,
    cache: &mut ManifestNames,
) -> Result<(), git2::Error> {
    let repo = trees.repo;
    let mut changes = Vec::new();
    diff_trees(trees, old, Some(new), "", &mut changes)?;
    let mut manifests = Vec::new();
    for change in changes {
        if manifest::is_manifest(&change.path) {
            manifests.push((change.path.clone(), change.old, change.new));
        }
        if let Some(found) = manifest::config_file_change(&change.path, change.status) {
            info.deps.extend(found);
        }
        info.paths.push(change.path);
    }
    for (path, old_id, new_id) in manifests {
        let old = manifest_names(repo, &path, old_id, cache);
        let new = manifest_names(repo, &path, new_id, cache);
        info.deps.extend(manifest::changes_of_names(
            &path,
            old.as_ref(),
            new.as_ref(),
        ));
    }
    let mut seen = HashSet::new();
    info.deps.retain(|d| seen.insert(d.clone()));
    Ok(())
}

/// The names each manifest blob declares, read once in a mining run: a commit's old blob is
/// the next commit's new one (reading and parsing each twice was a sixth of a Rust
/// repository's mining under `perf`). Keyed by blob and file name, since the name says how
/// the blob is read.
#[derive(Default)]
pub struct ManifestNames(HashMap<(Oid, String), Option<BTreeSet<String>>>);

/// A manifest larger than this is generated; its diff says nothing about a choice.
const MAX_MANIFEST_BYTES: usize = 512 * 1024;

/// The names the blob `id` of the manifest at `path` declares (none when it did not exist;
/// `None` when it does not parse or is too large).
fn manifest_names(
    repo: &Repository,
    path: &str,
    id: Option<Oid>,
    cache: &mut ManifestNames,
) -> Option<BTreeSet<String>> {
    let Some(id) = id else {
        return manifest::names(path, "");
    };
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    cache
        .0
        .entry((id, name))
        .or_insert_with(|| {
            let blob = repo.find_blob(id).ok()?;
            if blob.size() > MAX_MANIFEST_BYTES {
                return None;
            }
            manifest::names(path, &String::from_utf8_lossy(blob.content()))
        })
        .clone()
}

/// One changed path.
struct Change {
    path: String,
    status: git2::Delta,
    old: Option<Oid>,
    new: Option<Oid>,
}

/// Git's order of tree entries: a subtree's name sorts as if it ended in `/`.
fn entry_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        std::cmp::Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], tree: bool| -> u8 {
        match name.get(n) {
            Some(c) => *c,
            None if tree => b'/',
            None => 0,
        }
    };
    match next(a, a_tree).cmp(&next(b, b_tree)) {
        // Same name and kind; a file and a directory of one name stay apart.
        std::cmp::Ordering::Equal if a.len() == b.len() && a_tree != b_tree => a_tree.cmp(&b_tree),
        other => other,
    }
}

fn is_tree(e: &git2::TreeEntry) -> bool {
    e.kind() == Some(git2::ObjectType::Tree)
}

/// The paths that differ between two trees, like `git diff-tree -r --name-only`: subtrees
/// with the same id are skipped without being read, and no blob is read at all. This is
/// what `git log --name-only` does, and several times faster than libgit2's general diff
/// (measured on the `gen-history` repository), which sets up iterators and deltas per tree.
fn diff_trees(
    trees: &mut Trees,
    old: Option<&Tree>,
    new: Option<&Tree>,
    prefix: &str,
    out: &mut Vec<Change>,
) -> Result<(), git2::Error> {
    let (na, nb) = (old.map_or(0, Tree::len), new.map_or(0, Tree::len));
    let (mut i, mut j) = (0, 0);
    while i < na || j < nb {
        let x = old.and_then(|t| t.get(i));
        let y = new.and_then(|t| t.get(j));
        let order = match (&x, &y) {
            (Some(x), Some(y)) => {
                entry_order(x.name_bytes(), is_tree(x), y.name_bytes(), is_tree(y))
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => break,
        };
        match (order, x, y) {
            (std::cmp::Ordering::Less, Some(x), _) => {
                side(trees, &x, prefix, false, out)?;
                i += 1;
            }
            (std::cmp::Ordering::Greater, _, Some(y)) => {
                side(trees, &y, prefix, true, out)?;
                j += 1;
            }
            (_, Some(x), Some(y)) => {
                if x.id() != y.id() || x.filemode() != y.filemode() {
                    let path = format!("{prefix}{}", String::from_utf8_lossy(x.name_bytes()));
                    if is_tree(&x) {
                        let (t1, t2) = (trees.get(x.id())?, trees.get(y.id())?);
                        diff_trees(trees, Some(&t1), Some(&t2), &format!("{path}/"), out)?;
                    } else {
                        out.push(Change {
                            path,
                            status: git2::Delta::Modified,
                            old: Some(x.id()),
                            new: Some(y.id()),
                        });
                    }
                }
                i += 1;
                j += 1;
            }
            _ => break,
        }
    }
    Ok(())
}

/// An entry present on one side only: added or deleted, with everything under it.
fn side(
    trees: &mut Trees,
    item: &git2::TreeEntry,
    prefix: &str,
    added: bool,
    out: &mut Vec<Change>,
) -> Result<(), git2::Error> {
    let path = format!("{prefix}{}", String::from_utf8_lossy(item.name_bytes()));
    if is_tree(item) {
        let tree = trees.get(item.id())?;
        let path = format!("{path}/");
        return if added {
            diff_trees(trees, None, Some(&tree), &path, out)
        } else {
            diff_trees(trees, Some(&tree), None, &path, out)
        };
    }
    let (status, old, new) = if added {
        (git2::Delta::Added, None, Some(item.id()))
    } else {
        (git2::Delta::Deleted, Some(item.id()), None)
    };
    out.push(Change {
        path,
        status,
        old,
        new,
    });
    Ok(())
}

/// The commits a merge brought in: reachable from its other parents, not from the first,
/// newest first, as `git rev-list <other parents> --not <first parent>` lists them.
///
/// Walked here over a [`CommitGraph`] that the merges of one run share, where a revwalk per
/// merge parsed each commit from the pack again (an inflate per commit per merge): in
/// histories where a third of the commits are merges those walks were two thirds of the
/// mining time (`perf` on urfave/cli, 1,322 merges in 3,886 commits). The walk is
/// git's: commits in committer-time order, a commit reached from the first parent hides its
/// parents, and it stops a few commits after only hidden ones are left (clock skew); a commit
/// found hidden after it was reached is dropped at the end.
fn merged_commits(
    graph: &mut CommitGraph,
    repo: &Repository,
    merge: &Commit,
) -> Result<Vec<String>, git2::Error> {
    /// Commits walked after only hidden ones are left, as git's `limit_list` does.
    const SLOP: usize = 5;
    let mut walk = MergeWalk {
        repo,
        graph,
        marks: std::collections::HashMap::new(),
        queue: std::collections::BinaryHeap::new(),
    };
    for i in 1..merge.parent_count() {
        walk.reach(merge.parent_id(i)?, MERGED)?;
    }
    walk.reach(merge.parent_id(0)?, HIDDEN)?;
    let mut found: Vec<Oid> = Vec::new();
    let mut slop = SLOP;
    while let Some((_, oid)) = walk.queue.pop() {
        let mark = walk.mark(oid);
        let parents = walk.graph.node(repo, oid)?.1.clone();
        if mark & HIDDEN != 0 {
            for parent in parents {
                walk.reach(parent, HIDDEN)?;
            }
        } else {
            found.push(oid);
            // A long-lived line: what it brought is described week by week, not listed.
            if found.len() >= 2 * MAX_MERGED {
                break;
            }
            for parent in parents {
                walk.reach(parent, MERGED)?;
            }
        }
        if walk.queue.iter().all(|&(_, o)| walk.mark(o) & HIDDEN != 0) {
            slop -= 1;
            if slop == 0 {
                break;
            }
        } else {
            slop = SLOP;
        }
    }
    Ok(found
        .into_iter()
        .filter(|&oid| walk.mark(oid) & HIDDEN == 0)
        .take(MAX_MERGED)
        .map(|oid| oid.to_string())
        .collect())
}

/// Each commit's committer time and parents, read once per mining run (libgit2 keeps a commit
/// only up to 4 KB, see [`tune_object_cache`]), for the walks of [`merged_commits`].
#[derive(Default)]
pub struct CommitGraph(std::collections::HashMap<Oid, (i64, Vec<Oid>)>);

impl CommitGraph {
    fn node(&mut self, repo: &Repository, oid: Oid) -> Result<&(i64, Vec<Oid>), git2::Error> {
        Ok(match self.0.entry(oid) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(new) => {
                let commit = repo.find_commit(oid)?;
                new.insert((commit.time().seconds(), commit.parent_ids().collect()))
            }
        })
    }
}

/// Reached from a merge's other parents.
const MERGED: u8 = 1;
/// Reached from its first parent.
const HIDDEN: u8 = 2;

/// The state of [`merged_commits`]: each commit's marks, and the commits to visit, newest
/// first.
struct MergeWalk<'r> {
    repo: &'r Repository,
    graph: &'r mut CommitGraph,
    marks: std::collections::HashMap<Oid, u8>,
    queue: std::collections::BinaryHeap<(i64, Oid)>,
}

impl MergeWalk<'_> {
    fn mark(&self, oid: Oid) -> u8 {
        self.marks.get(&oid).copied().unwrap_or(0)
    }

    /// Adds `mark` to `oid`; queues it when first reached, and again when it becomes hidden,
    /// so that its parents are hidden too.
    fn reach(&mut self, oid: Oid, mark: u8) -> Result<(), git2::Error> {
        let old = self.mark(oid);
        if old | mark == old {
            return Ok(());
        }
        self.marks.insert(oid, old | mark);
        if old == 0 || mark == HIDDEN {
            let time = self.graph.node(self.repo, oid)?.0;
            self.queue.push((time, oid));
        }
        Ok(())
    }
}

/// Trailer keys, lower-cased (`signed-off-by`, `co-authored-by` …), once each.
fn trailers(message: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Ok(found) = git2::message_trailers_strs(message) {
        for (key, _) in found.iter() {
            let key = key.trim().to_lowercase();
            if !key.is_empty() && !out.contains(&key) {
                out.push(key);
            }
        }
    }
    out
}

fn issue_refs(message: &str) -> Vec<String> {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(?:^|[\s(\[,;:])(#\d{1,7})\b|\b([A-Z][A-Z0-9]{1,9}-\d{1,7})\b")
            .expect("static regex")
    });
    let mut out: Vec<String> = Vec::new();
    for cap in re.captures_iter(message) {
        let Some(m) = cap.get(1).or_else(|| cap.get(2)) else {
            continue;
        };
        let r = m.as_str().to_string();
        if !out.contains(&r) {
            out.push(r);
        }
        if out.len() >= 5 {
            break;
        }
    }
    out
}

/// The commit that `git revert` says this one reverts.
fn reverted(message: &str) -> Option<String> {
    let rest = message.split("This reverts commit ").nth(1)?;
    let oid: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (oid.len() >= 7).then_some(oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_references_and_reverts_are_read_from_messages() {
        assert_eq!(
            issue_refs("Fix crash on empty input (#123)\n\nRefs PROJ-42, UTF-8"),
            vec!["#123", "PROJ-42", "UTF-8"]
        );
        assert_eq!(
            reverted("Revert \"Use tracing\"\n\nThis reverts commit 0123456789abcdef.\n"),
            Some("0123456789abcdef".to_string())
        );
        assert_eq!(
            trailers("Add x\n\nBody.\n\nSigned-off-by: A <a@x>\nCo-authored-by: B <b@x>\n"),
            vec!["signed-off-by", "co-authored-by"]
        );
    }
}
