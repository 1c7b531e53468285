//! Knowledge about the outside world kept as data rather than code: which files are in which
//! language and how it writes tests and doc comments (`grammars/languages.toml`: extensions,
//! shebangs, grammar, test-file patterns, doc-comment openers) and which packages are
//! alternatives for one role in an ecosystem (`libraries.toml`). The files are embedded at
//! build time and parsed once; the unit tests below validate them, so that a malformed entry
//! fails the build's tests, not a user's session.

use std::sync::OnceLock;

use serde::Deserialize;

const LIBRARIES: &str = include_str!("libraries.toml");
/// The languages file, shared with the grammar registry (`code::grammars`).
pub const LANGUAGES_TOML: &str = include_str!("../../../grammars/languages.toml");

/// The parsed `languages.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Languages {
    pub language: Vec<LanguageFiles>,
}

/// One grammar and the files it reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageFiles {
    /// The query directory's name (`grammars/<id>/conventions.scm`).
    pub id: String,
    /// The language memories are filed under (TSX counts as `typescript`).
    pub language: String,
    /// The grammar crate, by the name `code::grammars` links it under.
    pub grammar: String,
    pub extensions: Vec<String>,
    /// Interpreters recognised on the `#!` line of files without a known extension.
    #[serde(default)]
    pub shebangs: Vec<String>,
    /// Paths of test code only: `dir/` (or `a/b/`) for directories anywhere in the path, else
    /// a file-name pattern where `*` is any run of characters.
    #[serde(default)]
    pub test_files: Vec<String>,
    /// How a documentation comment starts: a line prefix (`///`) or a block opener (`/**`).
    #[serde(default)]
    pub doc_comments: Vec<String>,
}

/// The languages catalog, parsed on first use.
pub fn languages() -> &'static Languages {
    static PARSED: OnceLock<Languages> = OnceLock::new();
    PARSED.get_or_init(|| {
        // Embedded data, validated by `languages_file_is_valid` below.
        toml::from_str(LANGUAGES_TOML).expect("languages.toml parses (see its unit test)")
    })
}

/// The language id of files with this extension (`tsx` → `typescript`).
pub fn language_of_extension(extension: &str) -> Option<&'static str> {
    languages()
        .language
        .iter()
        .find(|l| l.extensions.iter().any(|e| e == extension))
        .map(|l| l.language.as_str())
}

/// Whether the file at `relative` (`/`-separated) is test code only, by the `test_files`
/// patterns of `language` (the language memories are filed under: TSX's are TypeScript's).
pub fn is_test_file(language: &str, relative: &str) -> bool {
    let (dirs, name) = match relative.rsplit_once('/') {
        Some((dirs, name)) => (dirs.split('/').collect::<Vec<_>>(), name),
        None => (Vec::new(), relative),
    };
    languages()
        .language
        .iter()
        .filter(|l| l.language == language)
        .flat_map(|l| &l.test_files)
        .any(|pattern| match pattern.strip_suffix('/') {
            Some(run) => holds_run(&dirs, run),
            None => name_matches(pattern, name),
        })
}

/// Whether the directories `dirs` contain the run of directories `run` (`src/test`).
fn holds_run(dirs: &[&str], run: &str) -> bool {
    let run: Vec<&str> = run.split('/').collect();
    dirs.windows(run.len()).any(|w| w == run.as_slice())
}

/// Whether `dir` (relative, `/`-separated) lies in a directory some language keeps its tests
/// in (`tests/`, `__tests__/`, `src/test/`): what is there serves the tests, whatever makes it.
pub fn is_test_directory(dir: &str) -> bool {
    let dirs: Vec<&str> = dir.split('/').filter(|d| !d.is_empty()).collect();
    languages()
        .language
        .iter()
        .flat_map(|l| &l.test_files)
        .filter_map(|pattern| pattern.strip_suffix('/'))
        .any(|run| holds_run(&dirs, run))
}

/// The documentation-comment openers of `language` (the first entry filed under it).
pub fn doc_comments(language: &str) -> &'static [String] {
    languages()
        .language
        .iter()
        .find(|l| l.language == language)
        .map_or(&[], |l| l.doc_comments.as_slice())
}

/// `*` matches any run of characters, every other character itself.
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            // Try the shortest run first; patterns hold one or two stars.
            (0..=rest.len())
                .filter(|&at| rest.is_char_boundary(at))
                .any(|at| name_matches(tail, &rest[at..]))
        }
    }
}

/// The parsed `libraries.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Libraries {
    pub library: Vec<Library>,
    pub alternatives: Vec<Alternatives>,
}

/// A package that, when a manifest depends on it, says something about the stack.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    /// Whose manifests list it (`rust`, `python`, `go`, `javascript` for package.json).
    pub ecosystem: String,
    pub package: String,
    /// The memory it fills (`stack.framework`, `test.framework`).
    pub slot: String,
    /// The value stated (`axum`, `pytest`).
    pub name: String,
    /// The sentence a copilot reads.
    pub text: String,
    /// Packages that usually come with this one; named in the sentence when present.
    #[serde(default)]
    pub companions: Vec<String>,
}

/// Packages of one ecosystem that fill the same role: choosing one is choosing against the
/// others (`log`, `tracing`, `slog` for logging in Rust).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternatives {
    /// The language whose manifests name these packages (`rust`, `javascript`, `python`, `go`).
    pub ecosystem: String,
    /// What the packages are for, as a slot name (`logging`, `http_client`).
    pub role: String,
    pub packages: Vec<String>,
}

/// The libraries catalog, parsed on first use.
pub fn libraries() -> &'static Libraries {
    static PARSED: OnceLock<Libraries> = OnceLock::new();
    PARSED.get_or_init(|| {
        // Embedded data, validated by `libraries_file_is_valid` below.
        toml::from_str(LIBRARIES).expect("libraries.toml parses (see its unit test)")
    })
}

/// The catalogued packages of one ecosystem, in the file's order.
pub fn libraries_of(ecosystem: &str) -> impl Iterator<Item = &'static Library> + '_ {
    libraries()
        .library
        .iter()
        .filter(move |l| l.ecosystem == ecosystem)
}

/// Whether `package` of `ecosystem` is one of a group of known alternatives.
pub fn is_known_library(ecosystem: &str, package: &str) -> bool {
    libraries()
        .alternatives
        .iter()
        .any(|a| a.ecosystem == ecosystem && a.packages.iter().any(|p| p == package))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn libraries_file_is_valid() {
        let parsed: Libraries = toml::from_str(LIBRARIES).unwrap_or_else(|e| panic!("{e}"));
        let ecosystems = ["rust", "javascript", "python", "go"];
        let mut packages = BTreeSet::new();
        for library in &parsed.library {
            assert!(
                ecosystems.contains(&library.ecosystem.as_str()),
                "{library:?}"
            );
            assert!(
                packages.insert((&library.ecosystem, &library.package)),
                "{} {} is listed twice",
                library.ecosystem,
                library.package
            );
            assert!(
                library.slot.contains('.') && !library.name.is_empty(),
                "{library:?}"
            );
            assert!(
                library.text.ends_with('.') && !library.text.contains("  "),
                "a sentence: {library:?}"
            );
        }
        let mut roles = BTreeSet::new();
        for group in &parsed.alternatives {
            assert!(
                ecosystems.contains(&group.ecosystem.as_str()),
                "unknown ecosystem {}",
                group.ecosystem
            );
            assert!(
                roles.insert((&group.ecosystem, &group.role)),
                "{} {} is listed twice",
                group.ecosystem,
                group.role
            );
            assert!(
                group.packages.len() >= 2,
                "{} {}: alternatives need two packages at least",
                group.ecosystem,
                group.role
            );
            let unique: BTreeSet<&String> = group.packages.iter().collect();
            assert_eq!(unique.len(), group.packages.len(), "{:?}", group.packages);
            assert!(group
                .role
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn languages_file_is_valid() {
        let parsed: Languages = toml::from_str(LANGUAGES_TOML).unwrap_or_else(|e| panic!("{e}"));
        let mut extensions = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for language in &parsed.language {
            assert!(ids.insert(&language.id), "{} is listed twice", language.id);
            assert!(!language.extensions.is_empty(), "{}", language.id);
            for opener in &language.doc_comments {
                assert!(
                    opener.starts_with("//") || opener.starts_with("/*"),
                    "{}: {opener}",
                    language.id
                );
            }
            for pattern in &language.test_files {
                assert!(
                    !pattern.starts_with('/') && !pattern.contains("**") && !pattern.is_empty(),
                    "{}: {pattern}",
                    language.id
                );
            }
            for extension in &language.extensions {
                assert!(
                    extensions.insert(extension),
                    ".{extension} belongs to two languages"
                );
                assert!(!extension.starts_with('.'), "{extension}: without the dot");
            }
        }
    }

    #[test]
    fn file_patterns_say_which_paths_hold_test_code() {
        for (language, path) in [
            ("rust", "crates/core/tests/it.rs"),
            ("rust", "src/store/tests.rs"),
            ("python", "test_api.py"),
            ("python", "pkg/api_test.py"),
            ("python", "conftest.py"),
            ("typescript", "src/__tests__/store.ts"),
            ("typescript", "src/store.test.tsx"),
            ("javascript", "lib/router.spec.mjs"),
            ("go", "mux_test.go"),
            ("java", "core/src/test/java/a/B.java"),
            ("java", "GsonTest.java"),
        ] {
            assert!(is_test_file(language, path), "{language} {path}");
        }
        for (language, path) in [
            ("rust", "src/testing.rs"),
            ("python", "src/contest.py"),
            ("python", "pkg/attest.py"),
            ("typescript", "src/testimony.ts"),
            ("go", "testdata/mux.go"),
            ("java", "src/main/java/test/Helper.java"),
            ("java", "src/testing/A.java"),
            ("ruby", "test/a_test.rb"),
        ] {
            assert!(!is_test_file(language, path), "{language} {path}");
        }
    }

    #[test]
    fn test_directories_are_any_languages() {
        for dir in [
            "tests/certs/expired",
            "src/__tests__",
            "core/src/test/java",
            "test",
        ] {
            assert!(is_test_directory(dir), "{dir}");
        }
        for dir in ["", "docs", "src/testing", "contest", "testdata"] {
            assert!(!is_test_directory(dir), "{dir}");
        }
    }

    #[test]
    fn extensions_name_their_language() {
        assert_eq!(language_of_extension("tsx"), Some("typescript"));
        assert_eq!(language_of_extension("pyi"), Some("python"));
        assert_eq!(language_of_extension("cjs"), Some("javascript"));
        assert_eq!(language_of_extension("md"), None);
    }

    #[test]
    fn libraries_are_listed_per_ecosystem_in_order() {
        let rust: Vec<&str> = libraries_of("rust").map(|l| l.package.as_str()).collect();
        assert!(rust.contains(&"tokio"), "{rust:?}");
        assert!(libraries_of("go").all(|l| l.ecosystem == "go"));
        let tracing = libraries_of("rust")
            .find(|l| l.package == "tracing")
            .map(|l| l.companions.clone());
        assert_eq!(tracing, Some(vec!["tracing-subscriber".to_string()]));
    }

    #[test]
    fn known_libraries_are_found_by_ecosystem() {
        assert!(is_known_library("rust", "tracing"));
        assert!(is_known_library("go", "github.com/sirupsen/logrus"));
        assert!(!is_known_library("python", "tracing"));
        assert!(!is_known_library("rust", "serde"));
    }
}
