//! Decisions over time: a tool or library of one kind (logging, tests, formatting …) removed
//! and another of the same kind added in one commit is a decision ("`log` was replaced by
//! `tracing`"). The newest choice is an active memory; the choices it replaced are kept as
//! superseded memories of the same slot, pointing at their successor. A `git revert` of the
//! switching commit undoes the decision.

use std::collections::{BTreeMap, HashMap};

use super::walk::CommitInfo;
use super::{date, short};
use crate::catalog;
use crate::memory::{Entry, Evidence, Layer, Source, Status};

/// One switch from one choice to another.
#[derive(Debug, Clone)]
struct Switch<'a> {
    from: String,
    to: String,
    commit: &'a CommitInfo,
    reverted_by: Option<&'a CommitInfo>,
}

fn title(category: &str) -> String {
    let words = category.replace('_', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => words,
    }
}

/// Decision memories from the mined commits (newest first, as mined).
pub fn entries(scope: &str, commits: &[CommitInfo]) -> Vec<Entry> {
    let by_id: HashMap<&str, &CommitInfo> = commits.iter().map(|c| (c.id.as_str(), c)).collect();
    // Reverts name their target by a (possibly abbreviated) id.
    let reverted_by = |target: &CommitInfo| -> Option<&CommitInfo> {
        commits.iter().find(|c| {
            c.reverts
                .as_deref()
                .is_some_and(|r| target.id.starts_with(r))
        })
    };
    let mut switches: BTreeMap<(String, &str), Vec<Switch>> = BTreeMap::new();
    for commit in commits.iter().rev() {
        if commit.deps.is_empty() {
            continue;
        }
        // A revert of a mined switch undoes that switch; its own diff is not a new decision.
        if let Some(target) = commit.reverts.as_deref() {
            if by_id
                .iter()
                .any(|(id, c)| id.starts_with(target) && !c.deps.is_empty())
            {
                continue;
            }
        }
        for group in &catalog::libraries().alternatives {
            let (lang, category) = (&group.ecosystem, group.role.as_str());
            let member = |d: &&crate::manifest::DepChange| {
                d.lang == *lang && group.packages.contains(&d.name)
            };
            let removed: Vec<&str> = commit
                .deps
                .iter()
                .filter(|d| !d.added && member(d))
                .map(|d| d.name.as_str())
                .collect();
            let added: Vec<&str> = commit
                .deps
                .iter()
                .filter(|d| d.added && member(d))
                .map(|d| d.name.as_str())
                .collect();
            let (Some(from), Some(to)) = (removed.first(), added.first()) else {
                continue;
            };
            if from == to {
                continue;
            }
            switches
                .entry((lang.to_string(), category))
                .or_default()
                .push(Switch {
                    from: from.to_string(),
                    to: to.to_string(),
                    commit,
                    reverted_by: reverted_by(commit),
                });
        }
    }

    // Whether `name` left the manifests after `since` and did not come back: the choice a
    // switch made is then history, not advice (koa chose jest over mocha in 2017, then
    // dropped jest for Node's built-in runner, which no manifest names).
    let dropped_after = |lang: &str, name: &str, since: &CommitInfo| {
        let newest_change = commits
            .iter()
            .take_while(|c| c.id != since.id)
            .find(|c| c.deps.iter().any(|d| d.lang == lang && d.name == name));
        newest_change.is_some_and(|c| {
            c.deps
                .iter()
                .any(|d| d.lang == lang && d.name == name && !d.added)
        })
    };
    let mut out = Vec::new();
    for ((lang, category), list) in switches {
        let key = format!("decision.{category}");
        let effective: Vec<&Switch> = list.iter().filter(|s| s.reverted_by.is_none()).collect();
        if let Some(last) = effective.last() {
            if dropped_after(&lang, &last.to, last.commit) {
                tracing::debug!(
                    chosen = %last.to,
                    "decision no longer current: the chosen tool was removed later"
                );
                continue;
            }
        }
        let make = |value: &str, text: String, commit: &CommitInfo| {
            let mut e = Entry::extracted(
                scope,
                Layer::Memory,
                Source::History,
                &key,
                Some(&lang),
                value,
                text,
            );
            e.importance = 0.7;
            e.confidence = 0.85;
            e.evidence = Some(Evidence {
                matching: 1,
                total: 1,
            });
            e.examples = vec![format!(
                "commit {} ({})",
                short(&commit.id),
                date(commit.time)
            )];
            e.tags = vec!["decision".into(), category.to_string()];
            e
        };
        // The chain of choices, oldest first, each with the switch that ended it.
        let mut active: Entry;
        let mut older: Vec<Entry> = Vec::new();
        if let Some(last) = effective.last() {
            active = make(
                &last.to,
                format!(
                    "{}: `{}` replaced `{}` on {} (commit {}: \"{}\"); use `{}`, not `{}`.",
                    title(category),
                    last.to,
                    last.from,
                    date(last.commit.time),
                    short(&last.commit.id),
                    last.commit.subject,
                    last.to,
                    last.from
                ),
                last.commit,
            );
            for s in &effective {
                older.push(make(
                    &s.from,
                    format!(
                        "{}: `{}` was used until {}, when commit {} replaced it with `{}`.",
                        title(category),
                        s.from,
                        date(s.commit.time),
                        short(&s.commit.id),
                        s.to
                    ),
                    s.commit,
                ));
            }
        } else {
            // Every switch was reverted: the original choice stands, and the reverted one is
            // what the repository tried and abandoned.
            let Some(first) = list.first() else { continue };
            let Some(revert) = list.last().and_then(|s| s.reverted_by) else {
                continue;
            };
            active = make(
                &first.from,
                format!(
                    "{}: `{}` stays; the switch to `{}` (commit {}, {}) was reverted in {} ({}).",
                    title(category),
                    first.from,
                    first.to,
                    short(&first.commit.id),
                    date(first.commit.time),
                    short(&revert.id),
                    date(revert.time)
                ),
                revert,
            );
            for s in &list {
                let Some(r) = s.reverted_by else { continue };
                older.push(make(
                    &s.to,
                    format!(
                        "{}: the switch from `{}` to `{}` in commit {} was reverted in {} ({}).",
                        title(category),
                        s.from,
                        s.to,
                        short(&s.commit.id),
                        short(&r.id),
                        date(r.time)
                    ),
                    s.commit,
                ));
            }
        }
        active.tags.push("current".into());
        // Each older choice points at the one that replaced it; the newest older one at the
        // active entry. A value chosen twice (log → tracing → log) keeps only its newest row.
        // The active entry goes first: the indexer lets a slot's first entry supersede
        // whatever held the slot before.
        let mut successor = active.id.clone();
        let mut group = vec![active];
        for mut e in older.into_iter().rev() {
            if group.iter().any(|g| g.id == e.id) {
                continue;
            }
            e.status = Status::Superseded;
            e.superseded_by = Some(successor.clone());
            successor = e.id.clone();
            group.push(e);
        }
        out.extend(group);
    }
    out
}
