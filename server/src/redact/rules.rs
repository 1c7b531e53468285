//! Rules that find secrets by pattern: those converted from a maintained rule set
//! (`rules.toml`, written by `scripts/update-secret-rules`) and tacit's own (`detectors`),
//! run the way gitleaks runs its rules on a string.
//!
//! A rule runs only on a text that holds one of its keywords (ASCII case-insensitive; one
//! Aho-Corasick pass over the text finds them all), so that most of the rules never look at
//! most texts. A match gives the secret: the rule's secret group, else the first capture
//! group that matched, else the whole match. The secret is dropped when its Shannon entropy
//! is not above the rule's threshold, or when an allowlist (the rule's or the global one)
//! says it is not a secret.
//!
//! Patterns are compiled for bytes with Unicode classes off: `\w`, `\d`, `\s` and `\b` are
//! ASCII, as in Go's RE2 that gitleaks targets, and the automata stay small enough for the
//! lazy DFA.

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::{Captures, Regex, RegexBuilder};
use serde::Deserialize;

/// What the data file says of its rules (it also holds their source and licence text).
#[derive(Debug, Deserialize)]
pub(super) struct Origin {
    pub licence: String,
    pub rules_kept: usize,
}

/// The data file as `scripts/update-secret-rules` writes it.
#[derive(Debug, Deserialize)]
pub(super) struct RuleFile {
    pub origin: Origin,
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RuleSpec {
    pub id: String,
    pub regex: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub secret_group: Option<usize>,
    #[serde(default)]
    pub allowlists: Vec<AllowlistSpec>,
}

/// What an allowlist's regexes are matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Target {
    #[default]
    Secret,
    Match,
    Line,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Condition {
    /// Allowed when a regex matches or a stopword occurs.
    #[default]
    Or,
    /// Allowed when a regex matches and a stopword occurs (each, where the list has any).
    And,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AllowlistSpec {
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub condition: Condition,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// A rule's or the rule set's allowlist, compiled.
struct Allowlist {
    target: Target,
    condition: Condition,
    regexes: Vec<Regex>,
    /// Lowercase; a secret containing one is allowed.
    stopwords: Option<AhoCorasick>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("secret rules: {0}")]
    File(#[from] toml::de::Error),
    #[error("secret rule {id}: {source}")]
    Regex { id: String, source: regex::Error },
    #[error("secret rule keywords: {0}")]
    Keywords(#[from] aho_corasick::BuildError),
    #[error("secret rules: the file says {said} rules were kept and holds {held}")]
    Count { said: usize, held: usize },
}

/// A second look at a match that a pattern alone cannot give, for tacit's own detectors:
/// the secret's span within the text, or None to drop the match.
pub(super) type Judge = fn(text: &str, caps: &Captures) -> Option<Range<usize>>;

/// One rule, from the data file or from `detectors`.
pub(super) struct Rule {
    pub id: &'static str,
    regex: Regex,
    keywords: Vec<String>,
    entropy: Option<f64>,
    secret_group: Option<usize>,
    allowlists: Vec<Allowlist>,
    judge: Option<Judge>,
}

impl Rule {
    /// One of tacit's own rules: the judge picks the secret out of each match.
    pub(super) fn own(
        id: &'static str,
        keywords: &[&str],
        pattern: &str,
        judge: Judge,
    ) -> Result<Rule, RuleError> {
        Ok(Rule {
            id,
            regex: compile(id, pattern)?,
            keywords: keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            entropy: None,
            secret_group: None,
            allowlists: Vec::new(),
            judge: Some(judge),
        })
    }

    fn from_spec(spec: RuleSpec) -> Result<Rule, RuleError> {
        let regex = compile(&spec.id, &spec.regex)?;
        let allowlists = spec
            .allowlists
            .into_iter()
            .map(|a| Allowlist::compile(&spec.id, a))
            .collect::<Result<_, _>>()?;
        Ok(Rule {
            // Rules live as long as the process (they sit in a static); leaking the id lets
            // a redaction name its rule without a copy.
            id: spec.id.leak(),
            regex,
            keywords: spec
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            entropy: spec.entropy,
            secret_group: spec.secret_group,
            allowlists,
            judge: None,
        })
    }
}

fn compile(id: &str, pattern: &str) -> Result<Regex, RuleError> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .map_err(|source| RuleError::Regex {
            id: id.to_string(),
            source,
        })
}

impl Allowlist {
    fn compile(id: &str, spec: AllowlistSpec) -> Result<Allowlist, RuleError> {
        let regexes = spec
            .regexes
            .iter()
            .map(|r| compile(id, r))
            .collect::<Result<_, _>>()?;
        let stopwords = if spec.stopwords.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(
                spec.stopwords.iter().map(|s| s.to_ascii_lowercase()),
            )?)
        };
        Ok(Allowlist {
            target: spec.target,
            condition: spec.condition,
            regexes,
            stopwords,
        })
    }

    /// Whether this allowlist lets a finding through as not a secret.
    fn allows(&self, secret: &str, matched: &str, line: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        let regex = self.regexes.iter().any(|r| r.is_match(target.as_bytes()));
        let stopword = self
            .stopwords
            .as_ref()
            .is_some_and(|s| s.is_match(&secret.to_ascii_lowercase()));
        match self.condition {
            Condition::Or => regex || stopword,
            Condition::And => {
                (self.regexes.is_empty() || regex) && (self.stopwords.is_none() || stopword)
            }
        }
    }
}

/// Shannon entropy of `s` in bits per character, as gitleaks computes it.
pub(super) fn shannon_entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let len = s.len() as f64;
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// A secret found: its byte span in the text and the rule that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    pub span: Range<usize>,
    pub rule: &'static str,
    /// The rule's place in the set: where findings overlap, the first rule names them
    /// (the maintained rules come before tacit's own).
    pub rank: usize,
}

/// Every rule, with the keyword automaton that picks which of them run on a text.
pub(super) struct RuleSet {
    rules: Vec<Rule>,
    /// Keyword i of the automaton belongs to the rules `keyword_rules[i]`.
    keywords: AhoCorasick,
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every text.
    always: Vec<usize>,
    global: Allowlist,
}

impl RuleSet {
    /// The rules of a data file followed by `own` (tacit's), ready to run.
    pub(super) fn build(file: &str, own: Vec<Rule>) -> Result<RuleSet, RuleError> {
        let file: RuleFile = toml::from_str(file)?;
        if file.rules.len() != file.origin.rules_kept {
            return Err(RuleError::Count {
                said: file.origin.rules_kept,
                held: file.rules.len(),
            });
        }
        tracing::debug!(
            converted = file.rules.len(),
            own = own.len(),
            licence = %file.origin.licence,
            "secret rules loaded"
        );
        let mut rules = Vec::with_capacity(file.rules.len() + own.len());
        for spec in file.rules {
            rules.push(Rule::from_spec(spec)?);
        }
        rules.extend(own);
        RuleSet::from_rules(rules, file.allowlist)
    }

    fn from_rules(rules: Vec<Rule>, global: AllowlistSpec) -> Result<RuleSet, RuleError> {
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                always.push(i);
            }
            for keyword in &rule.keywords {
                match words.iter().position(|w| w == keyword) {
                    Some(k) => keyword_rules[k].push(i),
                    None => {
                        words.push(keyword.clone());
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&words)?;
        Ok(RuleSet {
            rules,
            keywords,
            keyword_rules,
            always,
            global: Allowlist::compile("allowlist", global)?,
        })
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.rules.len()
    }

    /// Which rules a text's keywords call for, in rule order.
    fn rules_for(&self, text: &str) -> Vec<usize> {
        let mut wanted = vec![false; self.rules.len()];
        for &i in &self.always {
            wanted[i] = true;
        }
        // Overlapping: "apikey" holds both "api" and "key", each of which may call for
        // other rules.
        for m in self.keywords.find_overlapping_iter(text) {
            for &i in &self.keyword_rules[m.pattern().as_usize()] {
                wanted[i] = true;
            }
        }
        (0..self.rules.len()).filter(|&i| wanted[i]).collect()
    }

    /// Every secret the rules find in `text`, possibly overlapping.
    pub(super) fn find(&'static self, text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        for i in self.rules_for(text) {
            let rule = &self.rules[i];
            for caps in rule.regex.captures_iter(text.as_bytes()) {
                let Some(span) = secret_span(rule, text, &caps) else {
                    continue;
                };
                let span = char_aligned(text, span);
                if span.is_empty() {
                    continue;
                }
                let secret = &text[span.clone()];
                if rule
                    .entropy
                    .is_some_and(|min| shannon_entropy(secret) <= min)
                {
                    continue;
                }
                let whole = caps.get(0).map(|m| m.range()).unwrap_or(span.clone());
                let matched = &text[char_aligned(text, whole)];
                let line = line_around(text, &span);
                if self.global.allows(secret, matched, line)
                    || rule
                        .allowlists
                        .iter()
                        .any(|a| a.allows(secret, matched, line))
                {
                    continue;
                }
                out.push(Finding {
                    span,
                    rule: rule.id,
                    rank: i,
                });
            }
        }
        out
    }
}

/// The secret within a match: the judge's pick for tacit's own rules; otherwise the secret
/// group, the first group that matched, or the whole match without the delimiters a pattern
/// may take in around the secret (spaces, quotes, `=`, `:`).
fn secret_span(rule: &Rule, text: &str, caps: &Captures) -> Option<Range<usize>> {
    if let Some(judge) = rule.judge {
        return judge(text, caps);
    }
    if let Some(group) = rule.secret_group {
        return caps.get(group).map(|m| m.range());
    }
    // Group 0 is the whole match; gitleaks takes the first non-empty group as the secret.
    // (An iterator skip over capture groups, not a skipped test.)
    if let Some(m) = caps.iter().skip(1).flatten().find(|m| !m.is_empty()) {
        return Some(m.range());
    }
    let whole = caps.get(0)?.range();
    let delimiter = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'=' | b':');
    let bytes = &text.as_bytes()[whole.clone()];
    let start = whole.start + bytes.iter().take_while(|b| delimiter(b)).count();
    let end = whole.end - bytes.iter().rev().take_while(|b| delimiter(b)).count();
    (start < end).then_some(start..end)
}

/// `span` widened to character boundaries: with Unicode off, a class like `[^"]` can stop
/// inside a multi-byte character, and a redaction must cover all of it.
fn char_aligned(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// The line (or lines) holding `span`, for allowlists that look at the line.
fn line_around<'t>(text: &'t str, span: &Range<usize>) -> &'t str {
    let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i);
    &text[start..end]
}

/// A rule set built once. The data file is compiled in and checked by the tests, so a
/// failure here is a build defect: it is logged, and tacit's own rules still run.
pub(super) fn cached(
    cell: &'static OnceLock<RuleSet>,
    file: &str,
    own: fn() -> Vec<Rule>,
) -> &'static RuleSet {
    cell.get_or_init(|| match RuleSet::build(file, own()) {
        Ok(set) => set,
        Err(e) => {
            tracing::error!("{e}; only tacit's own secret detectors are used");
            RuleSet::from_rules(own(), AllowlistSpec::default())
                .unwrap_or_else(|e| panic!("tacit's own secret detectors: {e}"))
        }
    })
}
