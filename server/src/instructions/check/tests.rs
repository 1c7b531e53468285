//! Checks over `tests/fixtures/instructions/contradicted`, a pnpm TypeScript project whose
//! AGENTS.md contradicts it, and over copies edited to remove each piece of evidence.

use std::path::{Path, PathBuf};

use super::manager::translate;
use super::*;
use crate::instructions::read::read_all;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/instructions/contradicted")
}

fn findings_in(root: &Path) -> Vec<Finding> {
    let walk = crate::workspace::walk(root, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
    let reading = read_all(root, &walk.files);
    let code = scan_code_facts(root, &walk.files);
    check(&reading, &Measured::gather(root, &walk.files, code))
}

/// A copy of the fixture to edit.
fn copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = vec![fixture()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let rel = entry.path().strip_prefix(fixture()).unwrap().to_path_buf();
            if entry.path().is_dir() {
                std::fs::create_dir_all(tmp.path().join(&rel)).unwrap();
                stack.push(entry.path());
            } else {
                std::fs::copy(entry.path(), tmp.path().join(&rel)).unwrap();
            }
        }
    }
    tmp
}

fn summary(findings: &[Finding]) -> Vec<(usize, Kind, &str, Option<&str>)> {
    findings
        .iter()
        .map(|f| (f.line, f.kind, f.found.as_str(), f.replacement.as_deref()))
        .collect()
}

#[test]
fn every_contradiction_of_the_fixture_is_found_with_its_evidence() {
    let findings = findings_in(&fixture());
    assert_eq!(
        summary(&findings),
        vec![
            (5, Kind::PackageManager, "npm install", Some("pnpm install")),
            (6, Kind::Indentation, "4 spaces", Some("2 spaces")),
            (7, Kind::Command, "lint", None),
            (8, Kind::Command, "typecheck", Some("type-check")),
            (9, Kind::Path, "docs/architecture.md", None),
        ]
    );
    let message = |line: usize| {
        findings
            .iter()
            .find(|f| f.line == line)
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        message(5),
        "`npm install` uses npm, but this repository installs with pnpm: `pnpm-lock.yaml` is \
         checked in, and no yarn.lock, bun.lockb, bun.lock, package-lock.json."
    );
    assert!(
        message(6)
            .contains("TypeScript files indent with 2 spaces (6 of 6 files, e.g. `src/cart.ts:2`)"),
        "{}",
        message(6)
    );
    assert_eq!(
        message(7),
        "`make lint`: no Makefile target `lint` in Makefile (targets: `build`, `test`)."
    );
    assert!(
        message(8).contains("scripts: `build`, `test`, `type-check`"),
        "{}",
        message(8)
    );
    // The column points at the value: `npm install` starts after the backtick.
    let line = "- Install dependencies with `npm install`.";
    assert_eq!(&line[findings[0].start..findings[0].end], "npm install");
}

#[test]
fn rules_that_agree_with_the_repository_give_nothing() {
    let tmp = copy();
    std::fs::write(
        tmp.path().join("AGENTS.md"),
        "- Install dependencies with `pnpm install`, never with npm.\n\
         - Indent with 2 spaces.\n- Run `make build && make test` and `pnpm test`.\n\
         - Type-check with `pnpm run type-check`.\n- See `docs/setup.md` and `src/`.\n\
         - Go modules come from `github.com/acme/shop`; HTTP uses `net/http`.\n\
         - Build output goes to `dist/shop.js`.\n- Install the CLI with `npm install -g shop`.\n\
         - Use `npm install` in the YAML pipeline.\n\
         ```sh\npnpm install\nmake test\n```\n",
    )
    .unwrap();
    let findings = findings_in(tmp.path());
    // The one rule left is `npm install` in the pipeline: npm contradicts the lock file.
    assert_eq!(
        summary(&findings),
        vec![(9, Kind::PackageManager, "npm install", Some("pnpm install"))]
    );
}

#[test]
fn evidence_that_is_not_one_sided_gives_no_finding() {
    let tmp = copy();
    // Two lock files: the manager is not certain.
    std::fs::write(tmp.path().join("package-lock.json"), "{}").unwrap();
    // A Makefile that includes another may get its targets from there.
    std::fs::write(
        tmp.path().join("Makefile"),
        "include common.mk\nbuild:\n\ttsc\n",
    )
    .unwrap();
    // A language with a split habit says nothing about the indentation rule.
    for name in ["a", "b", "c"] {
        std::fs::write(
            tmp.path().join(format!("src/{name}.ts")),
            "export function f(x: number): number {\n    if (x > 1) {\n        return x;\n    }\n    return 0;\n}\n",
        )
        .unwrap();
    }
    let kinds: Vec<Kind> = findings_in(tmp.path()).iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        vec![Kind::Command, Kind::Path],
        "only the script and the path remain"
    );
}

#[test]
fn a_moved_file_is_offered_as_the_replacement() {
    let tmp = copy();
    std::fs::create_dir_all(tmp.path().join("docs/design")).unwrap();
    std::fs::write(
        tmp.path().join("docs/design/architecture.md"),
        "# Architecture\n",
    )
    .unwrap();
    let path = findings_in(tmp.path())
        .into_iter()
        .find(|f| f.kind == Kind::Path)
        .expect("the path finding");
    assert_eq!(
        path.replacement.as_deref(),
        Some("docs/design/architecture.md")
    );
    assert!(
        path.message.contains("a file of that name is at"),
        "{}",
        path.message
    );
}

#[test]
fn commands_translate_only_where_the_meaning_is_certain() {
    let t = |c: &str, m: &str| translate(&c.split_whitespace().collect::<Vec<_>>(), m);
    assert_eq!(
        t("npm ci", "pnpm").as_deref(),
        Some("pnpm install --frozen-lockfile")
    );
    assert_eq!(
        t("npm install -D vitest", "yarn").as_deref(),
        Some("yarn add -D vitest")
    );
    assert_eq!(t("npm test", "bun").as_deref(), Some("bun run test"));
    assert_eq!(
        t("yarn run build --watch", "npm").as_deref(),
        Some("npm run build --watch")
    );
    assert_eq!(t("npm install --legacy-peer-deps", "pnpm"), None);
    assert_eq!(t("npm publish", "pnpm"), None);
}

#[test]
fn claims_read_indentation_and_package_managers() {
    let c = |t: &str| {
        claims(t)
            .into_iter()
            .map(|c| format!("{}={}", c.key, c.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(c("Use 2-space indentation."), ["format.indent=spaces:2"]);
    assert_eq!(c("Indent with tabs."), ["format.indent=tabs"]);
    assert_eq!(
        c("Indent with four spaces, never tabs."),
        Vec::<String>::new()
    );
    assert_eq!(c("Never indent with tabs."), Vec::<String>::new());
    assert_eq!(
        c("Install with `yarn install`."),
        ["stack.package_manager=yarn"]
    );
    assert_eq!(c("Use pnpm, not npm."), Vec::<String>::new());
}
