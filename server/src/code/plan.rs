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

/// Which node kinds the walk answers itself and which start the query cursor.
#[derive(Debug)]
pub struct QueryPlan {
    /// Node kind id → capture indices of the lone-node patterns of that kind.
    lone: Vec<Vec<u32>>,
    /// Node kind id → whether some other pattern is rooted at nodes of that kind.
    rooted: Vec<bool>,
}

/// A plan and the patterns it answers from the walk, which the query cursor must then skip.
pub struct Planned {
    pub plan: QueryPlan,
    pub lone_patterns: Vec<usize>,
}

impl QueryPlan {
    /// The plan for `query`, compiled from `source` against `language`; `None` when some
    /// pattern has no single named root node.
    pub fn new(language: &Language, query: &Query, source: &str) -> Option<Planned> {
        let kinds = language.node_kind_count();
        let mut plan = QueryPlan {
            lone: vec![Vec::new(); kinds],
            rooted: vec![false; kinds],
        };
        let mut lone_patterns = Vec::new();
        for i in 0..query.pattern_count() {
            if !query.is_pattern_rooted(i) {
                return None;
            }
            let text =
                source.get(query.start_byte_for_pattern(i)..query.end_byte_for_pattern(i))?;
            let root = root_of(text)?;
            let id = language.id_for_node_kind(root.kind, true);
            let usable = usize::from(id) < kinds
                && id != 0
                && language.node_kind_is_visible(id)
                && !language.node_kind_is_supertype(id);
            if !usable {
                return None;
            }
            match root
                .lone_capture
                .and_then(|c| query.capture_index_for_name(c))
            {
                Some(capture) => {
                    plan.lone[usize::from(id)].push(capture);
                    lone_patterns.push(i);
                }
                None => plan.rooted[usize::from(id)] = true,
            }
        }
        Some(Planned {
            plan,
            lone_patterns,
        })
    }

    /// Capture indices that every node of kind `kind` takes.
    pub fn lone_captures(&self, kind: u16) -> &[u32] {
        self.lone.get(usize::from(kind)).map_or(&[], Vec::as_slice)
    }

    /// Whether a pattern other than a lone node can match at a node of kind `kind`.
    pub fn roots_pattern(&self, kind: u16) -> bool {
        self.rooted.get(usize::from(kind)).copied().unwrap_or(false)
    }
}

/// The root node of one pattern's source text.
#[derive(Debug, PartialEq, Eq)]
struct Root<'a> {
    kind: &'a str,
    /// The capture, when the whole pattern is `(kind) @capture`.
    lone_capture: Option<&'a str>,
}

/// Reads the root of a pattern that tree-sitter reports as rooted: `(kind ...)`, possibly
/// inside a group with predicates, `((kind ...) @c (#eq? @c "x"))`. `None` for a wildcard,
/// an alternation, an anonymous node, a supertype path or a quantified root.
fn root_of(pattern: &str) -> Option<Root<'_>> {
    let pattern = pattern.trim();
    let inner = pattern.strip_prefix('(')?.trim_start();
    // Where the root node's own `(` is.
    let (grouped, open) = if inner.starts_with('(') {
        (true, pattern.len() - inner.len())
    } else {
        (false, 0)
    };
    let node = pattern[open + 1..].trim_start();
    let kind_len = node
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(node.len());
    let kind = &node[..kind_len];
    let after_kind = &node[kind_len..];
    if kind.is_empty() || kind == "_" || !after_kind.starts_with([' ', '\t', '\n', '\r', ')']) {
        return None;
    }
    let close = open + matching_paren(&pattern[open..])?;
    let rest = pattern[close + 1..].trim_start();
    if rest.starts_with(['*', '+', '?']) {
        return None;
    }
    let lone_capture = if grouped || !after_kind.trim_start().starts_with(')') {
        None
    } else {
        rest.strip_prefix('@').filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        })
    };
    Some(Root { kind, lone_capture })
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

    fn root(kind: &'static str, lone_capture: Option<&'static str>) -> Option<Root<'static>> {
        Some(Root { kind, lone_capture })
    }

    #[test]
    fn roots_are_read_from_pattern_text() {
        assert_eq!(
            root_of("(arguments) @list"),
            root("arguments", Some("list"))
        );
        assert_eq!(
            root_of("( try_expression )  @error.try\n"),
            root("try_expression", Some("error.try"))
        );
        assert_eq!(
            root_of("(function_item name: (identifier) @name.function)"),
            root("function_item", None)
        );
        assert_eq!(
            root_of("(function_item (visibility_modifier) @_v (#eq? @_v \"pub\")) @doc.item"),
            root("function_item", None)
        );
        assert_eq!(
            root_of("((identifier) @c (#eq? @c \"(\"))"),
            root("identifier", None)
        );
        // Two captures on a lone node are left to the query cursor.
        assert_eq!(root_of("(string) @a @b"), root("string", None));
        assert_eq!(root_of("(_) @any"), None);
        assert_eq!(root_of("[(a) (b)] @x"), None);
        assert_eq!(root_of("\"(\" @paren"), None);
        assert_eq!(root_of("(expression/identifier) @x"), None);
        assert_eq!(root_of("(comment)+ @docs"), None);
        assert_eq!(
            root_of("(block ; a comment with )\n (x)) @b"),
            root("block", None)
        );
    }

    #[test]
    fn a_plan_needs_every_pattern_rooted_at_a_named_node() {
        let rust: Language = tree_sitter_rust::LANGUAGE.into();
        let source = "(arguments) @list\n(call_expression function: (identifier) @f)\n";
        let query = Query::new(&rust, source).unwrap();
        let planned = QueryPlan::new(&rust, &query, source).unwrap();
        assert_eq!(planned.lone_patterns, [0]);
        let arguments = rust.id_for_node_kind("arguments", true);
        let call = rust.id_for_node_kind("call_expression", true);
        assert_eq!(
            planned.plan.lone_captures(arguments),
            [query.capture_index_for_name("list").unwrap()]
        );
        assert!(planned.plan.roots_pattern(call));
        assert!(!planned.plan.roots_pattern(arguments));
        assert!(planned.plan.lone_captures(u16::MAX).is_empty());

        let siblings = "((attribute_item) @a . (function_item) @f)\n";
        let query = Query::new(&rust, siblings).unwrap();
        assert!(QueryPlan::new(&rust, &query, siblings).is_none());
        let wildcard = "(_ (attribute_item) @a)\n";
        let query = Query::new(&rust, wildcard).unwrap();
        assert!(QueryPlan::new(&rust, &query, wildcard).is_none());
    }
}
