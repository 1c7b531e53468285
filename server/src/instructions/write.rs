//! Writing instruction files from memory: the workspace's active conventions and procedures,
//! most important first within a token budget per file, each with its evidence, rendered
//! into a tool's native file(s) between tacit's markers.
//!
//! Everything outside the markers is kept byte for byte; a second run with the same memory
//! writes the same bytes; a rule that contradicts a hand-written rule of the same file is
//! left out and reported instead.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use super::check::claims;
use super::read::{self, BEGIN, END};
use crate::memory::{Entry, Layer, Source, Status};

/// Tokens per file when no budget is given: enough for the few dozen rules that matter,
/// small enough that every prompt can carry the file.
pub const DEFAULT_BUDGET: usize = 1000;

const NOTE: &str = "<!-- Written by `tacit write-instructions` from what the code, configuration and git history show, each rule with its evidence. Edit outside this block: tacit rewrites only what is between its markers. -->";

/// The tool whose files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Agents,
    Claude,
    Copilot,
    Cursor,
    Windsurf,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Agents,
        Target::Claude,
        Target::Copilot,
        Target::Cursor,
        Target::Windsurf,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Agents => "agents",
            Target::Claude => "claude",
            Target::Copilot => "copilot",
            Target::Cursor => "cursor",
            Target::Windsurf => "windsurf",
        }
    }

    /// Whether the tool scopes a file to globs, so per-language rules get files of their own.
    fn scopes_by_glob(self) -> bool {
        matches!(self, Target::Copilot | Target::Cursor | Target::Windsurf)
    }

    /// The general file and the frontmatter a new one starts with.
    fn general_file(self) -> (&'static str, &'static str) {
        match self {
            Target::Agents => ("AGENTS.md", ""),
            Target::Claude => ("CLAUDE.md", ""),
            Target::Copilot => (".github/copilot-instructions.md", ""),
            Target::Cursor => (
                ".cursor/rules/tacit.mdc",
                "---\ndescription: Project conventions measured by tacit\nglobs:\nalwaysApply: true\n---\n\n",
            ),
            Target::Windsurf => (".windsurf/rules/tacit.md", "---\ntrigger: always_on\n---\n\n"),
        }
    }

    /// The file for one language's rules and the frontmatter that scopes it to `globs`.
    fn language_file(self, language: &str, globs: &[String]) -> (String, String) {
        let joined = globs.join(",");
        match self {
            Target::Copilot => (
                format!(".github/instructions/{language}.instructions.md"),
                format!("---\napplyTo: \"{joined}\"\n---\n\n"),
            ),
            Target::Cursor => (
                format!(".cursor/rules/{language}.mdc"),
                format!(
                    "---\ndescription: {} conventions measured by tacit\nglobs: {joined}\nalwaysApply: false\n---\n\n",
                    crate::code::language_name(language)
                ),
            ),
            _ => (
                format!(".windsurf/rules/{language}.md"),
                format!("---\ntrigger: glob\nglobs: {joined}\n---\n\n"),
            ),
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown format `{s}` (expected one of: agents, claude, copilot, cursor, windsurf)")
            })
    }
}

/// One file as it would be written.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    /// Relative to the workspace root.
    pub path: String,
    pub content: String,
    pub created: bool,
    pub changed: bool,
    /// The rules of tacit's section, as they read back.
    pub rules: Vec<String>,
    /// Rules that did not fit the budget.
    pub left_out: usize,
    pub tokens: usize,
}

/// A rule tacit did not write because a hand-written rule of the same file says otherwise.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub file: String,
    pub line: usize,
    pub hand_written: String,
    pub measured: String,
}

/// What `tacit.writeInstructions` writes (or would write, on a dry run).
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub files: Vec<Planned>,
    pub conflicts: Vec<Conflict>,
    /// Files left alone, and why (a tacit section opened and never closed).
    pub problems: Vec<String>,
}

/// The entries worth writing: active conventions and procedures tacit measured or was told,
/// not the rules it read from instruction files, and not habits it found mixed.
fn writable(e: &Entry) -> bool {
    e.status == Status::Active
        && matches!(e.layer, Layer::Memory | Layer::Procedure)
        && e.source != Source::Instructions
        && e.value.as_deref() != Some("mixed")
}

/// One entry as one bullet: its sentence, its steps when the sentence does not list them,
/// and its evidence, as the assembled context renders it.
fn bullet(e: &Entry) -> String {
    let mut one = e.clone();
    // A sentence that already names its steps ("CI job `x` uses: Use actions/checkout…")
    // is not followed by them again.
    let spelled_out = e.text.contains("1.")
        || e.steps.iter().any(|s| {
            let text = s.text.trim_end_matches('.');
            (text.len() >= 12 && e.text.contains(text))
                || s.command.as_deref().is_some_and(|c| e.text.contains(c))
        });
    if e.layer == Layer::Procedure && !e.steps.is_empty() && !spelled_out {
        let steps = crate::config::numbered_commands(
            e.steps
                .iter()
                .map(|s| s.command.as_deref().unwrap_or(s.text.as_str())),
        );
        one.text = format!("{} {steps}", e.text.trim());
    }
    one.steps.clear();
    // One line, as a reader reads it back: a text with newlines would break the bullet.
    crate::assemble::render_entry(&one)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The byte range of tacit's section (from the start of the BEGIN line to the end of the END
/// line, its newline excluded); `Err` with the line of a section that is never closed.
fn section(text: &str) -> Result<Option<(usize, usize)>, usize> {
    let mut offset = 0;
    let mut begin = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        if trimmed == BEGIN && begin.is_none() {
            begin = Some((offset, index + 1));
        } else if trimmed == END {
            if let Some((start, _)) = begin {
                return Ok(Some((
                    start,
                    offset + line.trim_end_matches(['\n', '\r']).len(),
                )));
            }
        }
        offset += line.len();
    }
    match begin {
        Some((_, line)) => Err(line),
        None => Ok(None),
    }
}

/// `existing` with tacit's section replaced by `block`, or `block` added after it.
pub fn splice(existing: Option<&str>, front: &str, block: &str) -> Result<String, usize> {
    let Some(text) = existing else {
        return Ok(format!("{front}{block}\n"));
    };
    Ok(match section(text)? {
        Some((start, end)) => format!("{}{block}{}", &text[..start], &text[end..]),
        None if text.is_empty() => format!("{block}\n"),
        None if text.ends_with("\n\n") => format!("{text}{block}\n"),
        None if text.ends_with('\n') => format!("{text}\n{block}\n"),
        None => format!("{text}\n\n{block}\n"),
    })
}

/// The section's text from headed groups of bullets.
fn render_block(groups: &[(String, Vec<String>)]) -> String {
    let mut block = format!("{BEGIN}\n{NOTE}\n");
    for (heading, bullets) in groups.iter().filter(|(_, b)| !b.is_empty()) {
        block.push_str(&format!("\n## {heading}\n\n"));
        for b in bullets {
            block.push_str(b);
            block.push('\n');
        }
    }
    block.push_str(END);
    block
}

/// Whether `e` says otherwise than a hand-written rule: the same convention with another
/// value, or the opposite stance about the same thing.
fn contradicts_hand(e: &Entry, hand: &str) -> bool {
    let measured = (e.key.as_deref(), e.value.as_deref());
    let named_language = |l: &str| hand.to_lowercase().contains(l);
    for claim in claims(hand) {
        if measured.0 == Some(claim.key) && measured.1.is_some_and(|v| v != claim.value) {
            let languages_apart = claim.key == "format.indent"
                && e.language.as_deref().is_some_and(|l| {
                    [
                        "rust",
                        "python",
                        "typescript",
                        "javascript",
                        "java",
                        "golang",
                    ]
                    .iter()
                    .any(|other| *other != l && named_language(other))
                        && !named_language(l)
                });
            if !languages_apart {
                return true;
            }
        }
    }
    let similarity = crate::indexer::jaccard(&e.text, hand);
    crate::memory::contradicts(&e.text, hand, similarity)
}

/// What would be written for `target` from `entries`, reading the files already there.
pub fn plan(root: &Path, target: Target, entries: &[Entry], budget: usize) -> Plan {
    let mut ranked: Vec<&Entry> = entries.iter().filter(|e| writable(e)).collect();
    ranked.sort_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.text.cmp(&b.text))
    });
    // Which file each entry goes to.
    let mut files: BTreeMap<String, (String, Vec<&Entry>)> = BTreeMap::new();
    let (general, general_front) = target.general_file();
    files.insert(general.to_string(), (general_front.to_string(), Vec::new()));
    for e in ranked {
        let language = e.language.as_deref().filter(|_| target.scopes_by_glob());
        let globs = language.map(globs_of).unwrap_or_default();
        let (path, front) = match language {
            Some(l) if !globs.is_empty() => target.language_file(l, &globs),
            _ => (general.to_string(), general_front.to_string()),
        };
        files.entry(path).or_insert((front, Vec::new())).1.push(e);
    }

    let mut plan = Plan::default();
    for (path, (front, chosen)) in files {
        let existing = std::fs::read_to_string(root.join(&path)).ok();
        let hand: Vec<read::Rule> = existing
            .as_ref()
            .and_then(|text| {
                let format = super::formats::recognise(&path)?;
                read::parse(&path, format, text.clone()).ok()
            })
            .map(|doc| doc.hand_rules().cloned().collect())
            .unwrap_or_default();
        let mut kept: Vec<&Entry> = Vec::new();
        for e in chosen {
            match hand.iter().find(|h| contradicts_hand(e, &h.text)) {
                Some(h) => plan.conflicts.push(Conflict {
                    file: path.clone(),
                    line: h.line,
                    hand_written: h.text.clone(),
                    measured: e.text.clone(),
                }),
                None => kept.push(e),
            }
        }
        let (block, rules, left_out) = fit(target, &kept, budget);
        if rules.is_empty() && existing.is_none() && path != general {
            continue;
        }
        match splice(existing.as_deref(), &front, &block) {
            Ok(content) => plan.files.push(Planned {
                changed: existing.as_deref() != Some(content.as_str()),
                created: existing.is_none(),
                path,
                tokens: crate::assemble::count_tokens(&block),
                content,
                rules,
                left_out,
            }),
            Err(line) => plan.problems.push(format!(
                "{path}: the tacit section opened on line {line} is never closed with `{END}`; left alone"
            )),
        }
    }
    plan
}

/// The globs of a language's files, from the extensions its grammars read.
fn globs_of(language: &str) -> Vec<String> {
    crate::code::registry()
        .map(|r| {
            r.extensions(language)
                .into_iter()
                .map(|ext| format!("**/*.{ext}"))
                .collect()
        })
        .unwrap_or_default()
}

/// The block of the most important entries that fit `budget` tokens, grouped by kind and
/// language; also the rules as they read back and how many were left out.
fn fit(target: Target, ranked: &[&Entry], budget: usize) -> (String, Vec<String>, usize) {
    let group_of = |e: &Entry| -> String {
        if e.layer == Layer::Procedure {
            "Procedures".to_string()
        } else {
            match e.language.as_deref().filter(|_| !target.scopes_by_glob()) {
                Some(l) => format!("{} conventions", crate::code::language_name(l)),
                None => "Conventions".to_string(),
            }
        }
    };
    let order = |heading: &str| match heading {
        "Conventions" => 0,
        "Procedures" => 2,
        _ => 1,
    };
    let mut chosen: Vec<(String, String)> = Vec::new();
    let mut left_out = 0;
    let render = |chosen: &[(String, String)]| {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut headings: Vec<&String> = chosen.iter().map(|(h, _)| h).collect();
        headings.sort_by_key(|h| (order(h), h.to_string()));
        headings.dedup();
        for heading in headings {
            let bullets = chosen
                .iter()
                .filter(|(h, _)| h == heading)
                .map(|(_, b)| b.clone())
                .collect();
            groups.push((heading.clone(), bullets));
        }
        render_block(&groups)
    };
    for e in ranked {
        let candidate = (group_of(e), bullet(e));
        if chosen.iter().any(|(_, b)| *b == candidate.1) {
            continue;
        }
        chosen.push(candidate);
        if crate::assemble::count_tokens(&render(&chosen)) > budget {
            chosen.pop();
            left_out += 1;
        }
    }
    let block = render(&chosen);
    // The rules in the order they are rendered, as a reader sees them.
    let rules = block
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(str::to_string)
        .collect();
    (block, rules, left_out)
}

/// Writes the changed files of a plan; returns how many were written.
pub fn apply(root: &Path, plan: &Plan) -> std::io::Result<usize> {
    let mut written = 0;
    for file in plan.files.iter().filter(|f| f.changed) {
        let path = root.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &file.content)?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests;
