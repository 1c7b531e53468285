//! Episodes: history compressed into stretches of work. Where branches land with merge
//! commits, each merge is one episode (the branch's commits); the commits made directly on
//! the line, and all commits of a linear history, are grouped by ISO week. An episode keeps
//! its period, commit count, how many authors (never who), the paths it mostly touched and an
//! extractive summary: the subjects that share the most words with the rest.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::style::merged_branch;
use super::walk::CommitInfo;
use super::{date, iso_week, short};
use crate::memory::{Entry, Evidence, Layer, Period, Source};

/// The newest episodes kept; older ones are in `git log` and rarely asked about.
pub const MAX_EPISODES: usize = 52;
/// An episode needs at least this many commits: one commit is its own subject line.
pub const MIN_COMMITS: usize = 2;
/// Importance halves for every this many days an episode ended before the newest commit.
const HALF_LIFE_DAYS: f64 = 60.0;

struct Group<'a> {
    key: String,
    title: String,
    commits: Vec<&'a CommitInfo>,
}

const STOPWORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "from", "by", "is",
    "are", "be", "it", "its", "this", "that", "as", "at", "into", "not", "no", "so",
];

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !STOPWORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// Up to three subjects that best represent the group (most shared words per word),
/// in the order they were committed.
fn summary(commits: &[&CommitInfo]) -> Vec<String> {
    let mut df: HashMap<String, usize> = HashMap::new();
    for c in commits {
        let unique: HashSet<String> = words(&c.subject).into_iter().collect();
        for w in unique {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut scored: Vec<(f64, i64, &str)> = Vec::new();
    let mut seen = HashSet::new();
    for c in commits {
        let s = c.subject.trim();
        let lower = s.to_lowercase();
        if s.is_empty()
            || !seen.insert(lower.clone())
            || lower.starts_with("wip")
            || lower.starts_with("fixup!")
            || lower.starts_with("squash!")
        {
            continue;
        }
        let w = words(s);
        if w.is_empty() {
            continue;
        }
        let score = w.iter().map(|x| df[x] as f64).sum::<f64>() / (w.len() as f64).sqrt();
        scored.push((score, c.time, s));
    }
    // Ties (commits of one second, as scripts and rebases make) go by subject, so that two
    // runs over the same commits read in another order write the same text.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
    scored.truncate(3);
    scored.sort_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(b.2)));
    scored.into_iter().map(|(_, _, s)| clip(s, 100)).collect()
}

/// At most `max` characters, cut at a word boundary.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

/// The paths a group mostly touched: files if few, else their directories.
fn main_paths(commits: &[&CommitInfo]) -> Vec<String> {
    let mut files: HashMap<&str, usize> = HashMap::new();
    for c in commits {
        for p in &c.paths {
            *files.entry(p.as_str()).or_default() += 1;
        }
    }
    let ranked = |counts: HashMap<String, usize>| {
        let mut v: Vec<(String, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().take(4).map(|(p, _)| p).collect::<Vec<_>>()
    };
    if files.len() <= 4 {
        return ranked(files.into_iter().map(|(p, k)| (p.to_string(), k)).collect());
    }
    let mut dirs: HashMap<String, usize> = HashMap::new();
    for (p, k) in files {
        let d = match p.rfind('/') {
            Some(i) => p[..=i].to_string(),
            None => p.to_string(),
        };
        *dirs.entry(d).or_default() += k;
    }
    ranked(dirs)
}

/// Episode entries from the mined commits (newest first).
pub fn entries(scope: &str, commits: &[CommitInfo]) -> Vec<Entry> {
    let Some(newest) = commits.iter().map(|c| c.time).max() else {
        return Vec::new();
    };
    let by_id: HashMap<&str, &CommitInfo> = commits.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut in_merge: HashSet<&str> = HashSet::new();
    let mut groups: Vec<Group> = Vec::new();
    for c in commits.iter().filter(|c| c.parents > 1) {
        let members: Vec<&CommitInfo> = c
            .merged
            .iter()
            .filter(|id| !in_merge.contains(id.as_str()))
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .filter(|m| m.parents <= 1)
            .collect();
        if members.is_empty() {
            continue;
        }
        in_merge.extend(members.iter().map(|m| m.id.as_str()));
        let title = match merged_branch(&c.subject) {
            Some(b) => format!("Branch `{b}` (merged {} in {})", date(c.time), short(&c.id)),
            None => format!("Merge {} ({})", short(&c.id), date(c.time)),
        };
        let mut all = members;
        all.push(c);
        groups.push(Group {
            key: format!("episode.merge.{}", short(&c.id)),
            title,
            commits: all,
        });
    }
    let mut weeks: BTreeMap<(i32, u32), Vec<&CommitInfo>> = BTreeMap::new();
    for c in commits
        .iter()
        .filter(|c| c.parents <= 1 && !in_merge.contains(c.id.as_str()))
    {
        weeks.entry(iso_week(c.time)).or_default().push(c);
    }
    for ((year, week), list) in weeks {
        groups.push(Group {
            key: format!("episode.week.{year}-W{week:02}"),
            title: format!("Week {year}-W{week:02}"),
            commits: list,
        });
    }

    // Only the newest episodes are described; the rest are left to `git log`.
    let mut kept: Vec<(i64, Group)> = groups
        .into_iter()
        .filter(|g| g.commits.iter().filter(|c| c.parents <= 1).count() >= MIN_COMMITS)
        .map(|g| (g.commits.iter().map(|c| c.time).max().unwrap_or(newest), g))
        .collect();
    kept.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.key.cmp(&b.1.key)));
    kept.truncate(MAX_EPISODES);
    let mut out: Vec<(i64, Entry)> = Vec::new();
    for (end, g) in kept {
        let work: Vec<&CommitInfo> = g
            .commits
            .iter()
            .copied()
            .filter(|c| c.parents <= 1)
            .collect();
        let start = g.commits.iter().map(|c| c.time).min().unwrap_or(newest);
        let authors: HashSet<&str> = work.iter().map(|c| c.author.as_str()).collect();
        let paths = main_paths(&work);
        let subjects = summary(&work);
        let mut text = format!(
            "{}: {} commits by {} {}, {} to {}",
            g.title,
            work.len(),
            authors.len(),
            if authors.len() == 1 {
                "author"
            } else {
                "authors"
            },
            date(start),
            date(end)
        );
        if !paths.is_empty() {
            let p: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
            text.push_str(&format!(", mostly in {}", p.join(", ")));
        }
        text.push('.');
        if !subjects.is_empty() {
            text.push_str(&format!(" {}.", subjects.join("; ").trim_end_matches('.')));
        }
        // The key names the episode; the value repeats it so that the id stays the same as
        // the episode grows (a week with one more commit is the same episode, rewritten).
        let mut e = Entry::extracted(
            scope,
            Layer::Episode,
            Source::History,
            &g.key,
            None,
            g.key.trim_start_matches("episode."),
            text,
        );
        e.period = Some(Period {
            start: start * 1000,
            end: end * 1000,
        });
        e.commits = Some(work.len() as u32);
        e.paths = paths;
        e.evidence = Some(Evidence {
            matching: work.len() as u32,
            total: work.len() as u32,
        });
        let age_days = (newest - end).max(0) as f64 / 86_400.0;
        e.importance = (0.2 + 0.6 * 0.5f64.powf(age_days / HALF_LIFE_DAYS)) as f32;
        e.confidence = 0.9;
        e.tags = vec!["episode".into()];
        e.examples = work
            .iter()
            .take(3)
            .map(|c| format!("commit {}", short(&c.id)))
            .collect();
        out.push((end, e));
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    out.truncate(MAX_EPISODES);
    out.into_iter().map(|(_, e)| e).collect()
}
