//! Fixture repositories built with the `git` command line, with set dates, mined as a user's
//! repository would be.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::memory::{Layer, Status};
use git2::{Oid, Repository};

/// 2026-03-02 09:00 UTC, a Monday.
const START: i64 = 1_772_442_000;
const DAY: i64 = 86_400;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    time: i64,
    counter: usize,
}

fn run_git(dir: &Path, args: &[&str], time: i64) -> String {
    let date = format!("@{time} +0000");
    let out = Command::new("git")
        .args([
            "-c",
            "protocol.file.allow=always",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        run_git(&root, &["init", "-q", "-b", "main"], START);
        Fixture {
            _dir: dir,
            root,
            time: START,
            counter: 0,
        }
    }

    fn git(&self, args: &[&str]) -> String {
        run_git(&self.root, args, self.time)
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Changes each path (a new line, so the file differs) and commits, an hour later.
    fn commit(&mut self, message: &str, paths: &[&str]) {
        self.time += 3600;
        for p in paths {
            self.counter += 1;
            let path = self.root.join(p);
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(&format!("change {}\n", self.counter));
            self.write(p, &text);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    fn at(&mut self, time: i64) -> &mut Fixture {
        self.time = time;
        self
    }

    fn mine(&self) -> Mined {
        mine(
            &self.root,
            "repo:test",
            None,
            &HistoryOptions::default(),
            false,
            &|_, _| {},
        )
    }
}

fn by_key<'a>(entries: &'a [Entry], key: &str) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| e.key.as_deref() == Some(key))
        .collect()
}

fn one<'a>(entries: &'a [Entry], key: &str) -> &'a Entry {
    let found = by_key(entries, key);
    assert_eq!(
        found.len(),
        1,
        "expected one `{key}` in {:#?}",
        entries
            .iter()
            .map(|e| (&e.key, &e.text))
            .collect::<Vec<_>>()
    );
    found[0]
}

#[test]
fn conventional_commits_with_sign_off_and_issue_numbers() {
    let mut f = Fixture::new();
    let subjects = [
        "feat(api): add the login endpoint (#12)",
        "fix(api): reject empty passwords (#13)",
        "feat(ui): show the login form (#14)",
        "docs: describe the login flow (#15)",
        "fix(ui): keep focus after an error (#16)",
        "chore: update dependencies (#17)",
        "feat(api): add logout (#18)",
        "refactor(api): split the session module (#19)",
        "test(api): cover token expiry (#20)",
        "feat(ui): remember the user name (#21)",
    ];
    for (i, s) in subjects.iter().enumerate() {
        let message = format!("{s}\n\nMore words.\n\nSigned-off-by: Ada <ada@example.com>\n");
        f.commit(&message, &[&format!("src/f{}.rs", i % 3)]);
    }
    let m = f.mine();
    assert_eq!(m.status.state, HistoryState::Mined);
    assert_eq!(m.status.commits_mined, 10);
    let e = &m.entries;
    let style = one(e, "commit.style");
    assert_eq!(style.value.as_deref(), Some("conventional"));
    assert!(style.text.contains("10 of 10"), "{}", style.text);
    assert_eq!(style.layer, Layer::Memory);
    assert_eq!(style.source, crate::memory::Source::History);
    let types = one(e, "commit.types");
    assert!(types.text.contains("`feat` 40%"), "{}", types.text);
    assert!(types.text.contains("`api` (5)"), "{}", types.text);
    assert_eq!(one(e, "commit.mood").value.as_deref(), Some("imperative"));
    assert!(one(e, "commit.trailers").text.contains("Signed-off-by"));
    let refs = one(e, "commit.issue_refs");
    assert_eq!(refs.value.as_deref(), Some("hash"));
    assert!(refs.text.contains("in the subject"), "{}", refs.text);
    assert_eq!(one(e, "commit.merges").value.as_deref(), Some("linear"));
    let length = one(e, "commit.subject_length");
    assert_eq!(length.value.as_deref(), Some("p95<=50"), "{}", length.text);
}

#[test]
fn a_mixed_style_is_called_mixed_with_its_split() {
    let mut f = Fixture::new();
    for i in 0..5 {
        f.commit(&format!("feat: add feature {i}"), &["a.txt"]);
        f.commit(&format!("Added feature number {i} to the list"), &["b.txt"]);
    }
    let m = f.mine();
    let style = one(&m.entries, "commit.style");
    assert_eq!(style.value.as_deref(), Some("mixed"));
    assert!(style.text.contains("50%"), "{}", style.text);
    let mood = one(&m.entries, "commit.mood");
    assert_eq!(mood.value.as_deref(), Some("mixed"), "{}", mood.text);
    // Too few commits say nothing.
    let mut g = Fixture::new();
    g.commit("feat: one", &["a"]);
    g.commit("feat: two", &["a"]);
    assert!(by_key(&g.mine().entries, "commit.style").is_empty());
}

#[test]
fn files_that_change_together_become_a_procedure() {
    let mut f = Fixture::new();
    for i in 0..9 {
        f.commit(
            &format!("Add column {i} to the schema"),
            &[
                "src/schema.rs",
                &format!("migrations/{i:03}_column.sql"),
                "docs/schema.md",
            ],
        );
        f.commit(&format!("Tweak the parser {i}"), &["src/parser.rs"]);
    }
    f.commit("Fix a typo in the schema", &["src/schema.rs"]);
    f.commit("Rename a schema field", &["src/schema.rs", "src/parser.rs"]);
    // A sweep touching everything is not coupling.
    let many: Vec<String> = (0..40).map(|i| format!("src/gen/m{i}.rs")).collect();
    let mut sweep: Vec<&str> = many.iter().map(String::as_str).collect();
    sweep.push("src/schema.rs");
    sweep.push("src/parser.rs");
    f.commit("Regenerate models", &sweep);
    // Lock files change with everything and teach nothing.
    f.commit("Bump a dependency", &["src/schema.rs", "Cargo.lock"]);

    let m = f.mine();
    let procedures: Vec<&Entry> = m
        .entries
        .iter()
        .filter(|e| e.layer == Layer::Procedure)
        .collect();
    let p = one(&m.entries, "cochange.src/schema.rs");
    assert_eq!(
        p.text,
        "After editing `src/schema.rs`, also update `docs/schema.md` and `migrations/` (9 of 12 commits)."
    );
    assert_eq!(p.trigger.as_deref(), Some("after-editing:src/schema.rs"));
    assert_eq!(
        p.steps.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(),
        vec!["Also update `docs/schema.md`", "Also update `migrations/`"]
    );
    assert_eq!(
        p.paths,
        vec!["src/schema.rs", "docs/schema.md", "migrations/"]
    );
    // The parser changes on its own: no procedure for it, and none names the lock file.
    assert!(by_key(&m.entries, "cochange.src/parser.rs").is_empty());
    assert!(procedures.iter().all(|p| !p.text.contains("Cargo.lock")));
    assert!(procedures.iter().all(|p| !p.text.contains("src/gen")));
}

#[test]
fn a_coupling_with_one_partner_does_not_repeat_its_sentence_as_a_step() {
    let mut f = Fixture::new();
    for i in 0..5 {
        f.commit(
            &format!("Add flag {i}"),
            &["cmd/flags.go", "cmd/command.go"],
        );
    }
    let m = f.mine();
    let p = one(&m.entries, "cochange.cmd/flags.go");
    assert_eq!(
        p.text,
        "After editing `cmd/flags.go`, also update `cmd/command.go` (5 of 5 commits)."
    );
    // Before, the procedure carried "1. Also update `cmd/command.go`" under that sentence.
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert_eq!(p.paths, vec!["cmd/flags.go", "cmd/command.go"]);
}

#[test]
fn files_coupled_in_the_very_same_commits_are_one_procedure_not_one_per_file() {
    let mut f = Fixture::new();
    let pages = [
        "docs/v1/examples/arguments.md",
        "docs/v1/examples/flags.md",
        "docs/v1/examples/greet.md",
        "docs/v1/getting-started.md",
    ];
    // Split out in one commit, retouched together three times, and one page once alone.
    f.commit("Split the docs into pages", &pages);
    for i in 0..3 {
        f.commit(&format!("Retitle the pages {i}"), &pages);
    }
    f.commit(
        "Fix a typo in the flags page",
        &["docs/v1/examples/flags.md"],
    );
    // Two files coupled in other commits keep their own procedures.
    for i in 0..4 {
        f.commit(
            &format!("Add flag {i}"),
            &["cmd/flags.go", "cmd/command.go"],
        );
    }

    // Three files coupled in the same commits with a fourth that also changes on its own:
    // editing the fourth does not call for the three.
    for i in 0..3 {
        f.commit(
            &format!("Add a codec {i}"),
            &["pkg/a.go", "pkg/b.go", "pkg/c.go", "pkg/registry.go"],
        );
    }
    for i in 0..4 {
        f.commit(&format!("Tidy the registry {i}"), &["pkg/registry.go"]);
    }

    let m = f.mine();
    let coupled: Vec<&Entry> = m
        .entries
        .iter()
        .filter(|e| e.tags.iter().any(|t| t == "co-change"))
        .collect();
    let docs: Vec<&&Entry> = coupled
        .iter()
        .filter(|e| e.text.contains("docs/"))
        .collect();
    assert_eq!(docs.len(), 1, "{coupled:#?}");
    assert_eq!(
        docs[0].text,
        "In `docs/v1/`, `examples/arguments.md`, `examples/flags.md`, `examples/greet.md` and `getting-started.md` change together: after editing one, also update the others (4 of the 4–5 commits of each)."
    );
    assert_eq!(docs[0].paths, pages.to_vec());
    let evidence = docs[0].evidence.as_ref().unwrap();
    assert_eq!((evidence.matching, evidence.total), (4, 5));
    // Any page in hand brings the family.
    assert!(docs[0]
        .trigger
        .as_deref()
        .is_some_and(|t| pages.iter().all(|p| t.contains(p))));
    assert_eq!(
        one(&m.entries, "cochange.cmd/flags.go").text,
        "After editing `cmd/flags.go`, also update `cmd/command.go` (4 of 4 commits)."
    );
    let codecs = one(&m.entries, "cochange.pkg/a.go");
    assert_eq!(
        codecs.text,
        "In `pkg/`, after editing `a.go`, `b.go` or `c.go`, also update `registry.go` and the other 2 (3 of the 3 commits of each)."
    );
    assert!(by_key(&m.entries, "cochange.pkg/registry.go").is_empty());
    assert_eq!(coupled.len(), 4, "{coupled:#?}");
}

#[test]
fn a_linear_history_gives_one_episode_per_week_recent_first() {
    let mut f = Fixture::new();
    f.at(START);
    f.commit("Add the parser", &["src/parser.rs"]);
    f.commit(
        "Parse nested lists in the parser",
        &["src/parser.rs", "tests/parser.rs"],
    );
    f.commit("Document the parser", &["README.md"]);
    f.at(START + 14 * DAY);
    f.commit("Add the printer", &["src/printer.rs"]);
    f.commit("Print nested lists", &["src/printer.rs"]);
    f.at(START + 21 * DAY);
    f.commit("Lonely commit", &["x"]);
    let m = f.mine();
    let episodes: Vec<&Entry> = m
        .entries
        .iter()
        .filter(|e| e.layer == Layer::Episode)
        .collect();
    assert_eq!(episodes.len(), 2, "{episodes:#?}");
    let newer = one(&m.entries, "episode.week.2026-W12");
    let older = one(&m.entries, "episode.week.2026-W10");
    assert_eq!(older.commits, Some(3));
    assert!(
        older
            .text
            .starts_with("Week 2026-W10: 3 commits by 1 author, 2026-03-02 to 2026-03-02"),
        "{}",
        older.text
    );
    assert!(older.text.contains("parser"), "{}", older.text);
    assert!(older.paths.contains(&"src/parser.rs".to_string()));
    let period = older.period.unwrap();
    assert_eq!(period.start, (START + 3600) * 1000);
    assert!(newer.importance > older.importance);
}

#[test]
fn merged_branches_become_episodes_and_name_the_branching_habit() {
    let mut f = Fixture::new();
    f.commit("Initial commit", &["README.md"]);
    for (branch, files) in [
        ("feature/login", ["src/login.rs", "tests/login.rs"]),
        ("feature/search", ["src/search.rs", "tests/search.rs"]),
        ("fix/crash-on-empty", ["src/main.rs", "tests/main.rs"]),
    ] {
        f.git(&["checkout", "-q", "-b", branch]);
        f.commit(&format!("Start {branch}"), &[files[0]]);
        f.commit(&format!("Test {branch}"), &[files[1]]);
        f.commit(&format!("Finish {branch}"), &files);
        f.git(&["checkout", "-q", "main"]);
        f.time += 3600;
        f.git(&[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            &format!("Merge branch '{branch}'"),
            branch,
        ]);
    }
    let m = f.mine();
    let merges: Vec<&Entry> = m
        .entries
        .iter()
        .filter(|e| {
            e.key
                .as_deref()
                .is_some_and(|k| k.starts_with("episode.merge."))
        })
        .collect();
    assert_eq!(merges.len(), 3, "{merges:#?}");
    let login = merges
        .iter()
        .find(|e| e.text.contains("Branch `feature/login`"))
        .expect("an episode for feature/login");
    assert_eq!(login.commits, Some(3));
    assert!(login.paths.iter().any(|p| p == "src/login.rs"));
    assert_eq!(
        one(&m.entries, "commit.merges").value.as_deref(),
        Some("merge")
    );
    let naming = one(&m.entries, "branch.naming");
    assert_eq!(
        naming.value.as_deref(),
        Some("prefix/kebab-case"),
        "{}",
        naming.text
    );
    assert!(naming.text.contains("`feature/` (2)"), "{}", naming.text);
}

#[test]
fn a_replaced_dependency_is_a_decision_and_the_old_choice_is_superseded() {
    let mut f = Fixture::new();
    f.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\n\n[dependencies]\nlog = \"0.4\"\nserde = \"1\"\n",
    );
    f.write(
        "package.json",
        r#"{"devDependencies": {"jest": "^29", "typescript": "^5"}}"#,
    );
    f.write("jest.config.js", "module.exports = {};\n");
    f.commit("Start the project", &[]);
    f.commit("Add a module", &["src/lib.rs"]);
    f.at(START + 10 * DAY);
    f.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\n\n[dependencies]\ntracing = \"0.1\"\nserde = \"1\"\n",
    );
    f.commit("Log with tracing instead of log", &["src/lib.rs"]);
    f.write(
        "package.json",
        r#"{"devDependencies": {"vitest": "^2", "typescript": "^5"}}"#,
    );
    std::fs::remove_file(f.root.join("jest.config.js")).unwrap();
    f.write("vitest.config.ts", "export default {};\n");
    f.commit("Move the tests to vitest", &[]);
    let m = f.mine();
    let logging = by_key(&m.entries, "decision.logging");
    assert_eq!(logging.len(), 2, "{logging:#?}");
    let active = logging.iter().find(|e| e.status == Status::Active).unwrap();
    let old = logging
        .iter()
        .find(|e| e.status == Status::Superseded)
        .unwrap();
    assert_eq!(active.value.as_deref(), Some("tracing"));
    assert_eq!(active.language.as_deref(), Some("rust"));
    assert!(
        active
            .text
            .contains("`tracing` replaced `log` on 2026-03-12"),
        "{}",
        active.text
    );
    assert!(active.text.contains("Log with tracing instead of log"));
    assert_eq!(old.value.as_deref(), Some("log"));
    assert_eq!(old.superseded_by.as_deref(), Some(active.id.as_str()));
    assert_eq!(active.slot(), old.slot());
    // The active entry comes first, so that it holds the slot when written.
    let first = m
        .entries
        .iter()
        .position(|e| e.key.as_deref() == Some("decision.logging"))
        .unwrap();
    assert_eq!(m.entries[first].status, Status::Active);

    let testing = by_key(&m.entries, "decision.testing");
    let active = testing.iter().find(|e| e.status == Status::Active).unwrap();
    assert_eq!(active.value.as_deref(), Some("vitest"));
    assert_eq!(active.language.as_deref(), Some("javascript"));
}

#[test]
fn a_decision_whose_choice_was_dropped_later_is_not_served() {
    let mut f = Fixture::new();
    f.write(
        "package.json",
        r#"{"devDependencies": {"mocha": "^5", "standard": "^17"}}"#,
    );
    f.commit("Start", &[]);
    f.write(
        "package.json",
        r#"{"devDependencies": {"jest": "^21", "standard": "^17"}}"#,
    );
    f.commit("Move the tests to jest", &[]);
    // Years later the tests move to `node --test`, which no manifest lists.
    f.time += 3600;
    f.write(
        "package.json",
        r#"{"devDependencies": {"standard": "^17"}, "scripts": {"test": "node --test"}}"#,
    );
    f.commit("Test with the built-in runner", &[]);
    let m = f.mine();
    // Before, "Testing: `jest` replaced `mocha` …; use `jest`" was served as current.
    let testing = by_key(&m.entries, "decision.testing");
    assert!(testing.is_empty(), "{testing:#?}");
}

#[test]
fn a_reverted_switch_leaves_the_original_choice_active() {
    let mut f = Fixture::new();
    f.write(
        "pyproject.toml",
        "[project]\nname = \"x\"\ndependencies = [\"requests\"]\n\n[tool.black]\nline-length = 100\n",
    );
    f.commit("Start", &[]);
    f.write(
        "pyproject.toml",
        "[project]\nname = \"x\"\ndependencies = [\"requests\"]\n\n[tool.ruff]\nline-length = 100\n",
    );
    f.commit("Format with ruff instead of black", &[]);
    let switched = f.git(&["rev-parse", "HEAD"]);
    f.time += 3600;
    f.git(&["revert", "--no-edit", switched.trim()]);
    let m = f.mine();
    let formatting = by_key(&m.entries, "decision.formatting");
    let active = formatting
        .iter()
        .find(|e| e.status == Status::Active)
        .unwrap();
    assert_eq!(active.value.as_deref(), Some("black"), "{formatting:#?}");
    assert!(active.text.contains("was reverted"), "{}", active.text);
    let tried = formatting
        .iter()
        .find(|e| e.status == Status::Superseded)
        .unwrap();
    assert_eq!(tried.value.as_deref(), Some("ruff"));
    assert_eq!(tried.superseded_by.as_deref(), Some(active.id.as_str()));
}

#[test]
fn new_commits_are_mined_without_reading_the_history_again() {
    let mut f = Fixture::new();
    for i in 0..6 {
        f.commit(&format!("Add step {i}"), &["a.txt"]);
    }
    let state = tempfile::tempdir().unwrap();
    let options = HistoryOptions::default();
    let root = f.root.clone();
    let run = |only_if_moved: bool| {
        mine(
            &root,
            "repo:t",
            Some(state.path()),
            &options,
            only_if_moved,
            &|_, _| {},
        )
    };
    let first = run(false);
    assert_eq!(first.status.state, HistoryState::Mined);
    assert_eq!(first.status.new_commits, 6);
    let again = run(true);
    assert_eq!(again.status.state, HistoryState::Unchanged);
    assert!(again.entries.is_empty(), "an unchanged HEAD is a no-op");
    assert_eq!(again.status.commits_mined, 6);
    // Re-deriving from the state without reading git gives the same entries.
    let rederived = run(false);
    assert_eq!(rederived.status.state, HistoryState::Unchanged);
    assert_eq!(rederived.entries.len(), first.entries.len());

    f.commit("Add step 6", &["a.txt"]);
    f.commit("Add step 7", &["b.txt"]);
    let next = run(true);
    assert_eq!(next.status.state, HistoryState::Mined);
    assert_eq!(next.status.new_commits, 2);
    assert_eq!(next.status.commits_mined, 8);
    assert!(one(&next.entries, "commit.style").text.contains("8 of 8"));

    // Another branch from an older commit: only its own new commit is read.
    f.git(&["checkout", "-q", "-b", "topic", "HEAD~3"]);
    f.commit("Add topic work", &["c.txt"]);
    let topic = run(true);
    assert_eq!(topic.status.new_commits, 1);
    assert_eq!(topic.status.commits_mined, 6);
    assert_eq!(topic.status.branch.as_deref(), Some("topic"));
    // And back: main's own commits were kept aside, nothing is read again.
    f.git(&["checkout", "-q", "main"]);
    let back = run(true);
    assert_eq!(back.status.state, HistoryState::Mined);
    assert_eq!(back.status.new_commits, 0);
    assert_eq!(back.status.commits_mined, 8);
}

#[test]
fn the_cap_keeps_the_newest_commits() {
    let mut f = Fixture::new();
    for i in 0..10 {
        f.commit(&format!("Add step {i}"), &["a.txt"]);
    }
    let options = HistoryOptions {
        max_commits: 4,
        ..Default::default()
    };
    let m = mine(&f.root, "repo:t", None, &options, false, &|_, _| {});
    assert_eq!(m.status.commits_mined, 4);
    assert!(m.status.truncated);
}

#[test]
fn no_repository_and_no_commits_are_statuses_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = mine(
        dir.path(),
        "dir:x",
        None,
        &HistoryOptions::default(),
        false,
        &|_, _| {},
    );
    assert_eq!(m.status.state, HistoryState::NoRepository);
    assert!(m
        .status
        .message
        .unwrap()
        .contains("not in a git repository"));
    assert!(m.entries.is_empty());

    let f = Fixture::new();
    let m = f.mine();
    assert_eq!(m.status.state, HistoryState::NoCommits);
    assert_eq!(
        m.status.message.as_deref(),
        Some("the repository has no commits yet")
    );
}

#[test]
fn a_detached_head_is_mined_and_reported() {
    let mut f = Fixture::new();
    for i in 0..6 {
        f.commit(&format!("Add step {i}"), &["a.txt"]);
    }
    f.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let m = f.mine();
    assert_eq!(m.status.state, HistoryState::Mined);
    assert!(m.status.detached);
    assert_eq!(m.status.branch.as_deref(), Some("HEAD"));
    assert_eq!(m.status.commits_mined, 5);
}

#[test]
fn shallow_clones_bare_repositories_and_submodules_are_mined() {
    let mut f = Fixture::new();
    for i in 0..8 {
        f.commit(&format!("Add step {i}"), &["a.txt", "b.txt"]);
    }
    let parent = f.root.parent().unwrap().to_path_buf();
    let url = format!("file://{}", f.root.display());

    run_git(
        &parent,
        &["clone", "-q", "--depth", "3", &url, "shallow"],
        f.time,
    );
    let shallow = parent.join("shallow");
    let m = mine(
        &shallow,
        "repo:s",
        None,
        &HistoryOptions::default(),
        false,
        &|_, _| {},
    );
    assert_eq!(m.status.state, HistoryState::Mined);
    assert!(m.status.shallow);
    assert_eq!(m.status.commits_mined, 3);
    // The boundary commit's parent is missing: it is not read as adding the whole tree.
    assert!(m.entries.iter().all(|e| !e.text.contains("3 of 3 commits")));

    run_git(
        &parent,
        &["clone", "-q", "--bare", &url, "bare.git"],
        f.time,
    );
    let m = mine(
        &parent.join("bare.git"),
        "repo:b",
        None,
        &HistoryOptions::default(),
        false,
        &|_, _| {},
    );
    assert_eq!(m.status.state, HistoryState::Mined);
    assert!(m.status.bare);
    assert_eq!(m.status.commits_mined, 8);

    let mut sup = Fixture::new();
    sup.commit("Start the superproject", &["main.c"]);
    sup.git(&["submodule", "add", "-q", &url, "lib"]);
    sup.commit("Add lib as a submodule", &[]);
    sup.commit("Use lib", &["main.c"]);
    run_git(
        &sup.root.join("lib"),
        &["checkout", "-q", "HEAD~1"],
        sup.time,
    );
    sup.commit("Pin lib one commit back", &[]);
    let m = sup.mine();
    assert_eq!(m.status.state, HistoryState::Mined);
    assert_eq!(m.status.commits_mined, 4);
    let inside = mine(
        &sup.root.join("lib"),
        "repo:l",
        None,
        &HistoryOptions::default(),
        false,
        &|_, _| {},
    );
    assert_eq!(inside.status.state, HistoryState::Mined);
    assert!(inside.status.detached);
    assert_eq!(inside.status.commits_mined, 7);
}

#[test]
fn dates_and_iso_weeks_match_the_calendar() {
    assert_eq!(date(0), "1970-01-01");
    assert_eq!(date(START), "2026-03-02");
    assert_eq!(iso_week(START), (2026, 10));
    // 2021-01-03 (a Sunday) belongs to week 53 of 2020; 2024-12-30 to week 1 of 2025.
    assert_eq!(iso_week(1_609_632_000), (2020, 53));
    assert_eq!(iso_week(1_735_516_800), (2025, 1));
}

#[test]
fn changed_paths_match_git_diff_tree() {
    let mut f = Fixture::new();
    f.commit(
        "Start",
        &[
            "a.txt",
            "a/x.rs",
            "a-b/y.rs",
            "deep/one/two/three.rs",
            "gone/g1",
            "gone/sub/g2",
            "same/s",
        ],
    );
    std::fs::remove_dir_all(f.root.join("gone")).unwrap();
    std::fs::remove_file(f.root.join("a.txt")).unwrap();
    f.write("a.txt/inner", "now a directory\n");
    f.commit(
        "Shuffle",
        &[
            "a/x.rs",
            "a/new.rs",
            "deep/one/two/three.rs",
            "deep/one/other.rs",
            "z",
        ],
    );
    let expected = |rev: &str| {
        let mut v: Vec<String> = f
            .git(&[
                "diff-tree",
                "-r",
                "--root",
                "--no-renames",
                "--name-only",
                "--no-commit-id",
                rev,
            ])
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let m = f.mine();
    assert_eq!(m.status.commits_mined, 2);
    let state = tempfile::tempdir().unwrap();
    mine(
        &f.root,
        "repo:d",
        Some(state.path()),
        &HistoryOptions::default(),
        false,
        &|_, _| {},
    );
    let saved: State =
        serde_json::from_slice(&std::fs::read(state_file(state.path(), "repo:d")).unwrap())
            .unwrap();
    for (commit, rev) in saved.commits.iter().zip(["HEAD", "HEAD~1"]) {
        let mut paths = commit.paths.clone();
        paths.sort();
        assert_eq!(paths, expected(rev), "{rev}");
    }
}

#[test]
fn couplings_and_habits_the_history_no_longer_shows_are_retired() {
    use crate::memory::Source;
    let mut f = Fixture::new();
    for i in 0..5 {
        f.commit(&format!("Change a and b {i}"), &["a.rs", "b.rs"]);
    }
    let before = f.mine().entries;
    let coupled = one(&before, "cochange.a.rs").clone();
    let style = one(&before, "commit.style").clone();
    for i in 0..8 {
        f.commit(&format!("Change a alone {i}"), &["a.rs"]);
    }
    let after = f.mine().entries;
    assert!(by_key(&after, "cochange.a.rs").is_empty());
    let produced: HashSet<String> = after.iter().map(|e| e.id.clone()).collect();
    let mut user = Entry::user("repo:test", Layer::Memory, Source::User, "Keep this.");
    user.key = Some("commit.style".into());
    let retired = retired(vec![coupled.clone(), style.clone(), user], &produced);
    // The coupling is gone; the style is produced again; a person's entry is never touched.
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].id, coupled.id);
    assert_eq!(retired[0].status, Status::Expired);
    assert_eq!(retired[0].history.last().unwrap().action, "expired");
}

#[test]
fn secrets_in_subjects_and_branch_names_are_redacted_before_they_are_kept() {
    // Built from parts, so that no token-shaped literal sits in the source.
    let token = format!(
        "xoxb-{}-{}-{}",
        "1".repeat(12),
        "2".repeat(13),
        "Ab9".repeat(8)
    );
    let branch_token = format!("glpat-{}", "Xy7Qw3Er5T".repeat(2));
    let mut f = Fixture::new();
    f.commit(&format!("Rotate the Slack bot token {token}"), &["a.txt"]);
    f.commit("Add the rotation notes", &["b.txt"]);
    f.git(&["checkout", "-q", "-b", &format!("release/{branch_token}")]);
    let state = tempfile::tempdir().unwrap();
    let mined = mine(
        &f.root,
        "repo:t",
        Some(state.path()),
        &HistoryOptions::default(),
        false,
        &|_, _| {},
    );
    assert_eq!(mined.status.state, HistoryState::Mined);
    // The subject, the branch as kept in the state, and the branch among the names the
    // naming habit is read from.
    assert_eq!(mined.status.redacted, 3, "{:?}", mined.status);
    assert_eq!(
        mined.status.branch.as_deref(),
        Some("release/[REDACTED:gitlab-token]")
    );
    let kept = std::fs::read_to_string(state_file(state.path(), "repo:t")).unwrap();
    assert!(
        !kept.contains(&token) && !kept.contains(&branch_token),
        "{kept}"
    );
    assert!(
        kept.contains("Rotate the Slack bot token [REDACTED:slack-token]"),
        "control: the subject is kept, redacted: {kept}"
    );
    let derived = serde_json::to_string(&mined.entries).unwrap();
    assert!(!derived.contains(&token) && !derived.contains(&branch_token));
}

/// What a merge brought in is `git rev-list <other parents> --not <first parent>`: on
/// branches that merged main in, criss-crossed, were merged twice, and with commits dated
/// before their parents (clock skew).
#[test]
fn merged_commits_match_git_rev_list() {
    let mut f = Fixture::new();
    f.commit("Initial commit", &["README.md"]);
    f.git(&["checkout", "-q", "-b", "feature/a"]);
    f.commit("Start a", &["src/a.rs"]);
    f.git(&["checkout", "-q", "main"]);
    f.commit("Main moves on", &["src/main.rs"]);
    f.git(&["checkout", "-q", "feature/a"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge main into a", "main"]);
    f.commit("More a", &["src/a.rs"]);
    f.git(&["checkout", "-q", "-b", "feature/b", "main"]);
    // Dated a day before its parent.
    let now = f.time;
    f.at(now - 86_400)
        .commit("Start b, clock behind", &["src/b.rs"]);
    f.at(now + 3600).commit("More b", &["src/b.rs"]);
    f.git(&["checkout", "-q", "main"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge a", "feature/a"]);
    f.commit("Main again", &["src/main.rs"]);
    f.git(&["checkout", "-q", "feature/b"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge main into b", "main"]);
    f.commit("Finish b", &["src/b.rs"]);
    f.git(&["checkout", "-q", "main"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge b", "feature/b"]);
    f.git(&["checkout", "-q", "feature/a"]);
    f.commit("a after its merge", &["src/a.rs"]);
    f.git(&["checkout", "-q", "main"]);
    f.git(&["merge", "-q", "--no-ff", "-m", "Merge a again", "feature/a"]);

    let repo = Repository::open(&f.root).unwrap();
    let merges: Vec<String> = f
        .git(&["rev-list", "--merges", "HEAD"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(merges.len(), 5);
    let mut reader = walk::Reader::new(&repo, false);
    for merge in &merges {
        let commit = repo.find_commit(Oid::from_str(merge).unwrap()).unwrap();
        let info = reader.read(commit.id()).unwrap();
        let mut expected: Vec<String> = f
            .git(&[
                "rev-list",
                &format!("{merge}^2"),
                "--not",
                &format!("{merge}^1"),
            ])
            .lines()
            .map(str::to_string)
            .collect();
        let mut got = info.merged.clone();
        let times: Vec<i64> = got
            .iter()
            .map(|id| {
                let oid = Oid::from_str(id).unwrap();
                repo.find_commit(oid).unwrap().time().seconds()
            })
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {times:?}"
        );
        got.sort();
        expected.sort();
        assert!(!expected.is_empty());
        assert_eq!(got, expected, "merge {merge}");
    }
}
