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
//! The matches are the same as those of a whole-tree run. A query with any other kind of
//! pattern (a wildcard or alternation at its root, a group of siblings) is run over the whole
//! tree instead; it is slower, never wrong.

use tree_sitter::{Language, Query};

/// Which node kinds the walk answers itself and where the query cursor starts.
#[derive(Debug)]
pub struct QueryPlan {
    /// Node kind id → capture indices of the lone-node patterns of that kind.
    lone: Vec<Vec<u32>>,
    /// Node kind id → where the query cursor starts for the other patterns of that kind.
    starts: Vec<Start>,
}

/// Where the query cursor is started for the patterns rooted at one node kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Start {
    /// No pattern is rooted at the kind (or only lone-node ones).
    #[default]
    Never,
    /// At every node of the kind.
    Always,
    /// Only at nodes with a child of one of these kinds, met while walking the children:
    /// every pattern rooted at the kind needs such a child, like the attribute of
    /// `(block (attribute_item) . (function_item))`, and most blocks have none.
    WithChild(Vec<u16>),
}

/// A plan and the patterns it answers from the walk, which the query cursor must then skip.
pub struct Planned {
    pub plan: QueryPlan,
    pub lone_patterns: Vec<usize>,
}

/// The plan for `query`, compiled from `source` against `language`; `None` when some
/// pattern has no single named root node.
pub fn plan_query(language: &Language, query: &Query, source: &str) -> Option<Planned> {
    let kinds = language.node_kind_count();
    // Named node kinds a tree can hold: not hidden, not a supertype, not unknown.
    let concrete = |kind: &str| {
        let id = language.id_for_node_kind(kind, true);
        (usize::from(id) < kinds
            && id != 0
            && language.node_kind_is_visible(id)
            && !language.node_kind_is_supertype(id))
        .then_some(id)
    };
    let mut plan = QueryPlan {
        lone: vec![Vec::new(); kinds],
        starts: vec![Start::Never; kinds],
    };
    let mut lone_patterns = Vec::new();
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
            lone_patterns.push(i);
            continue;
        }
        let start = &mut plan.starts[id];
        match (root.first_child.and_then(concrete), &mut *start) {
            (_, Start::Always) => {}
            (None, _) => *start = Start::Always,
            (Some(child), Start::Never) => *start = Start::WithChild(vec![child]),
            (Some(child), Start::WithChild(children)) => {
                if !children.contains(&child) {
                    children.push(child);
                }
            }
        }
    }
    Some(Planned {
        plan,
        lone_patterns,
    })
}

impl QueryPlan {
    /// Capture indices that every node of kind `kind` takes.
    pub fn lone_captures(&self, kind: u16) -> &[u32] {
        self.lone.get(usize::from(kind)).map_or(&[], Vec::as_slice)
    }

    /// Whether the query cursor starts at every node of kind `kind`.
    pub fn starts_at(&self, kind: u16) -> bool {
        self.starts.get(usize::from(kind)) == Some(&Start::Always)
    }

    /// Whether the query cursor may start at a node of kind `kind` once a child of some
    /// kind is seen; [`starts_for_child`](Self::starts_for_child) says which.
    pub fn starts_with_child(&self, kind: u16) -> bool {
        matches!(
            self.starts.get(usize::from(kind)),
            Some(Start::WithChild(_))
        )
    }

    /// Whether a child of kind `child` makes the query cursor start at its parent of kind
    /// `parent`.
    pub fn starts_for_child(&self, parent: u16, child: u16) -> bool {
        match self.starts.get(usize::from(parent)) {
            Some(Start::WithChild(children)) => children.contains(&child),
            _ => false,
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
        node.rest.strip_prefix('@').filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        })
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
    Some(Root {
        kind: node.kind,
        lone_capture,
        first_child: node_at(first).map(|child| child.kind),
    })
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

/// The byte offset of the `)` closing the `(` that `text` starts with, skipping strings and
/// comments.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
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
            _ => {}
        }
    }
    None
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
        })
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
            root("function_item", None, Some("visibility_modifier"))
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
            (block (attribute_item) @a . (function_item) @f)\n\
            (block (line_comment) @c)\n\
            (macro_invocation (identifier) @m)\n\
            (macro_invocation macro: (_) @any)\n";
        let query = Query::new(&rust, source).unwrap();
        let planned = plan_query(&rust, &query, source).unwrap();
        assert_eq!(planned.lone_patterns, [0]);
        let plan = planned.plan;
        let id = |kind| rust.id_for_node_kind(kind, true);
        assert_eq!(
            plan.lone_captures(id("arguments")),
            [query.capture_index_for_name("list").unwrap()]
        );
        assert!(plan.lone_captures(u16::MAX).is_empty());
        assert!(!plan.starts_at(id("arguments")));
        assert!(!plan.starts_with_child(id("arguments")));
        // A call needs an identifier child, a block an attribute or a comment.
        assert!(plan.starts_with_child(id("call_expression")));
        assert!(plan.starts_for_child(id("call_expression"), id("identifier")));
        assert!(!plan.starts_at(id("block")));
        assert!(plan.starts_for_child(id("block"), id("attribute_item")));
        assert!(plan.starts_for_child(id("block"), id("line_comment")));
        assert!(!plan.starts_for_child(id("block"), id("function_item")));
        assert!(plan.starts_at(id("macro_invocation")));

        let siblings = "((attribute_item) @a . (function_item) @f)\n";
        let query = Query::new(&rust, siblings).unwrap();
        assert!(plan_query(&rust, &query, siblings).is_none());
        let wildcard = "(_ (attribute_item) @a)\n";
        let query = Query::new(&rust, wildcard).unwrap();
        assert!(plan_query(&rust, &query, wildcard).is_none());
    }
}
