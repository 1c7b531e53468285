use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{RecordBatch, StringArray};

use futures::TryStreamExt;
use lancedb::query::ExecutableQuery;

use super::rows::{batch_to_entries, entries_to_batch};
use super::*;
use crate::memory::Evidence;
use crate::memory::Source;

fn vector(seed: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIMENSION];
    v[seed % DIMENSION] = 1.0;
    v
}

fn entry(text: &str, seed: usize) -> Entry {
    let mut e = Entry::user("user", Layer::Memory, Source::User, text);
    e.vector = vector(seed);
    e
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test runtime")
}

#[test]
fn upsert_get_search_and_every_field_round_trips() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        let mut a = entry("Use tracing for logging, never println", 1);
        a.tags = vec!["logging".into()];
        a.key = Some("stack.logging".into());
        a.value = Some("tracing".into());
        a.evidence = Some(Evidence {
            matching: 3,
            total: 4,
        });
        a.examples = vec!["src/main.rs:3".into()];
        a.record("created", Some("test".into()));
        let b = entry("Errors propagate with anyhow and the question mark", 2);
        store.upsert(&[a.clone(), b.clone()]).await.unwrap();

        assert_eq!(store.get(&a.id).await.unwrap(), Some(a.clone()));

        let hits = store
            .search(&SearchRequest {
                text: "logging".into(),
                vector: Some(vector(1)),
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hits[0].entry.id, a.id, "{hits:?}");
        assert!(hits[0].bm25.is_some() && hits[0].similarity.unwrap() > 0.99);

        // Upsert by id replaces, it never duplicates.
        let mut a2 = a.clone();
        a2.status = Status::Superseded;
        store.upsert(&[a2]).await.unwrap();
        let all = store.list(&ListFilter::default()).await.unwrap();
        assert_eq!(all.len(), 2);
        let active = store
            .search(&SearchRequest {
                text: "logging".into(),
                vector: Some(vector(1)),
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(active.iter().all(|h| h.entry.id != a.id));
    });
}

#[test]
fn the_mirror_agrees_with_lancedb_and_sees_other_processes_writes() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap();
        let server = Store::open(uri).await.unwrap();
        let entries: Vec<Entry> = (0..40)
            .map(|i| entry(&format!("convention number {i} about topic {}", i % 7), i))
            .collect();
        server.upsert(&entries).await.unwrap();
        let filter = ListFilter::default();
        let mut from_disk = server.list_from_disk(&filter).await.unwrap();
        let mut from_memory = server.list(&filter).await.unwrap();
        from_disk.sort_by(|a, b| a.id.cmp(&b.id));
        from_memory.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(from_disk, from_memory);

        // Both searches rank the exact match first.
        let request = SearchRequest {
            text: "topic 3".into(),
            vector: Some(vector(10)),
            limit: 5,
            ..Default::default()
        };
        let memory = server.search(&request).await.unwrap();
        server.build_text_index().await.unwrap();
        let disk = server.search_on_disk(&request).await.unwrap();
        assert_eq!(memory[0].entry.id, entries[10].id);
        assert_eq!(disk[0].entry.id, entries[10].id);

        // A second process (a CLI) writes; the server sees it after a refresh.
        let cli = Store::open(uri).await.unwrap();
        let late = entry("written by another process", 77);
        cli.upsert(std::slice::from_ref(&late)).await.unwrap();
        assert_eq!(server.get(&late.id).await.unwrap(), None);
        assert!(server.refresh().await.unwrap());
        assert_eq!(server.get(&late.id).await.unwrap(), Some(late));
        // Nothing new: nothing reloaded.
        assert!(!server.refresh().await.unwrap());
    });
}

#[test]
fn a_damaged_row_is_skipped_and_the_others_are_served() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap();
        let kept = entry("kept memory", 1);
        let damaged = entry("damaged memory", 2);
        {
            let store = Store::open(uri).await.unwrap();
            store.upsert(std::slice::from_ref(&kept)).await.unwrap();
            let batch = entries_to_batch(&[&damaged]).unwrap();
            let at = batch.schema().index_of("extra").unwrap();
            let mut columns = batch.columns().to_vec();
            columns[at] = Arc::new(StringArray::from(vec!["{not json"]));
            let batch = RecordBatch::try_new(batch.schema(), columns).unwrap();
            store
                .table(Layer::Memory)
                .add(batch)
                .execute()
                .await
                .unwrap();
        }
        let store = Store::open(uri).await.unwrap();
        assert_eq!(store.get(&kept.id).await.unwrap(), Some(kept));
        assert_eq!(store.get(&damaged.id).await.unwrap(), None);
    });
}

#[test]
fn delete_removes_the_row_from_every_version_on_disk() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        let gone = entry("zanzibar quokka deployment secret handshake", 3);
        let kept = entry("marmalade pelican release checklist", 4);
        store.upsert(std::slice::from_ref(&gone)).await.unwrap();
        store.upsert(std::slice::from_ref(&kept)).await.unwrap();
        assert!(store.delete(&gone.id).await.unwrap());
        assert!(store.get(&gone.id).await.unwrap().is_none());
        assert!(!store.delete(&gone.id).await.unwrap());

        // Decoded: every version still on disk, read back through Lance.
        let table = store
            .connection()
            .open_table("memories")
            .execute()
            .await
            .unwrap();
        let versions = table.list_versions().await.unwrap();
        let mut seen_kept = false;
        for v in versions {
            table.checkout(v.version).await.unwrap();
            let batches: Vec<RecordBatch> = table
                .query()
                .execute()
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            for b in &batches {
                for (e, _, _) in batch_to_entries(b, false).unwrap() {
                    assert_ne!(e.id, gone.id, "version {} still holds it", v.version);
                    seen_kept |= e.id == kept.id;
                }
            }
        }
        assert!(seen_kept, "control: the kept row must be readable");
    });
}

#[test]
fn a_write_between_two_of_anothers_is_seen_by_both() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap();
        // Two handles on one directory behave as two processes: each has its own lock
        // descriptor, mirror and table handles.
        let server = Store::open(uri).await.unwrap();
        let cli = Store::open(uri).await.unwrap();
        let a1 = entry("server wrote this first", 1);
        let b1 = entry("the cli wrote this in between", 2);
        let a2 = entry("server wrote this last", 3);
        server.upsert(std::slice::from_ref(&a1)).await.unwrap();
        cli.upsert(std::slice::from_ref(&b1)).await.unwrap();
        server.upsert(std::slice::from_ref(&a2)).await.unwrap();
        // The server's own write read the cli's first, so it has it without a refresh.
        assert_eq!(server.get(&b1.id).await.unwrap(), Some(b1.clone()));
        assert!(cli.refresh().await.unwrap());
        for e in [&a1, &b1, &a2] {
            assert_eq!(cli.get(&e.id).await.unwrap().as_ref(), Some(e));
        }
    });
}

#[test]
fn a_stale_copy_does_not_bring_back_what_another_process_forgot() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap();
        let server = Store::open(uri).await.unwrap();
        let cli = Store::open(uri).await.unwrap();
        let e = entry("merge target that the cli forgets", 5);
        server.upsert(std::slice::from_ref(&e)).await.unwrap();
        cli.refresh().await.unwrap();
        assert!(cli.delete(&e.id).await.unwrap());
        // The server still holds its copy and writes it back, as a merge would.
        let mut stale = server.get(&e.id).await.unwrap().unwrap();
        stale.confidence = 0.9;
        let err = server.upsert(&[stale]).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(server.get(&e.id).await.unwrap(), None);
        let reopened = Store::open(uri).await.unwrap();
        assert_eq!(reopened.get(&e.id).await.unwrap(), None);
        // An import restores deliberately.
        reopened
            .restore_entries(std::slice::from_ref(&e))
            .await
            .unwrap();
        assert!(reopened.get(&e.id).await.unwrap().is_some());
    });
}

#[test]
fn forgetting_an_entry_removes_its_text_from_other_entries_audit_trails() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        let newer = entry("deploy only on tuesdays with the quokka checklist", 6);
        let mut older = entry("deploy any day", 7);
        older.supersede(
            &newer.id,
            format!("contradicted by {}: {}", newer.id, newer.text),
        );
        store.upsert(&[older.clone(), newer.clone()]).await.unwrap();
        assert!(store.delete(&newer.id).await.unwrap());
        let kept = store.get(&older.id).await.unwrap().unwrap();
        assert!(kept.history.iter().all(|h| !h
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("quokka")));
        assert_eq!(
            files_holding(dir.path(), "quokka"),
            Vec::<String>::new(),
            "the forgotten text is still in a file under the store"
        );
        assert!(
            !files_holding(dir.path(), "deploy any day").is_empty(),
            "control: the kept text is on disk"
        );
    });
}

/// The files under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            std::fs::read(e.path())
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .map(|e| e.path().display().to_string())
        .collect()
}

#[test]
fn many_single_writes_leave_a_bounded_number_of_files() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        let mut counts = Vec::new();
        for i in 0..160 {
            let e = entry(&format!("remembered fact number {i}"), i);
            store.upsert(std::slice::from_ref(&e)).await.unwrap();
            if i == 79 || i == 159 {
                counts.push(store.file_count().unwrap());
            }
        }
        assert_eq!(store.list(&ListFilter::default()).await.unwrap().len(), 160);
        // Without compaction and pruning every write adds a data file, a manifest and a
        // transaction file: 80 more writes would add about 240 files.
        assert!(
            counts[1] <= counts[0] + 20,
            "file count grows with writes: {counts:?}"
        );
        assert!(counts[1] < 150, "{counts:?}");
    });
}

#[test]
fn ids_that_could_inject_sql_are_refused() {
    assert!(validate_id("0190a1b2-cdef-7000-8000-000000000000").is_ok());
    assert!(matches!(
        validate_id("x' OR '1'='1"),
        Err(StoreError::InvalidId(_))
    ));
}

#[test]
fn fusion_prefers_agreement_of_both_legs() {
    assert!((fuse(Some(0), Some(0)) - 1.0).abs() < 1e-6);
    assert!(fuse(Some(0), Some(3)) > fuse(Some(0), None));
    assert!(fuse(Some(1), None) < fuse(Some(0), None));
}

#[test]
fn a_merge_that_loses_to_a_concurrent_delete_leaves_none_of_its_files() {
    use super::compaction::{merge_options, Rewrite};
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        let entries: Vec<Entry> = (0..4)
            .map(|i| entry(&format!("kiwi ledger rule {i} for the quarterly close"), i))
            .collect();
        // One write each: four small fragments, which a merge rewrites into one file.
        for e in &entries {
            store.upsert(std::slice::from_ref(e)).await.unwrap();
        }
        // Two handles on the table, as two machines on object storage have: one merges, the
        // other deletes a row of a fragment the merge read, and commits first.
        let open = || async {
            store
                .connection()
                .open_table("memories")
                .execute()
                .await
                .unwrap()
        };
        let merger = open().await;
        let forgetter = open().await;
        let rewrite = Rewrite::write(&merger, merge_options(false))
            .await
            .unwrap()
            .expect("four small fragments to merge");
        forgetter
            .delete(&format!("id = '{}'", entries[0].id))
            .await
            .unwrap();
        let committed = rewrite.commit(&merger).await.unwrap();
        assert!(!committed, "the merge read a fragment the delete changed");

        // Every data file left is one a version references.
        let latest = open().await;
        let dataset = latest.dataset().unwrap().get().await.unwrap();
        let mut referenced = BTreeSet::new();
        for version in dataset.versions().await.unwrap() {
            let at = dataset.checkout_version(version.version).await.unwrap();
            for fragment in at.get_fragments() {
                referenced.extend(fragment.metadata().files.iter().map(|d| d.path.clone()));
            }
        }
        let on_disk: BTreeSet<String> = std::fs::read_dir(dir.path().join("memories.lance/data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(referenced.len(), 4, "the four writes' files");
        assert_eq!(on_disk, referenced, "a file no version references is left");
        // And the table reads: the three rows the delete kept.
        assert_eq!(latest.count_rows(None).await.unwrap(), 3);
    });
}

#[test]
fn a_forget_on_a_local_store_removes_the_text_from_files_a_killed_writer_left() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).await.unwrap();
        let needle = "okapi escrow passphrase rotation";
        let gone = entry(needle, 3);
        store.upsert(std::slice::from_ref(&gone)).await.unwrap();
        store
            .upsert(&[entry("heron changelog format", 4)])
            .await
            .unwrap();
        // A writer killed after writing its data file and before committing leaves a file no
        // version references; a copy of the one holding the text stands for it.
        let table_dir = dir.path().join("memories.lance");
        let holding = files_holding(&table_dir.join("data"), needle);
        assert_eq!(holding.len(), 1, "control: the text is in one data file");
        std::fs::copy(
            &holding[0],
            table_dir.join("data/0000000000000000000000000000000000killed.lance"),
        )
        .unwrap();

        assert!(store.delete(&gone.id).await.unwrap());
        assert_eq!(files_holding(dir.path(), needle), Vec::<String>::new());
    });
}

fn scoped(scope: &str, text: &str, seed: usize) -> Entry {
    let mut e = entry(text, seed);
    e.scope = scope.into();
    e
}

#[test]
fn a_server_holds_only_the_scopes_it_serves_and_reads_the_others_when_asked() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap();
        let cli = Store::open(uri).await.unwrap();
        let a1 = scoped("repo-a", "deploy with the walrus checklist", 1);
        let a2 = scoped("repo-a", "tests live next to the code", 2);
        let user = scoped("user", "answer in British English", 3);
        let b1 = scoped("repo-b", "migrations run in a transaction", 4);
        let mut b2 = scoped("repo-b", "deploy any day", 5);
        b2.supersede(&a1.id, format!("contradicted by {}: {}", a1.id, a1.text));
        cli.upsert(&[a1.clone(), a2.clone(), user.clone(), b1.clone(), b2.clone()])
            .await
            .unwrap();

        let served = vec!["repo-a".to_string(), "user".to_string()];
        let server = Store::open_scopes(uri, &served).await.unwrap();
        assert_eq!(
            server.len(),
            3,
            "only repo-a's and user's rows are in memory"
        );
        assert!(!server.holds(&b1.id));

        // A listing, a count or a lookup of another scope reads the disk and loads nothing.
        let b = vec!["repo-b".to_string()];
        let listed = server
            .list(&ListFilter {
                scopes: b.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        let counts = server.counts(&b).await.unwrap();
        assert!(
            counts.contains(&(Layer::Memory, Status::Active, 1)),
            "{counts:?}"
        );
        assert!(
            counts.contains(&(Layer::Memory, Status::Superseded, 1)),
            "{counts:?}"
        );
        assert_eq!(server.get(&b1.id).await.unwrap(), Some(b1.clone()));
        assert_eq!(server.len(), 3);

        // A write to it goes to disk, replacing the row rather than adding a second one.
        let mut b1_changed = b1.clone();
        b1_changed.text = "migrations run in one transaction each".into();
        server
            .upsert(std::slice::from_ref(&b1_changed))
            .await
            .unwrap();
        let on_disk = server
            .list_from_disk(&ListFilter {
                scopes: b.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(on_disk.len(), 2, "{on_disk:?}");
        assert!(on_disk.contains(&b1_changed));
        assert_eq!(server.len(), 3);

        // Another process's writes reach the served scopes only.
        let a3 = scoped("repo-a", "errors carry their file and line", 6);
        let b3 = scoped("repo-b", "feature flags live in flags.toml", 7);
        cli.upsert(&[a3.clone(), b3.clone()]).await.unwrap();
        assert!(server.refresh().await.unwrap());
        assert!(server.holds(&a3.id) && !server.holds(&b3.id));

        // A search of it loads it, and it stays in step from then on.
        let hits = server
            .search(&SearchRequest {
                text: "migrations".into(),
                vector: Some(vector(4)),
                scopes: b.clone(),
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(hits[0].entry, b1_changed);
        assert_eq!(server.len(), 7);

        // Closing its workspace drops it from memory, not from disk.
        server.retain_scopes(&served).await;
        assert_eq!(server.len(), 4);
        assert_eq!(
            cli.list_from_disk(&ListFilter::default())
                .await
                .unwrap()
                .len(),
            7
        );

        // Forgetting a served entry scrubs its text from an unloaded scope's audit trail.
        assert!(server.delete(&a1.id).await.unwrap());
        let b2_now = cli.list_from_disk(&ListFilter::default()).await.unwrap();
        let b2_now = b2_now.iter().find(|e| e.id == b2.id).unwrap();
        assert!(b2_now.history.iter().all(|h| !h
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("walrus")));
        assert_eq!(
            files_holding(dir.path(), "walrus"),
            Vec::<String>::new(),
            "the forgotten text is still in a file under the store"
        );
        // And forgetting an entry of an unloaded scope finds it on disk.
        assert!(server.delete(&b3.id).await.unwrap());
        assert_eq!(
            cli.list_from_disk(&ListFilter::default())
                .await
                .unwrap()
                .len(),
            5
        );
    });
}

#[test]
fn a_large_table_looks_ids_up_in_an_index_that_stays_right_and_keeps_no_forgotten_id() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap();
        let mut store = Store::open(uri).await.unwrap();
        store.id_index_from = 40;
        let bulk: Vec<Entry> = (0..50)
            .map(|i| entry(&format!("bulk rule number {i} of the import"), i))
            .collect();
        store.append(&bulk).await.unwrap();
        let table = store.table(Layer::Memory).clone();
        let stats = table.index_stats(id_index::ID_INDEX).await.unwrap();
        assert_eq!(
            stats.map(|s| (s.num_indexed_rows, s.num_unindexed_rows)),
            Some((50, 0)),
            "a bulk load past the size indexes the ids"
        );

        // Rows written after the index are not in it yet; writes find them all the same.
        let late = entry("a rule remembered after the import", 60);
        store.upsert(std::slice::from_ref(&late)).await.unwrap();
        let mut edited = bulk[7].clone();
        edited.text = "bulk rule number 7, edited".into();
        let mut late_edited = late.clone();
        late_edited.importance = 0.9;
        store
            .upsert(&[edited.clone(), late_edited.clone()])
            .await
            .unwrap();
        assert_eq!(
            table.count_rows(None).await.unwrap(),
            51,
            "an edit replaces its row, indexed or not"
        );
        let from_disk = Store::open(uri).await.unwrap();
        assert_eq!(
            from_disk.get(&edited.id).await.unwrap().map(|e| e.text),
            Some(edited.text.clone())
        );
        assert_eq!(
            from_disk.get(&late.id).await.unwrap().map(|e| e.importance),
            Some(0.9)
        );
        drop(from_disk);

        // A forget leaves the id in no file, the index's included.
        let gone = bulk[3].id.clone();
        let holding = files_holding(dir.path(), &gone);
        assert!(
            holding.iter().any(|f| f.contains("/_indices/")),
            "control: the index's files hold the id before the forget: {holding:?}"
        );
        assert!(store.delete(&gone).await.unwrap());
        assert_eq!(files_holding(dir.path(), &gone), Vec::<String>::new());
        assert!(
            table
                .index_stats(id_index::ID_INDEX)
                .await
                .unwrap()
                .is_some(),
            "the forget keeps the index"
        );
        assert_eq!(table.count_rows(None).await.unwrap(), 50);
    });
}

/// An object-store URI that cannot be opened is far more often a wrong URI or missing
/// credentials than a damaged store: the error says what to check, not to move the store
/// aside, and reads as one sentence after LanceDB's own (which ends with a period).
#[test]
fn a_remote_store_that_cannot_be_opened_says_to_check_the_uri_and_credentials() {
    rt().block_on(async {
        let err = Store::open("nosuch://bucket/tacit")
            .await
            .err()
            .expect("no provider serves nosuch://");
        let message = err.to_string();
        assert!(
            message.starts_with("the store at nosuch://bucket/tacit cannot be opened: "),
            "{message}"
        );
        assert!(
            message.contains("Check the URI, the credentials in the environment"),
            "{message}"
        );
        assert!(!message.contains("move it aside"), "{message}");
        assert!(!message.contains(".."), "{message}");
    });
}
