//! Query patterns matched at one node with the node API instead of a query cursor.
//!
//! Where the plan starts the query cursor at a node, the cursor set up its states, read the
//! position of every node it stepped onto and ran every pattern rooted at that kind: about a
//! microsecond a start, which at every `const x = …` and `it(…)` of a JavaScript repository
//! was a tenth of its parse. Most convention patterns are a node with a few children, each
//! maybe behind a field, and predicates comparing a capture's text. Such a pattern is
//! compiled here and matched by stepping through the children of the node it starts at.
//!
//! The subset, and what tree-sitter's cursor does that it follows:
//! - `(kind …)` by public kind id, `(_)` any named node but an error, `[(a) (b)]` of plain
//!   kinds; children in order, each match a distinct choice of children (the cursor splits a
//!   state at every child that could match and drops states whose captures are equal);
//! - `field: …` on a child, the field as a tree cursor reports it (inherited ones included);
//! - `.` before a child: it is the first named child after the one before it (or the first
//!   of all), anonymous nodes between them skipped;
//! - `#eq?`, `#not-eq?`, `#any-of?`, `#not-any-of?` with strings, `#match?`, `#not-match?`
//!   with a regular expression, checked on every node of the capture once a match is complete,
//!   as tree-sitter's bindings do.
//!
//! Anything else (quantifiers, negated fields, anonymous nodes, supertypes, an anchor after
//! the last child, predicates between captures) is left to the query cursor: [`compile`] gives `None`.

use std::num::NonZeroU16;

use tree_sitter::{Language, Node, Query};

use super::walk::{Child, ChildList};

/// tree-sitter's field id (its alias is private).
type FieldId = NonZeroU16;

/// One pattern compiled for matching at a node.
#[derive(Debug)]
pub struct Pattern {
    root: NodePattern,
    predicates: Vec<Predicate>,
}

#[derive(Debug)]
struct NodePattern {
    kind: KindTest,
    /// Capture indices in the query.
    captures: Vec<u32>,
    children: Vec<ChildPattern>,
}

#[derive(Debug)]
enum KindTest {
    /// One of these public kind ids.
    Of(Vec<u16>),
    /// `(_)`: any named node that is not an error.
    AnyNamed,
}

#[derive(Debug)]
struct ChildPattern {
    field: Option<FieldId>,
    /// `.` before it: it must be the first named child after the previous child pattern's.
    immediate: bool,
    node: NodePattern,
}

#[derive(Debug)]
struct Predicate {
    capture: u32,
    /// `#not-…`: the test must fail.
    negated: bool,
    test: TextTest,
}

#[derive(Debug)]
enum TextTest {
    OneOf(Vec<Vec<u8>>),
    Matches(regex::bytes::Regex),
}

impl TextTest {
    fn holds(&self, text: &[u8]) -> bool {
        match self {
            TextTest::OneOf(strings) => strings.iter().any(|s| s == text),
            TextTest::Matches(regex) => regex.is_match(text),
        }
    }
}

/// tree-sitter's public kind id of an error node.
const ERROR_KIND: u16 = u16::MAX;

impl KindTest {
    fn accepts(&self, kind: u16, named: bool) -> bool {
        match self {
            KindTest::Of(kinds) => kinds.contains(&kind),
            KindTest::AnyNamed => named && kind != ERROR_KIND,
        }
    }
}

/// Compiles one pattern of `query` (its source text `text`) when it is in the subset this
/// module matches; `None` leaves it to the query cursor.
pub fn compile(text: &str, language: &Language, query: &Query) -> Option<Pattern> {
    let tokens = tokens(text)?;
    let mut reader = Reader {
        tokens: &tokens,
        at: 0,
        language,
        query,
        predicates: Vec::new(),
    };
    let root = reader.top()?;
    (reader.at == tokens.len()).then_some(Pattern {
        root,
        predicates: reader.predicates,
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    OpenAlternation,
    CloseAlternation,
    Anchor,
    Field(&'a str),
    Capture(&'a str),
    Str(String),
    PredicateName(&'a str),
    Name(&'a str),
}

/// The tokens of a pattern's text; `None` for anything outside the subset (quantifiers,
/// negated fields, supertype paths).
fn tokens(text: &str) -> Option<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let word_end = |from: usize, extra: &[u8]| {
        let mut end = from;
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || extra.contains(&bytes[end]))
        {
            end += 1;
        }
        end
    };
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b')' | b'[' | b']' | b'.' => {
                tokens.push(match c {
                    b'(' => Token::Open,
                    b')' => Token::Close,
                    b'[' => Token::OpenAlternation,
                    b']' => Token::CloseAlternation,
                    _ => Token::Anchor,
                });
                i += 1;
            }
            b'@' => {
                let end = word_end(i + 1, b"_.-");
                if end == i + 1 {
                    return None;
                }
                tokens.push(Token::Capture(&text[i + 1..end]));
                i = end;
            }
            b'#' => {
                let end = word_end(i + 1, b"_-?!");
                tokens.push(Token::PredicateName(&text[i..end]));
                i = end;
            }
            b'"' => {
                // tree-sitter's escapes: `\n`, `\r`, `\t`, `\0`, and any other character as
                // itself.
                let mut string = String::new();
                let mut chars = text[i + 1..].char_indices();
                let mut closed = None;
                while let Some((at, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = Some(i + 1 + at + 1);
                            break;
                        }
                        '\\' => match chars.next()?.1 {
                            'n' => string.push('\n'),
                            'r' => string.push('\r'),
                            't' => string.push('\t'),
                            '0' => string.push('\0'),
                            other => string.push(other),
                        },
                        c => string.push(c),
                    }
                }
                tokens.push(Token::Str(string));
                i = closed?;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let end = word_end(i, b"_");
                let word = &text[i..end];
                if bytes.get(end) == Some(&b':') {
                    tokens.push(Token::Field(word));
                    i = end + 1;
                } else {
                    tokens.push(Token::Name(word));
                    i = end;
                }
            }
            _ => return None,
        }
    }
    Some(tokens)
}

struct Reader<'t, 'a> {
    tokens: &'t [Token<'a>],
    at: usize,
    language: &'t Language,
    query: &'t Query,
    predicates: Vec<Predicate>,
}

impl<'a> Reader<'_, 'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at)
    }

    fn peek_second(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at + 1)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.tokens.get(self.at)?.clone();
        self.at += 1;
        Some(token)
    }

    fn expect(&mut self, token: &Token) -> Option<()> {
        (self.next()? == *token).then_some(())
    }

    /// The whole pattern: a node, or a group of one node with its predicates
    /// `((kind …) @c (#eq? @c "x"))`.
    fn top(&mut self) -> Option<NodePattern> {
        if self.peek() == Some(&Token::Open) && self.peek_second() == Some(&Token::Open) {
            self.next();
            let node = self.node()?;
            while self.peek() == Some(&Token::Open) {
                self.predicate()?;
            }
            self.expect(&Token::Close)?;
            Some(node)
        } else {
            self.node()
        }
    }

    /// `(kind children… predicates…) @captures…`, or an alternation of plain kinds.
    fn node(&mut self) -> Option<NodePattern> {
        let kind = match self.next()? {
            Token::OpenAlternation => {
                let mut kinds = Vec::new();
                while self.peek() != Some(&Token::CloseAlternation) {
                    let branch = self.node()?;
                    // Only plain kinds: a branch with children or captures of its own is a
                    // pattern of its own for the cursor.
                    let (KindTest::Of(ids), true, true) = (
                        branch.kind,
                        branch.captures.is_empty(),
                        branch.children.is_empty(),
                    ) else {
                        return None;
                    };
                    kinds.extend(ids);
                }
                self.next();
                KindTest::Of(kinds)
            }
            Token::Open => {
                let kind = match self.next()? {
                    Token::Name("_") => KindTest::AnyNamed,
                    Token::Name(name) => KindTest::Of(vec![concrete_kind(self.language, name)?]),
                    _ => return None,
                };
                let mut children = Vec::new();
                loop {
                    match self.peek()? {
                        Token::Close => {
                            self.next();
                            break;
                        }
                        Token::Open
                            if matches!(self.peek_second(), Some(Token::PredicateName(_))) =>
                        {
                            self.predicate()?
                        }
                        Token::Anchor => {
                            self.next();
                            let mut child = self.child()?;
                            child.immediate = true;
                            children.push(child);
                        }
                        Token::Field(_) | Token::Open | Token::OpenAlternation => {
                            children.push(self.child()?)
                        }
                        _ => return None,
                    }
                }
                return self.captured(NodePattern {
                    kind,
                    captures: Vec::new(),
                    children,
                });
            }
            _ => return None,
        };
        self.captured(NodePattern {
            kind,
            captures: Vec::new(),
            children: Vec::new(),
        })
    }

    /// `node` with the captures written after it.
    fn captured(&mut self, mut node: NodePattern) -> Option<NodePattern> {
        while let Some(Token::Capture(name)) = self.peek() {
            let name = *name;
            self.next();
            node.captures.push(self.query.capture_index_for_name(name)?);
        }
        Some(node)
    }

    /// `field: node` or `node`.
    fn child(&mut self) -> Option<ChildPattern> {
        let field = match self.peek()? {
            Token::Field(name) => {
                let name = *name;
                self.next();
                Some(self.language.field_id_for_name(name)?)
            }
            _ => None,
        };
        let node = self.node()?;
        Some(ChildPattern {
            field,
            immediate: false,
            node,
        })
    }

    /// `(#name? @capture "text"…)`, kept for when a match is complete.
    fn predicate(&mut self) -> Option<()> {
        self.expect(&Token::Open)?;
        let Token::PredicateName(name) = self.next()? else {
            return None;
        };
        let Token::Capture(capture) = self.next()? else {
            return None;
        };
        let capture = self.query.capture_index_for_name(capture)?;
        let mut strings = Vec::new();
        while let Some(Token::Str(string)) = self.peek() {
            strings.push(string.clone());
            self.next();
        }
        self.expect(&Token::Close)?;
        let (negated, test) = match (name, strings.as_slice()) {
            ("#eq?" | "#not-eq?", [one]) => (
                name == "#not-eq?",
                TextTest::OneOf(vec![one.as_bytes().to_vec()]),
            ),
            ("#any-of?" | "#not-any-of?", [_, ..]) => (
                name == "#not-any-of?",
                TextTest::OneOf(strings.iter().map(|s| s.as_bytes().to_vec()).collect()),
            ),
            ("#match?" | "#not-match?", [regex]) => (
                name == "#not-match?",
                TextTest::Matches(regex::bytes::Regex::new(regex).ok()?),
            ),
            _ => return None,
        };
        self.predicates.push(Predicate {
            capture,
            negated,
            test,
        });
        Some(())
    }
}

/// The public id of the named kind `name` when a tree can hold a node of it: not hidden, not
/// a supertype, not unknown.
pub fn concrete_kind(language: &Language, name: &str) -> Option<u16> {
    let id = language.id_for_node_kind(name, true);
    (id != 0
        && usize::from(id) < language.node_kind_count()
        && language.node_kind_is_visible(id)
        && !language.node_kind_is_supertype(id))
    .then_some(id)
}

/// The state of matching patterns in one tree, kept from node to node.
pub struct Matcher<'t> {
    /// The children of the nodes being matched, with their fields: each level appends its
    /// node's children and drops them when done.
    children: ChildList<'t>,
    /// The captures of the match being built.
    binds: Vec<(u32, Node<'t>)>,
    /// Where each match found by the current run starts in the output.
    matches: Vec<usize>,
    /// The node the last run started at (its id and start byte) and where its children are
    /// listed: the patterns of a kind run one after another at the same node.
    root: Option<((usize, usize), std::ops::Range<usize>)>,
}

/// A node told apart from every other of its tree.
fn identity(node: Node) -> (usize, usize) {
    (node.id(), super::walk::start_byte(node))
}

/// What is left to match once a node matched: the rest of its parent's children patterns,
/// from a child on, then what was left of the parent's parent.
enum Rest<'r, 'p> {
    Done,
    Siblings {
        patterns: &'p [ChildPattern],
        /// The parent's children, in `Matcher::children`.
        children: std::ops::Range<usize>,
        next: &'r Rest<'r, 'p>,
    },
}

impl<'t> Matcher<'t> {
    pub fn new() -> Matcher<'t> {
        Matcher {
            children: ChildList::new(),
            binds: Vec::new(),
            matches: Vec::new(),
            root: None,
        }
    }

    /// Appends to `out` the captures of every match of `pattern` rooted at `node`, `source`
    /// being the tree's text.
    pub fn run(
        &mut self,
        pattern: &Pattern,
        node: Node<'t>,
        source: &[u8],
        out: &mut Vec<(u32, Node<'t>)>,
    ) {
        self.matches.clear();
        self.binds.clear();
        match &self.root {
            Some((at, listed)) if *at == identity(node) => self.children.truncate(listed.end),
            _ => {
                self.root = None;
                self.children.truncate(0);
            }
        }
        let root = Child {
            node,
            kind: node.kind_id(),
            field: None,
            named: node.is_named(),
        };
        self.node(pattern, &pattern.root, root, &Rest::Done, source, out);
    }

    fn node(
        &mut self,
        pattern: &Pattern,
        node_pattern: &NodePattern,
        child: Child<'t>,
        rest: &Rest<'_, '_>,
        source: &[u8],
        out: &mut Vec<(u32, Node<'t>)>,
    ) {
        if !node_pattern.kind.accepts(child.kind, child.named) {
            return;
        }
        let node = child.node;
        let mark = self.binds.len();
        self.binds
            .extend(node_pattern.captures.iter().map(|&capture| (capture, node)));
        if node_pattern.children.is_empty() {
            self.rest(pattern, rest, source, out);
        } else {
            let start = self.children.len();
            let listed = match &self.root {
                Some((at, listed)) if *at == identity(node) => Some(listed.clone()),
                // Out of memory: no match here rather than an abort.
                _ => self.children.append(node).ok(),
            };
            // The first node listed in a run is the one it started at: kept for the next.
            if start == 0 {
                self.root = listed.clone().map(|listed| (identity(node), listed));
            }
            if let Some(children) = listed {
                let siblings = Rest::Siblings {
                    patterns: &node_pattern.children,
                    children,
                    next: rest,
                };
                self.rest(pattern, &siblings, source, out);
            }
            if start > 0 {
                self.children.truncate(start);
            }
        }
        self.binds.truncate(mark);
    }

    fn rest(
        &mut self,
        pattern: &Pattern,
        rest: &Rest<'_, '_>,
        source: &[u8],
        out: &mut Vec<(u32, Node<'t>)>,
    ) {
        match rest {
            Rest::Done => self.complete(pattern, source, out),
            Rest::Siblings {
                patterns: [], next, ..
            } => self.rest(pattern, next, source, out),
            Rest::Siblings {
                patterns: [first, later @ ..],
                children,
                next,
            } => {
                for i in children.clone() {
                    let Some(child) = self.children.get(i) else {
                        break;
                    };
                    if first.immediate && !child.named {
                        continue;
                    }
                    if first.field.is_none() || child.field == first.field {
                        let after = Rest::Siblings {
                            patterns: later,
                            children: i + 1..children.end,
                            next,
                        };
                        self.node(pattern, &first.node, child, &after, source, out);
                    }
                    // Past the first named child, an anchored one cannot match.
                    if first.immediate {
                        break;
                    }
                }
            }
        }
    }

    /// A match whose every node matched: kept when its predicates hold and no earlier match
    /// of this run has the same captures.
    fn complete(&mut self, pattern: &Pattern, source: &[u8], out: &mut Vec<(u32, Node<'t>)>) {
        let holds = pattern.predicates.iter().all(|predicate| {
            self.binds
                .iter()
                .filter(|(capture, _)| *capture == predicate.capture)
                .all(|(_, node)| {
                    let text = source.get(node.byte_range()).unwrap_or_default();
                    predicate.test.holds(text) != predicate.negated
                })
        });
        if !holds {
            return;
        }
        let same = |found: &[(u32, Node)]| {
            found.len() == self.binds.len()
                && found
                    .iter()
                    .zip(&self.binds)
                    .all(|((a, m), (b, n))| a == b && m.id() == n.id())
        };
        let mut starts = self.matches.iter().copied().peekable();
        while let Some(start) = starts.next() {
            let end = starts.peek().copied().unwrap_or(out.len());
            if same(&out[start..end]) {
                return;
            }
        }
        self.matches.push(out.len());
        out.extend_from_slice(&self.binds);
    }
}
#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use tree_sitter::{Language, Parser, Query, QueryCursor, StreamingIterator, Tree};

    use super::*;

    /// `(pattern index, capture index, start, end)` of every capture of every match rooted at
    /// a node of `tree`: by the query cursor started at each node, or by `compiled`.
    type Found = Vec<(usize, u32, usize, usize)>;

    fn by_cursor(query: &Query, tree: &Tree, source: &[u8], root_kinds: &[Option<u16>]) -> Found {
        let mut found = Vec::new();
        let mut cursor = QueryCursor::new();
        cursor.set_max_start_depth(Some(0));
        let mut each = tree.walk();
        visit(&mut each, &mut |node| {
            if !root_kinds.contains(&Some(node.kind_id())) {
                return;
            }
            let mut matches = cursor.matches(query, node, source);
            while let Some(m) = matches.next() {
                for c in m.captures {
                    let range = c.node.byte_range();
                    found.push((m.pattern_index, c.index, range.start, range.end));
                }
            }
        });
        found.sort();
        found
    }

    fn by_matcher(compiled: &[Option<Pattern>], tree: &Tree, source: &[u8]) -> Found {
        let mut found = Vec::new();
        let mut matcher = Matcher::new();
        let mut out = Vec::new();
        let mut each = tree.walk();
        visit(&mut each, &mut |node| {
            for (i, pattern) in compiled.iter().enumerate() {
                let Some(pattern) = pattern else { continue };
                matcher.run(pattern, node, source, &mut out);
                for (capture, node) in out.drain(..) {
                    let range = node.byte_range();
                    found.push((i, capture, range.start, range.end));
                }
            }
        });
        found.sort();
        found
    }

    fn visit<'t>(cursor: &mut tree_sitter::TreeCursor<'t>, f: &mut dyn FnMut(Node<'t>)) {
        loop {
            f(cursor.node());
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    /// Runs `source`'s patterns over each of `codes` both ways; every pattern must compile.
    /// Returns how many captures agreed.
    fn agree(language: &Language, source: &str, codes: &[(String, String)]) -> usize {
        let query = Query::new(language, source).unwrap();
        let compiled: Vec<Option<Pattern>> = (0..query.pattern_count())
            .map(|i| {
                let text = &source[query.start_byte_for_pattern(i)..query.end_byte_for_pattern(i)];
                let pattern = compile(text, language, &query);
                assert!(pattern.is_some(), "not compiled: {text}");
                pattern
            })
            .collect();
        let root_kinds: Vec<Option<u16>> = compiled
            .iter()
            .map(|p| match p.as_ref().map(|p| &p.root.kind) {
                Some(KindTest::Of(kinds)) if kinds.len() == 1 => Some(kinds[0]),
                _ => None,
            })
            .collect();
        assert!(root_kinds.iter().all(Option::is_some), "{source}");
        let mut parser = Parser::new();
        parser.set_language(language).unwrap();
        let mut agreed = 0;
        for (name, code) in codes {
            let tree = parser.parse(code, None).unwrap();
            let expected = by_cursor(&query, &tree, code.as_bytes(), &root_kinds);
            let got = by_matcher(&compiled, &tree, code.as_bytes());
            assert_eq!(got, expected, "{name}");
            agreed += got.len();
        }
        agreed
    }

    fn sources_under(dir: &Path, extensions: &[&str]) -> Vec<(String, String)> {
        let walk = crate::workspace::walk(dir, &[], crate::workspace::DEFAULT_MAX_FILE_BYTES);
        walk.files
            .iter()
            .filter(|rel| {
                rel.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| extensions.contains(&e))
            })
            .filter_map(|rel| {
                let text = std::fs::read_to_string(dir.join(rel)).ok()?;
                Some((rel.display().to_string(), text))
            })
            .collect()
    }

    #[test]
    fn every_shipped_pattern_matches_what_the_query_cursor_matches() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        let registry = crate::code::registry().unwrap();
        let mut agreed = BTreeMap::new();
        for grammar in &registry.grammars {
            let extensions: &[&str] = match grammar.id {
                "rust" => &["rs"],
                "python" => &["py"],
                "typescript" => &["ts"],
                "tsx" => &["tsx", "ts"],
                "javascript" => &["js", "mjs", "cjs", "jsx"],
                "go" => &["go"],
                "java" => &["java"],
                other => panic!("no sources for {other}"),
            };
            let mut codes = sources_under(&fixtures, extensions);
            // This repository's own Rust, and its editor extensions' TypeScript and JavaScript.
            let ours = if grammar.id == "rust" {
                "src"
            } else {
                "../editors"
            };
            codes.extend(sources_under(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join(ours),
                extensions,
            ));
            // Every file again with its second half cut off: syntax errors, missing nodes.
            let cut: Vec<(String, String)> = codes
                .iter()
                .map(|(name, code)| {
                    let mut half = code.len() / 2;
                    while !code.is_char_boundary(half) {
                        half -= 1;
                    }
                    (format!("{name} (cut)"), code[..half].to_string())
                })
                .collect();
            codes.extend(cut);
            assert!(!codes.is_empty(), "{}", grammar.id);
            agreed.insert(
                grammar.id,
                agree(&grammar.ts_language, grammar.source, &codes),
            );
        }
        // Each grammar's query found something to agree on.
        assert!(agreed.values().all(|&n| n > 20), "{agreed:?}");
    }

    #[test]
    fn several_matches_anchors_alternations_and_predicates_agree_with_the_cursor() {
        let rust: Language = tree_sitter_rust::LANGUAGE.into();
        // Two children of a kind give a match each when captured, one when not (the cursor
        // drops states with equal captures); an anchor wants the next named sibling, a
        // comment between included.
        let patterns = r#"
            (block (expression_statement) @e (expression_statement) @f)
            (block (expression_statement) (let_declaration) @l) @b
            (block (attribute_item) @a . (function_item name: (identifier) @n))
            (arguments . [(integer_literal) (string_literal)] @first)
            (call_expression function: (identifier) @f (#any-of? @f "a" "b"))
            (call_expression function: (_) @g arguments: (arguments (_) @arg) (#not-match? @arg "^[0-9]"))
            (call_expression function: (field_expression value: (identifier) @o field: (field_identifier) @m) (#eq? @o "log") (#not-eq? @m "debug"))
            ((let_declaration pattern: (identifier) @v) @d (#match? @v "^_"))
        "#;
        let code = r#"
            fn f() {
                a(1, x, "s");
                b("t", 2);
                c(y, 3);
                log.info(1);
                log.debug(2);
                let _u = 1;
                let w = 2;
                #[test]
                fn t() {}
                #[test]
                // between
                fn u() {}
                x;
                y;
                let z = 3;
                d(;
            }
        "#;
        let agreed = agree(&rust, patterns, &[("snippet".into(), code.into())]);
        assert!(agreed > 20, "{agreed}");
    }

    #[test]
    fn what_is_left_to_the_query_cursor() {
        let rust: Language = tree_sitter_rust::LANGUAGE.into();
        let compiles = |text: &str| {
            let query = Query::new(&rust, text).unwrap();
            compile(text, &rust, &query).is_some()
        };
        assert!(compiles("(block (line_comment) @c)"));
        assert!(compiles("((identifier) @i (#eq? @i \"x\"))"));
        assert!(compiles(
            "(call_expression function: [(identifier) (field_expression)] @f)"
        ));
        assert!(compiles("(block . (line_comment) @c)"));
        // Quantifiers, negated fields, anonymous nodes, a last-child anchor,
        // alternations of structures, predicates between captures or of other kinds.
        assert!(!compiles("(block (line_comment)+ @c)"));
        assert!(!compiles(
            "(block (line_comment)? @c (expression_statement))"
        ));
        assert!(!compiles("(function_item !return_type) @f"));
        assert!(!compiles("(macro_invocation \"!\" @bang)"));
        assert!(!compiles("(block (line_comment) @c .)"));
        assert!(!compiles(
            "(block [(line_comment) @c (expression_statement (identifier))])"
        ));
        assert!(!compiles(
            "(binary_expression left: (_) @l right: (_) @r (#eq? @l @r))"
        ));
        assert!(!compiles("((identifier) @i (#set! kind \"x\"))"));
        assert!(!compiles("((identifier) @i (#any-eq? @i \"x\"))"));
        assert!(!compiles("(ERROR) @e"));
    }
}
