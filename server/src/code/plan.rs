//! How a grammar's convention query is run over a tree.
//!
//! tree-sitter's query cursor visits every node of a tree and, at each, does several times the
//! work of a plain tree walk; on real code that cost nearly half a parse, although most nodes
//! root no pattern at all. So when every pattern of a query has one named node at its root,
//! the file is walked once with a tree cursor, and
//! - a pattern that is a lone node with one capture, like `(arguments) @list`, is answered by
//!   the walk itself: it matches exactly the nodes of its kind;
//! - the query cursor is started only at nodes whose kind roots one of the other patterns, and
//!   only for matches rooted at that node, so that it looks no deeper than those patterns do.
//!
//! A pattern whose first child is required and holds a capture that an `#eq?` or `#any-of?`
//! predicate compares with strings, like the callee of
//! `(call_expression function: (identifier) @f (#any-of? @f "it" "test"))`, cannot match
//! unless that child's text contains one of them: the cursor starts only then, not at every
//! call of a JavaScript file.
//!
//! Where a start is due, the patterns [`super::pattern`] can compile are matched there with
//! the node API, and the query cursor (with those patterns disabled) only runs for a kind that
//! roots some other pattern.
//!
//! The matches are the same as those of a whole-tree run. A query with any other kind of
//! pattern (a wildcard or alternation at its root, a group of siblings) is run over the whole
//! tree instead; it is slower, never wrong.

use aho_corasick::AhoCorasick;
use tree_sitter::{Language, Node, Query};

use super::pattern::{self, Pattern};
use super::walk;

/// Which node kinds the walk answers itself and where the query cursor starts.
#[derive(Debug)]
pub struct QueryPlan {
    /// Node kind id → capture indices of the lone-node patterns of that kind.
    lone: Vec<Vec<u32>>,
    /// Node kind id → where the other patterns of that kind are matched.
    starts: Vec<Start>,
    /// Node kind id → the patterns of that kind matched without the query cursor.
    matched: Vec<Vec<Pattern>>,
    /// Node kind id → whether some pattern of that kind needs the query cursor.
    cursor: Vec<bool>,
    /// Node kind id → which nodes the walk reports ([`super::walk::REPORT`] and
    /// [`super::walk::REPORT_CHILDREN`]), from `lone` and `starts`.
    flags: Vec<u8>,
}

/// Where the query cursor is started for the patterns rooted at one node kind.
#[derive(Debug, Clone, Default)]
enum Start {
    /// No pattern is rooted at the kind (or only lone-node ones).
    #[default]
    Never,
    /// At every node of the kind.
    Always,
    /// Only at nodes with a child of one of these kinds, met while walking the children:
    /// every pattern rooted at the kind needs such a child, like the attribute of
    /// `(block (attribute_item) . (function_item))`, and most blocks have none.
    WithChild(Vec<ChildStart>),
}

/// A child kind that starts the query cursor at its parent, and what its text must hold.
#[derive(Debug, Clone)]
struct ChildStart {
    kind: u16,
    /// When every pattern that needs this child compares a capture inside it with strings:
    /// the strings, one of which the child's text must contain. `None`: any child does.
    texts: Option<Texts>,
}

/// Strings looked for in a child's text, found by one automaton.
#[derive(Debug, Clone)]
struct Texts {
    strings: Vec<String>,
    finder: AhoCorasick,
    /// How deep below the child the compared capture is, when every pattern says: 0, the
    /// child's whole text is one of the strings; 1, one of its children's is. Otherwise the
    /// strings are looked for anywhere in the child's text, which for a callee like
    /// `program.command('a').action(...).parse` is long and mostly irrelevant.
    depth: Option<usize>,
}

impl Texts {
    fn new(strings: Vec<String>, depth: Option<usize>) -> Option<Texts> {
        let finder = AhoCorasick::new(&strings).ok()?;
        Some(Texts {
            strings,
            finder,
            depth,
        })
    }

    fn is_one(&self, text: &[u8]) -> bool {
        self.strings.iter().any(|s| s.as_bytes() == text)
    }

    /// Whether `node` (whose text is `source[node.byte_range()]`) can hold a match.
    fn admit(&self, node: Node, source: &[u8]) -> bool {
        let text = |n: Node| source.get(n.byte_range()).unwrap_or_default();
        match self.depth {
            Some(0) => self.is_one(text(node)),
            // `Node::child` counts from the first child each time: fine for the few children
            // of a callee, not for a long list.
            Some(1) if node.child_count() <= MAX_CHILDREN_COMPARED => (0..node.child_count())
                .filter_map(|i| node.child(i))
                .any(|child| self.is_one(text(child))),
            _ => self.finder.is_match(text(node)),
        }
    }
}

/// Past this many children, a child's text is searched instead of its children's compared.
const MAX_CHILDREN_COMPARED: usize = 8;

impl Start {
    /// Adds a pattern that needs a child of `kind`, whose text must contain one of `texts`
    /// when given, at `depth` below the child when known.
    fn add_child(&mut self, kind: u16, texts: Option<Vec<String>>, depth: Option<usize>) {
        match self {
            Start::Always => {}
            Start::Never => {
                *self = Start::WithChild(vec![ChildStart {
                    kind,
                    texts: texts.and_then(|t| Texts::new(t, depth)),
                }])
            }
            Start::WithChild(children) => match children.iter_mut().find(|c| c.kind == kind) {
                None => children.push(ChildStart {
                    kind,
                    texts: texts.and_then(|t| Texts::new(t, depth)),
                }),
                // Another pattern needs the same child: their strings add up, and one with
                // none lets every child of the kind start the cursor.
                Some(child) => match (child.texts.take(), texts) {
                    (Some(known), Some(more)) => {
                        let mut strings = known.strings;
                        for string in more {
                            if !strings.contains(&string) {
                                strings.push(string);
                            }
                        }
                        let depth = if known.depth == depth { depth } else { None };
                        child.texts = Texts::new(strings, depth);
                    }
                    _ => child.texts = None,
                },
            },
        }
    }
}

/// A plan and the patterns it answers without the query cursor, which must then skip them.
pub struct Planned {
    pub plan: QueryPlan,
    pub answered: Vec<usize>,
}

/// The plan for `query`, compiled from `source` against `language`; `None` when some
/// pattern has no single named root node.
pub fn plan_query(language: &Language, query: &Query, source: &str) -> Option<Planned> {
    let kinds = language.node_kind_count();
    let concrete = |kind: &str| pattern::concrete_kind(language, kind);
    let mut plan = QueryPlan {
        lone: vec![Vec::new(); kinds],
        starts: vec![Start::Never; kinds],
        matched: (0..kinds).map(|_| Vec::new()).collect(),
        cursor: vec![false; kinds],
        flags: Vec::new(),
    };
    let mut answered = Vec::new();
    for i in 0..query.pattern_count() {
        if !query.is_pattern_rooted(i) {
            return None;
        }
        let text = source.get(query.start_byte_for_pattern(i)..query.end_byte_for_pattern(i))?;
        let root = root_of(text)?;
        let id = usize::from(concrete(root.kind)?);
        if let Some(capture) = root
            .lone_capture
            .and_then(|c| query.capture_index_for_name(c))
        {
            plan.lone[id].push(capture);
            answered.push(i);
            continue;
        }
        match pattern::compile(text, language, query) {
            Some(compiled) => {
                plan.matched[id].push(compiled);
                answered.push(i);
            }
            None => plan.cursor[id] = true,
        }
        let start = &mut plan.starts[id];
        match root.first_child.and_then(concrete) {
            None => *start = Start::Always,
            Some(child) => {
                start.add_child(child, root.first_child_texts, root.first_child_text_depth)
            }
        }
    }
    plan.flags = plan
        .lone
        .iter()
        .zip(&plan.starts)
        .map(|(lone, start)| match start {
            Start::WithChild(_) => walk::REPORT | walk::REPORT_CHILDREN,
            Start::Always => walk::REPORT,
            Start::Never if !lone.is_empty() => walk::REPORT,
            Start::Never => 0,
        })
        .collect();
    Some(Planned { plan, answered })
}

impl QueryPlan {
    /// What the walk reports, per node kind id.
    pub fn flags(&self) -> &[u8] {
        &self.flags
    }

    /// Capture indices that every node of kind `kind` takes.
    pub fn lone_captures(&self, kind: u16) -> &[u32] {
        self.lone.get(usize::from(kind)).map_or(&[], Vec::as_slice)
    }

    /// The patterns rooted at kind `kind` that are matched without the query cursor.
    pub fn matched(&self, kind: u16) -> &[Pattern] {
        self.matched
            .get(usize::from(kind))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether some pattern rooted at kind `kind` needs the query cursor.
    pub fn needs_cursor(&self, kind: u16) -> bool {
        self.cursor.get(usize::from(kind)).copied().unwrap_or(false)
    }

    /// Whether patterns are matched at every node of kind `kind`.
    pub fn starts_at(&self, kind: u16) -> bool {
        matches!(self.starts.get(usize::from(kind)), Some(Start::Always))
    }

    /// Whether `node`, a child of kind `child` of a node of kind `parent`, makes the patterns
    /// of its parent's kind be matched at its parent; `source` is the file's text.
    pub fn starts_for_child(&self, parent: u16, child: u16, node: Node, source: &[u8]) -> bool {
        let Some(Start::WithChild(children)) = self.starts.get(usize::from(parent)) else {
            return false;
        };
        match children.iter().find(|c| c.kind == child) {
            None => false,
            Some(ChildStart { texts: None, .. }) => true,
            Some(ChildStart {
                texts: Some(texts), ..
            }) => texts.admit(node, source),
        }
    }
}

/// The root node of one pattern's source text.
#[derive(Debug, PartialEq, Eq)]
struct Root<'a> {
    kind: &'a str,
    /// The capture, when the whole pattern is `(kind) @capture`.
    lone_capture: Option<&'a str>,
    /// The kind of the root's first child, when that child is a plain node the pattern
    /// cannot match without.
    first_child: Option<&'a str>,
    /// Strings one of which the first child's text contains whenever the pattern matches:
    /// those an `#eq?` or `#any-of?` of the whole pattern compares a capture inside that
    /// child with. `None` when no such predicate is known to hold.
    first_child_texts: Option<Vec<String>>,
    /// How deep inside the first child that capture is (0: the child itself), when known.
    first_child_text_depth: Option<usize>,
}

/// A node pattern `(kind ...)` read from the start of some query text.
struct NodeText<'a> {
    kind: &'a str,
    /// Between the kind and the closing parenthesis: fields, children, predicates.
    inside: &'a str,
    /// After the closing parenthesis.
    rest: &'a str,
}

/// The node pattern `text` starts with; `None` for a wildcard, an anonymous node, a
/// supertype path or a quantified node, which may match other kinds or nothing.
fn node_at(text: &str) -> Option<NodeText<'_>> {
    let body = text.strip_prefix('(')?.trim_start();
    let kind_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (kind, after_kind) = body.split_at(kind_len);
    if kind.is_empty() || kind == "_" || !after_kind.starts_with([' ', '\t', '\n', '\r', ')']) {
        return None;
    }
    let close = matching_paren(text)?;
    let rest = text[close + 1..].trim_start();
    if rest.starts_with(['*', '+', '?']) {
        return None;
    }
    Some(NodeText {
        kind,
        inside: skip_blank(&text[text.len() - after_kind.len()..close]),
        rest,
    })
}

/// Reads the root of a pattern that tree-sitter reports as rooted: `(kind ...)`, possibly
/// inside a group with predicates, `((kind ...) @c (#eq? @c "x"))`.
fn root_of(pattern: &str) -> Option<Root<'_>> {
    let pattern = pattern.trim();
    let inner = pattern.strip_prefix('(')?.trim_start();
    let grouped = inner.starts_with('(');
    let node = node_at(if grouped { inner } else { pattern })?;
    let lone_capture = if grouped || !node.inside.is_empty() {
        None
    } else {
        node.rest
            .strip_prefix('@')
            .filter(|name| !name.is_empty() && name.chars().all(in_capture_name))
    };
    // Children are required unless quantified, which `node_at` turns down.
    let first = node.inside;
    let field_len = first
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(first.len());
    let first = match first[field_len..].strip_prefix(':') {
        Some(child) if field_len > 0 => skip_blank(child),
        _ => first,
    };
    let child = node_at(first);
    let first_child_texts = child.as_ref().and_then(|child| {
        // The child with the captures written after it, `(identifier) @f`.
        let mut end = first.len() - child.rest.len();
        let mut rest = child.rest;
        while let Some(after) = rest.strip_prefix('@') {
            let name = after
                .find(|c: char| !in_capture_name(c))
                .unwrap_or(after.len());
            let next = after[name..].trim_start();
            end = first.len() - after[name..].len();
            rest = next;
        }
        let span = &first[..end];
        // A capture that may be absent (quantified, or in one branch of an alternation)
        // passes tree-sitter's predicates without any text.
        if span.contains(['[', '*', '+', '?']) {
            return None;
        }
        compared_strings(pattern)
            .into_iter()
            .find_map(|(capture, strings)| {
                let mut written = span
                    .match_indices(capture)
                    .filter(|(at, _)| !span[at + capture.len()..].starts_with(in_capture_name))
                    .map(|(at, _)| at);
                let at = written.next()?;
                // The parentheses still open where the capture is written: `(identifier) @f`
                // names the child itself, `(member object: (identifier) @o)` a child of it.
                let depth = written.next().is_none().then(|| open_parens(&span[..at]));
                Some((strings, depth))
            })
    });
    let (first_child_texts, first_child_text_depth) = match first_child_texts {
        Some((strings, depth)) => (Some(strings), depth),
        None => (None, None),
    };
    Some(Root {
        kind: node.kind,
        lone_capture,
        first_child: child.map(|child| child.kind),
        first_child_texts,
        first_child_text_depth,
    })
}

/// The `#eq?` and `#any-of?` predicates of a whole pattern (not those nested in one of its
/// parts) that compare a capture with strings: `@capture` and its strings.
fn compared_strings(pattern: &str) -> Vec<(&str, Vec<String>)> {
    let mut found = Vec::new();
    let mut depth = 0usize;
    for (at, c) in structure(pattern) {
        match c {
            '(' | '[' => {
                depth += 1;
                // A predicate one level inside the pattern's outermost parenthesis applies
                // to every match of it.
                if c == '(' && depth == 2 {
                    if let Some(predicate) = predicate_at(&pattern[at..]) {
                        found.push(predicate);
                    }
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    found
}

/// `(#eq? @capture "text")` or `(#any-of? @capture "a" "b" …)` at the start of `text`, read
/// as `@capture` and its strings; strings with escapes are not read.
fn predicate_at(text: &str) -> Option<(&str, Vec<String>)> {
    let body = text.strip_prefix('(')?.trim_start();
    let (name, body) = body.split_once(char::is_whitespace)?;
    if !matches!(name, "#eq?" | "#any-of?") {
        return None;
    }
    let body = body.trim_start();
    let capture_len = body
        .find(|c: char| c.is_whitespace() || c == ')')
        .unwrap_or(body.len());
    let (capture, mut body) = body.split_at(capture_len);
    if !capture.starts_with('@') {
        return None;
    }
    let mut strings = Vec::new();
    loop {
        body = body.trim_start();
        if body.starts_with(')') {
            break;
        }
        let quoted = body.strip_prefix('"')?;
        let close = quoted.find('"')?;
        let string = &quoted[..close];
        if string.contains('\\') || string.is_empty() {
            return None;
        }
        strings.push(string.to_string());
        body = &quoted[close + 1..];
    }
    (!strings.is_empty() && (name == "#any-of?" || strings.len() == 1))
        .then_some((capture, strings))
}

/// Whether `c` may be part of a capture's name (after its `@`).
fn in_capture_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// `text` without leading whitespace and `;` comments.
fn skip_blank(text: &str) -> &str {
    let mut text = text.trim_start();
    while let Some(comment) = text.strip_prefix(';') {
        text = comment
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    text
}

/// How many of the parentheses in `text` are not closed in it, outside strings and comments.
fn open_parens(text: &str) -> usize {
    let mut depth = 0usize;
    for (_, c) in structure(text) {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

/// The byte offset of the `)` closing the `(` that `text` starts with, skipping strings and
/// comments.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in structure(text) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// The characters of query text outside its strings and `;` comments, with their offsets;
/// an unterminated string ends them.
fn structure(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut chars = text.char_indices();
    std::iter::from_fn(move || loop {
        let (at, c) = chars.next()?;
        match c {
            '"' => loop {
                match chars.next()?.1 {
                    '\\' => {
                        chars.next()?;
                    }
                    '"' => break,
                    _ => {}
                }
            },
            ';' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            _ => return Some((at, c)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(
        kind: &'static str,
        lone_capture: Option<&'static str>,
        first_child: Option<&'static str>,
    ) -> Option<Root<'static>> {
        Some(Root {
            kind,
            lone_capture,
            first_child,
            first_child_texts: None,
            first_child_text_depth: None,
        })
    }

    fn texts(pattern: &str) -> Option<Vec<String>> {
        root_of(pattern)?.first_child_texts
    }

    fn depth(pattern: &str) -> Option<usize> {
        root_of(pattern)?.first_child_text_depth
    }

    #[test]
    fn the_depth_of_a_compared_capture_inside_the_first_child_is_read() {
        assert_eq!(
            depth(r#"(call_expression function: (identifier) @f (#eq? @f "it"))"#),
            Some(0)
        );
        assert_eq!(
            depth(
                r#"(call_expression function: (member_expression object: (identifier) @o) @log (#eq? @o "console"))"#
            ),
            Some(1)
        );
        assert_eq!(
            depth(r#"(call function: (m (m (identifier) @f)) (#eq? @f "x"))"#),
            Some(2)
        );
        // Written twice: where the text is is not known.
        assert_eq!(
            depth(r#"(call function: (m (a) @f (b) @f) (#eq? @f "x"))"#),
            None
        );
    }

    #[test]
    fn a_first_child_compared_with_strings_gives_the_texts_it_must_hold() {
        let strings = |s: &[&str]| Some(s.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            texts(
                r#"(call_expression function: (identifier) @f arguments: (arguments) (#any-of? @f "it" "test"))"#
            ),
            strings(&["it", "test"])
        );
        // The capture may sit deeper in the child.
        assert_eq!(
            texts(
                r#"(call_expression function: (member_expression object: (identifier) @o) @log (#eq? @o "console"))"#
            ),
            strings(&["console"])
        );
        assert_eq!(
            texts(r#"((call function: (identifier) @f) (#eq? @f "require"))"#),
            strings(&["require"])
        );
        // A capture outside the first child, a comparison with another capture, a negation,
        // a regular expression, an optional capture: no text is known to be there.
        for pattern in [
            r#"(call function: (identifier) arguments: (string) @s (#eq? @s "x"))"#,
            r#"(call function: (identifier) @f (string) @s (#eq? @f @s))"#,
            r#"(call function: (identifier) @f (#not-eq? @f "x"))"#,
            r#"(call function: (identifier) @f (#match? @f "x"))"#,
            r#"(call function: (member (identifier)? @f) (#eq? @f "x"))"#,
            r#"(call function: (identifier) @f [(a (#eq? @f "x")) (b)])"#,
            // `@ff` is not `@f`.
            r#"(call function: (identifier) @ff (#eq? @f "x"))"#,
        ] {
            assert_eq!(texts(pattern), None, "{pattern}");
        }
    }

    #[test]
    fn roots_are_read_from_pattern_text() {
        assert_eq!(
            root_of("(arguments) @list"),
            root("arguments", Some("list"), None)
        );
        assert_eq!(
            root_of("( try_expression )  @error.try\n"),
            root("try_expression", Some("error.try"), None)
        );
        assert_eq!(
            root_of("(function_item name: (identifier) @name.function)"),
            root("function_item", None, Some("identifier"))
        );
        assert_eq!(
            root_of("(function_item (visibility_modifier) @_v (#eq? @_v \"pub\")) @doc.item"),
            Some(Root {
                first_child_texts: Some(vec!["pub".to_string()]),
                first_child_text_depth: Some(0),
                ..root("function_item", None, Some("visibility_modifier")).unwrap()
            })
        );
        assert_eq!(
            root_of("((identifier) @c (#eq? @c \"(\"))"),
            root("identifier", None, None)
        );
        // Two captures on a lone node are left to the query cursor.
        assert_eq!(root_of("(string) @a @b"), root("string", None, None));
        assert_eq!(root_of("(_) @any"), None);
        assert_eq!(root_of("[(a) (b)] @x"), None);
        assert_eq!(root_of("\"(\" @paren"), None);
        assert_eq!(root_of("(expression/identifier) @x"), None);
        assert_eq!(root_of("(comment)+ @docs"), None);
        assert_eq!(
            root_of("(block ; a comment with )\n (x)) @b"),
            root("block", None, Some("x"))
        );
        // A first child that may be absent or of any kind does not say where to start.
        assert_eq!(root_of("(block (x)? (y))"), root("block", None, None));
        assert_eq!(root_of("(block . (x))"), root("block", None, None));
        assert_eq!(root_of("(call function: (_))"), root("call", None, None));
        assert_eq!(root_of("(call [(a) (b)])"), root("call", None, None));
        assert_eq!(root_of("(call !arguments)"), root("call", None, None));
    }

    #[test]
    fn a_plan_needs_every_pattern_rooted_at_a_named_node() {
        let rust: Language = tree_sitter_rust::LANGUAGE.into();
        let source = "(arguments) @list\n\
            (call_expression function: (identifier) @f)\n\
            (block (attribute_item) @a (function_item)* @f)\n\
            (block (line_comment) @c)\n\
            (macro_invocation (identifier) @m)\n\
            (macro_invocation macro: (_) @any)\n";
        let query = Query::new(&rust, source).unwrap();
        let planned = plan_query(&rust, &query, source).unwrap();
        // The lone node, and the patterns matched with the node API: all but the one with a
        // quantifier.
        assert_eq!(planned.answered, [0, 1, 3, 4, 5]);
        let plan = planned.plan;
        let id = |kind| rust.id_for_node_kind(kind, true);
        assert!(plan.needs_cursor(id("block")));
        assert!(!plan.needs_cursor(id("call_expression")));
        assert_eq!(plan.matched(id("macro_invocation")).len(), 2);
        assert_eq!(plan.matched(id("block")).len(), 1);
        assert_eq!(
            plan.lone_captures(id("arguments")),
            [query.capture_index_for_name("list").unwrap()]
        );
        assert!(plan.lone_captures(u16::MAX).is_empty());
        assert!(!plan.starts_at(id("arguments")));
        let reports_children = |kind| plan.flags()[usize::from(kind)] & walk::REPORT_CHILDREN != 0;
        assert!(!reports_children(id("arguments")));
        // A call needs an identifier child, a block an attribute or a comment.
        assert!(reports_children(id("call_expression")));
        // Children without compared text start it whatever they hold.
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&rust).unwrap();
        let tree = parser.parse("x", None).unwrap();
        let any = tree.root_node();
        let starts = |parent, child| plan.starts_for_child(id(parent), id(child), any, b"x");
        assert!(starts("call_expression", "identifier"));
        assert!(!plan.starts_at(id("block")));
        assert!(starts("block", "attribute_item"));
        assert!(starts("block", "line_comment"));
        assert!(!starts("block", "function_item"));
        assert!(plan.starts_at(id("macro_invocation")));

        // Calls of `it` or `test`, and through a field expression of `log`: only a callee
        // whose text holds one of them starts the cursor.
        let compared = "(call_expression function: (identifier) @f (#any-of? @f \"it\" \"test\"))\n\
            (call_expression function: (field_expression value: (identifier) @o) (#eq? @o \"log\"))\n";
        let query = Query::new(&rust, compared).unwrap();
        let plan = plan_query(&rust, &query, compared).unwrap().plan;
        let call = id("call_expression");
        assert!(plan.flags()[usize::from(call)] & walk::REPORT_CHILDREN != 0);
        let code = "fn f() { test(); submit(); run(); log.info(); self.test(); self.x(); \
                    (|| log)().info(); }";
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&rust).unwrap();
        let tree = parser.parse(code, None).unwrap();
        // The callee written `text`, and whether it starts the cursor at its call.
        let starts = |plan: &QueryPlan, text: &str| {
            let mut calls = vec![tree.root_node()];
            while let Some(node) = calls.pop() {
                let function = node.child_by_field_name("function");
                if let Some(callee) = function.filter(|f| &code[f.byte_range()] == text) {
                    return plan.starts_for_child(call, callee.kind_id(), callee, code.as_bytes());
                }
                calls.extend((0..node.child_count()).filter_map(|i| node.child(i)));
            }
            panic!("no callee {text}");
        };
        assert!(starts(&plan, "test"));
        assert!(
            !starts(&plan, "submit"),
            "the whole callee is compared, not a part"
        );
        assert!(!starts(&plan, "run"));
        assert!(starts(&plan, "log.info"));
        assert!(!starts(&plan, "self.test"));
        // `log` is in the callee's text but is not its value.
        assert!(!starts(&plan, "(|| log)().info"));
        // One more pattern on the same child without a predicate: any callee starts it.
        let mixed = format!("{compared}(call_expression function: (identifier) @g)\n");
        let query = Query::new(&rust, &mixed).unwrap();
        let plan = plan_query(&rust, &query, &mixed).unwrap().plan;
        assert!(starts(&plan, "run"));
        assert!(!starts(&plan, "self.x"));

        let siblings = "((attribute_item) @a . (function_item) @f)\n";
        let query = Query::new(&rust, siblings).unwrap();
        assert!(plan_query(&rust, &query, siblings).is_none());
        let wildcard = "(_ (attribute_item) @a)\n";
        let query = Query::new(&rust, wildcard).unwrap();
        assert!(plan_query(&rust, &query, wildcard).is_none());
    }
}
