//! The workspace as extractors see it: which files count (gitignore-aware, size- and
//! secret-filtered) and which scope the knowledge belongs to.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

use crate::memory::short_hash;
use crate::redact::is_secret_file;

/// Files larger than this are not read: generated bundles and data dumps say nothing about
/// how people write code.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Test fixtures, vendored and generated code describe other projects or nobody's habits;
/// they are not evidence of this one's conventions.
pub const DEFAULT_IGNORES: &[&str] = &[
    "**/fixtures/**",
    "**/testdata/**",
    "**/__fixtures__/**",
    "**/vendor/**",
    "**/third_party/**",
    "**/node_modules/**",
    "**/*.min.js",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    TooLarge,
    Secret,
    Unreadable,
    /// Holds NUL bytes: an image, an archive, a compiled object.
    Binary,
    NotUtf8,
    /// Marked as generated (`@generated`, `DO NOT EDIT`): nobody's habit.
    Generated,
    /// A bundle of a few enormous lines.
    Minified,
}

impl SkipReason {
    /// The name `tacit.status` counts skips under.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "tooLarge",
            SkipReason::Secret => "secret",
            SkipReason::Unreadable => "unreadable",
            SkipReason::Binary => "binary",
            SkipReason::NotUtf8 => "notUtf8",
            SkipReason::Generated => "generated",
            SkipReason::Minified => "minified",
        }
    }
}

#[derive(Debug, Default)]
pub struct Walk {
    /// Paths relative to the root, sorted so that every run sees them in one order.
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, SkipReason)>,
}

fn ignore_overrides(root: &Path, extra_ignores: &[String]) -> ignore::overrides::Override {
    let mut overrides = ignore::overrides::OverrideBuilder::new(root);
    for glob in DEFAULT_IGNORES
        .iter()
        .copied()
        .chain(extra_ignores.iter().map(String::as_str))
    {
        // Overrides are whitelists unless negated; an ignore setting means "leave out".
        if let Err(e) = overrides.add(&format!("!{glob}")) {
            tracing::warn!("ignoring the invalid ignore glob `{glob}`: {e}");
        }
    }
    overrides.build().unwrap_or_else(|e| {
        tracing::warn!("ignore globs not applied: {e}");
        ignore::overrides::Override::empty()
    })
}

/// Whether one changed file (relative to `root`) would be part of a [`walk`]: `Err(None)` when
/// it is gone or ignored, `Err(Some(reason))` when it is skipped for a reason worth counting.
/// Used for incremental updates, where walking the whole tree again would cost too much.
pub fn admits(
    root: &Path,
    rel: &Path,
    extra_ignores: &[String],
    max_file_bytes: u64,
) -> Result<(), Option<SkipReason>> {
    let path = root.join(rel);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => meta,
        _ => return Err(None),
    };
    if rel.components().any(|c| c.as_os_str() == ".git") {
        return Err(None);
    }
    if is_secret_file(rel) {
        return Err(Some(SkipReason::Secret));
    }
    let overrides = ignore_overrides(root, extra_ignores);
    let mut dir = rel.parent();
    if overrides.matched(rel, false).is_ignore() {
        return Err(None);
    }
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
        if overrides.matched(d, true).is_ignore() {
            return Err(None);
        }
        dir = d.parent();
    }
    // .gitignore and .ignore files from the root down to the file's directory; a deeper file
    // has the last word, as in a walk.
    let mut ignored = false;
    let mut here = root.to_path_buf();
    let mut dirs = vec![here.clone()];
    if let Some(parent) = rel.parent() {
        for c in parent.components() {
            here.push(c);
            dirs.push(here.clone());
        }
    }
    for d in dirs {
        for name in [".gitignore", ".ignore"] {
            let file = d.join(name);
            if !file.is_file() {
                continue;
            }
            let (gitignore, _) = ignore::gitignore::Gitignore::new(&file);
            let m = gitignore.matched_path_or_any_parents(&path, false);
            if m.is_ignore() {
                ignored = true;
            } else if m.is_whitelist() {
                ignored = false;
            }
        }
    }
    if ignored {
        return Err(None);
    }
    if meta.len() > max_file_bytes {
        return Err(Some(SkipReason::TooLarge));
    }
    Ok(())
}

/// Walks `root` honouring .gitignore, .ignore and the `extra_ignores` globs (gitignore
/// syntax). Hidden files are walked, because `.github/`, `.editorconfig` and friends carry
/// conventions, but `.git/` itself never is.
pub fn walk(root: &Path, extra_ignores: &[String], max_file_bytes: u64) -> Walk {
    let overrides = ignore_overrides(root, extra_ignores);
    let mut walk = Walk::default();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .overrides(overrides)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for item in walker {
        let entry = match item {
            Ok(entry) => entry,
            Err(e) => {
                tracing::debug!("walk: {e}");
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_path_buf();
        if is_secret_file(&rel) {
            tracing::debug!("skipping {}: may hold secrets", rel.display());
            walk.skipped.push((rel, SkipReason::Secret));
            continue;
        }
        match entry.metadata() {
            Ok(meta) if meta.len() > max_file_bytes => {
                tracing::debug!("skipping {}: {} bytes", rel.display(), meta.len());
                walk.skipped.push((rel, SkipReason::TooLarge));
            }
            Ok(_) => walk.files.push(rel),
            Err(e) => {
                tracing::debug!("skipping {}: {e}", rel.display());
                walk.skipped.push((rel, SkipReason::Unreadable));
            }
        }
    }
    walk.files.sort();
    walk
}

/// The longest directory both `a` and `b` (relative, `/`-separated, without a trailing `/`)
/// are under; empty at the root.
pub fn common_dir<'s>(a: &'s str, b: &str) -> &'s str {
    let mut end = 0;
    for ((i, x), y) in a
        .split('/')
        .scan(0, |at, part| {
            let start = *at;
            *at += part.len() + 1;
            Some((start + part.len(), part))
        })
        .zip(b.split('/'))
    {
        if x != y {
            break;
        }
        end = i;
    }
    &a[..end]
}

/// The scope of a workspace: `repo:<hash of the root commit>` so that every clone of one
/// repository shares its memories, or `dir:<hash of the path>` outside git (or before the
/// first commit).
pub fn scope_for(root: &Path) -> String {
    match root_commit(root) {
        Some(oid) => format!("repo:{}", short_hash(&[&oid])),
        None => {
            let path = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
            format!("dir:{}", short_hash(&[&path.to_string_lossy()]))
        }
    }
}

/// The oldest commit reachable from HEAD, if the path is inside a readable repository.
fn root_commit(root: &Path) -> Option<String> {
    let repo = match git2::Repository::discover(root) {
        Ok(repo) => repo,
        Err(e) => {
            tracing::debug!(
                "{} is not in a git repository: {}",
                root.display(),
                e.message()
            );
            return None;
        }
    };
    let head = match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(commit) => commit.id(),
        Err(e) => {
            tracing::debug!("no HEAD commit in {}: {}", root.display(), e.message());
            return None;
        }
    };
    // A server computes the scope as it opens and again as it adds the workspace; the
    // answer only changes when HEAD moves.
    let git_dir = repo.path().to_path_buf();
    if let Some((_, known)) = ROOT_COMMITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&git_dir)
        .filter(|(at, _)| *at == head)
    {
        return Some(known.clone());
    }
    // Each commit is read once, for its parents and its time. A revwalk followed by a lookup
    // of each commit it yields read every commit twice: 130 ms on a 6,500-commit repository,
    // ahead of everything else on a first index run.
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![head];
    // Several roots happen after merging unrelated histories; the oldest is the most stable.
    let mut oldest: Option<(i64, git2::Oid)> = None;
    while let Some(oid) = todo.pop() {
        if !seen.insert(oid) {
            continue;
        }
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        if commit.parent_count() == 0 {
            let time = commit.time().seconds();
            if oldest.is_none_or(|(t, _)| time < t) {
                oldest = Some((time, oid));
            }
        }
        todo.extend(commit.parent_ids().filter(|p| !seen.contains(p)));
    }
    let oldest = oldest?.1.to_string();
    ROOT_COMMITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(git_dir, (head, oldest.clone()));
    Some(oldest)
}

/// Per repository (its git directory), the last HEAD its root commit was found at, and it.
type RootCommits = std::collections::HashMap<PathBuf, (git2::Oid, String)>;
static ROOT_COMMITS: std::sync::LazyLock<std::sync::Mutex<RootCommits>> =
    std::sync::LazyLock::new(Default::default);

/// The directory a workspace is rooted at: the enclosing repository's work tree, else `path`.
pub fn root_for(path: &Path) -> PathBuf {
    let dir = if path.is_file() {
        path.parent().unwrap_or(path).to_path_buf()
    } else {
        path.to_path_buf()
    };
    git2::Repository::discover(&dir)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .unwrap_or(dir)
}

/// The language id of a file, by extension, for file-aware context.
pub fn language_of(path: &Path) -> Option<&'static str> {
    crate::catalog::language_of_extension(path.extension()?.to_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn walk_honours_gitignore_size_and_secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("target/out.rs"), "fn x() {}").unwrap();
        std::fs::write(root.join("main.rs"), "fn main() {}").unwrap();
        std::fs::write(root.join(".env"), "TOKEN=abc").unwrap();
        std::fs::write(root.join("big.json"), vec![b'x'; 2048]).unwrap();
        std::fs::create_dir_all(root.join(".github")).unwrap();
        std::fs::write(root.join(".github/ci.yml"), "on: push").unwrap();
        let w = walk(root, &["*.json".to_string()], 1024);
        assert_eq!(
            w.files,
            vec![
                PathBuf::from(".github/ci.yml"),
                PathBuf::from(".gitignore"),
                PathBuf::from("main.rs")
            ]
        );
        assert!(w
            .skipped
            .contains(&(PathBuf::from(".env"), SkipReason::Secret)));
        let w = walk(root, &[], 1024);
        assert!(w
            .skipped
            .contains(&(PathBuf::from("big.json"), SkipReason::TooLarge)));

        // A single changed file is judged as the walk would judge it.
        let ignores = ["*.json".to_string()];
        assert_eq!(admits(root, Path::new("main.rs"), &ignores, 1024), Ok(()));
        assert_eq!(
            admits(root, Path::new("target/out.rs"), &ignores, 1024),
            Err(None)
        );
        assert_eq!(
            admits(root, Path::new("big.json"), &ignores, 1 << 20),
            Err(None)
        );
        assert_eq!(
            admits(root, Path::new("big.json"), &[], 1024),
            Err(Some(SkipReason::TooLarge))
        );
        assert_eq!(admits(root, Path::new("gone.rs"), &[], 1024), Err(None));
        std::fs::create_dir_all(root.join("tests/fixtures")).unwrap();
        std::fs::write(root.join("tests/fixtures/x.rs"), "fn x() {}").unwrap();
        assert_eq!(
            admits(root, Path::new("tests/fixtures/x.rs"), &[], 1024),
            Err(None)
        );
    }

    #[test]
    fn clones_share_a_scope_and_plain_directories_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::create_dir_all(&a).unwrap();
        git(&a, &["init", "-q"]);
        let before = scope_for(&a);
        assert!(before.starts_with("dir:"), "{before}");
        std::fs::write(a.join("f"), "x").unwrap();
        git(&a, &["add", "f"]);
        git(&a, &["commit", "-qm", "first"]);
        let b = dir.path().join("b");
        git(
            dir.path(),
            &["clone", "-q", a.to_str().unwrap(), b.to_str().unwrap()],
        );
        assert!(scope_for(&a).starts_with("repo:"));
        assert_eq!(scope_for(&a), scope_for(&b));
        assert_eq!(root_for(&a.join("f")), a.canonicalize().unwrap());
    }

    #[test]
    fn a_history_with_two_roots_is_scoped_by_the_older_whichever_side_it_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let commit = |repo: &Path, file: &str, date: &str| {
            std::fs::write(repo.join(file), file).unwrap();
            git(repo, &["add", file]);
            let status = Command::new("git")
                .args(["commit", "-qm", file])
                .current_dir(repo)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date)
                .status()
                .unwrap();
            assert!(status.success());
        };
        for (first, second) in [("2001", "2005"), ("2005", "2001")] {
            let repo = dir.path().join(format!("from-{first}"));
            std::fs::create_dir_all(&repo).unwrap();
            git(&repo, &["init", "-q", "-b", "main"]);
            commit(&repo, "a", &format!("{first}-01-01T00:00:00Z"));
            git(&repo, &["checkout", "-q", "--orphan", "other"]);
            git(&repo, &["rm", "-q", "-rf", "."]);
            commit(&repo, "b", &format!("{second}-01-01T00:00:00Z"));
            git(&repo, &["checkout", "-q", "main"]);
            git(
                &repo,
                &[
                    "merge",
                    "-q",
                    "--allow-unrelated-histories",
                    "-m",
                    "m",
                    "other",
                ],
            );
            commit(&repo, "c", "2010-01-01T00:00:00Z");
            let older = if first == "2001" { "main~2" } else { "other" };
            let out = Command::new("git")
                .args(["rev-parse", older])
                .current_dir(&repo)
                .output()
                .unwrap();
            let older = String::from_utf8(out.stdout).unwrap().trim().to_string();
            let scope = scope_for(&repo);
            assert_eq!(scope, format!("repo:{}", short_hash(&[&older])));
            // Asked again at the same HEAD (the memo), and after HEAD moved.
            assert_eq!(scope_for(&repo), scope);
            commit(&repo, "d", "2011-01-01T00:00:00Z");
            assert_eq!(scope_for(&repo), scope);
        }
    }
}
