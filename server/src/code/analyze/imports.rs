//! What a file imports: import paths, Go import groups and the logging library its calls use.

use tree_sitter::Node;

use super::{line_of, SourceView};

impl<'a> SourceView<'a> {
    /// How a Go file groups its `import ( … )` block, when it imports both the standard
    /// library and other modules: goimports' layout puts the standard library in a first
    /// group of its own, the other modules after a blank line; or all in one group.
    pub(super) fn go_import_groups(&mut self) {
        let start = if self.text.starts_with("import (") {
            0
        } else {
            match self.text.find("\nimport (") {
                Some(at) => at + 1,
                None => return,
            }
        };
        let body_start = start + "import (".len();
        let Some(length) = self.text[body_start..].find("\n)") else {
            return;
        };
        // Per group: whether it holds standard-library paths, and other modules' paths.
        let mut groups: Vec<(bool, bool)> = vec![(false, false)];
        for line in self.text[body_start..body_start + length].lines() {
            let code = line.trim();
            if code.is_empty() {
                if groups.last() != Some(&(false, false)) {
                    groups.push((false, false));
                }
                continue;
            }
            if code.starts_with("//") {
                continue;
            }
            let Some(path) = code.split('"').nth(1) else {
                continue;
            };
            // Standard-library paths have no dot in their first element (`net/http`).
            let standard = !path.split('/').next().unwrap_or("").contains('.');
            if let Some(group) = groups.last_mut() {
                if standard {
                    group.0 = true;
                } else {
                    group.1 = true;
                }
            }
        }
        groups.retain(|g| g.0 || g.1);
        if !(groups.iter().any(|g| g.0) && groups.iter().any(|g| g.1)) {
            return;
        }
        let separated = groups[0] == (true, false) && groups.iter().all(|g| !(g.0 && g.1));
        let value = if separated { "separated" } else { "together" };
        let line = self.text[..start].matches('\n').count() as u32 + 1;
        self.facts.add("imports.grouping", value, line);
    }

    pub(super) fn import(&mut self, node: Node) {
        let line = line_of(node);
        let text = self.text_of(node);
        let path = text.trim_matches(|c| c == '"' || c == '\'' || c == '`');
        match self.language {
            "rust" => {
                let nested = text.contains('{');
                self.facts.add(
                    "imports.nesting",
                    if nested { "nested" } else { "flat" },
                    line,
                );
            }
            "typescript" | "javascript" => {
                if path.starts_with('.') {
                    self.facts.add("imports.paths", "relative", line);
                } else if path.starts_with("@/") || path.starts_with("~/") || path.starts_with('#')
                {
                    self.facts.add("imports.paths", "alias", line);
                }
            }
            "java" => {
                let wildcard = text.contains(".*");
                self.facts.add(
                    "imports.wildcard",
                    if wildcard { "wildcard" } else { "explicit" },
                    line,
                );
            }
            _ => {}
        }
        self.imports.push((path.to_string(), line));
    }

    pub(super) fn imports_any(&self, prefixes: &[&str]) -> Option<u32> {
        self.imports.iter().find_map(|(path, line)| {
            let module = path
                .trim_start_matches("import ")
                .trim_start_matches("from ")
                .trim_start_matches("static ");
            // The module itself or one below it, without formatting each candidate: this
            // runs for every import and library a file is asked about.
            prefixes
                .iter()
                .any(|p| {
                    module.strip_prefix(p).is_some_and(|below| {
                        below.is_empty()
                            || below.starts_with(['.', '/', ' '])
                            || below.starts_with("::")
                    })
                })
                .then_some(*line)
        })
    }

    pub(super) fn log_call(&mut self, node: Node) {
        let line = line_of(node);
        let text = self.text_of(node);
        let value = match self.language {
            "rust" => {
                let (path, name) = text.rsplit_once("::").unwrap_or(("", text));
                let level = matches!(
                    name,
                    "trace" | "debug" | "info" | "warn" | "error" | "event"
                );
                match (path, name) {
                    ("tracing", _) if level => "tracing",
                    ("log", _) if level => "log",
                    ("", "eprintln") => "eprintln!",
                    ("", _) if level => match self.rust_logger() {
                        Some(logger) => logger,
                        None => return,
                    },
                    _ => return,
                }
            }
            "typescript" | "javascript" => "console",
            "java" => {
                if text.starts_with("System.") {
                    "System.out"
                } else if self.imports_any(&["org.slf4j"]).is_some() {
                    "SLF4J"
                } else if self.imports_any(&["org.apache.logging.log4j"]).is_some() {
                    "Log4j"
                } else if self.imports_any(&["java.util.logging"]).is_some() {
                    "java.util.logging"
                } else {
                    return;
                }
            }
            _ => return,
        };
        self.facts.add("logging.library", value, line);
    }

    /// Which logging crate a bare `info!` means in this file; looked up once per file, since
    /// scanning the text for every macro call would be quadratic.
    pub(super) fn rust_logger(&mut self) -> Option<&'static str> {
        *self.logger.get_or_insert_with(|| {
            if self.text.contains("tracing::") || self.text.contains("use tracing") {
                Some("tracing")
            } else if self.text.contains("log::") {
                Some("log")
            } else {
                None
            }
        })
    }
}
