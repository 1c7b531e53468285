//! The languages tacit reads and their convention queries, from `grammars/` at the top of the
//! repository. Both are embedded in the binary so that it is self-contained. A query is
//! compiled the first time a file of its grammar is read (a Python repository never pays for
//! the Java query); every query is compiled by `every_embedded_query_compiles_against_its_
//! grammar`, so a broken one fails the build's tests with its file and line, and would be
//! logged with them, not lost silently, if it ever shipped.

use std::collections::HashMap;
use std::sync::OnceLock;

use tree_sitter::{Language, Query};

use super::plan::{self, QueryPlan};
use crate::catalog::{Languages, LANGUAGES_TOML};

/// `(id, query text)` for every `grammars/<id>/conventions.scm`.
pub(super) const QUERIES: &[(&str, &str)] = &[
    (
        "rust",
        include_str!("../../../grammars/rust/conventions.scm"),
    ),
    (
        "python",
        include_str!("../../../grammars/python/conventions.scm"),
    ),
    (
        "typescript",
        include_str!("../../../grammars/typescript/conventions.scm"),
    ),
    ("tsx", include_str!("../../../grammars/tsx/conventions.scm")),
    (
        "javascript",
        include_str!("../../../grammars/javascript/conventions.scm"),
    ),
    ("go", include_str!("../../../grammars/go/conventions.scm")),
    (
        "java",
        include_str!("../../../grammars/java/conventions.scm"),
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    #[error("grammars/languages.toml: {0}")]
    Manifest(String),
    #[error("grammars/languages.toml: language `{id}` names the unknown grammar `{grammar}`")]
    UnknownGrammar { id: String, grammar: String },
    #[error("grammars/{id}/conventions.scm is missing")]
    MissingQuery { id: String },
    #[error("grammars/{id}/conventions.scm:{line}:{column}: {message}")]
    Query {
        id: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// One grammar and its convention query.
pub struct Grammar {
    /// The query directory's name (`tsx`).
    pub id: &'static str,
    /// The language memories are filed under (`typescript`).
    pub language: &'static str,
    pub ts_language: Language,
    pub(super) source: &'static str,
    compiled: OnceLock<Result<Compiled, GrammarError>>,
}

/// A grammar's query, compiled.
pub struct Compiled {
    /// Without the patterns that `plan` answers from its tree walk, when there is a plan.
    pub query: Query,
    /// How the query is run; `None` runs it over the whole tree.
    pub plan: Option<QueryPlan>,
}

impl Grammar {
    /// The query, compiled on first use (about 10 to 20 ms a grammar); an error names the
    /// query's file and line, and is logged once.
    pub fn compiled(&self) -> Result<&Compiled, GrammarError> {
        self.compiled
            .get_or_init(|| {
                let compiled = compile(self.id, &self.ts_language, self.source);
                if let Err(e) = &compiled {
                    tracing::error!("{e}: files of this grammar give no code conventions");
                }
                compiled
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[cfg(test)]
impl Grammar {
    /// The same grammar with its whole query run over the whole tree, without a plan: what a
    /// plan must agree with.
    pub(super) fn whole_tree(&self) -> Grammar {
        let query = Query::new(&self.ts_language, self.source).expect("the query compiles");
        Grammar {
            id: self.id,
            language: self.language,
            ts_language: self.ts_language.clone(),
            source: self.source,
            compiled: OnceLock::from(Ok(Compiled { query, plan: None })),
        }
    }
}

fn compile(id: &str, ts_language: &Language, source: &str) -> Result<Compiled, GrammarError> {
    let mut query = Query::new(ts_language, source).map_err(|e| GrammarError::Query {
        id: id.to_string(),
        line: e.row + 1,
        column: e.column + 1,
        message: describe_query_error(&e),
    })?;
    let plan = plan::plan_query(ts_language, &query, source).map(|planned| {
        for pattern in planned.answered {
            query.disable_pattern(pattern);
        }
        planned.plan
    });
    Ok(Compiled { query, plan })
}

pub struct Registry {
    pub grammars: Vec<Grammar>,
    by_extension: HashMap<String, usize>,
    by_shebang: HashMap<String, usize>,
}

/// The grammar crates the server links, by the name `languages.toml` uses.
fn grammar_by_name(name: &str) -> Option<Language> {
    Some(match name {
        "tree-sitter-rust" => tree_sitter_rust::LANGUAGE.into(),
        "tree-sitter-python" => tree_sitter_python::LANGUAGE.into(),
        "tree-sitter-typescript" => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        "tree-sitter-typescript/tsx" => tree_sitter_typescript::LANGUAGE_TSX.into(),
        "tree-sitter-javascript" => tree_sitter_javascript::LANGUAGE.into(),
        "tree-sitter-go" => tree_sitter_go::LANGUAGE.into(),
        "tree-sitter-java" => tree_sitter_java::LANGUAGE.into(),
        _ => return None,
    })
}

/// Names live as long as the process: the registry is built once, so leaking the few short
/// strings is cheaper than threading lifetimes through every finding.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

impl Registry {
    /// Builds a registry from a manifest and query sources; each query is compiled on first
    /// use ([`Grammar::compiled`]).
    pub fn from_sources(
        manifest: &str,
        queries: &[(&str, &'static str)],
    ) -> Result<Registry, GrammarError> {
        let manifest: Languages = toml::from_str(manifest)
            .map_err(|e| GrammarError::Manifest(e.message().to_string()))?;
        let mut registry = Registry {
            grammars: Vec::new(),
            by_extension: HashMap::new(),
            by_shebang: HashMap::new(),
        };
        for lang in manifest.language {
            let ts_language =
                grammar_by_name(&lang.grammar).ok_or_else(|| GrammarError::UnknownGrammar {
                    id: lang.id.clone(),
                    grammar: lang.grammar.clone(),
                })?;
            let source = queries
                .iter()
                .find(|(id, _)| *id == lang.id)
                .map(|(_, s)| *s)
                .ok_or_else(|| GrammarError::MissingQuery {
                    id: lang.id.clone(),
                })?;
            let index = registry.grammars.len();
            for ext in lang.extensions {
                registry.by_extension.insert(ext, index);
            }
            for interpreter in lang.shebangs {
                registry.by_shebang.insert(interpreter, index);
            }
            registry.grammars.push(Grammar {
                id: leak(lang.id),
                language: leak(lang.language),
                ts_language,
                source,
                compiled: OnceLock::new(),
            });
        }
        Ok(registry)
    }

    /// The grammar for a file: by extension, else by the interpreter on its `#!` line.
    pub fn for_file(&self, name: &str, first_line: &str) -> Option<usize> {
        if let Some((_, ext)) = name.rsplit_once('.') {
            return self.by_extension.get(ext).copied();
        }
        let interpreter = first_line.strip_prefix("#!")?;
        let mut words = interpreter.split_whitespace();
        let program = words.next()?.rsplit('/').next()?;
        let program = if program == "env" {
            words.find(|w| !w.starts_with('-'))?
        } else {
            program
        };
        self.by_shebang.get(program).copied()
    }

    /// The file extensions of a language's grammars (`typescript`: `ts`, `mts`, `cts`, `tsx`),
    /// sorted.
    pub fn extensions(&self, language: &str) -> Vec<&str> {
        let mut found: Vec<&str> = self
            .by_extension
            .iter()
            .filter(|(_, index)| self.grammars[**index].language == language)
            .map(|(ext, _)| ext.as_str())
            .collect();
        found.sort_unstable();
        found
    }

    /// Whether a file name alone says it might be source (so that a changed file can be
    /// skipped without reading it).
    pub fn knows_extension(&self, name: &str) -> bool {
        name.rsplit_once('.')
            .is_some_and(|(_, ext)| self.by_extension.contains_key(ext))
    }
}

fn describe_query_error(e: &tree_sitter::QueryError) -> String {
    use tree_sitter::QueryErrorKind as K;
    let what = e.message.trim();
    match e.kind {
        K::NodeType => format!("unknown node type `{what}`"),
        K::Field => format!("unknown field `{what}`"),
        K::Capture => format!("unknown capture `{what}`"),
        K::Predicate => format!("invalid predicate: {what}"),
        K::Structure => format!("impossible pattern: {what}"),
        K::Syntax => format!("syntax error: {what}"),
        K::Language => format!("incompatible grammar: {what}"),
    }
}

static REGISTRY: OnceLock<Result<Registry, GrammarError>> = OnceLock::new();

/// The embedded grammars, read on first use; their queries are compiled as files need them.
pub fn registry() -> Result<&'static Registry, GrammarError> {
    REGISTRY
        .get_or_init(|| Registry::from_sources(LANGUAGES_TOML, QUERIES))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_query_compiles_against_its_grammar() {
        let registry = registry().unwrap_or_else(|e| panic!("{e}"));
        for grammar in &registry.grammars {
            grammar.compiled().unwrap_or_else(|e| panic!("{e}"));
        }
        let ids: Vec<&str> = registry.grammars.iter().map(|g| g.id).collect();
        assert_eq!(
            ids,
            [
                "rust",
                "python",
                "typescript",
                "tsx",
                "javascript",
                "go",
                "java"
            ]
        );
        let tsx = registry.for_file("App.tsx", "").unwrap();
        assert_eq!(registry.grammars[tsx].language, "typescript");
        let script = registry
            .for_file("manage", "#!/usr/bin/env python3")
            .unwrap();
        assert_eq!(registry.grammars[script].id, "python");
        assert!(registry.for_file("README.md", "").is_none());
        // A query without a plan still works, over the whole tree, but costs nearly half a
        // parse more on every file.
        let unplanned: Vec<&str> = registry
            .grammars
            .iter()
            .filter(|g| g.compiled().is_ok_and(|c| c.plan.is_none()))
            .map(|g| g.id)
            .collect();
        assert!(unplanned.is_empty(), "{unplanned:?}");
    }

    #[test]
    fn a_broken_query_names_its_file_and_line() {
        let manifest = r#"
            [[language]]
            id = "go"
            language = "go"
            grammar = "tree-sitter-go"
            extensions = ["go"]
        "#;
        let query =
            "(function_declaration name: (identifier) @name.function)\n\n(no_such_node) @x\n";
        let registry = Registry::from_sources(manifest, &[("go", query)]).unwrap();
        let err = registry.grammars[0]
            .compiled()
            .err()
            .expect("an unknown node type must not compile");
        let message = err.to_string();
        assert!(
            message.starts_with("grammars/go/conventions.scm:3:"),
            "{message}"
        );
        assert!(message.contains("no_such_node"), "{message}");
        let missing = Registry::from_sources(manifest, &[]).err().unwrap();
        assert_eq!(
            missing.to_string(),
            "grammars/go/conventions.scm is missing"
        );
    }
}
