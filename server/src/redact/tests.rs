use super::rules::{RuleFile, RuleSet};
use super::*;
use crate::memory::{Layer, Source, Step};

#[path = "../../../tests/shared/fake_secrets.rs"]
mod fake_secrets;
use fake_secrets::Fake;

/// (text, rule expected to name it, the secret that must go).
fn samples() -> Vec<(String, &'static str, String)> {
    let mut f = Fake(0x7ac1_7000_5ec2_e75d);
    let mut out = Vec::new();
    let mut add = |text: String, rule: &'static str, secret: String| {
        assert!(text.contains(&secret), "{text} lacks {secret}");
        out.push((text, rule, secret));
    };
    let body = f.base64(64);
    add(
        format!(
            "key:\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\ndone"
        ),
        "private-key",
        body,
    );
    let body = f.base64(48);
    add(
        format!("pasted: -----BEGIN OPENSSH PRIVATE KEY-----\n{body}"),
        "private-key",
        body,
    );
    let s = format!("AKIA{}", f.upper(16));
    add(format!("id {s} here"), "aws-access-key-id", s);
    let s = f.base64(40);
    add(
        format!("      - run: aws configure set aws_secret_access_key {s}"),
        "aws-secret-access-key",
        s,
    );
    let s = f.base64(40);
    add(
        format!("run: AWS_SECRET_ACCESS_KEY={s} ./deploy.sh"),
        "aws-secret-access-key",
        s,
    );
    let s = format!("ghp_{}", f.alnum(36));
    add(format!("export GH={s}"), "github-token", s);
    let s = format!("github_pat_{}_{}", f.alnum(22), f.alnum(59));
    add(format!("token {s}"), "github-token", s);
    let s = format!("glpat-{}", f.alnum(20));
    add(format!("CI uses {s} to push"), "gitlab-token", s);
    let s = format!("xoxb-{}-{}-{}", f.digits(12), f.digits(13), f.alnum(24));
    add(format!("Post to #deploys with {s}"), "slack-token", s);
    let s = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        f.upper(8),
        f.upper(8),
        f.alnum(24)
    );
    add(format!("webhook {s}"), "slack-webhook", s);
    let s = format!("sk_live_{}", f.alnum(24));
    add(format!("Stripe: {s}"), "stripe-live-key", s);
    let s = format!("AIza{}", f.alnum(35));
    add(format!("maps {s}"), "google-api-key", s);
    let s = format!("sk-proj-{}", f.alnum(40));
    add(format!("OPENAI={s}"), "openai-api-key", s);
    let s = format!("sk-ant-api03-{}", f.alnum(40));
    add(format!("claude {s}"), "anthropic-api-key", s);
    let s = format!("npm_{}", f.alnum(36));
    add(format!("publish with {s}"), "npm-token", s);
    let s = format!(
        "eyJ{}.eyJ{}.{}",
        f.base64url(20),
        f.base64url(30),
        f.base64url(43)
    );
    add(format!("Cookie: session={s}"), "jwt", s);
    let s = format!("SG.{}.{}", f.base64url(22), f.base64url(43));
    add(format!("mail via {s}"), "sendgrid-api-key", s);
    let s = format!("key-{}", f.hex(32));
    add(format!("mailgun.api_key: {s}"), "mailgun-api-key", s);
    let s = format!("SK{}", f.hex(32));
    add(format!("twilio {s}"), "twilio-api-key", s);
    let (key, secret) = (format!("SK{}", f.hex(32)), f.alnum(32));
    add(
        format!("client = Client(\"{key}\", \"{secret}\", account)"),
        "twilio-api-secret",
        secret,
    );
    let s = format!("{}==", f.base64(86));
    add(
        format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net"),
        "azure-storage-account-key",
        s,
    );
    let s = f.alnum(16);
    add(
        format!("DATABASE_URL=postgres://admin:{s}@db.internal:5432/app"),
        "basic-auth-url",
        s,
    );
    let s = format!("{}!{}", f.alnum(8), f.alnum(6));
    add(
        format!("amqp://deploy:{s}@mq.internal/vhost"),
        "url-password",
        s,
    );
    let s = f.alnum(16);
    add(
        format!("docker login -u ci -p {s} registry.internal"),
        "password",
        s,
    );
    let s = f.alnum(14);
    add(
        format!("echo '{s}' | docker login -u ci --password-stdin ghcr.io"),
        "password",
        s,
    );
    let s = f.alnum(12);
    add(format!("mysql -u root -p{s} app"), "password", s);
    let s = f.alnum(14);
    add(format!("psql --password={s} -h db"), "password", s);
    let s = f.alnum(24);
    add(format!("./deploy --token {s} --env prod"), "secret", s);
    let s = f.alnum(32);
    add(
        format!("curl -H 'Authorization: Bearer {s}' https://api.internal"),
        "authorization-header",
        s,
    );
    let s = f.alnum(12);
    add(format!("DB_PASSWORD: {s}"), "password", s);
    let s = f.alnum(16);
    add(format!("{{\"client_secret\": \"{s}\"}}"), "secret", s);
    let s = format!("Tr{}#4", f.alnum(8));
    add(format!("The staging admin password is {s}."), "password", s);
    let s = format!("{}%{}", f.alnum(6), f.alnum(5));
    add(format!("staging admin password: {s}"), "password", s);
    let s = format!("M{}.{}.{}", f.alnum(23), f.alnum(6), f.alnum(27));
    add(format!("bot {s}"), "discord-bot-token", s);
    let s = format!("{}:{}", f.digits(9), f.alnum(35));
    add(format!("telegram {s}"), "telegram-bot-token", s);
    let s = format!("{}-us12", f.hex(32));
    add(format!("mailchimp {s}"), "mailchimp-api-key", s);
    let s = format!("sq0csp-{}", f.alnum(43));
    add(format!("square {s}"), "square-oauth-secret", s);
    let s = format!("pypi-AgEIcHlwaS5vcmc{}", f.base64url(70));
    add(format!("twine upload -p {s}"), "pypi-token", s);
    out
}

fn assert_redacted(input: &str, rule: &str, secret: &str) {
    let r = redact_text(input);
    assert!(
        r.found.contains(&rule),
        "expected {rule} in {input:?}, found {:?} -> {:?}",
        r.found,
        r.text
    );
    assert!(!r.text.contains(secret), "{secret} left in {:?}", r.text);
    assert!(
        r.text.contains(&format!("[REDACTED:{rule}]")),
        "{:?}",
        r.text
    );
}

#[test]
fn each_secret_kind_is_removed_and_named_by_its_rule() {
    let samples = samples();
    assert!(samples.len() >= 30);
    for (text, rule, secret) in &samples {
        assert_redacted(text, rule, secret);
    }
}

#[test]
fn all_kinds_in_one_text_are_removed() {
    let samples = samples();
    let text: String = samples
        .iter()
        .map(|(t, _, _)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let r = redact_text(&text);
    for (_, _, secret) in &samples {
        assert!(!r.text.contains(secret.as_str()), "{secret} left");
    }
}

#[test]
fn redacting_twice_changes_nothing_more() {
    for (text, _, _) in samples() {
        let once = redact_text(&text);
        let twice = redact_text(&once.text);
        assert_eq!(once.text, twice.text);
        assert!(
            twice.found.is_empty(),
            "{:?} in {:?}",
            twice.found,
            once.text
        );
    }
}

#[test]
fn url_passwords_keep_user_and_host() {
    let mut f = Fake(11);
    let password = f.alnum(14);
    let r = redact_text(&format!(
        "DATABASE_URL=postgres://admin:{password}@db.internal:5432/app"
    ));
    assert_eq!(
        r.text,
        "DATABASE_URL=postgres://admin:[REDACTED:basic-auth-url]@db.internal:5432/app"
    );
    assert_eq!(r.found, vec!["basic-auth-url"]);
}

#[test]
fn prose_keeps_its_sentence() {
    let r = redact_text("The staging admin password is Hx7#kq2Lw9. Rotate it monthly.");
    assert_eq!(
        r.text,
        "The staging admin password is [REDACTED:password]. Rotate it monthly."
    );
}

#[test]
fn ordinary_text_passes_unchanged() {
    let ordinary = [
        "Keep the token budget under 2000 tokens.",
        "The secret detection module runs before the store.",
        "pub struct Config { api_key: String, token: Option<String> }",
        "fn connect(password: &str, api_key: Option<String>) {}",
        "struct Login { password: Option<&'a str>, secret: SecretString, token: Token }",
        "let token = self.next_token();",
        "Fixed in commit 3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a.",
        "HEAD is at 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "let id = Uuid::parse_str(\"550e8400-e29b-41d4-a716-446655440000\")?;",
        "const SESSION: &str = \"6ba7b810-9dad-11d1-80b4-00c04fd430c8\";",
        "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "password = \"changeme\"",
        "api_key: ${{ secrets.API_KEY }}",
        "export AWS_SECRET_ACCESS_KEY=${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        "token: <your-token-here>",
        "secret_key = \"your-secret-key\"",
        "password: ${DB_PASSWORD}",
        "Use the task-management-service-v2 endpoint.",
        "postgres://user:${DB_PASSWORD}@localhost/db",
        "git clone https://user@github.com/org/repo.git",
        "Run `cargo clippy --all-targets -- -D warnings`.",
        "cargo test -p tacit-e2e --test e2e secrets",
        "cargo build -p tacit --release && mkdir -p target/debug/deps",
        "ssh -p 2222 deploy@host",
        "echo \"$REGISTRY_TOKEN\" | docker login ghcr.io -u ci --password-stdin",
        "docker login -u ci -p \"$CI_REGISTRY_PASSWORD\" registry.gitlab.com",
        "./deploy --token \"$DEPLOY_TOKEN\"",
        "max_tokens = 100000",
        "The password is stored in Vault.",
        "The token is valid for one hour.",
        "The API key is in the team vault.",
        "SKIP_TESTS=1 make check",
        "Bump actions/checkout from 3 to 4 (#1234)",
        "keywords = [\"secret\", \"token\"]",
        "aws s3 sync ./dist s3://bucket --delete",
    ];
    for text in ordinary {
        let r = redact_text(text);
        assert_eq!(r.text, text, "changed: found {:?}", r.found);
        assert!(r.found.is_empty());
    }
}

#[test]
fn entries_are_redacted_in_every_text_field() {
    let mut f = Fake(42);
    let token = || format!("ghp_{}", Fake(7).alnum(36));
    let gitlab = format!("glpat-{}", f.alnum(20));
    let mut entry = Entry::extracted(
        "repo:x",
        Layer::Procedure,
        Source::Config,
        &format!("procedure.ci.{}", token()),
        Some("yaml"),
        &token(),
        format!("Deploy with {}.", token()),
    );
    entry.steps = vec![Step {
        text: format!("Log in with {}", token()),
        command: Some(format!("docker login -p {gitlab}")),
    }];
    entry.examples = vec!["deploy.sh:3".into(), token()];
    entry.tags = vec!["ci".into(), token()];
    entry.paths = vec![token()];
    entry.trigger = Some(token());
    entry.record("merged", Some(format!("said {}", token())));
    let count = redact_entry(&mut entry);
    let json = serde_json::to_string(&entry).unwrap_or_default();
    assert!(!json.contains(&token()), "{json}");
    assert!(!json.contains(&gitlab), "{json}");
    assert_eq!(count, 10);
    assert_eq!(
        entry.steps[0].command.as_deref(),
        Some("docker login -p [REDACTED:gitlab-token]")
    );
    assert_eq!(entry.examples[0], "deploy.sh:3");
}

#[test]
fn the_shipped_rule_file_compiles_and_holds_what_it_says() {
    let file: RuleFile = toml::from_str(RULE_FILE).expect("rules.toml parses");
    let table: toml::Table = toml::from_str(RULE_FILE).expect("rules.toml parses");
    let origin = &table["origin"];
    assert_eq!(file.rules.len(), file.origin.rules_kept);
    assert!(file.origin.rules_kept >= 40, "{}", file.origin.rules_kept);
    let in_source = origin["rules_in_source"].as_integer().unwrap_or(0) as usize;
    assert!(in_source >= file.origin.rules_kept);
    // Every rule left out is listed with its reason.
    let left_out = table["left_out"].as_array().map_or(0, Vec::len);
    assert_eq!(file.origin.rules_kept + left_out, in_source);
    assert_eq!(file.origin.licence, "Apache-2.0");
    let licence_text = origin["licence_text"].as_str().unwrap_or("");
    assert!(licence_text.contains("Apache License"), "{licence_text}");
    assert!(origin["repository"].as_str().is_some());
    assert!(origin["version"].as_str().is_some());
    // Every kept rule compiles (build fails on the first that does not), and so do
    // tacit's own.
    let kept = file.origin.rules_kept;
    let own = detectors::all();
    let own_count = own.len();
    let set = RuleSet::build(RULE_FILE, own).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.len(), kept + own_count);
}

#[test]
fn a_file_whose_count_disagrees_with_its_rules_is_refused() {
    let file = SEMANTICS.replace("rules_kept = 4", "rules_kept = 5");
    let err = RuleSet::build(&file, Vec::new())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("secret rules: the file says 5 rules were kept and holds 4")
    );
}

/// A rule set of its own, to show how rules are applied.
fn test_rules(file: &str) -> &'static RuleSet {
    let set = RuleSet::build(file, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
    Box::leak(Box::new(set))
}

const SEMANTICS: &str = r#"
[origin]
licence = "MIT"
licence_text = "test"
rules_in_source = 4
rules_kept = 4

[allowlist]
regexes = ['''^wk_TESTING''']
stopwords = ["fake"]

[[rules]]
id = "gated"
regex = '''\b[0-9]{6}\b'''
keywords = ["pin"]

[[rules]]
id = "widget-key"
regex = '''wk_[A-Za-z0-9]{16}'''
keywords = ["wk_"]
entropy = 3.0

[[rules]]
id = "grouped"
regex = '''(gr)_([a-z0-9]{12})'''
keywords = ["GR_"]
secret_group = 2
[[rules.allowlists]]
target = "line"
regexes = ['''# not a secret''']

[[rules]]
id = "both"
regex = '''bo_([a-z]{10})'''
keywords = ["bo_"]
[[rules.allowlists]]
condition = "and"
regexes = ['''^test''']
stopwords = ["only"]
"#;

fn found(set: &'static RuleSet, text: &str) -> Vec<String> {
    set.find(text)
        .into_iter()
        .map(|f| format!("{}:{}", f.rule, &text[f.span]))
        .collect()
}

#[test]
fn a_rule_runs_only_where_one_of_its_keywords_occurs() {
    let set = test_rules(SEMANTICS);
    assert!(found(set, "call 123456 now").is_empty());
    assert_eq!(found(set, "PIN 123456 now"), vec!["gated:123456"]);
}

#[test]
fn a_secret_at_or_below_the_entropy_threshold_is_not_one() {
    let set = test_rules(SEMANTICS);
    assert!(found(set, "wk_aaaabbbbaaaabbbb").is_empty());
    assert_eq!(
        found(set, "wk_Q8fK2mZ7xL4pR9tW"),
        vec!["widget-key:wk_Q8fK2mZ7xL4pR9tW"]
    );
}

#[test]
fn the_secret_group_is_what_is_redacted() {
    let set = test_rules(SEMANTICS);
    assert_eq!(
        found(set, "x gr_a1b2c3d4e5f6 y"),
        vec!["grouped:a1b2c3d4e5f6"]
    );
}

#[test]
fn allowlists_let_findings_through() {
    let set = test_rules(SEMANTICS);
    // The rule's allowlist, on the line.
    assert!(found(set, "gr_a1b2c3d4e5f6 # not a secret").is_empty());
    // The global allowlist: a regex on the secret, a stopword in it.
    assert!(found(set, "wk_TESTINGq8fK2mZ7x").is_empty());
    assert!(found(set, "wk_Q8fakeK2mZ7xL4p").is_empty());
    // An AND allowlist needs both its regex and a stopword.
    assert!(found(set, "bo_testonlyxx").is_empty());
    assert_eq!(found(set, "bo_testxxxxxx"), vec!["both:testxxxxxx"]);
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
