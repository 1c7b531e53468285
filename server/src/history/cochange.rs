//! Logical coupling, as code-maat measures it: files (or directories) that change in the same
//! commits. A file whose commits usually also touch another file becomes a procedure:
//! "After editing `src/schema.rs`, also update `migrations/` and `docs/schema.md` (9 of 11
//! commits)".
//!
//! Two measures must both hold for a partner `B` of a trigger `A`: the confidence
//! `shared / revs(A)` (how often editing A meant editing B) and code-maat's degree
//! `shared / mean(revs(A), revs(B))`, which keeps out files that change in nearly every commit
//! (a changelog is not coupled to everything). Mass commits (formatting sweeps, renames,
//! vendoring: more than `max_changeset` files, or a subject that says so) and merges are left
//! out of every count.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::walk::CommitInfo;
use crate::memory::{Entry, Evidence, Layer, Source, Step};

/// Thresholds; the defaults were chosen on the fixtures of `history::tests` and are stated
/// in the README.
#[derive(Debug, Clone, Copy)]
pub struct CoChangeSettings {
    /// Commits in which trigger and partner changed together.
    pub min_shared: usize,
    /// `shared / revs(trigger)`.
    pub min_confidence: f64,
    /// code-maat's degree, `shared / mean(revs(trigger), revs(partner))`.
    pub min_degree: f64,
    /// Commits touching more files than this are sweeps, not coupled work.
    pub max_changeset: usize,
    /// At most this many procedures, strongest first.
    pub max_procedures: usize,
    /// At most this many partners per trigger.
    pub max_partners: usize,
}

impl Default for CoChangeSettings {
    fn default() -> Self {
        CoChangeSettings {
            min_shared: 3,
            min_confidence: 0.6,
            min_degree: 0.3,
            max_changeset: 30,
            max_procedures: 100,
            max_partners: 4,
        }
    }
}

/// Files tools rewrite on their own: coupling to them teaches nothing.
fn is_generated(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Cargo.lock"
            | "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "poetry.lock"
            | "uv.lock"
            | "go.sum"
            | "Gemfile.lock"
            | "composer.lock"
            | "Pipfile.lock"
            | "bun.lockb"
    )
}

/// A commit whose subject says it is a sweep rather than a change of behaviour.
pub fn is_sweep(subject: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)^style(\([^)]*\))?!?:|\b(re-?format(ted|ting)?|run (cargo fmt|rustfmt|prettier|black|gofmt)|apply (cargo fmt|rustfmt|prettier|black|gofmt)|whitespace|vendor(ed|ing)?|license headers?|copyright headers?|mass rename)\b",
        )
        .expect("static regex")
    });
    re.is_match(subject)
}

fn parent_dir(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..=i])
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

struct Candidate<'a> {
    path: &'a str,
    commits: &'a [u32],
    shared: usize,
    confidence: f64,
}

/// Co-change procedures. `exists` says whether a path (a file, or a directory ending in `/`)
/// is in the current tree: coupling to a deleted file is history, not a procedure.
pub fn entries(
    scope: &str,
    commits: &[CommitInfo],
    exists: &dyn Fn(&str) -> bool,
    settings: &CoChangeSettings,
) -> Vec<Entry> {
    // Commit indices per file and per directory, ascending (commits are indexed in order).
    let mut file_commits: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut dir_commits: HashMap<&str, Vec<u32>> = HashMap::new();
    // Which files each eligible commit touched, for the pair counts.
    let mut eligible: Vec<Vec<&str>> = Vec::new();
    for c in commits {
        if c.parents > 1 || c.boundary || c.paths.is_empty() {
            continue;
        }
        if c.paths.len() > settings.max_changeset || is_sweep(&c.subject) {
            continue;
        }
        let files: Vec<&str> = c
            .paths
            .iter()
            .map(String::as_str)
            .filter(|p| !is_generated(p))
            .collect();
        if files.is_empty() {
            continue;
        }
        let idx = eligible.len() as u32;
        for f in &files {
            file_commits.entry(f).or_default().push(idx);
        }
        let mut dirs: Vec<&str> = files.iter().filter_map(|f| parent_dir(f)).collect();
        dirs.sort_unstable();
        dirs.dedup();
        for d in dirs {
            dir_commits.entry(d).or_default().push(idx);
        }
        eligible.push(files);
    }

    // Pair counts, file to file and file to directory.
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    for files in &eligible {
        if files.len() < 2 {
            continue;
        }
        for a in files {
            for b in files {
                if a != b {
                    *pairs.entry((a, b)).or_default() += 1;
                }
            }
            let mut dirs: Vec<&str> = files
                .iter()
                .filter(|b| *b != a)
                .filter_map(|b| parent_dir(b))
                .filter(|d| !a.starts_with(d))
                .collect();
            dirs.sort_unstable();
            dirs.dedup();
            for d in dirs {
                *pairs.entry((a, d)).or_default() += 1;
            }
        }
    }
    let mut by_trigger: HashMap<&str, Vec<(&str, usize)>> = HashMap::new();
    for ((a, b), shared) in pairs {
        if shared >= settings.min_shared {
            by_trigger.entry(a).or_default().push((b, shared));
        }
    }

    let mut procedures: Vec<(f64, Entry)> = Vec::new();
    for (trigger, partners) in by_trigger {
        let Some(trigger_commits) = file_commits.get(trigger) else {
            continue;
        };
        let revs = trigger_commits.len();
        if revs < settings.min_shared || !exists(trigger) {
            continue;
        }
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for (partner, shared) in partners {
            let is_dir = partner.ends_with('/');
            let Some(partner_commits) = (if is_dir {
                dir_commits.get(partner)
            } else {
                file_commits.get(partner)
            }) else {
                continue;
            };
            let confidence = shared as f64 / revs as f64;
            let degree = shared as f64 / ((revs + partner_commits.len()) as f64 / 2.0);
            if confidence < settings.min_confidence || degree < settings.min_degree {
                continue;
            }
            let c = Candidate {
                path: partner,
                commits: partner_commits,
                shared,
                confidence,
            };
            if is_dir {
                dirs.push(c);
            } else {
                files.push(c);
            }
        }
        // A directory stands in for its files when no single file of it explains the
        // coupling (a new migration each time); otherwise the file is the better advice.
        let mut chosen: Vec<Candidate> = Vec::new();
        for d in dirs {
            let best_file = files
                .iter()
                .filter(|f| parent_dir(f.path) == Some(d.path))
                .map(|f| f.shared)
                .max()
                .unwrap_or(0);
            if (best_file as f64) < 0.8 * d.shared as f64 && exists(d.path) {
                chosen.push(d);
            }
        }
        let dir_paths: Vec<&str> = chosen.iter().map(|d| d.path).collect();
        for f in files {
            if !dir_paths.iter().any(|d| parent_dir(f.path) == Some(*d)) && exists(f.path) {
                chosen.push(f);
            }
        }
        chosen.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(b.shared.cmp(&a.shared))
                .then(a.path.cmp(b.path))
        });
        // Grow the group while the whole group still changes together often enough.
        let mut together: Vec<u32> = trigger_commits.clone();
        let mut group: Vec<&str> = Vec::new();
        for c in chosen {
            if group.len() >= settings.max_partners {
                break;
            }
            let next = intersect(&together, c.commits);
            if next.len() >= settings.min_shared
                && next.len() as f64 / revs as f64 >= settings.min_confidence
            {
                together = next;
                group.push(c.path);
            }
        }
        if group.is_empty() {
            continue;
        }
        let shared = together.len();
        let confidence = shared as f64 / revs as f64;
        let names: Vec<String> = group.iter().map(|p| format!("`{p}`")).collect();
        let list = match names.len() {
            1 => names[0].clone(),
            n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        };
        let text =
            format!("After editing `{trigger}`, also update {list} ({shared} of {revs} commits).");
        let mut partners_sorted: Vec<&str> = group.clone();
        partners_sorted.sort_unstable();
        let mut e = Entry::extracted(
            scope,
            Layer::Procedure,
            Source::History,
            &format!("cochange.{trigger}"),
            None,
            &partners_sorted.join(","),
            text,
        );
        e.trigger = Some(format!("after-editing:{trigger}"));
        e.steps = group
            .iter()
            .map(|p| Step {
                text: format!("Also update `{p}`"),
                command: None,
            })
            .collect();
        e.paths = std::iter::once(trigger.to_string())
            .chain(group.iter().map(|p| p.to_string()))
            .collect();
        e.evidence = Some(Evidence {
            matching: shared as u32,
            total: revs as u32,
        });
        let weight = (shared as f64 / 10.0).min(1.0);
        e.confidence = (0.4 + 0.5 * confidence * weight) as f32;
        e.importance = (0.35 + 0.4 * confidence * weight) as f32;
        e.tags = vec!["co-change".into()];
        procedures.push((confidence * shared as f64, e));
    }
    procedures.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    procedures.truncate(settings.max_procedures);
    procedures.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_are_recognised_by_their_subject() {
        assert!(is_sweep("style: cargo fmt"));
        assert!(is_sweep("Reformat everything with black"));
        assert!(is_sweep("Run prettier on src"));
        assert!(!is_sweep("Add a --format flag"));
        assert!(!is_sweep("Fix the schema migration"));
    }
}
