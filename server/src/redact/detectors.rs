//! tacit's own detectors, for what the converted rule set does not catch: secrets known by
//! the words around them rather than by their shape (`password = …`, `--token …`,
//! `docker login -p …`, "the staging password is …", `user:pass@host`) and a few token
//! shapes it lacks or matches only in one context (Mailgun `key-…`, Google `AIza…`,
//! Anthropic and OpenAI `sk-…`, a Twilio key's secret).
//!
//! Where only the context says "secret", the value must also look like one: not a
//! placeholder (checked for every finding in `mod.rs`), not code (`Option<String>`,
//! `self.token`), and for the weakest contexts random enough by entropy and character mix.
//! Ordinary prose ("token budget"), type annotations (`api_key: String`), git hashes and
//! UUIDs must pass unchanged.

use std::ops::Range;

use regex::bytes::Captures;

use super::rules::{shannon_entropy, Rule, RuleError};

/// The span of the first capture group that matched, from `first` on.
fn group_from(caps: &Captures, first: usize) -> Option<Range<usize>> {
    // Groups before `first` hold the label (`password=`), not the secret, so they are
    // passed over: this skips capture groups of a match, not tests.
    caps.iter()
        .skip(first) // the label's capture groups, not a skipped test
        .flatten()
        .find(|m| !m.is_empty())
        .map(|m| m.range())
}

fn whole(_: &str, caps: &Captures) -> Option<Range<usize>> {
    caps.get(0).map(|m| m.range())
}

fn group(_: &str, caps: &Captures) -> Option<Range<usize>> {
    group_from(caps, 1)
}

/// OpenAI-style keys share the `sk-` prefix with ordinary hyphenated words, so the part after
/// the prefix must be long and look random: letters and digits mixed.
fn api_key_after_prefix(text: &str, caps: &Captures) -> Option<Range<usize>> {
    let span = caps.get(0)?.range();
    let matched = &text[span.clone()];
    let body = matched.trim_start_matches("sk-");
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let letters = body.chars().filter(char::is_ascii_alphabetic).count();
    (body.len() >= 32 && digits >= 2 && letters >= 8).then_some(span)
}

/// Code, not a value: `Option<String>`, `self.token`, `env::var("X")`, `&str`.
fn looks_like_code(value: &str) -> bool {
    let code_syntax = ['<', '>', '(', ')', '[', ']', '{', '}', '&', '|'];
    value.contains(code_syntax) || value.contains("::")
}

/// How many of lowercase, uppercase, digits and other characters a value mixes.
fn character_classes(value: &str) -> usize {
    let lower = value.chars().any(|c| c.is_ascii_lowercase());
    let upper = value.chars().any(|c| c.is_ascii_uppercase());
    let digit = value.chars().any(|c| c.is_ascii_digit());
    let other = value.chars().any(|c| !c.is_ascii_alphanumeric());
    [lower, upper, digit, other]
        .into_iter()
        .filter(|&b| b)
        .count()
}

/// `password = "…"`, `API_KEY: …`, `"client_secret": "…"`: the value of a name that ends with
/// a sensitive word. Quoted values count as they are; an unquoted value is more likely code
/// than a secret, so it counts only when it mixes letters and digits and has no code syntax.
fn assigned_value(text: &str, caps: &Captures) -> Option<Range<usize>> {
    if let Some(quoted) = caps.get(2).or_else(|| caps.get(3)) {
        return Some(quoted.range());
    }
    let unquoted = caps.get(4)?.range();
    let value = &text[unquoted.clone()];
    let has_digit = value.chars().any(|c| c.is_ascii_digit());
    let has_letter = value.chars().any(|c| c.is_ascii_alphabetic());
    (has_digit && has_letter && !looks_like_code(value)).then_some(unquoted)
}

/// Commands whose `-p` takes a password (for most others it is a package, a port or
/// "make parents").
const LOGIN_COMMANDS: &[&str] = &[
    "login",
    "mysql",
    "mariadb",
    "mysqldump",
    "mysqladmin",
    "sshpass",
    "psql",
    "mongo",
    "mongosh",
    "redis-cli",
    "smbclient",
    "htpasswd",
    "ftp",
];

/// The line around a byte offset.
fn line_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

fn mentions_login_command(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .any(|word| LOGIN_COMMANDS.contains(&word))
}

/// The value of a command-line flag that takes a secret. Group 1 is the flag, 2–4 the value
/// (double-quoted, single-quoted, bare). A path or a variable is not a secret; `-p` is
/// ambiguous, so its value counts beside a login command, or when it is random enough that
/// it cannot be a package or a directory.
fn flag_value(text: &str, caps: &Captures) -> Option<Range<usize>> {
    let flag = caps.get(1)?;
    let span = group_from(caps, 2)?;
    let value = &text[span.clone()];
    if value.starts_with(['/', '~', '.', '@', '-']) || looks_like_code(value) {
        return None;
    }
    if flag.as_bytes() == b"-p" {
        let beside_login = mentions_login_command(line_at(text, flag.start()));
        let random =
            value.len() >= 12 && shannon_entropy(value) >= 3.5 && character_classes(value) >= 3;
        return (value.len() >= 4 && (beside_login || random)).then_some(span);
    }
    (value.len() >= 6).then_some(span)
}

/// `mysql -pS3cret` (the password glued to the flag), only for the MySQL family, where
/// that is how the password is given.
fn glued_mysql_password(text: &str, caps: &Captures) -> Option<Range<usize>> {
    let span = caps.get(1)?.range();
    let line = line_at(text, span.start).to_ascii_lowercase();
    ["mysql", "mariadb", "mysqldump", "mysqladmin"]
        .iter()
        .any(|c| line.contains(c))
        .then_some(span)
}

/// "The staging admin password is Tr0ub4dor&3": a value stated in a sentence. Words follow
/// such phrases far more often than secrets do ("the token is valid", "the password is
/// stored in Vault"), so the value must hold a digit or a symbol and must not be a path,
/// a URL or code.
fn stated_value(text: &str, caps: &Captures) -> Option<Range<usize>> {
    let span = caps.get(1)?.range();
    let raw = &text[span.clone()];
    // A sentence's full stop or comma is not part of the value.
    let value = raw.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
    let span = span.start..span.start + value.len();
    let has_digit_or_symbol = value
        .chars()
        .any(|c| c.is_ascii_digit() || (c.is_ascii_punctuation() && c != '-' && c != '_'));
    let pathlike = value.contains('/') || value.contains('\\') || value.contains("://");
    (value.len() >= 6 && has_digit_or_symbol && !pathlike && !looks_like_code(value))
        .then_some(span)
}

/// A password piped into a registry login: `echo 'S3cret' | docker login --password-stdin`.
fn piped_password(text: &str, caps: &Captures) -> Option<Range<usize>> {
    let span = caps.get(1)?.range();
    (text[span.clone()].len() >= 6).then_some(span)
}

/// Words that name a password; the rest of the sensitive words name some other secret.
const PASSWORD_WORDS: &str = "password|passwd|passphrase|passcode|pwd";
const SECRET_WORDS: &str = "secret|token|api[_\\-]?key|access[_\\-]?key|private[_\\-]?key|client[_\\-]?secret|secret[_\\-]?key|auth[_\\-]?key|account[_\\-]?key|credentials?";

/// An assignment to a name ending in one of `words`: group 1 the name and operator, then the
/// value double-quoted (2), single-quoted (3) or bare (4).
fn assignment(words: &str) -> String {
    format!(
        r#"(?i)(\b[A-Za-z0-9_.\-]*(?:{words})["']?\s*(?::=|=>|=|:)[ \t]*)(?:"([^"\s]{{8,}})"|'([^'\s]{{8,}})'|([^\s"',;]{{8,}}))"#
    )
}

/// A sentence stating a value: "<word> [for|of|on|to <up to 40 characters>] is|was|: <value>".
fn statement(words: &str) -> String {
    format!(
        r#"(?i)\b(?:{words})\b(?:[ \t]+(?:for|of|on|to|in)[ \t]+[^\n.,;:]{{1,40}}?)?[ \t]*(?:(?:is|was|are|will be|has been|is set to|set to|changed to)\b|:)[ \t]*:?[ \t]*[`"']?([^\s`"']{{6,}})"#
    )
}

/// Every detector of tacit's own, in the order their names win where findings overlap.
pub(super) fn all() -> Vec<Rule> {
    let rules: Vec<Result<Rule, RuleError>> = vec![
        // Private keys first: their base64 body would otherwise be bitten into by others.
        // Unlike the converted rules, a block cut off before its END line is caught too.
        Rule::own(
            "private-key",
            &["-----begin"],
            r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*$)",
            whole,
        ),
        Rule::own(
            "aws-secret-access-key",
            &["secret"],
            r#"(?i)\baws[_\-]?secret[_\-]?(?:access[_\-]?)?key["']?[ \t]*(?:[:=][ \t]*|[ \t]+)["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            group,
        ),
        Rule::own(
            "azure-connection-key",
            &["key=", "signature=", "secret="],
            r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret)=([^;\s\x22']{16,})",
            group,
        ),
        Rule::own(
            "mailgun-api-key",
            &["key-"],
            r"\bkey-[0-9a-zA-Z]{32}\b",
            whole,
        ),
        Rule::own("twilio-api-key", &["sk"], r"\bSK[0-9a-fA-F]{32}\b", whole),
        // The secret that goes with a Twilio key: `Client("SK…", "<secret>")`, `SK…:<secret>`.
        Rule::own(
            "twilio-api-secret",
            &["sk"],
            r#"\bSK[0-9a-fA-F]{32}["']?[ \t]*[,:][ \t]*["']?([A-Za-z0-9]{32})\b"#,
            group,
        ),
        Rule::own(
            "google-api-key",
            &["aiza"],
            r"\bAIza[0-9A-Za-z_\-]{35}",
            whole,
        ),
        Rule::own(
            "anthropic-api-key",
            &["sk-ant-"],
            r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
            whole,
        ),
        Rule::own(
            "openai-api-key",
            &["sk-"],
            r"\bsk-[A-Za-z0-9_\-]{20,}",
            api_key_after_prefix,
        ),
        Rule::own(
            "stripe-key",
            &["k_live_", "k_test_"],
            r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b",
            whole,
        ),
        Rule::own(
            "slack-token",
            &["xox"],
            r"\bxox[abeoprs]-[A-Za-z0-9\-]{10,}",
            whole,
        ),
        Rule::own(
            "github-token",
            &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
            r"\b(?:github_pat_[A-Za-z0-9_]{22,}|gh[opusr]_[A-Za-z0-9]{30,})",
            whole,
        ),
        Rule::own("npm-token", &["npm_"], r"\bnpm_[A-Za-z0-9]{36}\b", whole),
        // All three parts: the converted rule stops after the second.
        Rule::own(
            "jwt",
            &["eyj"],
            r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            whole,
        ),
        Rule::own(
            "authorization-header",
            &["authorization"],
            r#"(?i)\bauthorization["']?[ \t]*[:=][ \t]*["']?(?:basic|bearer|token)[ \t]+([A-Za-z0-9._~+/=\-]{8,})"#,
            group,
        ),
        // `scheme://user:password@host`: the password goes, user and host stay because they
        // help to recognise which service a memory talks about.
        Rule::own(
            "url-password",
            &["://"],
            r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]+:([^@/\s]+)@",
            group,
        ),
        Rule::own(
            "password",
            &["-p", "--pass", "--pwd"],
            r#"(?:^|[\s;|&(])(-p|--password|--passwd|--pass|--pwd|--db-password|--admin-password)(?:=|[ \t]+)(?:"([^"\s]+)"|'([^'\s]+)'|([^\s"'`;|&)]+))"#,
            flag_value,
        ),
        Rule::own(
            "password",
            &["-p"],
            r"(?:^|\s)-p([^\s\x22'`;|&)-][^\s\x22'`;|&)]{3,})",
            glued_mysql_password,
        ),
        Rule::own(
            "secret",
            &[
                "--token",
                "--api",
                "--auth",
                "--access",
                "--secret",
                "--client-secret",
                "--private-key",
                "--aws-secret",
            ],
            r#"(?:^|[\s;|&(])(--token|--api-key|--apikey|--api-token|--auth-token|--access-token|--secret|--client-secret|--secret-key|--access-key|--secret-access-key|--aws-secret-access-key|--private-key)(?:=|[ \t]+)(?:"([^"\s]+)"|'([^'\s]+)'|([^\s"'`;|&)]+))"#,
            flag_value,
        ),
        Rule::own(
            "password",
            &["login"],
            r#"\becho[ \t]+["']?([^\s"'|]+)["']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:docker|podman|nerdctl|helm|oras|crane|buildah|skopeo)\b[^\n|]*\blogin\b"#,
            piped_password,
        ),
        Rule::own(
            "password",
            &["password", "passwd", "passphrase", "passcode", "pwd"],
            &assignment(PASSWORD_WORDS),
            assigned_value,
        ),
        Rule::own(
            "secret",
            &["secret", "token", "key", "credential"],
            &assignment(SECRET_WORDS),
            assigned_value,
        ),
        Rule::own(
            "password",
            &["password", "passwd", "passphrase", "passcode"],
            &statement("password|passwd|passphrase|passcode"),
            stated_value,
        ),
        Rule::own(
            "secret",
            &["secret", "token", "api key", "access key", "credential"],
            &statement("secret|token|api key|access key|credentials?"),
            stated_value,
        ),
    ];
    rules
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("tacit's own secret detector: {e}")))
        .collect()
}
