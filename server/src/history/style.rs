//! How this team writes commits and names branches. Each memory states what dominates
//! (at least [`DOMINANT`] of the commits looked at); where nothing does, it says "mixed" and
//! gives the split, because a copilot told "use Conventional Commits" on a repository that
//! only half does would be wrong half the time.

use std::collections::{HashMap, HashSet};

use super::walk::CommitInfo;
use crate::memory::{Entry, Evidence, Layer, Source};

mod branches;
mod subject;

pub use branches::{branch_entry, merged_branch};
use subject::capitalised;
pub use subject::{classify, mood, Mood, Subject};

/// A share at or above this is a convention; below, the memory says "mixed".
pub const DOMINANT: f64 = 0.7;
/// Fewer commits than this say nothing about a habit.
pub const MIN_COMMITS: usize = 5;

fn pct(n: usize, total: usize) -> u32 {
    if total == 0 {
        0
    } else {
        ((n as f64 * 100.0) / total as f64).round() as u32
    }
}

fn memory(
    scope: &str,
    key: &str,
    value: &str,
    text: String,
    matching: usize,
    total: usize,
) -> Entry {
    let mut e = Entry::extracted(
        scope,
        Layer::Memory,
        Source::History,
        key,
        None,
        value,
        text,
    );
    e.evidence = Some(Evidence {
        matching: matching as u32,
        total: total as u32,
    });
    // A habit seen in most of many commits is sure; one seen in 5 of 7 less so.
    let share = if total == 0 {
        0.0
    } else {
        matching as f32 / total as f32
    };
    let weight = (total as f32 / 50.0).min(1.0);
    e.confidence = (0.4 + 0.5 * share * weight + 0.1 * share).clamp(0.3, 0.95);
    e.importance = 0.6;
    e.tags = vec!["commit".into()];
    e
}

fn examples(subjects: &[&str]) -> Vec<String> {
    subjects
        .iter()
        .take(3)
        .map(|s| {
            let s: String = s.chars().take(80).collect();
            format!("commit: {s}")
        })
        .collect()
}

fn top<K: Ord + Clone>(counts: &HashMap<K, usize>, n: usize) -> Vec<(K, usize)> {
    let mut v: Vec<(K, usize)> = counts.iter().map(|(k, c)| (k.clone(), *c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// How many of the newest commits make up the "recent" window a changed habit is read from.
const RECENT: usize = 100;

/// `commit.case`: whether subjects start with a capital letter, over the whole history, and
/// what the newest commits do when it differs (a habit that changed is stated newest first).
fn case_entry(scope: &str, written: &[&CommitInfo]) -> Option<Entry> {
    let mut newest_first: Vec<&CommitInfo> = written.to_vec();
    newest_first.sort_by_key(|c| std::cmp::Reverse(c.time));
    let cased: Vec<(&CommitInfo, bool)> = newest_first
        .iter()
        .filter_map(|c| capitalised(&c.subject).map(|up| (*c, up)))
        .collect();
    let n = cased.len();
    if n < MIN_COMMITS {
        return None;
    }
    let habit = |window: &[(&CommitInfo, bool)]| {
        let upper = window.iter().filter(|(_, up)| *up).count();
        let lower = window.len() - upper;
        let value = if upper as f64 >= DOMINANT * window.len() as f64 {
            "capitalised"
        } else if lower as f64 >= DOMINANT * window.len() as f64 {
            "lowercase"
        } else {
            "mixed"
        };
        (value, upper, lower)
    };
    let (value, upper, lower) = habit(&cased);
    let mut text = match value {
        "capitalised" => format!(
            "Commit subjects start with a capital letter ({upper} of {n} commits, {}%), after any `type:` prefix.",
            pct(upper, n)
        ),
        "lowercase" => format!(
            "Commit subjects start with a lowercase letter ({lower} of {n} commits, {}%), after any `type:` prefix.",
            pct(lower, n)
        ),
        _ => format!(
            "Commit subject case is mixed across {n} commits: capitalised {}%, lowercase {}%.",
            pct(upper, n),
            pct(lower, n)
        ),
    };
    // The newest commits show the habit as it is now; when it differs, say so first.
    if n >= 2 * RECENT {
        let window = &cased[..RECENT];
        let (recent, up, low) = habit(window);
        if recent != value && recent != "mixed" {
            let since = window
                .last()
                .map(|(c, _)| super::date(c.time))
                .unwrap_or_default();
            let (word, k) = if recent == "capitalised" {
                ("capitalised", up)
            } else {
                ("in lowercase", low)
            };
            text = format!(
                "Recently (the newest {RECENT} commits, since {since}) subjects are written {word} ({k} of {RECENT}); the habit changed. Over the whole history: {text}"
            );
        }
    }
    let matching = match value {
        "lowercase" => lower,
        _ => upper.max(lower),
    };
    let mut e = memory(scope, "commit.case", value, text, matching, n);
    let examples_of = |up: bool| {
        cased
            .iter()
            .filter(|(_, u)| *u == up)
            .map(|(c, _)| c.subject.as_str())
            .collect::<Vec<_>>()
    };
    e.examples = match value {
        "capitalised" => examples(&examples_of(true)),
        "lowercase" => examples(&examples_of(false)),
        _ => {
            let mut ex = examples(&examples_of(true));
            ex.truncate(2);
            ex.extend(examples(&examples_of(false)).into_iter().take(1));
            ex
        }
    };
    Some(e)
}

/// Commit-message memories: style, types, mood, subject length, trailers, issue references,
/// merges.
pub fn entries(scope: &str, commits: &[CommitInfo]) -> Vec<Entry> {
    let mut out = Vec::new();
    let all = commits.len();
    // Merge and revert subjects are written by git, not by people.
    let written: Vec<&CommitInfo> = commits
        .iter()
        .filter(|c| c.parents <= 1 && !c.subject.starts_with("Revert \"") && !c.subject.is_empty())
        .collect();
    let n = written.len();
    if n >= MIN_COMMITS {
        out.extend(subject_entries(scope, &written));
    }
    if all >= MIN_COMMITS {
        out.extend(merge_entry(scope, commits));
    }
    out
}

fn subject_entries(scope: &str, written: &[&CommitInfo]) -> Vec<Entry> {
    let mut out = Vec::new();
    let n = written.len();
    let mut conventional: Vec<&str> = Vec::new();
    let mut component: Vec<&str> = Vec::new();
    let mut free: Vec<&str> = Vec::new();
    let mut types: HashMap<String, usize> = HashMap::new();
    let mut scopes: HashMap<String, usize> = HashMap::new();
    let mut components: HashMap<String, usize> = HashMap::new();
    let mut moods: HashMap<Mood, usize> = HashMap::new();
    let mut mood_examples: HashMap<Mood, Vec<&str>> = HashMap::new();
    for c in written {
        let description = match classify(&c.subject) {
            Subject::Conventional {
                kind,
                scope,
                description,
            } => {
                conventional.push(&c.subject);
                *types.entry(kind.to_string()).or_default() += 1;
                if let Some(s) = scope {
                    *scopes.entry(s.to_string()).or_default() += 1;
                }
                description
            }
            Subject::Component {
                component: comp,
                description,
            } => {
                component.push(&c.subject);
                *components.entry(comp.to_string()).or_default() += 1;
                description
            }
            Subject::Free(s) => {
                free.push(&c.subject);
                s
            }
        };
        if let Some(m) = mood(description) {
            *moods.entry(m).or_default() += 1;
            mood_examples.entry(m).or_default().push(&c.subject);
        }
    }

    // commit.style
    let shares = [
        ("conventional", conventional.len()),
        ("component", component.len()),
        ("free", free.len()),
    ];
    let prefixes = top(&components, 5)
        .iter()
        .map(|(c, k)| format!("`{c}:` ({k})"))
        .collect::<Vec<_>>()
        .join(", ");
    let (value, text, matching, ex) = match shares.iter().find(|(_, k)| *k as f64 >= DOMINANT * n as f64) {
        Some(("conventional", k)) => (
            "conventional",
            format!(
                "Commit subjects follow Conventional Commits (`type(scope): summary`): {k} of {n} commits ({}%).",
                pct(*k, n)
            ),
            *k,
            examples(&conventional),
        ),
        Some(("component", k)) => (
            "component",
            format!(
                "Commit subjects start with the component they change, `component: summary` ({k} of {n} commits, {}%); prefixes in use: {prefixes}.",
                pct(*k, n)
            ),
            *k,
            examples(&component),
        ),
        Some((_, k)) => {
            let mut text = format!(
                "Commit subjects are plain sentences without a type prefix ({k} of {n} commits, {}%).",
                pct(*k, n)
            );
            if !component.is_empty() {
                text.push_str(&format!(
                    " Some start with a `component: summary` prefix: {prefixes}."
                ));
            }
            ("free", text, *k, examples(&free))
        }
        None => {
            let split = shares
                .iter()
                .filter(|(_, k)| *k > 0)
                .map(|(name, k)| {
                    let label = match *name {
                        "conventional" => "Conventional Commits `type(scope): summary`",
                        "component" => "`component: summary`",
                        _ => "plain sentences",
                    };
                    format!("{label} {}%", pct(*k, n))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let mut text = format!("Commit subject style is mixed across {n} commits: {split}.");
            if !component.is_empty() {
                text.push_str(&format!(" Prefixes in use: {prefixes}."));
            }
            let most = shares.iter().map(|(_, k)| *k).max().unwrap_or(0);
            let mut ex = examples(&free);
            ex.truncate(1);
            ex.extend(examples(&component).into_iter().take(1));
            ex.extend(examples(&conventional).into_iter().take(1));
            ("mixed", text, most, ex)
        }
    };
    let mut e = memory(scope, "commit.style", value, text, matching, n);
    e.examples = ex;
    out.push(e);
    out.extend(case_entry(scope, written));

    // commit.types: only where Conventional Commits are a real habit.
    if conventional.len() as f64 >= 0.3 * n as f64 && conventional.len() >= MIN_COMMITS {
        let k = conventional.len();
        let list = top(&types, 8)
            .iter()
            .map(|(t, c)| format!("`{t}` {}%", pct(*c, k)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = format!("Conventional Commit types in use: {list}.");
        let scoped: usize = scopes.values().sum();
        if scoped > 0 {
            let list = top(&scopes, 8)
                .iter()
                .map(|(s, c)| format!("`{s}` ({c})"))
                .collect::<Vec<_>>()
                .join(", ");
            text.push_str(&format!(
                " {}% of them name a scope; common scopes: {list}.",
                pct(scoped, k)
            ));
        } else {
            text.push_str(" Scopes are not used.");
        }
        let value = top(&types, 3)
            .iter()
            .map(|(t, _)| t.clone())
            .collect::<Vec<_>>()
            .join(",");
        let mut e = memory(scope, "commit.types", &value, text, k, n);
        e.examples = examples(&conventional);
        out.push(e);
    }

    // commit.mood: among subjects whose first word is a verb.
    let verbs: usize = moods.values().sum();
    if verbs >= MIN_COMMITS {
        let ranked = top(&moods, 4);
        let (best, k) = ranked[0];
        let label = |m: Mood| match m {
            Mood::Imperative => "imperative (\"Add …\", \"Fix …\")",
            Mood::Past => "past tense (\"Added …\", \"Fixed …\")",
            Mood::ThirdPerson => "third person (\"Adds …\", \"Fixes …\")",
            Mood::Gerund => "gerund (\"Adding …\", \"Fixing …\")",
        };
        let name = |m: Mood| match m {
            Mood::Imperative => "imperative",
            Mood::Past => "past",
            Mood::ThirdPerson => "third-person",
            Mood::Gerund => "gerund",
        };
        let (value, text) = if k as f64 >= DOMINANT * verbs as f64 {
            (
                name(best).to_string(),
                format!(
                    "Commit subjects use the {} mood: {k} of the {verbs} subjects that start with a verb ({}%).",
                    label(best),
                    pct(k, verbs)
                ),
            )
        } else {
            let split = ranked
                .iter()
                .map(|(m, c)| format!("{} {}%", name(*m), pct(*c, verbs)))
                .collect::<Vec<_>>()
                .join(", ");
            (
                "mixed".to_string(),
                format!("The mood of commit subjects is mixed: {split} (of {verbs} that start with a verb)."),
            )
        };
        let mut e = memory(scope, "commit.mood", &value, text, k, verbs);
        e.examples = mood_examples
            .get(&best)
            .map(|v| examples(v))
            .unwrap_or_default();
        out.push(e);
    }

    // commit.subject_length: the 95th percentile, bucketed in the value so that one long
    // subject does not create a new slot value.
    let mut lengths: Vec<usize> = written.iter().map(|c| c.subject.chars().count()).collect();
    lengths.sort_unstable();
    let p = |q: f64| lengths[((lengths.len() - 1) as f64 * q).round() as usize];
    let (p50, p95) = (p(0.5), p(0.95));
    let bucket = match p95 {
        0..=50 => "50",
        51..=72 => "72",
        73..=100 => "100",
        _ => "over-100",
    };
    let within = lengths.iter().filter(|l| **l <= p95).count();
    let advice = match bucket {
        "50" => "keep subjects within 50 characters",
        "72" => "keep subjects within 72 characters",
        "100" => "subjects run up to about 100 characters",
        _ => "long, descriptive subjects are normal here",
    };
    let e = memory(
        scope,
        "commit.subject_length",
        &format!("p95<={bucket}"),
        format!(
            "Commit subjects are {p50} characters long at the median and {p95} at the 95th percentile: {advice}."
        ),
        within,
        n,
    );
    out.push(e);

    // commit.trailers: each trailer that is a habit (a fifth of the commits or more).
    let mut trailer_counts: HashMap<String, usize> = HashMap::new();
    for c in written {
        for t in &c.trailers {
            *trailer_counts.entry(t.clone()).or_default() += 1;
        }
    }
    let habitual: Vec<(String, usize)> = top(&trailer_counts, 6)
        .into_iter()
        .filter(|(_, k)| *k as f64 >= 0.2 * n as f64 && *k >= 2)
        .collect();
    if !habitual.is_empty() {
        let display = |t: &str| {
            t.split('-')
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("-")
        };
        let parts: Vec<String> = habitual
            .iter()
            .map(|(t, k)| {
                let why = match t.as_str() {
                    "signed-off-by" => " (DCO sign-off: commit with `git commit -s`)",
                    "co-authored-by" => " (pairing is credited)",
                    _ => "",
                };
                format!("`{}:` in {}% of commits{why}", display(t), pct(*k, n))
            })
            .collect();
        let value = habitual
            .iter()
            .map(|(t, _)| t.clone())
            .collect::<Vec<_>>()
            .join(",");
        let text = format!("Commit messages carry trailers: {}.", parts.join("; "));
        out.push(memory(
            scope,
            "commit.trailers",
            &value,
            text,
            habitual[0].1,
            n,
        ));
    }

    // commit.issue_refs: `#123` (GitHub/GitLab) or `ABC-123` (Jira, Linear) keys. A Jira-like
    // key counts only when its project prefix recurs, so `UTF-8` and `SHA-256` do not.
    let mut prefixes: HashMap<String, usize> = HashMap::new();
    for c in written {
        let mut seen = HashSet::new();
        for r in c.issue_refs.iter().filter(|r| !r.starts_with('#')) {
            if let Some((p, _)) = r.split_once('-') {
                if seen.insert(p.to_string()) {
                    *prefixes.entry(p.to_string()).or_default() += 1;
                }
            }
        }
    }
    let projects: HashSet<String> = prefixes
        .into_iter()
        .filter(|(p, k)| {
            *k >= 3
                && !matches!(
                    p.as_str(),
                    "UTF" | "SHA" | "ISO" | "RFC" | "AES" | "CVE" | "PEP" | "TLS" | "HTTP"
                )
        })
        .map(|(p, _)| p)
        .collect();
    let (mut hash, mut keyed, mut in_subject) = (0usize, 0usize, 0usize);
    let mut ref_examples = Vec::new();
    let mut key_counts: HashMap<String, usize> = HashMap::new();
    for c in written {
        let h = c.issue_refs.iter().any(|r| r.starts_with('#'));
        let k: Vec<&String> = c
            .issue_refs
            .iter()
            .filter(|r| r.split_once('-').is_some_and(|(p, _)| projects.contains(p)))
            .collect();
        for r in &k {
            if let Some((p, _)) = r.split_once('-') {
                *key_counts.entry(p.to_string()).or_default() += 1;
            }
        }
        if h {
            hash += 1;
        }
        if !k.is_empty() {
            keyed += 1;
        }
        if h || !k.is_empty() {
            if c.issue_refs.iter().any(|r| c.subject.contains(r.as_str())) {
                in_subject += 1;
            }
            ref_examples.push(c.subject.as_str());
        }
    }
    let referencing = ref_examples.len();
    if referencing as f64 >= 0.3 * n as f64 && referencing >= 3 {
        let (value, form) = if keyed >= hash {
            let keys = top(&key_counts, 3)
                .iter()
                .map(|(p, _)| format!("`{p}-123`"))
                .collect::<Vec<_>>()
                .join(", ");
            ("key", format!("a tracker key like {keys}"))
        } else {
            ("hash", "an issue number like `#123`".to_string())
        };
        let place = if in_subject as f64 >= DOMINANT * referencing as f64 {
            "in the subject"
        } else if in_subject as f64 <= (1.0 - DOMINANT) * referencing as f64 {
            "in the body"
        } else {
            "in the subject or the body"
        };
        let strength = if referencing as f64 >= DOMINANT * n as f64 {
            "Commits reference"
        } else {
            "Many commits reference"
        };
        let mut e = memory(
            scope,
            "commit.issue_refs",
            value,
            format!(
                "{strength} {form} {place} ({referencing} of {n} commits, {}%).",
                pct(referencing, n)
            ),
            referencing,
            n,
        );
        e.examples = examples(&ref_examples);
        out.push(e);
    }
    out
}

/// Merge commits versus a linear history: how branches land.
fn merge_entry(scope: &str, commits: &[CommitInfo]) -> Option<Entry> {
    let n = commits.len();
    let merges: Vec<&CommitInfo> = commits.iter().filter(|c| c.parents > 1).collect();
    let m = merges.len();
    let share = m as f64 / n as f64;
    let (value, text, matching) = if m == 0 {
        (
            "linear",
            format!("History is linear: none of the last {n} commits is a merge, so branches are rebased or squashed before they land."),
            n - m,
        )
    } else if share >= 0.1 {
        (
            "merge",
            format!(
                "Branches land with merge commits: {m} of the last {n} commits ({}%) are merges.",
                pct(m, n)
            ),
            m,
        )
    } else {
        (
            "mixed",
            format!(
                "History is mostly linear (rebase or squash), with occasional merge commits: {m} of the last {n} ({}%).",
                pct(m, n)
            ),
            n - m,
        )
    };
    let mut e = memory(scope, "commit.merges", value, text, matching, n);
    e.examples = examples(
        &merges
            .iter()
            .map(|c| c.subject.as_str())
            .collect::<Vec<_>>(),
    );
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_classified_by_their_prefix() {
        assert!(matches!(
            classify("feat(api)!: drop v1"),
            Subject::Conventional {
                kind: "feat",
                scope: Some("api"),
                ..
            }
        ));
        assert!(matches!(
            classify("net/http: fix keep-alive"),
            Subject::Component {
                component: "net/http",
                ..
            }
        ));
        assert!(matches!(classify("Fix the build"), Subject::Free(_)));
        assert!(matches!(
            classify("Note: this is odd"),
            Subject::Component { .. }
        ));
    }

    #[test]
    fn moods_are_told_apart() {
        assert_eq!(mood("Add a thing"), Some(Mood::Imperative));
        assert_eq!(mood("added a thing"), Some(Mood::Past));
        assert_eq!(mood("Fixes the bug"), Some(Mood::ThirdPerson));
        assert_eq!(mood("Stopped early"), Some(Mood::Past));
        assert_eq!(mood("Updating docs"), Some(Mood::Gerund));
        assert_eq!(mood("Neovim plugin"), None);
        assert_eq!(mood("₂₂ed units"), None);
        assert_eq!(mood("Ändern"), None);
    }

    fn commits(subjects: &[&str]) -> Vec<CommitInfo> {
        // Newest first, one hour apart.
        subjects
            .iter()
            .enumerate()
            .map(|(i, s)| CommitInfo {
                id: format!("{i:040x}"),
                time: 1_700_000_000 - 3600 * i as i64,
                author: "a".into(),
                subject: s.to_string(),
                trailers: Vec::new(),
                issue_refs: Vec::new(),
                parents: 1,
                merged: Vec::new(),
                paths: Vec::new(),
                boundary: false,
                deps: Vec::new(),
                reverts: None,
            })
            .collect()
    }

    fn case_of(subjects: &[&str]) -> Entry {
        let commits = commits(subjects);
        let written: Vec<&CommitInfo> = commits.iter().collect();
        case_entry("repo:t", &written).expect("a commit.case memory")
    }

    #[test]
    fn subject_case_dominant_after_the_prefix_and_mixed() {
        let mut subjects = vec!["fix: handle empty input"; 8];
        subjects.extend(["Add a flag", "docs: Explain"]);
        let e = case_of(&subjects);
        assert_eq!(e.value.as_deref(), Some("lowercase"));
        assert!(
            e.text
                .contains("start with a lowercase letter (8 of 10 commits, 80%)"),
            "{}",
            e.text
        );
        let e = case_of(&["Add a", "Fix b", "Drop c", "tidy d", "bump e", "rename f"]);
        assert_eq!(e.value.as_deref(), Some("mixed"));
        assert!(
            e.text
                .contains("subject case is mixed across 6 commits: capitalised 50%, lowercase 50%"),
            "{}",
            e.text
        );
    }

    #[test]
    fn a_changed_case_habit_is_stated_newest_first() {
        // The newest 100 are lowercase, the 300 before them capitalised.
        let mut subjects = vec!["fix the parser"; 100];
        subjects.extend(vec!["Fix the parser"; 300]);
        let e = case_of(&subjects);
        assert_eq!(e.value.as_deref(), Some("capitalised"));
        assert!(
            e.text
                .starts_with("Recently (the newest 100 commits, since "),
            "{}",
            e.text
        );
        assert!(
            e.text.contains("written in lowercase (100 of 100)"),
            "{}",
            e.text
        );
        assert!(
            e.text.contains("start with a capital letter (300 of 400"),
            "{}",
            e.text
        );
    }

    #[test]
    fn merge_subjects_name_their_branch() {
        assert_eq!(
            merged_branch("Merge branch 'feature/login' into main").as_deref(),
            Some("feature/login")
        );
        assert_eq!(
            merged_branch("Merge pull request #12 from ada/fix-crash").as_deref(),
            Some("fix-crash")
        );
        assert_eq!(merged_branch("Add merge sort"), None);
    }
}
