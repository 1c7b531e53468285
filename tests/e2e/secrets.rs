//! Planted secrets never come back: over 30 kinds of fake credentials in code, config, CI,
//! a Makefile, a justfile, package scripts, commit subjects and bodies, branch names,
//! remembered and updated text, tags, pins, an extracted transcript and an imported entry.
//! After indexing and every command, no planted value may appear in any LSP message, in
//! `tacit.export`, in the server's log or in any file under the store directory; the
//! entries that held them must still be stored, with `[REDACTED:<rule>]` in their place.
//!
//! The secrets are generated from a fixed seed (no secret-looking literal is committed) and
//! shaped like the real ones, so that it is the real rules that catch them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::{bytes_found, fixture, git, start};

#[path = "../shared/fake_secrets.rs"]
mod fake_secrets;
use fake_secrets::Fake;

/// Every planted secret by the name its templates use.
fn planted() -> BTreeMap<&'static str, String> {
    let mut f = Fake(0x5ec2_e75e_ed00_7ac1);
    let mut s = BTreeMap::new();
    s.insert("AWS_KEY_ID", format!("AKIA{}", f.upper(16)));
    s.insert("AWS_KEY_ID_OLD", format!("AKIA{}", f.upper(16)));
    s.insert("AWS_SECRET", f.base64(40));
    s.insert("DOCKER_PASSWORD", f.alnum(16));
    s.insert("DOCKER_PASSWORD_2", f.alnum(18));
    s.insert(
        "SLACK_BOT",
        format!("xoxb-{}-{}-{}", f.digits(12), f.digits(13), f.alnum(24)),
    );
    s.insert("AZURE_KEY", format!("{}==", f.base64(86)));
    s.insert("TWILIO_KEY", format!("SK{}", f.hex(32)));
    s.insert("TWILIO_SECRET", f.alnum(32));
    s.insert("MAILGUN", format!("key-{}", f.hex(32)));
    s.insert("PROSE_PASSWORD", format!("Tr{}#4", f.alnum(9)));
    s.insert("COLON_PASSWORD", format!("{}%{}", f.alnum(7), f.alnum(5)));
    s.insert("GITHUB_PAT", format!("ghp_{}", f.alnum(36)));
    s.insert(
        "GITHUB_FINE",
        format!("github_pat_{}_{}", f.alnum(22), f.alnum(59)),
    );
    s.insert("GITLAB", format!("glpat-{}", f.alnum(20)));
    s.insert("GITLAB_BRANCH", format!("glpat-{}", f.alnum(20)));
    s.insert("STRIPE", format!("sk_live_{}", f.alnum(24)));
    s.insert("GOOGLE", format!("AIza{}", f.alnum(35)));
    s.insert("OPENAI", format!("sk-proj-{}", f.alnum(40)));
    s.insert("ANTHROPIC", format!("sk-ant-api03-{}", f.alnum(40)));
    s.insert("NPM", format!("npm_{}", f.alnum(36)));
    s.insert(
        "JWT",
        format!(
            "eyJ{}.eyJ{}.{}",
            f.base64url(20),
            f.base64url(30),
            f.base64url(43)
        ),
    );
    s.insert(
        "SENDGRID",
        format!("SG.{}.{}", f.base64url(22), f.base64url(43)),
    );
    s.insert("PRIVATE_KEY", f.base64(64));
    s.insert("URL_PASSWORD", f.alnum(16));
    s.insert("MYSQL_PASSWORD", f.alnum(12));
    s.insert("PG_PASSWORD", f.alnum(14));
    s.insert("DEPLOY_TOKEN", f.alnum(24));
    s.insert("BEARER", f.alnum(32));
    s.insert("GHCR_PASSWORD", f.alnum(14));
    s.insert("CLIENT_SECRET", f.alnum(20));
    s.insert("CLIENT_SECRET_2", f.alnum(20));
    s.insert("DB_PASSWORD", f.alnum(12));
    s.insert(
        "DISCORD",
        format!("M{}.{}.{}", f.alnum(23), f.alnum(6), f.alnum(27)),
    );
    s.insert("TELEGRAM", format!("{}:{}", f.digits(9), f.alnum(35)));
    s.insert("MAILCHIMP", format!("{}-us12", f.hex(32)));
    s.insert("SQUARE", format!("sq0csp-{}", f.alnum(43)));
    s.insert("PYPI", format!("pypi-AgEIcHlwaS5vcmc{}", f.base64url(70)));
    s.insert(
        "SLACK_WEBHOOK",
        format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            f.upper(8),
            f.upper(8),
            f.alnum(24)
        ),
    );
    s.insert("ENV_ONLY", format!("sk-proj-{}", f.alnum(40)));
    s
}

/// `{{NAME}}` replaced by the planted secret of that name.
fn fill(template: &str, secrets: &BTreeMap<&'static str, String>) -> String {
    let mut out = template.to_string();
    for (name, value) in secrets {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(!out.contains("{{"), "a placeholder without a secret: {out}");
    out
}

/// The fixture's templates, filled in, as files under `to`.
fn fill_dir(from: &Path, to: &Path, secrets: &BTreeMap<&'static str, String>) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fill_dir(&entry.path(), &target, secrets);
        } else if entry.file_name() != "README.md" {
            let template = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&target, fill(&template, secrets)).unwrap();
        }
    }
}

/// The fixture as a repository whose history carries secrets in commit subjects and bodies
/// and in branch names, checked out on a branch whose name is one.
fn secrets_repo(tmp: &Path, secrets: &BTreeMap<&'static str, String>) -> std::path::PathBuf {
    let root = tmp.join("secrets");
    fill_dir(&fixture("secrets"), &root, secrets);
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "feat: initial import"]);

    std::fs::write(root.join("ROTATION.md"), "Tokens rotate monthly.\n").unwrap();
    git(&root, &["add", "-A"]);
    let subject = fill(
        "Periwinkle albatross: rotate the Slack bot token {{SLACK_BOT}}",
        secrets,
    );
    let body = fill(
        "The old AWS key was {{AWS_KEY_ID_OLD}}; the new one is in the vault.",
        secrets,
    );
    git(&root, &["commit", "-qm", &subject, "-m", &body]);

    std::fs::write(root.join("ALERTS.md"), "Alerts go to Telegram.\n").unwrap();
    git(&root, &["add", "-A"]);
    git(
        &root,
        &[
            "commit",
            "-qm",
            &fill("fix: alerts post with bot {{TELEGRAM}}", secrets),
        ],
    );

    let hotfix = fill("hotfix/{{GITHUB_PAT}}", secrets);
    git(&root, &["checkout", "-qb", &hotfix]);
    std::fs::write(root.join("HOTFIX.md"), "Hotfix notes.\n").unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "fix: hotfix notes"]);
    git(&root, &["checkout", "-q", "main"]);
    git(&root, &["merge", "-q", "--no-ff", "--no-edit", &hotfix]);
    git(
        &root,
        &[
            "checkout",
            "-qb",
            &fill("release/{{GITLAB_BRANCH}}", secrets),
        ],
    );
    root.canonicalize().unwrap()
}

/// An entry to import, with a secret in every kind of field.
fn imported_entry(scope: &str, secrets: &BTreeMap<&'static str, String>) -> Value {
    json!({
        "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "scope": scope,
        "layer": "procedure",
        "text": fill("Call the billing API with the token {{JWT}}.", secrets),
        "importance": 0.5,
        "confidence": 0.9,
        "createdAt": 1_700_000_000_000_i64,
        "updatedAt": 1_700_000_000_000_i64,
        "source": "user",
        "status": "active",
        "tags": ["billing", secrets["MAILCHIMP"]],
        "key": "ops.billing",
        "value": secrets["SQUARE"],
        "trigger": "before a release",
        "steps": [{
            "text": "Send the invoice mail",
            "command": fill("curl -H 'Authorization: Bearer {{SENDGRID}}' https://mail.internal", secrets)
        }],
        "history": [{"at": 1, "action": "created", "detail": fill("imported with {{SENDGRID}}", secrets)}]
    })
}

#[test]
fn planted_secrets_never_leave_redaction() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let secrets = planted();
    assert!(secrets.len() >= 30, "{} kinds", secrets.len());
    let root = secrets_repo(tmp, &secrets);
    let store = tmp.join("store");
    let mut server = start(tmp, "store");

    // Every message the server sends back is kept, to be searched at the end.
    let mut responses: Vec<Value> = vec![server.initialize(&root, json!({}))];
    server.wait_indexed(0);
    let mut ok = |server: &mut crate::client::Server, command: &str, argument: Value| {
        let result = server.ok(command, argument);
        responses.push(result.clone());
        result
    };

    let status = ok(&mut server, "tacit.status", json!({}));
    let scope = status["workspaces"][0]["scope"]
        .as_str()
        .unwrap()
        .to_string();
    let report = &status["lastIndex"][0];
    assert!(
        report["written"]["redacted"].as_u64().unwrap_or(0) > 0,
        "the index report counts redactions: {report:#}"
    );
    assert!(
        report["history"]["redacted"].as_u64().unwrap_or(0) > 0,
        "commit subjects and branch names were redacted: {:#}",
        report["history"]
    );

    let remembered = ok(
        &mut server,
        "tacit.remember",
        json!({
            "text": fill("Periwinkle albatross: the staging admin password is {{PROSE_PASSWORD}}.", &secrets),
            "tags": ["deploy", secrets["OPENAI"]],
        }),
    );
    assert!(
        remembered["redacted"].as_u64().unwrap() >= 2,
        "{remembered}"
    );
    let remembered_id = remembered["entry"]["id"].as_str().unwrap().to_string();
    ok(
        &mut server,
        "tacit.remember",
        json!({"text": fill(
            "Lavender heron deploy key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{{PRIVATE_KEY}}\n-----END OPENSSH PRIVATE KEY-----",
            &secrets,
        )}),
    );
    let extracted = ok(
        &mut server,
        "tacit.extract",
        json!({"text": fill(
            "user: Never paste the Anthropic key {{ANTHROPIC}} into chat.\n\
             assistant: Noted.\n\
             user: Always run `docker login -u ci -p {{DOCKER_PASSWORD_2}}` before pushing images.\n\
             user: We always use the staging admin password: {{COLON_PASSWORD}} for smoke tests.",
            &secrets,
        )}),
    );
    assert!(
        extracted["entries"].as_array().map_or(0, Vec::len) >= 2,
        "statements with secrets are stored, redacted: {extracted:#}"
    );
    let to_update = ok(
        &mut server,
        "tacit.remember",
        json!({"text": "Coral finch: the OAuth client is registered in the console."}),
    );
    ok(
        &mut server,
        "tacit.update",
        json!({
            "id": to_update["entry"]["id"],
            "text": fill("Coral finch: the OAuth client uses client_secret = \"{{CLIENT_SECRET_2}}\".", &secrets),
        }),
    );
    ok(
        &mut server,
        "tacit.pin",
        json!({"text": fill("Alerts go to the bot {{TELEGRAM}}.", &secrets)}),
    );
    let jsonl = serde_json::to_string(&imported_entry(&scope, &secrets)).unwrap();
    let imported = ok(&mut server, "tacit.import", json!({"jsonl": jsonl}));
    assert_eq!(imported["imported"], 1, "{imported}");

    // Reading everything back.
    for query in ["staging admin password", "deploy key", "billing API token"] {
        ok(&mut server, "tacit.recall", json!({"query": query}));
        ok(
            &mut server,
            "tacit.assembleContext",
            json!({"query": query}),
        );
    }
    ok(&mut server, "tacit.list", json!({}));
    let kept = ok(&mut server, "tacit.get", json!({"id": remembered_id}));
    let billing = ok(
        &mut server,
        "tacit.get",
        json!({"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}),
    );
    ok(&mut server, "tacit.status", json!({}));
    let export = ok(&mut server, "tacit.export", json!({}));
    let jsonl = export["jsonl"].as_str().unwrap().to_string();
    let notifications = serde_json::to_string(&server.notifications).unwrap();
    let stderr_path = server.stderr_path.clone();
    server.shutdown();
    let log = std::fs::read_to_string(&stderr_path).unwrap();
    let responses = serde_json::to_string(&responses).unwrap();

    // Controls: the searches see what was stored, and entries with secrets were kept.
    assert_eq!(
        kept["text"],
        "Periwinkle albatross: the staging admin password is [REDACTED:password]."
    );
    assert_eq!(
        billing["text"],
        "Call the billing API with the token [REDACTED:jwt]."
    );
    assert!(jsonl.contains("Periwinkle albatross"), "control: export");
    assert!(
        jsonl.contains("Lavender heron deploy key"),
        "control: export"
    );
    assert!(jsonl.contains("Coral finch: the OAuth client uses client_secret"));
    assert!(
        responses.contains("Periwinkle albatross"),
        "control: responses"
    );
    assert!(
        bytes_found(&store, "Periwinkle albatross: the staging admin password"),
        "control: the byte search sees stored text"
    );
    assert!(
        bytes_found(
            &store.join("history"),
            "Periwinkle albatross: rotate the Slack bot token [REDACTED:slack-token]"
        ),
        "the commit subject is kept, redacted, in the history state"
    );
    assert!(log.contains("redacted"), "control: the log is the server's");

    let mut leaks = Vec::new();
    for (name, value) in &secrets {
        for (place, found) in [
            ("an LSP response", responses.contains(value.as_str())),
            (
                "an LSP notification",
                notifications.contains(value.as_str()),
            ),
            ("the export", jsonl.contains(value.as_str())),
            ("the server log", log.contains(value.as_str())),
            ("a file under the store", bytes_found(&store, value)),
        ] {
            if found {
                leaks.push(format!("{name} in {place}"));
            }
        }
    }
    assert!(leaks.is_empty(), "planted secrets leaked: {leaks:#?}");
}
