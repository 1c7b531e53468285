//! Facts about a file as a whole: license header, where its tests and regression tests live,
//! what they assert with, and its runtime and logging libraries.

use super::text::{components, issue_reference, license_header, regression_home, test_file_name};
use super::{intern, SourceView};

impl<'a> SourceView<'a> {
    /// What a test file asserts with, judged by its imports (or, in Python, by which of
    /// plain `assert` statements and `self.assert…` calls it has more of).
    pub(super) fn assertion_library(&self) -> Option<(&'static str, u32)> {
        let imported = |me: &Self, found: &[(&[&str], &'static str)]| {
            found
                .iter()
                .find_map(|(modules, name)| me.imports_any(modules).map(|line| (*name, line)))
        };
        match self.language {
            "python" => {
                let plain = self
                    .text
                    .lines()
                    .filter(|l| {
                        let t = l.trim_start();
                        t.starts_with("assert ") || t.starts_with("assert(")
                    })
                    .count();
                let unit = self.text.matches("self.assert").count();
                if plain == 0 && unit == 0 {
                    return None;
                }
                if plain >= unit {
                    Some(("plain assert", self.line_of_text("assert").unwrap_or(1)))
                } else {
                    Some((
                        "unittest assertions",
                        self.line_of_text("self.assert").unwrap_or(1),
                    ))
                }
            }
            "go" => Some(
                imported(self, &[(&["github.com/stretchr/testify"], "testify")])
                    .unwrap_or(("the standard library", 1)),
            ),
            "typescript" | "javascript" => imported(
                self,
                &[
                    (&["chai"], "chai"),
                    (
                        &[
                            "assert",
                            "node:assert",
                            "assert/strict",
                            "node:assert/strict",
                        ],
                        "node:assert",
                    ),
                ],
            )
            .or_else(|| self.line_of_text("expect(").map(|l| ("expect", l))),
            "java" => imported(
                self,
                &[
                    (&["com.google.common.truth"], "Truth"),
                    (&["org.assertj"], "AssertJ"),
                    (&["org.hamcrest"], "Hamcrest"),
                    (
                        &[
                            "org.junit.Assert",
                            "org.junit.jupiter.api.Assertions",
                            "junit.framework",
                        ],
                        "JUnit assertions",
                    ),
                ],
            ),
            _ => None,
        }
    }

    /// Facts about the file as a whole: test framework and placement, runtime, logging.
    pub(super) fn file_level(&mut self, has_tests: bool) {
        match license_header(self.text) {
            Some(holder) => self.facts.add("headers.license", intern(holder), 1),
            None => self.facts.add("headers.license", "none", 1),
        }
        // Where the tests that cite an issue live: in a place of their own, or in the test
        // file of the code they fix.
        let cited = if self.test_file && has_tests {
            issue_reference(self.text)
        } else {
            // Inline test modules: only their own text, not the code they test.
            self.test_ranges.iter().find_map(|range| {
                let before = self.text[..range.start].matches('\n').count() as u32;
                issue_reference(&self.text[range.clone()]).map(|line| before + line)
            })
        };
        if let Some(line) = cited {
            let home = if regression_home(self.rel) {
                "dedicated"
            } else {
                "alongside"
            };
            self.facts.add("test.regressions", home, line);
        }
        if self.test_file && has_tests {
            if let Some(style) = test_file_name(self.language, self.rel) {
                self.facts.add("naming.test_file", style, 1);
            }
            if let Some((library, line)) = self.assertion_library() {
                self.facts.add("test.assertions", library, line);
            }
        }
        let rel = self.rel;
        let test_file = self.test_file;
        let in_dir = |dirs: &[&str]| components(rel).any(|c| dirs.contains(&c));
        match self.language {
            "rust" => {
                if !self.test_ranges.is_empty() {
                    let line = self.text[..self.test_ranges[0].start].lines().count() as u32 + 1;
                    self.facts.add("test.placement", "inline", line);
                }
                if test_file && has_tests {
                    self.facts.add("test.placement", "tests/", 1);
                }
                for (needle, runtime) in [
                    ("tokio::", "tokio"),
                    ("async_std::", "async-std"),
                    ("smol::", "smol"),
                ] {
                    if let Some(line) = self.line_of_text(needle) {
                        self.facts.add("async.runtime", runtime, line);
                    }
                }
                for (needle, library) in [
                    ("thiserror", "thiserror"),
                    ("anyhow", "anyhow"),
                    ("impl std::error::Error for", "std::error::Error"),
                    ("impl Error for", "std::error::Error"),
                ] {
                    if !test_file {
                        if let Some(line) = self.line_of_text(needle) {
                            self.facts.add("errors.library", library, line);
                        }
                    }
                }
            }
            "python" => {
                if test_file || has_tests {
                    if let Some(line) = self.imports_any(&["unittest"]) {
                        self.facts.add("test.framework", "unittest", line);
                    } else if has_tests {
                        let line = self.imports_any(&["pytest"]).unwrap_or(1);
                        self.facts.add("test.framework", "pytest", line);
                    }
                    if has_tests {
                        let value = if in_dir(&["tests", "test"]) {
                            "tests/"
                        } else {
                            "alongside"
                        };
                        self.facts.add("test.placement", value, 1);
                    }
                }
                for (module, runtime) in
                    [("asyncio", "asyncio"), ("trio", "trio"), ("anyio", "anyio")]
                {
                    if let Some(line) = self.imports_any(&[module]) {
                        self.facts.add("async.runtime", runtime, line);
                    }
                }
                if !test_file {
                    for (module, library) in [
                        ("logging", "logging"),
                        ("loguru", "loguru"),
                        ("structlog", "structlog"),
                    ] {
                        if let Some(line) = self.imports_any(&[module]) {
                            self.facts.add("logging.library", library, line);
                        }
                    }
                }
            }
            "typescript" | "javascript" => {
                self.script_error_idioms();
                if has_tests {
                    let framework = [
                        ("vitest", "vitest"),
                        ("@jest/globals", "jest"),
                        ("mocha", "mocha"),
                        ("node:test", "node:test"),
                    ]
                    .into_iter()
                    .find_map(|(m, f)| self.imports_any(&[m]).map(|l| (f, l)));
                    let framework =
                        framework.or_else(|| self.line_of_text("jest.").map(|l| ("jest", l)));
                    if let Some((value, line)) = framework {
                        self.facts.add("test.framework", value, line);
                    }
                    let value = if in_dir(&["__tests__"]) {
                        "__tests__"
                    } else if in_dir(&["test", "tests"]) {
                        "tests/"
                    } else {
                        "colocated"
                    };
                    self.facts.add("test.placement", value, 1);
                }
                if !test_file {
                    for library in ["winston", "pino", "bunyan", "loglevel"] {
                        if let Some(line) = self.imports_any(&[library]) {
                            self.facts.add("logging.library", library, line);
                        }
                    }
                }
            }
            "go" => {
                self.go_import_groups();
                if test_file && has_tests {
                    // Every Go test runs under `go test`; testify is an assertion library,
                    // counted as such. The evidence is the file's `testing` import.
                    let line = self.imports_any(&["testing"]).unwrap_or(1);
                    self.facts.add("test.framework", "go test", line);
                }
                if !test_file {
                    self.go_error_matching();
                    for (module, library) in [
                        ("log/slog", "log/slog"),
                        ("log", "log"),
                        ("go.uber.org/zap", "zap"),
                        ("github.com/sirupsen/logrus", "logrus"),
                        ("github.com/rs/zerolog", "zerolog"),
                    ] {
                        let found = self.imports.iter().find(|(p, _)| p == module);
                        if let Some((_, line)) = found {
                            self.facts.add("logging.library", library, *line);
                        }
                    }
                }
            }
            "java" if has_tests => {
                let framework = [
                    ("org.junit.jupiter", "JUnit 5"),
                    ("org.junit", "JUnit 4"),
                    ("org.testng", "TestNG"),
                ]
                .into_iter()
                .find_map(|(m, f)| self.imports_any(&[m]).map(|l| (f, l)));
                if let Some((value, line)) = framework {
                    self.facts.add("test.framework", value, line);
                }
            }
            _ => {}
        }
    }
}
