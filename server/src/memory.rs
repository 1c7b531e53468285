//! The data model every stage shares: entries of the four layers and their lifecycle fields.
//!
//! Extractors (`config`, `code`, `history`) build [`Entry`] values with [`Entry::extracted`];
//! users and copilots build them with [`Entry::user`]. Nothing here knows about Arrow or LSP.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which of the four kinds of knowledge an entry is; each lives in its own table.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Memory,
    Episode,
    Procedure,
    Pinned,
}

impl Layer {
    pub const ALL: [Layer; 4] = [
        Layer::Memory,
        Layer::Episode,
        Layer::Procedure,
        Layer::Pinned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Memory => "memory",
            Layer::Episode => "episode",
            Layer::Procedure => "procedure",
            Layer::Pinned => "pinned",
        }
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Code,
    Config,
    History,
    User,
    Copilot,
    /// A rule people wrote for their copilots (AGENTS.md, CLAUDE.md, .cursor/rules, …).
    Instructions,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Code => "code",
            Source::Config => "config",
            Source::History => "history",
            Source::User => "user",
            Source::Copilot => "copilot",
            Source::Instructions => "instructions",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Superseded,
    Expired,
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Superseded => "superseded",
            Status::Expired => "expired",
            Status::Deleted => "deleted",
        }
    }
}

/// The value a string did not name; shown to the user as-is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}` (expected one of: {expected})")]
pub struct ParseEnumError {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! impl_from_str {
    ($ty:ident, $kind:literal, [$($variant:ident),+]) => {
        impl FromStr for $ty {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $(if s.eq_ignore_ascii_case($ty::$variant.as_str()) { return Ok($ty::$variant); })+
                Err(ParseEnumError {
                    kind: $kind,
                    value: s.to_string(),
                    expected: concat!($(stringify!($variant), " "),+),
                })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
impl_from_str!(Layer, "layer", [Memory, Episode, Procedure, Pinned]);
impl_from_str!(
    Source,
    "source",
    [Code, Config, History, User, Copilot, Instructions]
);
impl_from_str!(Status, "status", [Active, Superseded, Expired, Deleted]);

/// How much of what was looked at agrees with the stated value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Evidence {
    pub matching: u32,
    pub total: u32,
}

/// One step of a procedure: a sentence and, where known, the command that does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The stretch of time an episode covers, in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

/// One change of an entry's status or content, kept so that `tacit.get` can explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEvent {
    pub at: i64,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One stored piece of knowledge, whatever its layer.
// Before the derives: it gives every `Option` field `skip_serializing_if = "Option::is_none"`,
// which the derives (serde's and schemars') then read. A missing `Option` reads as `None`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub scope: String,
    pub layer: Layer,
    pub text: String,
    /// Filled in by the indexer just before the entry is written; empty until then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vector: Vec<f32>,
    pub importance: f32,
    pub confidence: f32,
    #[serde(default)]
    pub access_count: u32,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub last_accessed_at: i64,
    pub source: Source,
    pub status: Status,
    pub superseded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,

    // Convention memories: the slot (`key` + `language`) and what fills it.
    pub key: Option<String>,
    pub language: Option<String>,
    pub value: Option<String>,
    pub evidence: Option<Evidence>,
    /// Short `file:line` references that show the convention (or the file it was read from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,

    // Procedures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    pub trigger: Option<String>,

    // Episodes.
    pub period: Option<Period>,
    pub commits: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,

    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<AuditEvent>,
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Items as an entry's sentence lists them: "`a`", "`a` and `b`", "`a`, `b` and `c`".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A short hex digest; used for stable ids and scopes.
pub fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        // A separator keeps ("ab","c") and ("a","bc") apart.
        hasher.update([0x1f]);
    }
    let digest = hasher.finalize();
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

impl Entry {
    fn base(scope: &str, layer: Layer, source: Source, text: String, id: String) -> Entry {
        let now = now_millis();
        Entry {
            id,
            scope: scope.to_string(),
            layer,
            text,
            vector: Vec::new(),
            importance: 0.5,
            confidence: 0.5,
            access_count: 0,
            created_at: now,
            updated_at: now,
            last_accessed_at: 0,
            source,
            status: Status::Active,
            superseded_by: None,
            tags: Vec::new(),
            key: None,
            language: None,
            value: None,
            evidence: None,
            examples: Vec::new(),
            steps: Vec::new(),
            trigger: None,
            period: None,
            commits: None,
            paths: Vec::new(),
            history: Vec::new(),
        }
    }

    /// An entry found by an extractor. Its id hashes scope, layer, key, language and value, so
    /// extracting the same fact again lands on the same row, and a new value for the same
    /// slot gets a row of its own that can supersede the old one.
    pub fn extracted(
        scope: &str,
        layer: Layer,
        source: Source,
        key: &str,
        language: Option<&str>,
        value: &str,
        text: impl Into<String>,
    ) -> Entry {
        let id = short_hash(&[scope, layer.as_str(), key, language.unwrap_or(""), value]);
        let mut entry = Entry::base(scope, layer, source, text.into(), id);
        entry.key = Some(key.to_string());
        entry.language = language.map(str::to_string);
        entry.value = Some(value.to_string());
        entry.confidence = 0.8;
        entry
    }

    /// An entry written by a person or a copilot; its id is a fresh UUIDv7.
    pub fn user(scope: &str, layer: Layer, source: Source, text: impl Into<String>) -> Entry {
        let id = uuid::Uuid::now_v7().to_string();
        let mut entry = Entry::base(scope, layer, source, text.into(), id);
        entry.importance = 0.7;
        entry.confidence = 0.9;
        entry
    }

    /// Entries with the same scope, layer, key and language fill one slot: only one of them
    /// may be active at a time.
    pub fn slot(&self) -> Option<(String, Layer, String, Option<String>)> {
        self.key.as_ref().map(|k| {
            (
                self.scope.clone(),
                self.layer,
                k.clone(),
                self.language.clone(),
            )
        })
    }

    /// Marks this entry as replaced by `by` (kept and restorable) and says why in its trail.
    pub fn supersede(&mut self, by: &str, why: String) {
        self.status = Status::Superseded;
        self.superseded_by = Some(by.to_string());
        self.updated_at = now_millis();
        self.record("superseded", Some(why));
    }

    pub fn record(&mut self, action: &str, detail: Option<String>) {
        self.history.push(AuditEvent {
            at: now_millis(),
            action: action.to_string(),
            detail,
        });
    }

    /// The text the embedder sees: the sentence plus the structured slot, so that a query
    /// for "indentation" finds `format.indent` even when the sentence says "4 spaces". A value
    /// that is a list the sentence already spells out is left out: a co-change procedure's
    /// value is the files its sentence names, and repeating them doubled the tokens of a first
    /// run's history procedures (embedding time is linear in tokens) for a vector that said
    /// nothing more. A one-word value stays, said twice: it is the slot's answer, and
    /// weighing it less cost a question of the accuracy benchmark (`const` in koa).
    pub fn embedding_text(&self) -> String {
        match (&self.key, &self.value) {
            (Some(key), Some(value)) if is_list(value) && self.says_all_words_of(value) => {
                format!("{} ({key})", self.text)
            }
            _ => self.slot_text(),
        }
    }

    /// What BM25 matches besides the tags: the sentence and the whole structured slot.
    pub fn slot_text(&self) -> String {
        match (&self.key, &self.value) {
            (Some(key), Some(value)) => format!("{} ({key}: {value})", self.text),
            _ => self.text.clone(),
        }
    }

    fn says_all_words_of(&self, value: &str) -> bool {
        value
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .all(|w| self.text.contains(w))
    }
}

/// A value naming several things: files (`a.go,b.go`) or commands (`make lint && make test`).
fn is_list(value: &str) -> bool {
    value.contains(',') || value.contains(" && ")
}

/// Whether a statement asks for something or against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Positive,
    Negative,
}

/// What a statement is for and against: "use pnpm instead of npm" prefers `pnpm` and rejects
/// `npm`; "never commit to main" is negative about committing to main.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stance {
    pub polarity: Polarity,
    pub prefers: Option<String>,
    pub rejects: Option<String>,
}

const NEGATIVE_CUES: &[&str] = &[
    "never",
    "don't",
    "dont",
    "do not",
    "avoid",
    "must not",
    "mustn't",
    "should not",
    "shouldn't",
    "no longer",
    "stop using",
    "not allowed",
    "forbidden",
    "disallow",
    "prohibit",
    "don’t",
];

/// Words after a cue that are not the thing chosen ("use the new …", "prefer a …").
const FILLER: &[&str] = &[
    "the", "a", "an", "our", "to", "using", "use", "in", "on", "for", "with", "of", "be", "is",
    "are", "any",
];

fn word_after<'a>(text: &'a str, cue: &str) -> Option<&'a str> {
    let at = text.find(cue)? + cue.len();
    text[at..]
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .find(|w| !FILLER.contains(w))
}

fn word_before<'a>(text: &'a str, cue: &str) -> Option<&'a str> {
    let at = text.find(cue)?;
    text[..at]
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':'))
        .rfind(|w| !w.is_empty())
}

fn clean(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
        .to_lowercase()
}

impl Stance {
    pub fn of(text: &str) -> Stance {
        let t = format!(" {} ", text.to_lowercase().replace('`', ""));
        // A prohibition puts its cue up front ("never …", "we don't …", "avoid …"); a cue
        // after the main clause ("integers in cents, never floats") names the rejected
        // alternative instead, and the statement itself stays positive.
        let main_clause: String = t
            .split([',', ';', ':'])
            .next()
            .unwrap_or("")
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        let main_clause = format!(" {main_clause} ");
        let negative = NEGATIVE_CUES
            .iter()
            .any(|c| main_clause.contains(&format!(" {c} ")));
        let (mut prefers, mut rejects) = (None, None);
        if !negative {
            let before = [
                "is not allowed",
                "are not allowed",
                "is forbidden",
                "are forbidden",
            ];
            let after = [
                "never",
                "avoid",
                "stop using",
                "no longer",
                "don't",
                "do not",
            ];
            if let Some(cue) = before.iter().find(|c| t.contains(&format!(" {c} "))) {
                rejects = word_before(&t, &format!(" {cue} ")).map(clean);
            } else if let Some(cue) = after.iter().find(|c| t.contains(&format!(" {c} "))) {
                rejects = word_after(&t, &format!(" {cue} ")).map(clean);
            }
        }
        for cue in [" instead of ", " rather than ", " over "] {
            if rejects.is_none() && t.contains(cue) {
                rejects = word_after(&t, cue).map(clean);
                prefers = word_before(&t, cue).map(clean);
                if cue == " over " {
                    // "prefer X over Y": the preferred word follows "prefer".
                    prefers = word_after(&t, " prefer ").map(clean).or(prefers);
                }
                break;
            }
        }
        if rejects.is_none() {
            // "switched from X to Y", "migrated from X to Y", "replace X with Y".
            let moved = ["switch", "moved", "migrat", "went", "move "]
                .iter()
                .any(|w| t.contains(w));
            let swap = [
                (" from ", " to ", moved),
                (" replaced ", " with ", true),
                (" replace ", " with ", true),
            ]
            .into_iter()
            .find(|(a, b, ok)| *ok && t.contains(a) && t.contains(b))
            .map(|(a, b, _)| (a, b));
            if let Some((from, to)) = swap {
                if let (Some(a), Some(b)) = (word_after(&t, from), word_after(&t, to)) {
                    rejects = Some(clean(a));
                    prefers = Some(clean(b));
                }
            }
        }
        Stance {
            polarity: if negative {
                Polarity::Negative
            } else {
                Polarity::Positive
            },
            prefers: prefers.filter(|w| !w.is_empty()),
            rejects: rejects.filter(|w| !w.is_empty()),
        }
    }
}

/// Cosine band in which two statements are about the same thing (DESIGN.md: 0.75–0.92;
/// above it they are duplicates unless their polarity differs).
pub const CONTRADICTION_COSINE: f32 = 0.75;

/// Whether `new` says the opposite of `old`: opposite polarity about the same thing, or
/// rejecting what the old one prefers ("use npm" → "use pnpm instead of npm").
pub fn contradicts(new: &str, old: &str, cosine: f32) -> bool {
    let (n, o) = (Stance::of(new), Stance::of(old));
    if cosine >= CONTRADICTION_COSINE && n.polarity != o.polarity {
        return true;
    }
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .map(str::to_lowercase)
            .collect()
    };
    let old_words = words(old);
    if let Some(rejected) = &n.rejects {
        // The old statement recommends what the new one rejects, and does not already
        // say the same swap.
        if o.polarity == Polarity::Positive
            && old_words.contains(rejected)
            && o.rejects.as_ref() != Some(rejected)
            && n.prefers.as_ref().is_none_or(|p| !old_words.contains(p))
            && cosine >= 0.3
        {
            return true;
        }
    }
    false
}

/// Decay (DESIGN.md): an entry this unimportant, untouched this long, is expired.
pub const DECAY_IMPORTANCE: f32 = 0.1;
pub const DECAY_DAYS: i64 = 120;

impl Entry {
    /// Whether decay should expire this entry now.
    pub fn is_stale(&self, now: i64) -> bool {
        let touched = self
            .updated_at
            .max(self.last_accessed_at)
            .max(self.created_at);
        self.status == Status::Active
            && self.layer != Layer::Pinned
            && self.importance < DECAY_IMPORTANCE
            && now - touched > DECAY_DAYS * 86_400_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracted_ids_are_stable_and_value_specific() {
        let a = Entry::extracted(
            "repo:x",
            Layer::Memory,
            Source::Config,
            "format.indent",
            None,
            "spaces:4",
            "Indent with 4 spaces.",
        );
        let b = Entry::extracted(
            "repo:x",
            Layer::Memory,
            Source::Config,
            "format.indent",
            None,
            "spaces:4",
            "other words",
        );
        let c = Entry::extracted(
            "repo:x",
            Layer::Memory,
            Source::Config,
            "format.indent",
            None,
            "tabs",
            "Indent with tabs.",
        );
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_eq!(a.slot(), c.slot());
    }

    #[test]
    fn the_embedded_text_names_the_slot_and_repeats_only_a_value_the_sentence_does_not_say() {
        let cochange = Entry::extracted(
            "repo:x",
            Layer::Procedure,
            Source::History,
            "cochange.flag_int.go",
            None,
            "flag_duration.go,flag_uint.go",
            "After editing `flag_int.go`, also update `flag_uint.go` and `flag_duration.go` \
             (28 of 41 commits).",
        );
        assert_eq!(
            cochange.embedding_text(),
            format!("{} (cochange.flag_int.go)", cochange.text)
        );
        let unsaid = Entry::extracted(
            "repo:x",
            Layer::Memory,
            Source::Config,
            "stack.language",
            None,
            "python",
            "The project is written in Python.",
        );
        assert_eq!(
            unsaid.embedding_text(),
            "The project is written in Python. (stack.language: python)"
        );
        // A one-word answer is said again, even when the sentence has it.
        let said = Entry::extracted(
            "repo:x",
            Layer::Memory,
            Source::Code,
            "declarations",
            Some("javascript"),
            "const",
            "JavaScript declarations use const (996 of 1025).",
        );
        assert!(said.embedding_text().ends_with("(declarations: const)"));
        // BM25 still matches the whole slot.
        assert!(cochange
            .slot_text()
            .ends_with("(cochange.flag_int.go: flag_duration.go,flag_uint.go)"));
    }

    #[test]
    fn stance_reads_polarity_and_swaps() {
        let s = Stance::of("Use pnpm instead of npm.");
        assert_eq!(s.polarity, Polarity::Positive);
        assert_eq!(s.prefers.as_deref(), Some("pnpm"));
        assert_eq!(s.rejects.as_deref(), Some("npm"));
        let s = Stance::of("Prefer `vitest` over jest for new tests");
        assert_eq!(
            (s.prefers.as_deref(), s.rejects.as_deref()),
            (Some("vitest"), Some("jest"))
        );
        let s = Stance::of("We switched from black to ruff format");
        assert_eq!(
            (s.prefers.as_deref(), s.rejects.as_deref()),
            (Some("ruff"), Some("black"))
        );
        assert_eq!(
            Stance::of("Never commit directly to main").polarity,
            Polarity::Negative
        );
        assert_eq!(
            Stance::of("Always commit through a pull request").polarity,
            Polarity::Positive
        );
    }

    #[test]
    fn contradictions_need_opposite_stances_about_the_same_thing() {
        // Opposite polarity, close in meaning.
        assert!(contradicts(
            "Never use tabs for indentation",
            "Always use tabs for indentation",
            0.9
        ));
        // Opposite polarity but about something else.
        assert!(!contradicts(
            "Never use tabs for indentation",
            "Always run cargo fmt",
            0.3
        ));
        // Same polarity, same meaning: a duplicate, not a contradiction.
        assert!(!contradicts(
            "Always use tracing for logs",
            "We always log with tracing",
            0.9
        ));
        // A swap rejects what the old statement recommended.
        assert!(contradicts(
            "Use pnpm instead of npm",
            "We use npm to install packages",
            0.6
        ));
        // Restating the same swap is not a contradiction.
        assert!(!contradicts(
            "Use pnpm instead of npm",
            "Prefer pnpm over npm",
            0.8
        ));
        // A trailing "never …" names the alternative; both say the same thing.
        assert!(!contradicts(
            "Prices are stored as integer cents.",
            "Money amounts are integers in cents, never floating point.",
            0.85
        ));
        assert!(contradicts(
            "Money amounts are integers in cents, never floating point.",
            "Prices are floating point numbers.",
            0.6
        ));
        assert_eq!(
            Stance::of("Log with tracing; println! is not allowed in library code.")
                .rejects
                .as_deref(),
            Some("println")
        );
    }

    #[test]
    fn only_unimportant_untouched_active_entries_go_stale() {
        let day = 86_400_000;
        let now = 1_000 * day;
        let mut e = Entry::user("s", Layer::Memory, Source::User, "x");
        e.importance = 0.05;
        (e.created_at, e.updated_at) = (now - 200 * day, now - 200 * day);
        assert!(e.is_stale(now));
        e.last_accessed_at = now - 10 * day;
        assert!(!e.is_stale(now), "a recent access keeps it");
        e.last_accessed_at = 0;
        e.importance = 0.5;
        assert!(!e.is_stale(now), "important entries do not decay");
        e.importance = 0.05;
        e.status = Status::Superseded;
        assert!(!e.is_stale(now));
    }

    #[test]
    fn enums_parse_case_insensitively_and_reject_unknown_names() {
        assert_eq!("Procedure".parse::<Layer>(), Ok(Layer::Procedure));
        let err = "memories".parse::<Layer>().unwrap_err();
        assert!(
            err.to_string().contains("unknown layer `memories`"),
            "{err}"
        );
    }

    #[test]
    fn entries_round_trip_through_json() {
        let mut e = Entry::user(
            "user",
            Layer::Pinned,
            Source::User,
            "Always answer in English.",
        );
        e.vector = vec![0.25, -1.0];
        e.tags = vec!["lang".into()];
        e.record("created", None);
        let json = serde_json::to_string(&e).unwrap();
        let back: Entry = serde_json::from_str(&json).unwrap();
        assert_eq!(e, back);
    }
}
