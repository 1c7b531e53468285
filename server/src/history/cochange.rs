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
use crate::memory::{and_list, Entry, Evidence, Layer, Source, Step};
use crate::workspace::common_dir;

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

/// A hasher for ids that are already well spread: SipHash dominated the pair counting.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

fn key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
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

/// A trigger and the partners that changed with it, in the commits `together`.
struct Coupling<'a> {
    trigger: &'a str,
    revs: usize,
    group: Vec<&'a str>,
    together: Vec<u32>,
}

/// From this many couplings found in the same commits, they are stated as one family.
const MIN_FAMILY: usize = 3;

/// A procedure's evidence (`shared` of `total` commits) and how strongly it is stated from
/// it, with its rank among the procedures.
fn stated(mut e: Entry, shared: usize, total: usize) -> (f64, Entry) {
    let confidence = shared as f64 / total as f64;
    let weight = (shared as f64 / 10.0).min(1.0);
    e.evidence = Some(Evidence {
        matching: shared as u32,
        total: total as u32,
    });
    e.confidence = (0.4 + 0.5 * confidence * weight) as f32;
    e.importance = (0.35 + 0.4 * confidence * weight) as f32;
    e.tags = vec!["co-change".into()];
    (confidence * shared as f64, e)
}

/// "After editing `a`, also update `b` and `c` (9 of 11 commits)."
fn one_trigger(scope: &str, c: &Coupling) -> (f64, Entry) {
    let shared = c.together.len();
    let names: Vec<String> = c.group.iter().map(|p| format!("`{p}`")).collect();
    let text = format!(
        "After editing `{}`, also update {} ({shared} of {} commits).",
        c.trigger,
        and_list(&names),
        c.revs
    );
    let mut partners_sorted: Vec<&str> = c.group.clone();
    partners_sorted.sort_unstable();
    let mut e = Entry::extracted(
        scope,
        Layer::Procedure,
        Source::History,
        &format!("cochange.{}", c.trigger),
        None,
        &partners_sorted.join(","),
        text,
    );
    e.trigger = Some(format!("after-editing:{}", c.trigger));
    // With one partner the sentence is the whole procedure; a step "Also update `x`"
    // under it would only repeat it.
    e.steps = c
        .group
        .iter()
        .filter(|_| c.group.len() > 1)
        .map(|p| Step {
            text: format!("Also update `{p}`"),
            command: None,
        })
        .collect();
    e.paths = std::iter::once(c.trigger.to_string())
        .chain(c.group.iter().map(|p| p.to_string()))
        .collect();
    stated(e, shared, c.revs)
}

/// "In `docs/v1/`, `a.md`, `b.md` and `c.md` change together: after editing one, also update
/// the others (4 of the 4–6 commits of each)", or "After editing `a.go`, `b.go` or `c.go`,
/// also update `w.go` and the other 2 (…)". Every member changed in each of the family's
/// commits, so the figure holds for each trigger; members that are only partners are named
/// apart, as editing them does not call for the rest.
fn folded(scope: &str, family: &[Coupling]) -> (f64, Entry) {
    let shared = family[0].together.len();
    let mut triggers: Vec<&str> = family.iter().map(|c| c.trigger).collect();
    triggers.sort_unstable();
    let mut partners: Vec<&str> = family
        .iter()
        .flat_map(|c| c.group.iter().copied())
        .filter(|p| triggers.binary_search(p).is_err())
        .collect();
    partners.sort_unstable();
    partners.dedup();
    let mut members: Vec<&str> = triggers.iter().chain(&partners).copied().collect();
    members.sort_unstable();
    // The longest directory every member is in, said once.
    let common = members
        .iter()
        .map(|p| p.rsplit_once('/').map_or("", |(dir, _)| dir))
        .reduce(common_dir)
        .unwrap_or("");
    let shown = if common.is_empty() {
        0
    } else {
        common.len() + 1
    };
    let quoted = |paths: &[&str]| -> Vec<String> {
        paths.iter().map(|p| format!("`{}`", &p[shown..])).collect()
    };
    let (place, after) = if common.is_empty() {
        (String::new(), "After")
    } else {
        (format!("In `{common}/`, "), "after")
    };
    let (fewest, most) = family.iter().fold((usize::MAX, 0), |(lo, hi), c| {
        (lo.min(c.revs), hi.max(c.revs))
    });
    let revs = if fewest == most {
        format!("{most}")
    } else {
        format!("{fewest}–{most}")
    };
    let figure = format!("({shared} of the {revs} commits of each)");
    let text = if partners.is_empty() {
        format!(
            "{place}{} change together: after editing one, also update the others {figure}.",
            and_list(&quoted(&members))
        )
    } else {
        let names = quoted(&triggers);
        let (last, rest) = names.split_last().expect("a family has triggers");
        let mut updates = quoted(&partners);
        updates.push(format!("the other {}", triggers.len() - 1));
        format!(
            "{place}{after} editing {} or {last}, also update {} {figure}.",
            rest.join(", "),
            and_list(&updates)
        )
    };
    // Keyed by the family's first trigger: a trigger has one coupling, so no two families
    // share it.
    let mut e = Entry::extracted(
        scope,
        Layer::Procedure,
        Source::History,
        &format!("cochange.{}", triggers[0]),
        None,
        &members.join(","),
        text,
    );
    e.trigger = Some(format!("after-editing:{}", triggers.join(",")));
    e.paths = members.iter().map(|p| p.to_string()).collect();
    // The weakest trigger's figure: the one the sentence can stand behind for all.
    stated(e, shared, most)
}

/// Co-change procedures. `exists` says whether a path (a file, or a directory ending in `/`)
/// is in the current tree: coupling to a deleted file is history, not a procedure.
pub fn entries<'a>(
    scope: &str,
    commits: &'a [CommitInfo],
    exists: &dyn Fn(&str) -> bool,
    settings: &CoChangeSettings,
) -> Vec<Entry> {
    // Paths and directories (ending in `/`) get small ids; counting by id keeps the pair
    // table cheap on histories of tens of thousands of commits.
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    // Per id, the eligible commits (ascending indices) that touched it.
    let mut touched: Vec<Vec<u32>> = Vec::new();
    let mut intern = |p: &'a str, names: &mut Vec<&'a str>, touched: &mut Vec<Vec<u32>>| -> u32 {
        *ids.entry(p).or_insert_with(|| {
            names.push(p);
            touched.push(Vec::new());
            (names.len() - 1) as u32
        })
    };
    let mut pairs: IdMap<u32> = IdMap::default();
    let mut eligible = 0u32;
    for c in commits {
        if c.parents > 1 || c.boundary || c.paths.is_empty() {
            continue;
        }
        if c.paths.len() > settings.max_changeset || is_sweep(&c.subject) {
            continue;
        }
        let files: Vec<(u32, Option<u32>)> = c
            .paths
            .iter()
            .map(String::as_str)
            .filter(|p| !is_generated(p))
            .map(|p| {
                let file = intern(p, &mut names, &mut touched);
                let dir = parent_dir(p).map(|d| intern(d, &mut names, &mut touched));
                (file, dir)
            })
            .collect();
        if files.is_empty() {
            continue;
        }
        let idx = eligible;
        eligible += 1;
        let mut dirs: Vec<u32> = files.iter().filter_map(|f| f.1).collect();
        dirs.sort_unstable();
        dirs.dedup();
        for (f, _) in &files {
            touched[*f as usize].push(idx);
        }
        for d in &dirs {
            touched[*d as usize].push(idx);
        }
        if files.len() < 2 {
            continue;
        }
        for (a, a_dir) in &files {
            for (b, _) in &files {
                if a != b {
                    *pairs.entry(key(*a, *b)).or_default() += 1;
                }
            }
            // Directories of the other files, except the trigger's own and its parents.
            let a_name = names[*a as usize];
            for d in &dirs {
                if Some(*d) == *a_dir || a_name.starts_with(names[*d as usize]) {
                    continue;
                }
                if files.iter().any(|(b, bd)| b != a && *bd == Some(*d)) {
                    *pairs.entry(key(*a, *d)).or_default() += 1;
                }
            }
        }
    }
    let mut by_trigger: HashMap<u32, Vec<(u32, usize)>> = HashMap::new();
    for (k, shared) in pairs {
        if shared as usize >= settings.min_shared {
            let (a, b) = ((k >> 32) as u32, k as u32);
            by_trigger.entry(a).or_default().push((b, shared as usize));
        }
    }
    // Sorted, so that the output does not depend on hash order.
    let mut by_trigger: Vec<(u32, Vec<(u32, usize)>)> = by_trigger.into_iter().collect();
    by_trigger.sort_unstable_by_key(|(a, _)| *a);

    let mut couplings: Vec<Coupling> = Vec::new();
    for (trigger, partners) in by_trigger {
        let trigger_commits = &touched[trigger as usize];
        let trigger = names[trigger as usize];
        let revs = trigger_commits.len();
        if revs < settings.min_shared || !exists(trigger) {
            continue;
        }
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for (partner, shared) in partners {
            let partner_commits = &touched[partner as usize];
            let partner = names[partner as usize];
            let is_dir = partner.ends_with('/');
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
        couplings.push(Coupling {
            trigger,
            revs,
            group,
            together,
        });
    }

    // Couplings found in the very same commits are one fact seen from each of its files (a
    // set of pages split out in one commit and retouched together since): stated once, not
    // once per file.
    let mut families: Vec<Vec<Coupling>> = Vec::new();
    let mut family_of: HashMap<Vec<u32>, usize> = HashMap::new();
    for c in couplings {
        match family_of.get(&c.together) {
            Some(i) => families[*i].push(c),
            None => {
                family_of.insert(c.together.clone(), families.len());
                families.push(vec![c]);
            }
        }
    }
    let mut procedures: Vec<(f64, Entry)> = Vec::new();
    for family in families {
        if family.len() >= MIN_FAMILY {
            procedures.push(folded(scope, &family));
        } else {
            procedures.extend(family.iter().map(|c| one_trigger(scope, c)));
        }
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
