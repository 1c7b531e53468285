//! One file's evidence: the tree-sitter captures of its language's `conventions.scm` and a
//! few text measurements, counted as [`FileFacts`]. Nothing here looks at other files, so an
//! edited file is re-counted alone and the totals are summed again.

use std::collections::{BTreeMap, HashSet};

use tree_sitter::{Node, Parser, Query, QueryCursor, StreamingIterator};

use super::grammars::Grammar;
use super::naming;

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
}

/// Parsers and a query cursor, reused across files by one worker thread.
pub struct Worker {
    grammars: Vec<Option<GrammarState>>,
    cursor: QueryCursor,
}

impl Worker {
    pub fn new() -> Worker {
        Worker {
            grammars: Vec::new(),
            cursor: QueryCursor::new(),
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
            let caps = grammar
                .query
                .capture_names()
                .iter()
                .map(|n| cap_of(n))
                .collect();
            self.grammars[index] = Some(GrammarState { parser, caps });
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
        match &grammar.plan {
            Some(plan) => {
                // Only matches rooted at the node the cursor starts from: the walk finds
                // every root itself.
                self.cursor.set_max_start_depth(Some(0));
                // The visible ancestors of the walk's node, their kinds, and whether the
                // cursor is still to start at one once a child of the right kind shows up.
                let mut ancestors: Vec<(Node, u16, bool)> = Vec::new();
                let mut walk = tree.walk();
                'walk: loop {
                    let node = walk.node();
                    let kind = node.kind_id();
                    for &capture in plan.lone_captures(kind) {
                        found.keep(capture, node);
                    }
                    if plan.starts_at(kind) {
                        found.run(&mut self.cursor, &grammar.query, node, source);
                    }
                    if let Some((parent, parent_kind, pending)) = ancestors.last_mut() {
                        if *pending && plan.starts_for_child(*parent_kind, kind) {
                            *pending = false;
                            found.run(&mut self.cursor, &grammar.query, *parent, source);
                        }
                    }
                    if walk.goto_first_child() {
                        ancestors.push((node, kind, plan.starts_with_child(kind)));
                        continue;
                    }
                    while !walk.goto_next_sibling() {
                        if !walk.goto_parent() {
                            break 'walk;
                        }
                        ancestors.pop();
                    }
                }
            }
            None => {
                self.cursor.set_max_start_depth(None);
                found.run(&mut self.cursor, &grammar.query, tree.root_node(), source);
            }
        }
        let mut captured = found.captured;
        // Counted in source order, so that the lines kept as examples are the first cases
        // whichever way the matches were found.
        captured.sort_by_key(|(_, node)| node.start_byte());
        let mut file = SourceView {
            language: grammar.language,
            rel,
            text,
            test_file: is_test_file(grammar.language, rel),
            test_ranges: Vec::new(),
            facts,
            imports: Vec::new(),
            logger: None,
        };
        file.collect(&captured);
        file.facts
    }
}

/// The captures of one file that mean something, as they are found.
struct Captures<'c, 't> {
    caps: &'c [Cap],
    captured: Vec<(Cap, Node<'t>)>,
}

impl<'t> Captures<'_, 't> {
    fn keep(&mut self, capture: u32, node: Node<'t>) {
        let cap = self
            .caps
            .get(capture as usize)
            .copied()
            .unwrap_or(Cap::Ignored);
        if cap != Cap::Ignored {
            self.captured.push((cap, node));
        }
    }

    /// Runs `query` from `node` with the cursor's current limits.
    fn run(&mut self, cursor: &mut QueryCursor, query: &Query, node: Node<'t>, text: &[u8]) {
        let mut matches = cursor.matches(query, node, text);
        while let Some(m) = matches.next() {
            for c in m.captures {
                self.keep(c.index, c.node);
            }
        }
    }
}

impl Default for Worker {
    fn default() -> Self {
        Worker::new()
    }
}

/// Python's built-in exception classes: raising one of these is not raising the project's own.
const PYTHON_BUILTIN_EXCEPTIONS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "NotADirectoryError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
];

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

/// The holder named on the copyright line of a file's opening comment (`Google Inc.`), or
/// the licence line itself when there is no copyright line (`SPDX-License-Identifier: MIT`).
pub fn license_header(text: &str) -> Option<&str> {
    static COPYRIGHT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let copyright = COPYRIGHT.get_or_init(|| {
        regex::Regex::new(r"Copyright\s*(?:\([cC]\)|©)?\s*(?:[\d,\s-]+)?\s*(.*?)\s*(?:\*/)?$")
            .expect("static regex")
    });
    let text = text.trim_start_matches('\u{feff}');
    let mut end = text.len().min(600);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    if !head.trim_start().starts_with(['/', '#']) {
        return None;
    }
    for line in head.lines().take(12) {
        if let Some(holder) = copyright.captures(line).and_then(|c| c.get(1)) {
            let holder = holder.as_str().trim_end_matches('.');
            if !holder.is_empty() {
                return Some(holder);
            }
        }
        if line.contains("SPDX-License-Identifier") || line.contains("Licensed under") {
            return Some(
                line.trim_matches(|c: char| c == '/' || c == '*' || c == '#' || c.is_whitespace()),
            );
        }
    }
    None
}

/// How many `await` keywords a line of JS/TS code holds (`await x`, not `awaited`).
fn awaits(code: &str) -> usize {
    code.match_indices("await")
        .filter(|(at, _)| {
            let before = code[..*at].chars().next_back();
            let after = code[at + 5..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && after.is_some_and(char::is_whitespace)
        })
        .count()
}

fn line_of(node: Node) -> u32 {
    node.start_position().row as u32 + 1
}

/// Indentation, line endings, final newline and line lengths: read from the text alone, in
/// one pass over its lines.
fn measure_text(text: &str, facts: &mut FileFacts) {
    if text.is_empty() {
        return;
    }
    let mut tab_lines = 0u32;
    let mut space_lines = 0u32;
    let mut first_tab = 0u32;
    let mut deltas: BTreeMap<usize, (u32, u32)> = BTreeMap::new();
    let mut previous = 0usize;
    let mut lines = 0u32;
    let mut newlines = 0usize;
    let mut crlf = 0usize;
    // `split_inclusive` keeps each line's ending; `str::lines` would hide how it ends.
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let number = i as u32 + 1;
        lines = number;
        let line = match raw.strip_suffix('\n') {
            Some(line) => {
                newlines += 1;
                match line.strip_suffix('\r') {
                    Some(line) => {
                        crlf += 1;
                        line
                    }
                    None => line,
                }
            }
            None => raw,
        };
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        let length = if line.is_ascii() {
            line.trim_end().len()
        } else {
            line.trim_end().chars().count()
        };
        *facts
            .line_lengths
            .entry(length.min(MAX_TRACKED_LENGTH) as u16)
            .or_default() += 1;
        if length as u32 > facts.longest.0 {
            facts.longest = (length as u32, number);
        }
        // Block-comment continuation lines (` * text`) sit one column off the grid.
        if trimmed.starts_with('*') {
            continue;
        }
        let leading = &line[..line.len() - trimmed.len()];
        if leading.starts_with('\t') {
            tab_lines += 1;
            if first_tab == 0 {
                first_tab = number;
            }
            previous = 0;
            continue;
        }
        let width = leading.len();
        if width > 0 {
            space_lines += 1;
        }
        if width > previous {
            let d = deltas.entry(width - previous).or_insert((0, number));
            d.0 += 1;
        }
        previous = width;
    }
    facts.add(
        "format.final_newline",
        if text.ends_with('\n') { "yes" } else { "no" },
        lines.max(1),
    );
    if newlines > 0 {
        facts.add(
            "format.line_endings",
            if crlf * 2 > newlines { "crlf" } else { "lf" },
            1,
        );
    }
    if tab_lines > space_lines {
        facts.add("format.indent", "tabs", first_tab);
    } else if space_lines > 0 {
        // The most common step between a line and a more indented next line is the unit.
        let unit = deltas
            .iter()
            .filter(|(d, _)| matches!(**d, 2 | 3 | 4 | 8))
            .max_by_key(|(d, (n, _))| (*n, std::cmp::Reverse(**d)));
        if let Some((width, (_, line))) = unit {
            let value = match width {
                2 => "spaces:2",
                3 => "spaces:3",
                4 => "spaces:4",
                _ => "spaces:8",
            };
            facts.add("format.indent", value, *line);
        }
    }
}

/// The naming style of a file's name, without extensions and test suffixes.
fn file_name_style(language: &str, rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next()?;
    let stem = name.split('.').next()?;
    let stem = if language == "go" {
        stem.strip_suffix("_test").unwrap_or(stem)
    } else {
        stem
    };
    if stem.is_empty() {
        return None;
    }
    let style = naming::classify(stem);
    // Go file names are lower-case words joined by underscores; MixedCaps is for identifiers.
    Some(style)
}

/// The naming pattern of a test file: `test_*.py`, `*.test.ts`, `*Test.java`, `*_test.go`,
/// or `test/<name>.js` for a file that only its directory marks as a test.
fn test_file_name(language: &str, rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next()?;
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match language {
        "python" if name.starts_with("test_") => Some("test_*.py"),
        "python" if name.ends_with("_test.py") => Some("*_test.py"),
        "go" => Some("*_test.go"),
        "java" if name.ends_with("Test.java") => Some("*Test.java"),
        "java" if name.ends_with("Tests.java") => Some("*Tests.java"),
        "java" if name.starts_with("Test") => Some("Test*.java"),
        "typescript" | "javascript" => {
            let marker = [".test.", ".spec."].into_iter().find(|m| name.contains(m));
            match marker {
                Some(m) => Some(intern(&format!("*{m}{extension}"))),
                None => Some(intern(&format!("test/<name>.{extension}"))),
            }
        }
        _ => None,
    }
}

/// The first line (1-based) that cites an issue: `#1301`, `issues/1852`, `Issue 272`,
/// `test_issue_777`, `testIssue1107`. Two digits at least, so that `#1` in a string or a
/// list numbering does not count; `#[derive]`, `&#123;` and a changelog's `[#1613](…)`
/// link are not tests citing an issue either.
fn issue_reference(text: &str) -> Option<u32> {
    let digits_at = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let cites = |line: &str| {
        let lower = line.to_ascii_lowercase();
        let bytes = lower.as_bytes();
        lower.match_indices('#').any(|(i, _)| {
            let before = i.checked_sub(1).map(|b| bytes[b]);
            let after = &lower[i + 1..];
            let n = digits_at(after);
            n >= 2
                && !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'&' || b == b'[')
                && !after[n..].starts_with(|c: char| c.is_ascii_alphanumeric())
        }) || lower
            .match_indices("issues/")
            .any(|(i, _)| digits_at(&lower[i + 7..]) >= 1)
            || lower.match_indices("issue").any(|(i, _)| {
                let rest = lower[i + 5..].trim_start_matches([' ', '_', '-']);
                digits_at(rest.trim_start_matches('#')) >= 2
            })
    };
    text.lines().position(cites).map(|index| index as u32 + 1)
}

/// Whether a test file is a home for regression tests of its own (`tests/regression/`,
/// `test_issues.py`, `bugs/`) rather than the test file of some feature.
fn regression_home(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let stem = lower.rsplit('/').next().unwrap_or(&lower);
    components(&lower).any(|d| d.contains("regress") || d == "issues" || d == "bugs")
        || stem.contains("regress")
        || stem.contains("issue")
}

fn components(rel: &str) -> impl Iterator<Item = &str> {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.into_iter()
}

/// Whether the whole file is test code, judging by its path.
pub fn is_test_file(language: &str, rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let in_dir = |dirs: &[&str]| components(rel).any(|c| dirs.contains(&c));
    match language {
        "rust" => in_dir(&["tests", "benches"]),
        "python" => {
            name.starts_with("test_")
                || name.ends_with("_test.py")
                || name == "conftest.py"
                || in_dir(&["tests", "test"])
        }
        "typescript" | "javascript" => {
            name.contains(".test.")
                || name.contains(".spec.")
                || in_dir(&["__tests__", "test", "tests"])
        }
        "go" => name.ends_with("_test.go"),
        "java" => {
            name.ends_with("Test.java") || name.ends_with("Tests.java") || rel.contains("src/test/")
        }
        _ => false,
    }
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
}

impl<'a> SourceView<'a> {
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

    fn collect(&mut self, captured: &[(Cap, Node)]) {
        for (cap, node) in captured {
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
            for (cap, node) in captured {
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
        // Go type → the receiver names its methods use in this file.
        let mut receivers: BTreeMap<&'a str, Vec<&'a str>> = BTreeMap::new();
        for (cap, node) in captured.iter().copied() {
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
                            .any(|c| c.kind() != "block" && c.kind() != "comment");
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
                Cap::Declaration => self.declaration(node),
                Cap::CatchParameter => self.catch_parameter(node),
                Cap::Receiver => self.receiver(node, &mut receivers),
                Cap::Raised if !self.in_test(node) => self.raised(node),
                Cap::Str => self.quote(node),
                Cap::Statement => self.semicolon(node),
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

    /// What a test file asserts with, judged by its imports (or, in Python, by which of
    /// plain `assert` statements and `self.assert…` calls it has more of).
    fn assertion_library(&self) -> Option<(&'static str, u32)> {
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

    /// `const`/`let`/`var` in JS/TS; in Go, `:=` against `var` inside function bodies (a
    /// package-level `var` has no `:=` alternative).
    fn declaration(&mut self, node: Node) {
        let line = line_of(node);
        match node.kind() {
            "lexical_declaration" | "variable_declaration" => {
                let keyword = node.child(0).map(|k| self.text_of(k)).unwrap_or("");
                let value = match keyword {
                    "const" => "const",
                    "let" => "let",
                    "var" => "var",
                    _ => return,
                };
                self.facts.add("declarations", value, line);
            }
            "short_var_declaration" => self.facts.add("declarations", ":=", line),
            "var_declaration" => {
                if node.parent().is_none_or(|p| p.kind() == "source_file") {
                    return;
                }
                // One case per name group: `var ( a int; b string )` declares two.
                let mut specs = 0;
                let mut stack = vec![node];
                while let Some(n) = stack.pop() {
                    let mut cursor = n.walk();
                    for child in n.named_children(&mut cursor) {
                        match child.kind() {
                            "var_spec" => specs += 1,
                            "var_spec_list" => stack.push(child),
                            _ => {}
                        }
                    }
                }
                for _ in 0..specs.max(1) {
                    self.facts.add("declarations", "var", line);
                }
            }
            _ => {}
        }
    }

    /// The name given to a caught exception: `catch (err)`, `catch (IOException e)`.
    fn catch_parameter(&mut self, node: Node) {
        let name = match node.kind() {
            "catch_clause" => node.child_by_field_name("parameter"),
            _ => node.child_by_field_name("name"),
        };
        let Some(name) = name.filter(|n| n.kind() == "identifier") else {
            return;
        };
        let value = intern(self.text_of(name));
        self.facts
            .add("naming.catch_parameter", value, line_of(name));
    }

    /// A Go method's receiver: one letter (`r *Router`), a short abbreviation or a word.
    fn receiver(&mut self, method: Node, per_type: &mut BTreeMap<&'a str, Vec<&'a str>>) {
        let Some(param) = method
            .child_by_field_name("receiver")
            .and_then(|list| list.named_child(0))
            .filter(|p| p.kind() == "parameter_declaration")
        else {
            return;
        };
        let Some(name) = param.child_by_field_name("name") else {
            return;
        };
        let text = self.text_of(name);
        if text == "_" {
            return;
        }
        let value = match text.chars().count() {
            1 => "one-letter",
            2..=4 => "short",
            _ => "word",
        };
        self.facts.add("naming.receiver", value, line_of(name));
        let type_name = param
            .child_by_field_name("type")
            .map(|t| self.text_of(t))
            .unwrap_or("")
            .trim_start_matches('*');
        let type_name = type_name.split('[').next().unwrap_or(type_name);
        per_type.entry(type_name).or_default().push(text);
    }

    /// `raise X(…)` outside tests: a built-in exception class or the project's (or a
    /// library's) own. A bare `raise` and `raise err` re-raise and say nothing.
    fn raised(&mut self, node: Node) {
        let Some(exception) = node.named_child(0) else {
            return;
        };
        let target = if exception.kind() == "call" {
            exception.child_by_field_name("function")
        } else {
            Some(exception)
        };
        let Some(target) = target else { return };
        let name = self.text_of(target);
        let name = name.rsplit('.').next().unwrap_or(name);
        if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            return;
        }
        let value = if PYTHON_BUILTIN_EXCEPTIONS.contains(&name) {
            "built-in"
        } else {
            "custom"
        };
        self.facts.add("errors.raises", value, line_of(node));
    }

    fn document(&mut self, node: Node) {
        let line = line_of(node);
        let documented = match self.language {
            "python" => {
                let docstring = node
                    .child_by_field_name("body")
                    .and_then(|b| b.named_child(0))
                    .filter(|s| s.kind() == "expression_statement")
                    .and_then(|s| s.named_child(0))
                    .filter(|s| s.kind() == "string");
                if let Some(doc) = docstring {
                    let text = self.text_of(doc);
                    let style = if text.contains("Args:") || text.contains("Returns:") {
                        Some("google")
                    } else if text.contains("Parameters\n") && text.contains("----") {
                        Some("numpy")
                    } else if text.contains(":param") || text.contains(":return") {
                        Some("rest")
                    } else {
                        None
                    };
                    if let Some(style) = style {
                        self.facts.add("docs.style", style, line_of(doc));
                    }
                }
                docstring.is_some()
            }
            // Read from the lines above the item rather than its previous sibling: finding a
            // sibling walks the parent's children from the first, quadratic in big modules.
            _ => self.doc_comment_above(node.start_byte()),
        };
        self.facts.add(
            "docs.coverage",
            if documented {
                "documented"
            } else {
                "undocumented"
            },
            line,
        );
    }

    /// Whether a doc comment ends on the line right above `start` (attribute and annotation
    /// lines in between are skipped).
    fn doc_comment_above(&self, start: usize) -> bool {
        let before = &self.text[..start.min(self.text.len())];
        let before = &before[..before.rfind('\n').map(|i| i + 1).unwrap_or(0)];
        let mut rest = before;
        loop {
            let body = rest.strip_suffix('\n').unwrap_or(rest);
            if body.is_empty() {
                return false;
            }
            let line_start = body.rfind('\n').map(|i| i + 1).unwrap_or(0);
            let line = body[line_start..].trim();
            rest = &body[..line_start];
            if line.starts_with("#[") || (self.language == "java" && line.starts_with('@')) {
                continue;
            }
            let block_doc = || {
                line.ends_with("*/")
                    && body
                        .rfind("/*")
                        .is_some_and(|at| body[at..].starts_with("/**"))
            };
            return match self.language {
                "rust" => line.starts_with("///") || block_doc(),
                "go" => line.starts_with("//"),
                _ => block_doc(),
            };
        }
    }

    /// How JS/TS code deals with errors and asynchrony, in code and tests alike (tests show
    /// how the code is meant to be used). HTTP middleware: koa's `ctx.throw(…)`, Express's
    /// `next(err)`, or a `try { await next() } catch` around the rest of the chain.
    /// Asynchronous calls: Node's error-first callbacks (`function (err, data)`) or promises
    /// (`await`, `.then(`).
    fn script_error_idioms(&mut self) {
        static CALLBACK: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let callback = CALLBACK.get_or_init(|| {
            regex::Regex::new(
                r"function\s*[\w$]*\s*\(\s*(?:err|error)\s*[,)]|\(\s*(?:err|error)\s*,[^)]*\)\s*=>",
            )
            .expect("static regex")
        });
        let mut previous = "";
        for (index, line) in self.text.lines().enumerate() {
            let code = line.trim();
            if code.is_empty() {
                continue;
            }
            let at = index as u32 + 1;
            if !code.starts_with("//") && !code.starts_with('*') {
                if code.contains("err") {
                    for _ in callback.find_iter(code) {
                        self.facts
                            .add("async.callbacks", "error-first callbacks", at);
                    }
                }
                let promised = awaits(code) + code.matches(".then(").count();
                for _ in 0..promised {
                    self.facts.add("async.callbacks", "promises", at);
                }
                for _ in 0..code.matches("ctx.throw(").count() {
                    self.facts.add("errors.middleware", "ctx.throw", at);
                }
                let passes = ["next(err)", "next(error)", "next(e)"]
                    .iter()
                    .map(|call| code.matches(call).count())
                    .sum::<usize>();
                for _ in 0..passes {
                    self.facts.add("errors.middleware", "next(err)", at);
                }
                if code.starts_with("await next()") && previous.ends_with("try {") {
                    self.facts.add("errors.middleware", "try-next", at);
                }
            }
            previous = code;
        }
    }

    /// How Go code tells errors apart: `errors.Is` / `errors.As`, which see through
    /// wrapping, or `err == ErrX` and `err.(*T)`, which do not.
    fn go_error_matching(&mut self) {
        for (index, line) in self.text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let at = index as u32 + 1;
            let matched = code.matches("errors.Is(").count() + code.matches("errors.As(").count();
            for _ in 0..matched {
                self.facts.add("errors.matching", "errors.Is/As", at);
            }
            let compared = ["err == ", "err != "]
                .iter()
                .flat_map(|op| {
                    code.match_indices(op)
                        .map(move |(i, _)| &code[i + op.len()..])
                })
                .filter(|rhs| {
                    let name: String = rhs
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
                        .collect();
                    let last = name.rsplit('.').next().unwrap_or("");
                    last.starts_with("Err") || name == "io.EOF"
                })
                .count();
            let asserted = code.matches("err.(").count();
            for _ in 0..compared + asserted {
                self.facts.add("errors.matching", "direct", at);
            }
        }
    }

    /// How a Go file groups its `import ( … )` block, when it imports both the standard
    /// library and other modules: goimports' layout puts the standard library in a first
    /// group of its own, the other modules after a blank line; or all in one group.
    fn go_import_groups(&mut self) {
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

    /// `fmt.Errorf` with an error among its arguments: wrapped with `%w`, or flattened.
    fn errorf(&mut self, format: Node) {
        let Some(args) = format.parent() else { return };
        let count = args.named_child_count();
        let passes_error = (1..count).filter_map(|i| args.named_child(i)).any(|a| {
            let t = self.text_of(a);
            t == "err" || t.ends_with("Err") || t.ends_with("err") || t.starts_with("Err")
        });
        if !passes_error {
            return;
        }
        let value = if self.text_of(format).contains("%w") {
            "%w"
        } else {
            "%v"
        };
        self.facts.add("errors.wrapping", value, line_of(format));
    }

    fn python_annotations(&mut self, function: Node) {
        let name = function
            .child_by_field_name("name")
            .map(|n| self.text_of(n))
            .unwrap_or("");
        let Some(params) = function.child_by_field_name("parameters") else {
            return;
        };
        let mut annotated = true;
        let mut cursor = params.walk();
        for (i, p) in params.named_children(&mut cursor).enumerate() {
            match p.kind() {
                "typed_parameter" | "typed_default_parameter" => {}
                "identifier" if i == 0 && matches!(self.text_of(p), "self" | "cls") => {}
                "keyword_separator" | "positional_separator" | "comment" => {}
                _ => annotated = false,
            }
        }
        if function.child_by_field_name("return_type").is_none() && name != "__init__" {
            annotated = false;
        }
        self.facts.add(
            "types.annotations",
            if annotated {
                "annotated"
            } else {
                "unannotated"
            },
            line_of(function),
        );
    }

    fn import(&mut self, node: Node) {
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

    fn imports_any(&self, prefixes: &[&str]) -> Option<u32> {
        self.imports.iter().find_map(|(path, line)| {
            let module = path
                .trim_start_matches("import ")
                .trim_start_matches("from ")
                .trim_start_matches("static ");
            prefixes
                .iter()
                .any(|p| {
                    module == *p
                        || module.starts_with(&format!("{p}."))
                        || module.starts_with(&format!("{p}/"))
                        || module.starts_with(&format!("{p} "))
                        || module.starts_with(&format!("{p}::"))
                })
                .then_some(*line)
        })
    }

    fn log_call(&mut self, node: Node) {
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
    fn rust_logger(&mut self) -> Option<&'static str> {
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

    fn quote(&mut self, node: Node) {
        if node.parent().is_some_and(|p| p.kind() == "jsx_attribute") {
            return;
        }
        let text = self.text_of(node);
        let body = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        if body.starts_with("\"\"\"") || body.starts_with("'''") {
            return;
        }
        let (value, other) = match body.chars().next() {
            Some('"') => ("double", '\''),
            Some('\'') => ("single", '"'),
            _ => return,
        };
        // A string holding the other quote is written that way to avoid escapes.
        if body[1..].contains(other) {
            return;
        }
        self.facts.add("format.quotes", value, line_of(node));
    }

    fn semicolon(&mut self, node: Node) {
        if node.parent().is_some_and(|p| {
            matches!(
                p.kind(),
                "for_statement" | "for_in_statement" | "export_statement"
            )
        }) {
            return;
        }
        let text = self.text_of(node).trim_end();
        let value = if text.ends_with(';') {
            "semicolons"
        } else {
            "none"
        };
        self.facts.add("format.semicolons", value, line_of(node));
    }

    fn trailing_comma(&mut self, node: Node) {
        if node.start_position().row == node.end_position().row {
            return;
        }
        // A cursor walks the children in one pass; indexing them one by one would restart
        // from the first child every time.
        let mut cursor = node.walk();
        let mut last = None;
        let mut close = None;
        let mut comma_after = false;
        for child in node.children(&mut cursor) {
            if child.is_named() && !child.kind().contains("comment") {
                last = Some(child);
                comma_after = false;
            } else if child.kind() == "," {
                comma_after = true;
            }
            close = Some(child);
        }
        let Some(close) = close.filter(|c| matches!(c.kind(), ")" | "]" | "}")) else {
            return;
        };
        let Some(last) = last else { return };
        if last.end_position().row >= close.start_position().row {
            return;
        }
        let value = if comma_after { "trailing" } else { "none" };
        self.facts
            .add("format.trailing_commas", value, line_of(last));
    }

    /// Facts about the file as a whole: test framework and placement, runtime, logging.
    fn file_level(&mut self, has_tests: bool) {
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
