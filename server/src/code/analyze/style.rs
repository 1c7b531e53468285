//! Style of one construct at a time: declarations, catch-parameter and receiver names, doc
//! comments, Python annotations, quotes, semicolons and trailing commas.

use std::collections::BTreeMap;

use tree_sitter::Node;

use super::{intern, line_of, SourceView};

impl<'a> SourceView<'a> {
    /// `const`/`let`/`var` in JS/TS; in Go, `:=` against `var` inside function bodies (a
    /// package-level `var` has no `:=` alternative).
    /// `parent` gives the kind of the node's parent.
    pub(super) fn declaration(
        &mut self,
        node: Node,
        parent: impl FnOnce() -> Option<&'static str>,
    ) {
        let line = line_of(node);
        match self.kind(node) {
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
                if parent().is_none_or(|p| p == "source_file") {
                    return;
                }
                // One case per name group: `var ( a int; b string )` declares two.
                let mut specs = 0;
                let mut stack = vec![node];
                while let Some(n) = stack.pop() {
                    let mut cursor = n.walk();
                    for child in n.named_children(&mut cursor) {
                        match self.kind(child) {
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
    pub(super) fn catch_parameter(&mut self, node: Node) {
        let name = match self.kind(node) {
            "catch_clause" => node.child_by_field_name("parameter"),
            _ => node.child_by_field_name("name"),
        };
        let Some(name) = name.filter(|n| self.kind(*n) == "identifier") else {
            return;
        };
        let value = intern(self.text_of(name));
        self.facts
            .add("naming.catch_parameter", value, line_of(name));
    }

    /// A Go method's receiver: one letter (`r *Router`), a short abbreviation or a word.
    pub(super) fn receiver(
        &mut self,
        method: Node,
        per_type: &mut BTreeMap<&'a str, Vec<&'a str>>,
    ) {
        let Some(param) = method
            .child_by_field_name("receiver")
            .and_then(|list| list.named_child(0))
            .filter(|p| self.kind(*p) == "parameter_declaration")
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

    pub(super) fn document(&mut self, node: Node) {
        let line = line_of(node);
        let documented = match self.language {
            "python" => {
                let docstring = node
                    .child_by_field_name("body")
                    .and_then(|b| b.named_child(0))
                    .filter(|s| self.kind(*s) == "expression_statement")
                    .and_then(|s| s.named_child(0))
                    .filter(|s| self.kind(*s) == "string");
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
    pub(super) fn doc_comment_above(&self, start: usize) -> bool {
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
            // A block opener counts when its block ends here; a line prefix on this line.
            return crate::catalog::doc_comments(self.language)
                .iter()
                .any(|opener| {
                    if opener.starts_with("/*") {
                        line.ends_with("*/")
                            && body
                                .rfind("/*")
                                .is_some_and(|at| body[at..].starts_with(opener.as_str()))
                    } else {
                        line.starts_with(opener.as_str())
                    }
                });
        }
    }

    pub(super) fn python_annotations(&mut self, function: Node) {
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
            match self.kind(p) {
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

    /// `parent` is the kind of the string's parent.
    pub(super) fn quote(&mut self, node: Node, parent: Option<&str>) {
        if parent == Some("jsx_attribute") {
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

    /// `parent` is the kind of the statement's parent.
    pub(super) fn semicolon(&mut self, node: Node, parent: Option<&str>) {
        if matches!(
            parent,
            Some("for_statement" | "for_in_statement" | "export_statement")
        ) {
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

    pub(super) fn trailing_comma(&mut self, node: Node) {
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
            if child.is_named() && !self.kind(child).contains("comment") {
                last = Some(child);
                comma_after = false;
            } else if self.kind(child) == "," {
                comma_after = true;
            }
            close = Some(child);
        }
        let Some(close) = close.filter(|c| matches!(self.kind(*c), ")" | "]" | "}")) else {
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
}
