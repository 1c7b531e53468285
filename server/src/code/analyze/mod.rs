//! One file's evidence: the tree-sitter captures of its language's `conventions.scm` and a
//! few text measurements, counted as [`FileFacts`]. Nothing here looks at other files, so an
//! edited file is re-counted alone and the totals are summed again.

use std::collections::{BTreeMap, HashSet};

use tree_sitter::{Node, Parser, Query, QueryCursor, StreamingIterator};

use super::grammars::{Compiled, Grammar};
use super::naming;
use super::pattern::Matcher;
use super::plan::QueryPlan;
use super::walk::{self, Walker};

mod errors;
mod imports;
mod style;
mod text;
mod whole_file;

use text::{file_name_style, measure_text};

/// At most this many example lines are kept per file and value.
const LINES_PER_VALUE: usize = 3;
/// Lines longer than this are counted as this long; only the percentile matters.
pub const MAX_TRACKED_LENGTH: usize = 1000;

/// How often one value of one convention key was seen in a file, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u32,
    /// 1-based lines of the first few cases.
    pub lines: Vec<u32>,
}

/// Everything one source file says about conventions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    pub language: &'static str,
    /// `(key, value)` → tally, e.g. `("naming.function", "snake_case")`.
    pub tallies: BTreeMap<(&'static str, &'static str), Tally>,
    /// Non-blank line lengths (clipped to [`MAX_TRACKED_LENGTH`]) → how many lines.
    pub line_lengths: BTreeMap<u16, u32>,
    /// The longest line and where it is.
    pub longest: (u32, u32),
}

impl FileFacts {
    fn add(&mut self, key: &'static str, value: &'static str, line: u32) {
        let tally = self.tallies.entry((key, value)).or_default();
        tally.count += 1;
        if tally.lines.len() < LINES_PER_VALUE {
            tally.lines.push(line);
        }
    }
}

/// What the capture names of `conventions.scm` mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    Name(&'static str),
    TestFunction,
    TestModule,
    DocItem,
    ErrorTry,
    ErrorUnwrap,
    ErrorPanic,
    ErrorExcept,
    ErrorRaise,
    ErrorClass,
    ErrorErrorf,
    ErrorSentinel,
    ErrorTryCatch,
    ErrorPromiseCatch,
    TypesFunction,
    TypesAnnotation,
    TypesVisibility,
    Import,
    LogCall,
    /// A variable declaration: `let`/`const`/`var` (JS/TS), `:=` or `var` in a Go function.
    Declaration,
    /// The parameter of a catch clause (JS/TS, Java).
    CatchParameter,
    /// A Go method declaration, read for its receiver name.
    Receiver,
    /// Any Python `raise` statement, read for the class it raises.
    Raised,
    Str,
    Statement,
    List,
    Ignored,
}

fn cap_of(name: &str) -> Cap {
    match name {
        "name.function" => Cap::Name("naming.function"),
        "name.type" => Cap::Name("naming.type"),
        "name.constant" => Cap::Name("naming.constant"),
        "name.variable" => Cap::Name("naming.variable"),
        "test.function" => Cap::TestFunction,
        "test.module" => Cap::TestModule,
        "doc.item" => Cap::DocItem,
        "error.try" => Cap::ErrorTry,
        "error.unwrap" => Cap::ErrorUnwrap,
        "error.panic" => Cap::ErrorPanic,
        "error.except" => Cap::ErrorExcept,
        "error.raise" => Cap::ErrorRaise,
        "error.class" => Cap::ErrorClass,
        "error.errorf" => Cap::ErrorErrorf,
        "error.sentinel" => Cap::ErrorSentinel,
        "error.trycatch" => Cap::ErrorTryCatch,
        "error.promise_catch" => Cap::ErrorPromiseCatch,
        "types.function" => Cap::TypesFunction,
        "types.annotation" => Cap::TypesAnnotation,
        "types.visibility" => Cap::TypesVisibility,
        "import" => Cap::Import,
        "log.call" => Cap::LogCall,
        "declaration" => Cap::Declaration,
        "naming.catch" => Cap::CatchParameter,
        "naming.receiver" => Cap::Receiver,
        "error.raised" => Cap::Raised,
        "string" => Cap::Str,
        "statement" => Cap::Statement,
        "list" => Cap::List,
        _ => Cap::Ignored,
    }
}

/// A grammar's parser and what its capture names mean, set up once per worker thread.
struct GrammarState {
    parser: Parser,
    /// Capture index → meaning.
    caps: Vec<Cap>,
    /// Kind id → kind name: `Node::kind` measures and validates the C string on every call.
    kinds: Vec<&'static str>,
}

/// Parsers and a query cursor, reused across files by one worker thread.
pub struct Worker {
    grammars: Vec<Option<GrammarState>>,
    cursor: QueryCursor,
    walker: Walker,
    /// Per report of the current walk: whether the cursor started there for a child.
    started: Vec<bool>,
}

impl Worker {
    pub fn new() -> Worker {
        Worker {
            grammars: Vec::new(),
            cursor: QueryCursor::new(),
            walker: Walker::new(),
            started: Vec::new(),
        }
    }

    /// The parser and capture meanings for grammar `index`, set up on first use.
    fn grammar(&mut self, index: usize, grammar: &Grammar) -> Option<&mut GrammarState> {
        if self.grammars.len() <= index {
            self.grammars.resize_with(index + 1, || None);
        }
        if self.grammars[index].is_none() {
            let mut parser = Parser::new();
            if let Err(e) = parser.set_language(&grammar.ts_language) {
                tracing::warn!("cannot use the {} grammar: {e}", grammar.id);
                return None;
            }
            let Ok(compiled) = grammar.compiled() else {
                return None;
            };
            let caps = compiled
                .query
                .capture_names()
                .iter()
                .map(|n| cap_of(n))
                .collect();
            let language = &grammar.ts_language;
            let kinds = (0..language.node_kind_count())
                .map(|id| {
                    u16::try_from(id)
                        .ok()
                        .and_then(|id| language.node_kind_for_id(id))
                        .unwrap_or("")
                })
                .collect();
            self.grammars[index] = Some(GrammarState {
                parser,
                caps,
                kinds,
            });
        }
        self.grammars[index].as_mut()
    }

    /// Counts the evidence in one file. `rel` is the path relative to the root with `/`.
    pub fn analyze(&mut self, index: usize, grammar: &Grammar, rel: &str, text: &str) -> FileFacts {
        let mut facts = FileFacts {
            language: grammar.language,
            ..Default::default()
        };
        measure_text(text, &mut facts);
        let name_key = file_name_style(grammar.language, rel);
        if let Some(style) = name_key {
            facts.add("naming.file", style, 1);
        }
        let Some(state) = self.grammar(index, grammar) else {
            return facts;
        };
        let Some(tree) = state.parser.parse(text, None) else {
            return facts;
        };
        let Some(state) = self.grammars[index].as_ref() else {
            return facts;
        };
        let mut found = Captures {
            caps: &state.caps,
            captured: Vec::new(),
        };
        let source = text.as_bytes();
        let Ok(Compiled { query, plan }) = grammar.compiled() else {
            return facts;
        };
        match plan {
            Some(plan) => {
                // Only matches rooted at the node the cursor starts from: the walk finds
                // every root itself.
                self.cursor.set_max_start_depth(Some(0));
                let reports = match self.walker.walk(&tree, plan.flags()) {
                    Ok(reports) => reports,
                    Err(e) => {
                        tracing::warn!("skipping the syntax of {rel}: {e}");
                        return facts;
                    }
                };
                // Per report: whether the patterns have been matched at it for one of its
                // children.
                self.started.clear();
                self.started.resize(reports.len(), false);
                let mut start = Start {
                    plan,
                    query,
                    source,
                    cursor: &mut self.cursor,
                    matcher: Matcher::new(),
                    matched: Vec::new(),
                };
                for report in (0..reports.len()).filter_map(|i| reports.get(i)) {
                    let (node, kind) = (report.node, report.kind);
                    for &capture in plan.lone_captures(kind) {
                        found.keep(capture, node, report.parent_kind);
                    }
                    if plan.starts_at(kind) {
                        start.at(node, kind, &mut found);
                    }
                    let (Some(parent_kind), Some(at)) = (report.parent_kind, report.parent_report)
                    else {
                        continue;
                    };
                    if !self.started[at] && plan.starts_for_child(parent_kind, kind, node, source) {
                        self.started[at] = true;
                        if let Some(parent) = reports.get(at) {
                            start.at(parent.node, parent_kind, &mut found);
                        }
                    }
                }
            }
            None => {
                self.cursor.set_max_start_depth(None);
                found.run(&mut self.cursor, query, tree.root_node(), source);
            }
        }
        let mut captured = found.captured;
        // Counted in source order, so that the lines kept as examples are the first cases
        // whichever way the matches were found. The start byte was read when the capture was
        // kept: asked of tree-sitter in every comparison, it was a fiftieth of the pass.
        captured.sort_by_key(|capture| capture.start);
        let mut file = SourceView {
            language: grammar.language,
            rel,
            text,
            kinds: &state.kinds,
            test_file: crate::catalog::is_test_file(grammar.language, rel),
            test_ranges: Vec::new(),
            facts,
            imports: Vec::new(),
            logger: None,
        };
        file.collect(&captured);
        file.facts
    }
}

/// The captures of one file that mean something, as they are found, each with its parent's kind
/// when the walk knows it: `Node::parent` searches down from the root again (a tenth of a
/// JavaScript repository's indexing, asked of every string and statement).
struct Captures<'c, 't> {
    caps: &'c [Cap],
    captured: Vec<Captured<'t>>,
}

/// One capture that means something, with where it starts.
struct Captured<'t> {
    start: usize,
    cap: Cap,
    node: Node<'t>,
    parent_kind: Option<u16>,
}

impl<'t> Captures<'_, 't> {
    fn keep(&mut self, capture: u32, node: Node<'t>, parent_kind: Option<u16>) {
        let cap = self
            .caps
            .get(capture as usize)
            .copied()
            .unwrap_or(Cap::Ignored);
        if cap != Cap::Ignored {
            self.captured.push(Captured {
                start: walk::start_byte(node),
                cap,
                node,
                parent_kind,
            });
        }
    }

    /// Runs `query` from `node` with the cursor's current limits.
    fn run(&mut self, cursor: &mut QueryCursor, query: &Query, node: Node<'t>, text: &[u8]) {
        let mut matches = cursor.matches(query, node, text);
        while let Some(m) = matches.next() {
            for c in m.captures {
                self.keep(c.index, c.node, None);
            }
        }
    }
}

/// Matching the patterns of a kind where the plan says so: those [`pattern`] compiled by
/// stepping through the node's children, the rest with the query cursor.
struct Start<'s, 't> {
    plan: &'s QueryPlan,
    query: &'s Query,
    source: &'s [u8],
    cursor: &'s mut QueryCursor,
    matcher: Matcher<'t>,
    /// The captures of the patterns matched at the current node.
    matched: Vec<(u32, Node<'t>)>,
}

impl<'t> Start<'_, 't> {
    fn at(&mut self, node: Node<'t>, kind: u16, found: &mut Captures<'_, 't>) {
        for pattern in self.plan.matched(kind) {
            self.matcher
                .run(pattern, node, self.source, &mut self.matched);
        }
        for (capture, node) in self.matched.drain(..) {
            found.keep(capture, node, None);
        }
        if self.plan.needs_cursor(kind) {
            found.run(self.cursor, self.query, node, self.source);
        }
    }
}

impl Default for Worker {
    fn default() -> Self {
        Worker::new()
    }
}

/// Distinct values read from the source (a catch parameter's name, a license holder) that a
/// tally can key on. Few distinct ones occur in a workspace; past the cap they share one value
/// so that a pathological tree cannot grow the table without bound.
const MAX_INTERNED: usize = 4096;

/// A `'static` copy of `value`, shared by every file that has the same one.
pub fn intern(value: &str) -> &'static str {
    static TABLE: std::sync::OnceLock<std::sync::Mutex<HashSet<&'static str>>> =
        std::sync::OnceLock::new();
    let mut table = TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(known) = table.get(value) {
        return known;
    }
    if table.len() >= MAX_INTERNED || value.len() > 80 {
        return "other";
    }
    let leaked: &'static str = Box::leak(value.to_string().into_boxed_str());
    table.insert(leaked);
    leaked
}

/// `node.kind()`, looked up in the grammar's table of kind names.
fn kind_name(kinds: &[&'static str], node: Node) -> &'static str {
    kinds
        .get(usize::from(node.kind_id()))
        .copied()
        .unwrap_or_else(|| node.kind())
}

fn line_of(node: Node) -> u32 {
    walk::start_row(node) + 1
}

/// One file being counted.
struct SourceView<'a> {
    language: &'static str,
    rel: &'a str,
    text: &'a str,
    test_file: bool,
    /// Byte ranges of inline test modules (`#[cfg(test)] mod tests`).
    test_ranges: Vec<std::ops::Range<usize>>,
    facts: FileFacts,
    /// Import paths, as written.
    imports: Vec<(String, u32)>,
    /// The logging crate bare Rust log macros belong to, once looked up.
    logger: Option<Option<&'static str>>,
    /// The grammar's kind names, by kind id.
    kinds: &'a [&'static str],
}

impl<'a> SourceView<'a> {
    fn kind(&self, node: Node) -> &'static str {
        kind_name(self.kinds, node)
    }

    fn text_of(&self, node: Node) -> &'a str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    /// The line where `needle` first occurs in the file. Most needles are absent from most
    /// files, and `str::contains` has a vectorised path that `str::find` lacks.
    fn line_of_text(&self, needle: &str) -> Option<u32> {
        if !self.text.contains(needle) {
            return None;
        }
        let at = self.text.find(needle)?;
        Some(self.text[..at].lines().count().max(1) as u32)
    }

    fn in_test(&self, node: Node) -> bool {
        self.test_file
            || self
                .test_ranges
                .iter()
                .any(|r| r.contains(&node.start_byte()))
    }

    fn collect(&mut self, captured: &[Captured]) {
        for Captured { cap, node, .. } in captured {
            if *cap == Cap::TestModule {
                self.test_ranges.push(node.byte_range());
            }
        }
        // A name captured as a function or constant is not also a variable (`const f = () =>`).
        let mut named: HashSet<usize> = HashSet::new();
        for key in [
            "naming.function",
            "naming.type",
            "naming.constant",
            "naming.variable",
        ] {
            for Captured { cap, node, .. } in captured {
                if *cap == Cap::Name(key) && named.insert(node.id()) {
                    let name = self.text_of(*node);
                    // `_` and `__` are placeholders, not names anyone chose a style for.
                    if name.trim_matches('_').is_empty() {
                        continue;
                    }
                    let style = naming::classify_for(self.language, name);
                    self.facts.add(key, style, line_of(*node));
                }
            }
        }
        let mut has_tests = !self.test_ranges.is_empty();
        let kinds = self.kinds;
        // Go type → the receiver names its methods use in this file.
        let mut receivers: BTreeMap<&'a str, Vec<&'a str>> = BTreeMap::new();
        for &Captured {
            cap,
            node,
            parent_kind,
            ..
        } in captured
        {
            // The walk's parent, or found again for a capture a query made.
            let parent = || match parent_kind {
                Some(kind) => kinds.get(usize::from(kind)).copied(),
                None => node.parent().map(|p| kind_name(kinds, p)),
            };
            let line = line_of(node);
            match cap {
                Cap::Name(_) | Cap::TestModule | Cap::Ignored => {}
                Cap::TestFunction => {
                    has_tests = true;
                    if matches!(self.language, "rust" | "javascript" | "typescript" | "java") {
                        let style = naming::test_style(self.text_of(node));
                        self.facts.add("naming.test", style, line);
                    }
                }
                Cap::DocItem if !self.in_test(node) => self.document(node),
                Cap::ErrorTry if !self.in_test(node) => {
                    self.facts.add("errors.propagation", "?", line)
                }
                Cap::ErrorUnwrap if !self.in_test(node) => {
                    self.facts.add("errors.propagation", "unwrap", line)
                }
                Cap::ErrorPanic if !self.in_test(node) => {
                    self.facts.add("errors.propagation", "panic", line)
                }
                Cap::ErrorExcept => {
                    let bare = node.child_by_field_name("value").is_none()
                        && !node
                            .named_children(&mut node.walk())
                            .any(|c| self.kind(c) != "block" && self.kind(c) != "comment");
                    self.facts
                        .add("errors.except", if bare { "bare" } else { "typed" }, line);
                }
                // A bare `raise` re-raises as is; only a new exception can chain.
                Cap::ErrorRaise if node.named_child_count() > 0 => {
                    let value = if node.child_by_field_name("cause").is_some() {
                        "raise-from"
                    } else {
                        "plain"
                    };
                    self.facts.add("errors.chaining", value, line);
                }
                Cap::ErrorClass => self.facts.add("errors.custom", "custom-classes", line),
                Cap::ErrorErrorf if !self.in_test(node) => self.errorf(node),
                Cap::ErrorSentinel => self.facts.add("errors.sentinel", "sentinel", line),
                Cap::ErrorTryCatch if !self.in_test(node) => {
                    self.facts.add("errors.async", "try/catch", line)
                }
                Cap::ErrorPromiseCatch if !self.in_test(node) => {
                    self.facts.add("errors.async", ".catch()", line)
                }
                Cap::TypesFunction if !self.in_test(node) => self.python_annotations(node),
                Cap::TypesAnnotation => {
                    let text = self.text_of(node).trim_start_matches(':').trim();
                    let value = if text == "any" { "any" } else { "specific" };
                    self.facts.add("types.any", value, line);
                }
                Cap::TypesVisibility if !self.in_test(node) => {
                    let text = self.text_of(node);
                    let value = if text == "pub" { "pub" } else { "pub(crate)" };
                    self.facts.add("types.visibility", value, line);
                }
                Cap::Import => self.import(node),
                Cap::LogCall if !self.in_test(node) => self.log_call(node),
                Cap::Declaration => self.declaration(node, parent),
                Cap::CatchParameter => self.catch_parameter(node),
                Cap::Receiver => self.receiver(node, &mut receivers),
                Cap::Raised if !self.in_test(node) => self.raised(node),
                Cap::Str => self.quote(node, parent()),
                Cap::Statement => self.semicolon(node, parent()),
                Cap::List => self.trailing_comma(node),
                _ => {}
            }
        }
        for names in receivers.values() {
            let consistent = names.iter().all(|n| *n == names[0]);
            let value = if consistent { "consistent" } else { "varies" };
            self.facts.add("naming.receiver_consistency", value, 1);
        }
        self.file_level(has_tests);
    }
}
