//! Secret detection: every entry passes through here before it reaches the store.
//!
//! Memories are built from config files, CI scripts, commit messages and chat transcripts,
//! any of which can hold a credential. Each detector replaces what it finds with
//! `[REDACTED:<kind>]`, so the surrounding sentence still reads and the user can see that
//! something was removed. Detectors aim at shapes that are secrets with high probability:
//! ordinary prose ("token budget"), type annotations (`api_key: String`) and git hashes
//! must pass unchanged, or memories would fill with noise.

use std::path::Path;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::memory::Entry;

/// Text with its secrets replaced, and the kind of each secret that was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub text: String,
    pub found: Vec<&'static str>,
}

/// A secret shape whose whole match is replaced.
struct TokenPattern {
    kind: &'static str,
    regex: Regex,
    /// A second look at the match, for shapes a regex alone would over-match.
    accept: fn(&str) -> bool,
}

fn always(_: &str) -> bool {
    true
}

/// OpenAI-style keys share the `sk-` prefix with ordinary hyphenated words, so the part after
/// the prefix must be long and look random: letters and digits mixed.
fn looks_like_api_key(matched: &str) -> bool {
    let body = matched.trim_start_matches("sk-");
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let letters = body.chars().filter(char::is_ascii_alphabetic).count();
    body.len() >= 32 && digits >= 2 && letters >= 8
}

fn regex(pattern: &str) -> Regex {
    // The patterns are literals in this file; a typo is caught by the unit tests, which
    // touch every one of them.
    Regex::new(pattern).unwrap_or_else(|err| panic!("invalid built-in pattern {pattern}: {err}"))
}

/// Ordered: private key blocks first (they contain base64 that other detectors would bite
/// into), then prefixed tokens, whose kinds are the most precise.
static TOKEN_PATTERNS: LazyLock<Vec<TokenPattern>> = LazyLock::new(|| {
    let token = |kind, pattern: &str| TokenPattern {
        kind,
        regex: regex(pattern),
        accept: always,
    };
    vec![
        token(
            "private-key",
            r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*$)",
        ),
        token("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        token(
            "github-token",
            r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,}\b",
        ),
        token("github-token", r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
        token("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
        token("slack-token", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"),
        token(
            "slack-webhook",
            r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}",
        ),
        token(
            "stripe-key",
            r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
        ),
        token("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
        token("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        token("pypi-token", r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"),
        token(
            "sendgrid-key",
            r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b",
        ),
        token("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
        TokenPattern {
            kind: "openai-key",
            regex: regex(r"\bsk-[A-Za-z0-9_\-]{20,}"),
            accept: looks_like_api_key,
        },
        token(
            "jwt",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        ),
    ]
});

/// `scheme://user:password@host`: the password goes, user and host stay because they help
/// to recognise which service a memory talks about.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]+:)([^@/\s]+)@"));

/// The AWS secret key has no prefix of its own; it is recognised by the name beside it.
static AWS_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"(?i)(\baws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{40})\b"#)
});

/// `password = "…"`, `API_KEY: …`, `"client_secret": "…"`. The name must end with the
/// sensitive word, so `token_budget` or `secret_detection` never match.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?i)(\b[A-Za-z0-9_.\-]*(password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|client[_\-]?secret|secret[_\-]?key)["']?\s*(?::=|=>|=|:)[ \t]*)(?:"([^"\s]{8,})"|'([^'\s]{8,})'|([^\s"',;]{8,}))"#,
    )
});

/// Values that are obviously not real credentials: documentation and template stand-ins.
fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let first = lower.chars().next().unwrap_or('x');
    lower.starts_with("[redacted")
        || lower.starts_with('<')
        || lower.starts_with("${")
        || lower.starts_with("{{")
        || lower.starts_with('$')
        || lower.starts_with("%(")
        || lower.starts_with("your-")
        || lower.starts_with("your_")
        || lower.starts_with("changeme")
        || lower.starts_with("change-me")
        || lower.starts_with("change_me")
        || lower.contains("example")
        || lower.contains("placeholder")
        || lower.contains("dummy")
        || lower.contains("...")
        || lower.chars().all(|c| c == first)
        || lower
            .chars()
            .all(|c| c == 'x' || c == '*' || c == '-' || c == '_')
        || matches!(lower.as_str(), "password" | "secret" | "undefined" | "none")
}

/// An unquoted value is more likely code (`Option<String>`, `self.token`, `env::var(..)`)
/// than a secret; it counts only when it looks like one: letters and digits, no code syntax.
fn unquoted_value_looks_secret(value: &str) -> bool {
    let code_syntax = ['<', '>', '(', ')', '[', ']', '{', '}', '&', '|'];
    if value.contains(code_syntax) || value.contains("::") {
        return false;
    }
    let has_digit = value.chars().any(|c| c.is_ascii_digit());
    let has_letter = value.chars().any(|c| c.is_ascii_alphabetic());
    has_digit && has_letter
}

/// Replaces every secret in `text` with `[REDACTED:<kind>]`.
pub fn redact_text(text: &str) -> Redaction {
    let mut found: Vec<&'static str> = Vec::new();
    let mut current = text.to_string();

    for pattern in TOKEN_PATTERNS.iter() {
        if !pattern.regex.is_match(&current) {
            continue;
        }
        let replaced = pattern.regex.replace_all(&current, |caps: &Captures| {
            let matched = &caps[0];
            if (pattern.accept)(matched) {
                found.push(pattern.kind);
                format!("[REDACTED:{}]", pattern.kind)
            } else {
                matched.to_string()
            }
        });
        current = replaced.into_owned();
    }

    let replaced = URL_PASSWORD.replace_all(&current, |caps: &Captures| {
        let password = &caps[2];
        if is_placeholder(password) || password.eq_ignore_ascii_case("pass") {
            caps[0].to_string()
        } else {
            found.push("url-password");
            format!("{}[REDACTED:url-password]@", &caps[1])
        }
    });
    current = replaced.into_owned();

    let replaced = AWS_SECRET.replace_all(&current, |caps: &Captures| {
        found.push("aws-secret-key");
        format!("{}[REDACTED:aws-secret-key]", &caps[1])
    });
    current = replaced.into_owned();

    let replaced = ASSIGNMENT.replace_all(&current, |caps: &Captures| {
        let (value, quote) = if let Some(v) = caps.get(3) {
            (v.as_str(), "\"")
        } else if let Some(v) = caps.get(4) {
            (v.as_str(), "'")
        } else if let Some(v) = caps.get(5) {
            (v.as_str(), "")
        } else {
            return caps[0].to_string();
        };
        let secret =
            !is_placeholder(value) && (!quote.is_empty() || unquoted_value_looks_secret(value));
        if !secret {
            return caps[0].to_string();
        }
        let word = caps[2].to_ascii_lowercase();
        let kind = if word.starts_with("pass") || word == "pwd" {
            "password"
        } else {
            "secret"
        };
        found.push(kind);
        format!("{}{quote}[REDACTED:{kind}]{quote}", &caps[1])
    });
    current = replaced.into_owned();

    Redaction {
        text: current,
        found,
    }
}

/// Redacts `text` in place and returns how many secrets it held.
fn redact_in_place(text: &mut String) -> usize {
    let redaction = redact_text(text);
    if !redaction.found.is_empty() {
        *text = redaction.text;
    }
    redaction.found.len()
}

/// Redacts every free-text field of an entry: text, value, trigger, examples, tags, paths
/// and the steps' sentences and commands. Returns the number of secrets removed.
pub fn redact_entry(entry: &mut Entry) -> usize {
    let mut count = redact_in_place(&mut entry.text);
    for field in [&mut entry.value, &mut entry.trigger].into_iter().flatten() {
        count += redact_in_place(field);
    }
    for text in entry
        .examples
        .iter_mut()
        .chain(entry.tags.iter_mut())
        .chain(entry.paths.iter_mut())
    {
        count += redact_in_place(text);
    }
    for step in &mut entry.steps {
        count += redact_in_place(&mut step.text);
        if let Some(command) = &mut step.command {
            count += redact_in_place(command);
        }
    }
    if count > 0 {
        tracing::debug!(id = %entry.id, count, "redacted secrets from entry");
    }
    count
}

/// Whether a file is one whose contents should never be read into memories at all:
/// environment files, keys and certificates, credential stores.
pub fn is_secret_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();

    if name == ".env" || name == ".envrc" || name.ends_with(".env") {
        return true;
    }
    if let Some(suffix) = name.strip_prefix(".env.") {
        // Templates are committed on purpose so that people know which variables to set.
        let templates = ["example", "sample", "template", "dist", "defaults"];
        return !suffix.split('.').any(|part| templates.contains(&part));
    }
    if name.starts_with("id_rsa")
        || name.starts_with("id_dsa")
        || name.starts_with("id_ecdsa")
        || name.starts_with("id_ed25519")
    {
        return !name.ends_with(".pub");
    }
    let exact = [
        ".npmrc",
        ".pypirc",
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".htpasswd",
        ".pgpass",
        ".dockercfg",
        "credentials",
        "credentials.json",
        "credentials.yml",
        "credentials.yaml",
        "secrets.json",
        "secrets.yml",
        "secrets.yaml",
        "secrets.toml",
        "terraform.tfvars",
    ];
    if exact.contains(&name.as_str()) {
        return true;
    }
    if name.starts_with("client_secret") && name.ends_with(".json") {
        return true;
    }
    let extensions = [
        "pem", "key", "p12", "pfx", "jks", "keystore", "ppk", "kdbx", "tfstate",
    ];
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Layer, Source, Step};

    fn redacts(input: &str, kind: &str, secret: &str) {
        let r = redact_text(input);
        assert!(
            r.found.contains(&kind),
            "expected {kind} in {input:?}, found {:?} -> {:?}",
            r.found,
            r.text
        );
        assert!(!r.text.contains(secret), "{secret} left in {:?}", r.text);
        assert!(
            r.text.contains(&format!("[REDACTED:{kind}]")),
            "{:?}",
            r.text
        );
    }

    #[test]
    fn each_secret_kind_is_removed() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890abcdef\n-----END RSA PRIVATE KEY-----";
        redacts(
            &format!("key:\n{pem}\ndone"),
            "private-key",
            "MIIEpAIBAAKCAQEA",
        );
        redacts(
            "id AKIAIOSFODNN7EXAMPLE here",
            "aws-access-key",
            "AKIAIOSFODNN7EXAMPLE",
        );
        redacts(
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws-secret-key",
            "wJalrXUtnFEMI",
        );
        redacts(
            "export GH=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "github-token",
            "ghp_abcdef",
        );
        redacts(
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "github-token",
            "github_pat_11",
        );
        redacts("glpat-abcdefghij0123456789", "gitlab-token", "glpat-abc");
        redacts("xoxb-123456789012-abcdefghij", "slack-token", "xoxb-1234");
        redacts("sk_live_abcdefghijklmnop1234", "stripe-key", "sk_live_abc");
        redacts(
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "google-api-key",
            "AIzaSyA123",
        );
        redacts(
            "OPENAI=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78",
            "openai-key",
            "Ab12Cd34",
        );
        redacts(
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
            "anthropic-key",
            "api03-abc",
        );
        redacts(
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.SflKxwRJSMeKKF2QT4fwpM",
            "jwt",
            "eyJhbGciOiJIUzI1NiJ9",
        );
        redacts("password = \"hunter2hunter2\"", "password", "hunter2");
        redacts("DB_PASSWORD: s3cr3tPassw0rd", "password", "s3cr3t");
        redacts(
            "{\"client_secret\": \"0a1b2c3d4e5f6g7h\"}",
            "secret",
            "0a1b2c3d",
        );
        redacts("API_KEY=abc123def456ghi", "secret", "abc123def");
    }

    #[test]
    fn url_passwords_keep_user_and_host() {
        let r = redact_text("DATABASE_URL=postgres://admin:Sup3rS3cret@db.internal:5432/app");
        assert_eq!(
            r.text,
            "DATABASE_URL=postgres://admin:[REDACTED:url-password]@db.internal:5432/app"
        );
        assert_eq!(r.found, vec!["url-password"]);
    }

    #[test]
    fn ordinary_text_passes_unchanged() {
        let ordinary = [
            "Keep the token budget under 2000 tokens.",
            "The secret detection module runs before the store.",
            "pub struct Config { api_key: String, token: Option<String> }",
            "fn connect(password: &str, api_key: Option<String>) {}",
            "let token = self.next_token();",
            "Fixed in commit 3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a.",
            "password = \"changeme\"",
            "api_key: ${{ secrets.API_KEY }}",
            "token: <your-token-here>",
            "secret_key = \"your-secret-key\"",
            "Use the task-management-service-v2 endpoint.",
            "postgres://user:${DB_PASSWORD}@localhost/db",
            "Run `cargo clippy --all-targets -- -D warnings`.",
            "max_tokens = 100000",
        ];
        for text in ordinary {
            let r = redact_text(text);
            assert_eq!(r.text, text, "changed: found {:?}", r.found);
            assert!(r.found.is_empty());
        }
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let once = redact_text("token = \"abcd1234efgh5678\"");
        let twice = redact_text(&once.text);
        assert_eq!(once.text, twice.text);
        assert!(twice.found.is_empty());
    }

    #[test]
    fn entries_are_redacted_in_every_text_field() {
        let mut entry = Entry::extracted(
            "repo:x",
            Layer::Procedure,
            Source::Config,
            "procedure.ci.deploy.push",
            None,
            "push",
            "Deploy with ghp_abcdefghijklmnopqrstuvwxyz0123456789.",
        );
        entry.steps = vec![Step {
            text: "Log in".into(),
            command: Some("docker login -p glpat-abcdefghij0123456789".into()),
        }];
        entry.examples = vec!["deploy.sh:3".into()];
        assert_eq!(redact_entry(&mut entry), 2);
        assert!(entry.text.contains("[REDACTED:github-token]"));
        assert_eq!(
            entry.steps[0].command.as_deref(),
            Some("docker login -p [REDACTED:gitlab-token]")
        );
        assert_eq!(entry.examples, vec!["deploy.sh:3"]);
    }

    #[test]
    fn secret_files_are_recognised_and_templates_are_not() {
        for secret in [
            ".env",
            ".env.local",
            "config/.env.production",
            "server.pem",
            "tls/private.key",
            "id_rsa",
            "id_ed25519",
            ".npmrc",
            ".pypirc",
            ".netrc",
            ".aws/credentials",
            "cert.p12",
            "cert.pfx",
        ] {
            assert!(is_secret_file(Path::new(secret)), "{secret}");
        }
        for ordinary in [
            ".env.example",
            ".env.sample",
            ".env.template",
            "id_rsa.pub",
            "Cargo.toml",
            "src/env.rs",
            "keys.rs",
        ] {
            assert!(!is_secret_file(Path::new(ordinary)), "{ordinary}");
        }
    }
}
