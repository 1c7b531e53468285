//! Reading one commit subject: its form (Conventional Commits, `component: summary`, free
//! text), the mood of its first verb, and the case of its first letter.

use std::sync::OnceLock;

const CONVENTIONAL_TYPES: &[&str] = &[
    "feat", "fix", "docs", "doc", "style", "refactor", "perf", "test", "tests", "build", "ci",
    "chore", "revert", "deps", "release",
];

/// How a subject is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject<'a> {
    Conventional {
        kind: &'a str,
        scope: Option<&'a str>,
        description: &'a str,
    },
    /// `component: summary`, as in Git, Linux and Go (`net/http: fix …`).
    Component {
        component: &'a str,
        description: &'a str,
    },
    Free(&'a str),
}

pub fn classify(subject: &str) -> Subject<'_> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"^([A-Za-z][\w./-]*)(?:\(([^)]{1,40})\))?(!)?: +(\S.*)$")
            .expect("static regex")
    });
    let Some(c) = re.captures(subject) else {
        return Subject::Free(subject);
    };
    let (Some(prefix), Some(description)) = (c.get(1), c.get(4)) else {
        return Subject::Free(subject);
    };
    let prefix = prefix.as_str();
    if CONVENTIONAL_TYPES.contains(&prefix) {
        return Subject::Conventional {
            kind: prefix,
            scope: c.get(2).map(|m| m.as_str()),
            description: description.as_str(),
        };
    }
    if c.get(2).is_some() || c.get(3).is_some() {
        // `wip(x): …` looks like Conventional Commits with a type of the team's own.
        return Subject::Conventional {
            kind: prefix,
            scope: c.get(2).map(|m| m.as_str()),
            description: description.as_str(),
        };
    }
    Subject::Component {
        component: prefix,
        description: description.as_str(),
    }
}

/// Verbs that start commit subjects; the imperative form.
const VERBS: &[&str] = &[
    "add",
    "allow",
    "apply",
    "avoid",
    "bump",
    "build",
    "call",
    "change",
    "check",
    "clean",
    "cleanup",
    "clarify",
    "close",
    "collect",
    "combine",
    "convert",
    "copy",
    "correct",
    "create",
    "declare",
    "default",
    "define",
    "delete",
    "deprecate",
    "describe",
    "disable",
    "document",
    "drop",
    "enable",
    "ensure",
    "expose",
    "extend",
    "extract",
    "factor",
    "fix",
    "format",
    "generate",
    "handle",
    "hide",
    "ignore",
    "implement",
    "import",
    "improve",
    "include",
    "increase",
    "initialize",
    "inline",
    "install",
    "introduce",
    "keep",
    "let",
    "limit",
    "load",
    "lock",
    "log",
    "make",
    "mark",
    "merge",
    "migrate",
    "move",
    "name",
    "optimize",
    "parse",
    "pass",
    "pin",
    "port",
    "prefer",
    "prepare",
    "prevent",
    "print",
    "read",
    "reduce",
    "refactor",
    "reformat",
    "release",
    "remove",
    "rename",
    "reorder",
    "replace",
    "report",
    "require",
    "reset",
    "resolve",
    "restore",
    "restructure",
    "return",
    "revert",
    "rework",
    "rewrite",
    "run",
    "search",
    "send",
    "separate",
    "set",
    "share",
    "show",
    "simplify",
    "skip",
    "sort",
    "split",
    "start",
    "stop",
    "store",
    "support",
    "switch",
    "sync",
    "teach",
    "test",
    "track",
    "tweak",
    "turn",
    "unify",
    "update",
    "upgrade",
    "use",
    "validate",
    "verify",
    "wait",
    "wire",
    "wrap",
    "write",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mood {
    Imperative,
    Past,
    ThirdPerson,
    Gerund,
}

/// The mood of a description's first word, if it is a verb this list knows.
pub fn mood(description: &str) -> Option<Mood> {
    let word: String = description
        .split_whitespace()
        .next()?
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    // The verb list is English; anything else (and slicing it by bytes) is left alone.
    if !word.is_ascii() {
        return None;
    }
    let verb = |w: &str| VERBS.contains(&w);
    if verb(&word) {
        return Some(Mood::Imperative);
    }
    let stems = |suffix: &str, extra: &[&str]| -> bool {
        word.strip_suffix(suffix).is_some_and(|stem| {
            verb(stem)
                || extra.iter().any(|e| verb(&format!("{stem}{e}")))
                // "stopped", "mapping": a doubled final consonant.
                || (stem.len() > 2
                    && stem.as_bytes()[stem.len() - 1] == stem.as_bytes()[stem.len() - 2]
                    && verb(&stem[..stem.len() - 1]))
        })
    };
    if stems("ed", &["e"])
        || stems("d", &[])
        || word.ends_with("ied") && verb(&format!("{}y", &word[..word.len() - 3]))
    {
        return Some(Mood::Past);
    }
    if stems("ing", &["e"]) {
        return Some(Mood::Gerund);
    }
    if stems("s", &[])
        || stems("es", &[])
        || word.ends_with("ies") && verb(&format!("{}y", &word[..word.len() - 3]))
    {
        return Some(Mood::ThirdPerson);
    }
    None
}

/// The description of a subject: what follows a `type(scope):` or `component:` prefix.
fn description(subject: &str) -> &str {
    match classify(subject) {
        Subject::Conventional { description, .. } | Subject::Component { description, .. } => {
            description
        }
        Subject::Free(s) => s,
    }
}

/// Whether a subject's description starts with a capital letter (`Some(true)`), a lowercase
/// one (`Some(false)`), or with no letter at all.
pub(super) fn capitalised(subject: &str) -> Option<bool> {
    let first = description(subject).chars().find(|c| c.is_alphabetic())?;
    Some(first.is_uppercase())
}
