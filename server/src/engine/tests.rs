//! The engine's behaviour from Rust, without a client: learning, remembering, superseding,
//! decay, access counts and the context of the file in hand.

use super::*;
use crate::embed::Embedder;
use crate::memory::{Source, Status};

fn options(store: &Path, force_fallback: bool) -> EngineOptions {
    EngineOptions {
        store_uri: Some(store.to_string_lossy().into_owned()),
        model_dir: None,
        force_fallback,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_embedder_re_embeds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let text = "Database migrations live in db/migrations.";
    let id = {
        let engine = Engine::open(options(&store, true)).await.unwrap();
        assert!(engine.embedder_info().fallback);
        let r = engine
            .remember(RememberRequest {
                text: text.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        r.entry.id
    };
    let lexical = crate::embed::LexicalEmbedder
        .embed(&[text])
        .unwrap()
        .remove(0);

    // The real model is installed by scripts/fetch-model (CI runs it first).
    let engine = Engine::open(options(&store, false)).await.unwrap();
    assert!(
        !engine.embedder_info().fallback,
        "{:?}",
        engine.embedder_info()
    );
    let entry = engine.get(&id).await.unwrap();
    let expected = engine.context.embedder.embed(&[text]).unwrap().remove(0);
    assert!(crate::vector::cosine(&entry.vector, &expected) > 0.999);
    assert!(crate::vector::cosine(&entry.vector, &lexical) < 0.9);
    assert_eq!(
        engine.store.meta_get("embedder").await.unwrap().as_deref(),
        Some(crate::embed::MODEL_REPO)
    );
}

async fn fallback_engine(dir: &Path) -> Engine {
    let mut o = options(&dir.join("store"), true);
    o.frozen = true;
    Engine::open(o).await.unwrap()
}

async fn say(engine: &Engine, text: &str) -> RememberResult {
    engine
        .remember(RememberRequest {
            text: text.into(),
            ..Default::default()
        })
        .await
        .unwrap()
}

fn actions(e: &Entry) -> Vec<&str> {
    e.history.iter().map(|h| h.action.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_duplicate_merges_and_raises_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fallback_engine(dir.path()).await;
    let first = say(&engine, "Always use tracing for logs in library code.").await;
    let again = say(&engine, "always use tracing for the logs in library code").await;
    assert!(again.merged);
    assert_eq!(again.entry.id, first.entry.id);
    assert!(again.entry.confidence > first.entry.confidence);
    let stored = engine.get(&first.entry.id).await.unwrap();
    assert_eq!(actions(&stored), vec!["created", "merged"]);
    let active = engine
        .list(ListRequest {
            statuses: Some(vec![Status::Active]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opposite_statement_supersedes_and_restore_swaps_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fallback_engine(dir.path()).await;
    let old = say(&engine, "Always use tabs for indentation in Go files.").await;
    let new = say(&engine, "Never use tabs for indentation in Go files.").await;
    assert!(!new.merged, "a contradiction must not merge");
    assert_eq!(new.superseded, vec![old.entry.id.clone()]);

    let old_now = engine.get(&old.entry.id).await.unwrap();
    assert_eq!(old_now.status, Status::Superseded);
    assert_eq!(
        old_now.superseded_by.as_deref(),
        Some(new.entry.id.as_str())
    );
    let detail = old_now.history.last().and_then(|h| h.detail.clone());
    assert!(
        detail.is_some_and(|d| d.contains("contradicted by")),
        "{:?}",
        old_now.history
    );
    let context = engine
        .assemble_context(ContextRequest {
            query: Some("tabs for indentation in Go".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(context.assembled.markdown.contains("Never use tabs"));
    assert!(!context.assembled.markdown.contains("Always use tabs"));

    engine.restore(&old.entry.id).await.unwrap();
    assert_eq!(
        engine.get(&old.entry.id).await.unwrap().status,
        Status::Active
    );
    let retired = engine.get(&new.entry.id).await.unwrap();
    assert_eq!(retired.status, Status::Superseded);
    assert_eq!(actions(&retired), vec!["created", "superseded"]);
    assert_eq!(
        actions(&engine.get(&old.entry.id).await.unwrap()),
        vec!["created", "superseded", "restored"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_x_instead_of_y_supersedes_the_rule_that_chose_y() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fallback_engine(dir.path()).await;
    let npm = say(&engine, "We use npm to install the frontend packages.").await;
    let unrelated = say(&engine, "Money amounts are integers in cents.").await;
    let pnpm = say(
        &engine,
        "Use pnpm instead of npm for the frontend packages.",
    )
    .await;
    assert_eq!(pnpm.superseded, vec![npm.entry.id.clone()]);
    assert_eq!(
        engine.get(&unrelated.entry.id).await.unwrap().status,
        Status::Active
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_unimportant_entries_expire_hide_restore_and_purge_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let day = 86_400_000;
    let (stale_id, fresh_id) = {
        let engine = Engine::open(options(&store, true)).await.unwrap();
        let stale = say(
            &engine,
            "The legacy importer reads CSV files from /srv/drop.",
        )
        .await;
        let fresh = say(&engine, "The new importer reads JSON from the queue.").await;
        let mut old = engine.get(&stale.entry.id).await.unwrap();
        old.importance = 0.05;
        old.created_at = now_millis() - 300 * day;
        old.updated_at = now_millis() - 200 * day;
        old.last_accessed_at = now_millis() - 130 * day;
        engine.store.upsert(&[old]).await.unwrap();
        (stale.entry.id, fresh.entry.id)
    };
    // Decay runs when the store is opened.
    let engine = Engine::open(options(&store, true)).await.unwrap();
    let expired = engine.get(&stale_id).await.unwrap();
    assert_eq!(expired.status, Status::Expired);
    assert_eq!(actions(&expired).last(), Some(&"expired"));
    assert_eq!(engine.get(&fresh_id).await.unwrap().status, Status::Active);
    let context = engine
        .assemble_context(ContextRequest {
            query: Some("legacy importer CSV".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!context.assembled.markdown.contains("/srv/drop"));

    // Restorable; then expired again by hand and purged on request.
    engine.restore(&stale_id).await.unwrap();
    assert_eq!(engine.get(&stale_id).await.unwrap().status, Status::Active);
    let mut again = engine.get(&stale_id).await.unwrap();
    again.status = Status::Expired;
    engine.store.upsert(&[again]).await.unwrap();
    assert_eq!(
        engine.purge_expired().await.unwrap(),
        vec![stale_id.clone()]
    );
    assert!(matches!(
        engine.get(&stale_id).await,
        Err(EngineError::NotFound(_))
    ));
    assert_eq!(engine.get(&fresh_id).await.unwrap().status, Status::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_entries_count_an_access_that_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let id = {
        let engine = Engine::open(options(&store, true)).await.unwrap();
        let fact = say(&engine, "Release tags look like v1.2.3.").await;
        for _ in 0..3 {
            engine
                .assemble_context(ContextRequest {
                    query: Some("release tags".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        // Counted at once for scoring, before anything is written.
        assert_eq!(engine.get(&fact.entry.id).await.unwrap().access_count, 3);
        engine.flush().await;
        fact.entry.id
    };
    let engine = Engine::open(options(&store, true)).await.unwrap();
    let e = engine.get(&id).await.unwrap();
    assert_eq!(e.access_count, 3);
    assert!(e.last_accessed_at > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_in_hand_brings_its_co_change_procedure_with_or_without_a_query() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fallback_engine(dir.path()).await;
    let mut partner = Entry::extracted(
        "user",
        Layer::Procedure,
        Source::History,
        "cochange.src/schema.rs",
        None,
        "migrations/,docs/schema.md",
        "After editing `src/schema.rs`, also update `migrations/` and `docs/schema.md` (9 of 11 commits).",
    );
    partner.trigger = Some("after-editing:src/schema.rs".into());
    partner.paths = vec![
        "src/schema.rs".into(),
        "migrations/".into(),
        "docs/schema.md".into(),
    ];
    let mut other = partner.clone();
    other.id = "other-cochange".into();
    other.text = "After editing `web/app.tsx`, also update `web/app.css` (5 of 6 commits).".into();
    other.trigger = Some("after-editing:web/app.tsx".into());
    other.paths = vec!["web/app.tsx".into(), "web/app.css".into()];
    other.key = Some("cochange.web/app.tsx".into());
    engine
        .memories
        .indexer
        .write_extracted("user", vec![partner, other])
        .await
        .unwrap();
    say(&engine, "Functions are named in snake_case.").await;

    for query in [None, Some("how do we name functions?")] {
        let md = engine
            .assemble_context(ContextRequest {
                query: query.map(str::to_string),
                uri: Some("src/schema.rs".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .assembled
            .markdown;
        assert!(md.contains("also update `migrations/`"), "{query:?}: {md}");
        if query.is_some() {
            assert!(md.contains("snake_case"), "{md}");
            assert!(!md.contains("web/app.css"), "{md}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_fact_stored_before_it_rode_with_the_measured_one_is_superseded_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fallback_engine(dir.path()).await;
    let indexer = &engine.memories.indexer;
    let fact = |source, value: &str, text: &str| {
        let mut e = Entry::extracted(
            "user",
            Layer::Memory,
            source,
            "test.framework",
            Some("java"),
            value,
            text,
        );
        e.examples = vec!["pom.xml:40".into()];
        e
    };
    // What an older tacit stored: the configured fact and, apart, the measured one (the
    // two spell the value differently, so they are two rows).
    let configured = fact(Source::Config, "junit5", "Tests use junit5.");
    indexer
        .write_extracted("user", vec![configured.clone()])
        .await
        .unwrap();
    // Today's run takes the configured fact into the measured entry instead.
    let mut measured = fact(
        Source::Code,
        "JUnit 5",
        "Java tests use JUnit 5 (15 of 15 test files). Also stated in `pom.xml:40`.",
    );
    measured.evidence = Some(crate::memory::Evidence {
        matching: 15,
        total: 15,
    });
    assert_ne!(configured.id, measured.id);
    let report = indexer
        .write_extracted("user", vec![measured.clone()])
        .await
        .unwrap();
    assert_eq!(report.superseded, 1);
    let old = engine.get(&configured.id).await.unwrap();
    assert_eq!(old.status, Status::Superseded);
    assert_eq!(old.superseded_by.as_deref(), Some(measured.id.as_str()));
    assert_eq!(
        engine.get(&measured.id).await.unwrap().status,
        Status::Active
    );

    // A configured value the code does not show stays beside the measured one.
    let other = fact(Source::Config, "testng", "Tests use TestNG.");
    indexer
        .write_extracted("user", vec![other.clone()])
        .await
        .unwrap();
    let mut recounted = measured.clone();
    recounted.text = recounted.text.replace("15 of 15", "16 of 16");
    recounted.evidence = Some(crate::memory::Evidence {
        matching: 16,
        total: 16,
    });
    let report = indexer
        .write_extracted("user", vec![recounted])
        .await
        .unwrap();
    assert_eq!((report.written, report.superseded), (1, 0));
    assert_eq!(engine.get(&other.id).await.unwrap().status, Status::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assembled_markdown_is_the_same_for_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fallback_engine(dir.path()).await;
    for text in [
        "Log with the tracing macros; println! is not allowed in library code.",
        "Library crates define errors as thiserror enums.",
        "Money amounts are integers in cents.",
    ] {
        say(&engine, text).await;
    }
    engine
        .remember(RememberRequest {
            text: "Before committing, run `cargo fmt` and `cargo test`.".into(),
            layer: Some(Layer::Procedure),
            ..Default::default()
        })
        .await
        .unwrap();
    engine
        .pin(Some("Answer in English.".into()), None)
        .await
        .unwrap();
    let ask = || async {
        engine
            .assemble_context(ContextRequest {
                query: Some("how do we log and handle errors in library code?".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .assembled
            .markdown
    };
    let first = ask().await;
    assert_eq!(first, ask().await);
    assert_eq!(
        first,
        "# Project context — how do we log and handle errors in library code?\n\
         \n## Pinned\n\
         - Answer in English.\n\
         \n## Conventions\n\
         - Log with the tracing macros; println! is not allowed in library code.\n\
         - Library crates define errors as thiserror enums.\n"
    );
}

/// A workflow stated in a transcript becomes a procedure with its steps and trigger;
/// saying it again merges into it instead of adding a second copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extracted_workflow_becomes_one_procedure_with_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(options(&dir.path().join("store"), true))
        .await
        .unwrap();
    let said = "Before you commit, run `cargo fmt` and `cargo test`.";
    let first = engine.extract(said, None).await.unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    let stored = engine.get(&first[0].entry.id).await.unwrap();
    assert_eq!(stored.layer, Layer::Procedure);
    assert_eq!(stored.trigger.as_deref(), Some("before-commit"));
    let steps: Vec<&str> = stored.steps.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    let actions: Vec<&str> = stored.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["created"]);

    let again = engine.extract(said, None).await.unwrap();
    assert!(again[0].merged);
    assert_eq!(again[0].entry.id, stored.id);
    assert_eq!(again[0].entry.steps.len(), 2);
}

/// An engine with its own local store and `team` as its team store (a directory here: the
/// routing is the same as on object storage, which the end-to-end test covers).
async fn teammate(dir: &Path, name: &str, team: &Path) -> Engine {
    let mut o = options(&dir.join(name), true);
    o.frozen = true;
    o.team_store_uri = Some(team.to_string_lossy().into_owned());
    let engine = Engine::open(o).await.unwrap();
    engine.team_settled().await;
    engine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_memory_is_written_to_the_team_store_and_read_with_the_local_one() {
    let dir = tempfile::tempdir().unwrap();
    let team = dir.path().join("team");
    let ada = teammate(dir.path(), "ada", &team).await;
    let text = "Never call the billing API from tests; use the sandbox account.";
    let written = ada
        .remember(RememberRequest {
            text: text.into(),
            scope: Some(TEAM_SCOPE.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(written.store, StoreKind::Team);
    let id = written.entry.id.clone();
    assert!(!ada.store.holds(&id), "a team memory is not copied locally");
    let local = say(&ada, "Feature flags are named after their ticket.").await;
    assert_eq!(local.store, StoreKind::Local);

    // A teammate with another local store reads it in context, recall, list and get.
    let bob = teammate(dir.path(), "bob", &team).await;
    let context = bob
        .assemble_context(ContextRequest {
            query: Some("may tests call the billing API?".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(context.assembled.markdown.contains("sandbox account"));
    let recalled = bob
        .recall(RecallRequest {
            query: "billing API in tests".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(recalled.iter().any(|s| s.entry.id == id));
    let listed = bob.list(ListRequest::default()).await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec![id.as_str()],
        "bob lists the team memory and not ada's local one"
    );
    let status = bob.status(StatusRequest::default()).await.unwrap();
    assert_eq!(status.team_store.state, TeamState::Connected);
    assert_eq!(status.team_store.entries, 1);

    // A forget by the teammate removes it from the team store, for ada too.
    bob.forget(&id).await.unwrap();
    assert!(matches!(bob.get(&id).await, Err(EngineError::NotFound(_))));
    let reopened = teammate(dir.path(), "carol", &team).await;
    assert!(matches!(
        reopened.get(&id).await,
        Err(EngineError::NotFound(_))
    ));
    assert!(
        ada.get(&local.entry.id).await.is_ok(),
        "local memory untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_team_store_a_team_memory_is_refused_with_how_to_set_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&dir.path().join("store"), true);
    o.team_store_uri = Some(String::new());
    let engine = Engine::open(o).await.unwrap();
    let err = engine
        .remember(RememberRequest {
            text: "Deploys go out on Tuesdays.".into(),
            scope: Some(TEAM_SCOPE.into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("teamStore"), "{err}");
    let status = engine.status(StatusRequest::default()).await.unwrap();
    assert_eq!(status.team_store.state, TeamState::Off);
    // The memory the process holds, as the kernel counts it: a test process is well over 1 MB.
    assert!(
        status.resident_bytes.is_some_and(|b| b > 1 << 20),
        "{:?}",
        status.resident_bytes
    );
    assert!(engine
        .list(ListRequest::default())
        .await
        .unwrap()
        .is_empty());
}

/// Runs git in `dir` with a fixed identity, as a user's repository would be written.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What a store learnt about a root, as a person would compare it: every active extracted
/// entry's kind, slot, value and counts.
async fn learnt(engine: &Engine, scope: &str) -> Vec<String> {
    let mut lines: Vec<String> = engine
        .store
        .list(&crate::store::ListFilter {
            scopes: vec![scope.to_string()],
            statuses: vec![Status::Active],
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|e| e.source != Source::User)
        .map(|e| format!("{:?} {:?} {} {:?}", e.source, e.key, e.text, e.evidence))
        .collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_on_a_clone_starts_from_the_teams_publication_and_counts_only_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let team = dir.path().join("team");
    // The team's repository: a dozen Rust files of snake_case functions, three commits.
    let upstream = dir.path().join("upstream");
    std::fs::create_dir_all(upstream.join("src")).unwrap();
    git(&upstream, &["init", "-q", "-b", "main"]);
    let functions = |i: usize, verb: &str| {
        (0..4)
            .map(|j| format!("pub fn {verb}_item_{j}() -> u32 {{\n    {i}\n}}\n\n"))
            .collect::<String>()
    };
    // And one Python tool, whose conventions the clone will no longer show.
    let python: String = (0..6)
        .map(|j| format!("def report_part_{j}():\n    return {j}\n\n\n"))
        .collect();
    std::fs::create_dir_all(upstream.join("tools")).unwrap();
    std::fs::write(upstream.join("tools/report.py"), python).unwrap();
    for (n, verb) in ["load", "save", "drop"].iter().enumerate() {
        for i in 0..4 {
            let file = upstream.join(format!("src/{verb}_{i}.rs"));
            std::fs::write(&file, functions(i, verb)).unwrap();
        }
        git(&upstream, &["add", "-A"]);
        git(
            &upstream,
            &[
                "commit",
                "-q",
                "-m",
                &format!("Add the {verb} functions ({n})"),
            ],
        );
    }
    let published_head = git(&upstream, &["rev-parse", "HEAD"]);

    // The team's CI indexes the main branch and publishes it; a second publication of the
    // same commit writes nothing.
    let ci = teammate(dir.path(), "ci", &team).await;
    let first = ci.index(&upstream, &[], &|_| {}).await.unwrap();
    assert!(first.publication.is_none(), "nothing was published yet");
    let published = ci.publish(&upstream).await.unwrap();
    assert_eq!(published.commit, published_head);
    assert_eq!(published.files, 13);
    assert!(published.history && published.written > 0, "{published:?}");
    let again = ci.publish(&upstream).await.unwrap();
    assert_eq!((again.written, again.unchanged), (0, published.written));

    // A teammate clones it, commits a change and a deletion, and has two more changes in the
    // working tree.
    let clone = dir.path().join("clone");
    git(
        dir.path(),
        &["clone", "-q", upstream.to_str().unwrap(), "clone"],
    );
    std::fs::write(clone.join("src/load_0.rs"), functions(9, "load")).unwrap();
    std::fs::remove_file(clone.join("tools/report.py")).unwrap();
    git(
        &clone,
        &[
            "commit",
            "-q",
            "-am",
            "Change the first loader, drop the report tool",
        ],
    );
    std::fs::write(clone.join("src/save_0.rs"), functions(8, "store")).unwrap();
    std::fs::write(clone.join("src/fresh.rs"), functions(7, "make")).unwrap();

    let bob = teammate(dir.path(), "bob", &team).await;
    let report = bob.index(&clone, &[], &|_| {}).await.unwrap();
    let used = report
        .publication
        .clone()
        .unwrap_or_else(|| panic!("the publication was not used: {:?}", report.problems));
    assert_eq!(used.commit, published_head);
    assert_eq!(used.entries_copied, published.written);
    assert_eq!(used.files_recounted, 4, "{used:?}");
    assert_eq!(used.files_reused, 10, "{used:?}");
    assert_eq!(report.code.files_parsed, 3, "only what differs is parsed");
    let history = report.history.clone().unwrap();
    assert_eq!(history.new_commits, 1, "{history:?}");
    assert_eq!(history.commits_mined, 4, "{history:?}");

    // What bob's store learnt is what a full run over the same clone learns.
    let carol = Engine::open({
        let mut o = options(&dir.path().join("carol"), true);
        o.frozen = true;
        o
    })
    .await
    .unwrap();
    let full = carol.index(&clone, &[], &|_| {}).await.unwrap();
    assert!(full.code.files_parsed >= 13, "{:?}", full.code);
    assert_eq!(
        learnt(&bob, &report.scope).await,
        learnt(&carol, &full.scope).await
    );
    let bobs = learnt(&bob, &report.scope).await;
    assert!(
        bobs.iter().any(|l| l.contains("naming.function")),
        "{bobs:?}"
    );
    assert!(
        !bobs.iter().any(|l| l.contains("Python")),
        "the deleted tool's conventions are not served: {bobs:?}"
    );
    let published_python = ci
        .list(ListRequest {
            language: Some("python".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        !published_python.is_empty(),
        "the publication had Python conventions to retire"
    );

    // Only a first run starts from a publication.
    let second = bob.index(&clone, &[], &|_| {}).await.unwrap();
    assert!(second.publication.is_none());

    // A clone behind the published commit does not take its counts, and says why.
    let behind = dir.path().join("behind");
    git(
        dir.path(),
        &["clone", "-q", upstream.to_str().unwrap(), "behind"],
    );
    git(&behind, &["reset", "-q", "--hard", "HEAD~1"]);
    let dave = teammate(dir.path(), "dave", &team).await;
    let report = dave.index(&behind, &[], &|_| {}).await.unwrap();
    assert!(report.publication.is_none());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("was not used") && p.contains("does not descend")),
        "{:?}",
        report.problems
    );
    assert_eq!(report.code.files_parsed, 9);

    // Publishing needs a clean checkout: the counts describe one commit.
    std::fs::write(upstream.join("src/drop_0.rs"), "pub fn x() {}\n").unwrap();
    ci.index(&upstream, &[], &|_| {}).await.unwrap();
    let err = ci.publish(&upstream).await.unwrap_err();
    assert!(err.to_string().contains("src/drop_0.rs"), "{err}");
}

/// Ids of the active entries of every scope, the history's episodes apart.
async fn stored_ids(engine: &Engine) -> (Vec<String>, Vec<String>) {
    let (mut episodes, mut others): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for e in engine
        .store
        .list(&crate::store::ListFilter {
            statuses: vec![Status::Active],
            ..Default::default()
        })
        .await
        .unwrap()
    {
        if e.layer == crate::memory::Layer::Episode {
            episodes.push(e.id);
        } else {
            others.push(e.id);
        }
    }
    episodes.sort();
    others.sort();
    (episodes, others)
}

/// A run stores every convention, procedure and rule it finds before it embeds the
/// history's episodes (half of what a first run embeds), and says when with one progress
/// event, from which a context lacks only recall of past work. The run is held at that event
/// while the store is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stores_its_conventions_before_the_history_episodes_and_says_when() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    for (n, verb) in ["load", "save", "drop", "send"].iter().enumerate() {
        let body = format!("pub fn {verb}_item() -> u32 {{\n    {n}\n}}\n");
        std::fs::write(repo.join(format!("src/{verb}.rs")), body).unwrap();
        git(&repo, &["add", "-A"]);
        git(
            &repo,
            &["commit", "-q", "-m", &format!("Add the {verb} function")],
        );
    }
    let engine = Arc::new(fallback_engine(dir.path()).await);
    let (reached, at_event) = std::sync::mpsc::channel::<()>();
    let (resume, held) = std::sync::mpsc::channel::<()>();
    let held = std::sync::Mutex::new(held);
    let events = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let run = {
        let (engine, repo, events) = (engine.clone(), repo.clone(), events.clone());
        tokio::spawn(async move {
            engine
                .index(&repo, &[], &move |p| {
                    if p.conventions_stored {
                        events.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let _ = reached.send(());
                        // Holds the run (and this runtime thread) until the test has read.
                        let _ = held.lock().unwrap().recv();
                    }
                })
                .await
        })
    };
    tokio::task::spawn_blocking(move || at_event.recv())
        .await
        .unwrap()
        .expect("the run says when its conventions are stored");
    let (episodes_then, conventions_then) = stored_ids(&engine).await;
    resume.send(()).unwrap();
    let report = run.await.unwrap().unwrap();
    let (episodes, conventions) = stored_ids(&engine).await;

    assert_eq!(events.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(episodes_then.is_empty(), "{episodes_then:?}");
    assert!(
        !episodes.is_empty(),
        "four commits of one week are an episode"
    );
    assert_eq!(conventions_then, conventions);
    assert!(
        conventions.len() >= 2,
        "code and history conventions: {conventions:?}"
    );
    assert_eq!(report.written.written, episodes.len() + conventions.len());
}
