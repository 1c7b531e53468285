//! The walk over one file's syntax tree that finds the nodes a [`QueryPlan`] needs.
//!
//! It is written in C (`walk.c`) against tree-sitter's internal subtree arrays: a
//! `TreeCursor` walk over every node cost 15% of the parse on JavaScript repositories, most of
//! it on punctuation no pattern looks at. This walk visits the same nodes in the same order
//! but makes a node only for those the plan's flags ask for, and reports them in a buffer
//! kept from file to file.
//!
//! [`QueryPlan`]: super::plan::QueryPlan

use std::ffi::c_void;
use std::marker::PhantomData;

use tree_sitter::ffi::TSNode;
use tree_sitter::{Node, Tree};

/// A kind flag: every node of the kind is reported.
pub const REPORT: u8 = 1;
/// A kind flag: every visible child of a node of the kind is reported (and the node too).
pub const REPORT_CHILDREN: u8 = 2;

const NO_PARENT: u32 = u32::MAX;

/// `TacitReport` in walk.c.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawReport {
    node: TSNode,
    kind: u16,
    parent_kind: u16,
    parent_report: u32,
}

/// `TacitWalk` in walk.c: buffers that walk.c grows with `realloc` and frees in
/// `tacit_walk_free`.
#[repr(C)]
struct RawWalk {
    reports: *mut RawReport,
    len: u32,
    cap: u32,
    frames: *mut c_void,
    frames_cap: u32,
}

extern "C" {
    fn tacit_walk(walk: *mut RawWalk, root: TSNode, flags: *const u8, flag_count: u32) -> bool;
    fn tacit_walk_free(walk: *mut RawWalk);
}

/// Memory ran out while walking a tree.
#[derive(Debug, thiserror::Error)]
#[error("out of memory while walking a syntax tree")]
pub struct WalkError;

/// The buffers of one worker thread's walks.
pub struct Walker {
    raw: RawWalk,
}

// SAFETY: a `Walker` owns its buffers alone; the nodes in them are only read through a
// `Reports` borrow, which ties them to their tree.
unsafe impl Send for Walker {}

impl Walker {
    pub fn new() -> Walker {
        Walker {
            raw: RawWalk {
                reports: std::ptr::null_mut(),
                len: 0,
                cap: 0,
                frames: std::ptr::null_mut(),
                frames_cap: 0,
            },
        }
    }

    /// The nodes of `tree` that `flags` (indexed by kind id, see [`REPORT`] and
    /// [`REPORT_CHILDREN`]) ask for, in the order a tree cursor visits them.
    pub fn walk<'w, 't>(
        &'w mut self,
        tree: &'t Tree,
        flags: &[u8],
    ) -> Result<Reports<'w, 't>, WalkError> {
        let count = u32::try_from(flags.len()).unwrap_or(u32::MAX);
        // SAFETY: the root node belongs to `tree`, which outlives the call; `flags` holds
        // `count` bytes; `self.raw` is either empty or was filled by an earlier walk.
        let complete = unsafe {
            tacit_walk(
                &mut self.raw,
                tree.root_node().into_raw(),
                flags.as_ptr(),
                count,
            )
        };
        if !complete {
            return Err(WalkError);
        }
        let reports: &[RawReport] = if self.raw.len == 0 {
            &[]
        } else {
            // SAFETY: walk.c wrote `len` reports into `reports`, which it allocated.
            unsafe { std::slice::from_raw_parts(self.raw.reports, self.raw.len as usize) }
        };
        Ok(Reports {
            reports,
            tree: PhantomData,
        })
    }
}

impl Default for Walker {
    fn default() -> Self {
        Walker::new()
    }
}

impl Drop for Walker {
    fn drop(&mut self) {
        // SAFETY: the buffers were allocated by walk.c (or are null) and are not used again.
        unsafe { tacit_walk_free(&mut self.raw) }
    }
}

/// One reported node.
#[derive(Clone, Copy)]
pub struct Report<'t> {
    pub node: Node<'t>,
    pub kind: u16,
    /// The kind of the nearest visible ancestor (`Node::parent`); `None` at the root.
    pub parent_kind: Option<u16>,
    /// Where the parent is among the reports, when it was reported.
    pub parent_report: Option<usize>,
}

/// The nodes one walk reported, valid while the tree lives and the walker is not reused.
pub struct Reports<'w, 't> {
    reports: &'w [RawReport],
    tree: PhantomData<&'t Tree>,
}

impl<'t> Reports<'_, 't> {
    pub fn len(&self) -> usize {
        self.reports.len()
    }

    /// The report at `index`, which is below [`len`](Self::len).
    pub fn get(&self, index: usize) -> Option<Report<'t>> {
        let raw = self.reports.get(index)?;
        Some(Report {
            // SAFETY: walk.c made the node from `'t`'s tree, which outlives `'t`.
            node: unsafe { Node::from_raw(raw.node) },
            kind: raw.kind,
            // Kind 0 is tree-sitter's end-of-input symbol, never a node's.
            parent_kind: (raw.parent_kind != 0).then_some(raw.parent_kind),
            parent_report: (raw.parent_report != NO_PARENT).then_some(raw.parent_report as usize),
        })
    }
}

/// `TacitChild` in walk.c.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawChild {
    node: TSNode,
    kind: u16,
    field: u16,
    named: bool,
}

/// `TacitChildren` in walk.c, grown by it with `realloc`; `len` is set back from here.
#[repr(C)]
struct RawChildren {
    children: *mut RawChild,
    len: u32,
    cap: u32,
    frames: *mut c_void,
    frames_cap: u32,
}

extern "C" {
    fn tacit_children(out: *mut RawChildren, parent: TSNode) -> bool;
    fn tacit_children_free(out: *mut RawChildren);
}

/// The visible children of nodes of one tree, listed one node's after another in one buffer:
/// a query pattern steps through a node's children and, for each that matches, through its
/// own, while a `TreeCursor` re-derived each child's position and field on every step.
pub struct ChildList<'t> {
    raw: RawChildren,
    tree: PhantomData<&'t Tree>,
}

/// One listed child.
#[derive(Clone, Copy)]
pub struct Child<'t> {
    pub node: Node<'t>,
    /// Public kind id, as `Node::kind_id`.
    pub kind: u16,
    /// The field it is under, as `TreeCursor::field_id` gives it.
    pub field: Option<std::num::NonZeroU16>,
    pub named: bool,
}

impl<'t> ChildList<'t> {
    pub fn new() -> ChildList<'t> {
        ChildList {
            raw: RawChildren {
                children: std::ptr::null_mut(),
                len: 0,
                cap: 0,
                frames: std::ptr::null_mut(),
                frames_cap: 0,
            },
            tree: PhantomData,
        }
    }

    /// Lists the children of `node` after those already listed; where they are.
    pub fn append(&mut self, node: Node<'t>) -> Result<std::ops::Range<usize>, WalkError> {
        let start = self.len();
        // SAFETY: `node` belongs to a tree that outlives `'t`; `self.raw` is empty or was
        // filled by earlier calls, with `len` at most what walk.c wrote.
        if !unsafe { tacit_children(&mut self.raw, node.into_raw()) } {
            return Err(WalkError);
        }
        Ok(start..self.len())
    }

    pub fn len(&self) -> usize {
        self.raw.len as usize
    }

    /// Forgets the children listed from `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.raw.len = self.raw.len.min(u32::try_from(len).unwrap_or(u32::MAX));
    }

    pub fn get(&self, index: usize) -> Option<Child<'t>> {
        if index >= self.len() {
            return None;
        }
        // SAFETY: walk.c wrote the first `len` children, and `index` is below it.
        let raw = unsafe { *self.raw.children.add(index) };
        Some(Child {
            // SAFETY: walk.c made the node from a tree that outlives `'t`.
            node: unsafe { Node::from_raw(raw.node) },
            kind: raw.kind,
            field: std::num::NonZeroU16::new(raw.field),
            named: raw.named,
        })
    }
}

impl Default for ChildList<'_> {
    fn default() -> Self {
        ChildList::new()
    }
}

impl Drop for ChildList<'_> {
    fn drop(&mut self) {
        // SAFETY: the buffers were allocated by walk.c (or are null) and are not used again.
        unsafe { tacit_children_free(&mut self.raw) }
    }
}

// `TSNode::context` holds the start byte, row and column, as `ts_node_new` (node.c) writes
// them: read here without a call into C, which the code index would make for every capture.

/// `node.start_byte()`.
pub fn start_byte(node: Node) -> usize {
    node.into_raw().context[0] as usize
}

/// `node.start_position().row`.
pub fn start_row(node: Node) -> u32 {
    node.into_raw().context[1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::registry;

    /// Code for each grammar, with aliased nodes (`field_identifier`, `property_identifier`,
    /// `type_identifier`), hidden ones, comments (extras) and a syntax error.
    const SOURCES: &[(&str, &str)] = &[
        (
            "rust",
            "/// Doc.\n#[cfg(test)]\nmod m { struct S { f: u8 }\n fn g(s: &S) -> Result<u8, E> { let x = s.f?; \
             println!(\"{x}\"); Ok(x) } }\nfn broken( { 1 + }\n",
        ),
        (
            "python",
            "import os\nclass A(B):\n    \"\"\"Doc.\"\"\"\n    def f(self, x: int) -> str:\n        \
             try:\n            raise E() from x\n        except (E, F):\n            pass  # c\n\
             def broken(:\n",
        ),
        (
            "typescript",
            "import { a } from 'b';\nexport interface I { f(x: number): string }\n\
             const g = async (y: any): Promise<void> => { await y?.z; };\nlet broken = (;\n",
        ),
        (
            "tsx",
            "export function C({ p }: Props) { return <div className=\"x\">{p}</div>; }\nlet broken = (;\n",
        ),
        (
            "javascript",
            "const x = require('y');\n// c\nfoo.bar('it', () => { try { a(); } catch (e) { console.log(e) } });\n\
             class A extends Error {}\nlet broken = [;\n",
        ),
        (
            "go",
            "package p\nimport \"fmt\"\ntype T struct{ f int }\nfunc (t *T) M() error { x := 1; \
             return fmt.Errorf(\"%d: %w\", x, err) }\nfunc broken( {\n",
        ),
        (
            "java",
            "package p;\nimport java.util.List;\n/** Doc. */\npublic class A<T> extends B { \
             void f() throws E { try { g(); } catch (IOException e) { throw new X(e); } } }\nclass broken {\n",
        ),
    ];

    fn tree_of(id: &str) -> (Tree, &'static str) {
        let grammar = registry()
            .unwrap()
            .grammars
            .iter()
            .find(|g| g.id == id)
            .unwrap();
        let code = SOURCES.iter().find(|(g, _)| *g == id).unwrap().1;
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&grammar.ts_language).unwrap();
        (parser.parse(code, None).unwrap(), code)
    }

    /// Every node a tree cursor visits, in order, with its parent.
    fn cursor_walk(tree: &Tree) -> Vec<(Node<'_>, Option<Node<'_>>)> {
        let mut visited = Vec::new();
        let mut ancestors: Vec<Node> = Vec::new();
        let mut cursor = tree.walk();
        loop {
            visited.push((cursor.node(), ancestors.last().copied()));
            if cursor.goto_first_child() {
                ancestors.push(visited.last().unwrap().0);
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return visited;
                }
                ancestors.pop();
            }
        }
    }

    #[test]
    fn asked_for_every_kind_the_walk_reports_what_a_tree_cursor_visits() {
        let every = vec![REPORT; usize::from(u16::MAX) + 1];
        let mut walker = Walker::new();
        for (id, _) in SOURCES {
            let (tree, _) = tree_of(id);
            assert!(
                tree.root_node().has_error(),
                "{id}: the code has a syntax error"
            );
            let expected = cursor_walk(&tree);
            let reports = walker.walk(&tree, &every).unwrap();
            assert_eq!(reports.len(), expected.len(), "{id}");
            for (i, (node, parent)) in expected.iter().enumerate() {
                let report = reports.get(i).unwrap();
                let at = format!("{id}: report {i}, {}", node.kind());
                assert_eq!(report.node, *node, "{at}");
                assert_eq!(report.node.byte_range(), node.byte_range(), "{at}");
                assert_eq!(report.node.start_position(), node.start_position(), "{at}");
                assert_eq!(report.kind, node.kind_id(), "{at}");
                assert_eq!(report.node.kind(), node.kind(), "{at}");
                assert_eq!(start_byte(report.node), node.start_byte(), "{at}");
                assert_eq!(
                    start_row(report.node) as usize,
                    node.start_position().row,
                    "{at}"
                );
                assert_eq!(report.parent_kind, parent.map(|p| p.kind_id()), "{at}");
                assert_eq!(*parent, node.parent(), "{at}");
                let reported_parent = report.parent_report.and_then(|p| reports.get(p));
                assert_eq!(reported_parent.map(|p| p.node), *parent, "{at}");
            }
        }
    }

    #[test]
    fn listed_children_are_a_tree_cursors_with_their_fields() {
        for (id, _) in SOURCES {
            let (tree, _) = tree_of(id);
            let mut list = ChildList::new();
            let mut cursor = tree.walk();
            let mut fields = 0;
            for (parent, _) in cursor_walk(&tree) {
                // Listed after what an earlier node left, as a pattern's levels do.
                let before = list.len();
                let listed = list.append(parent).unwrap();
                assert_eq!(listed.start, before);
                let mut expected = Vec::new();
                cursor.reset(parent);
                if cursor.goto_first_child() {
                    loop {
                        expected.push((cursor.node(), cursor.field_id()));
                        if !cursor.goto_next_sibling() {
                            break;
                        }
                    }
                }
                assert_eq!(listed.len(), expected.len(), "{id}: {}", parent.kind());
                for (i, (node, field)) in listed.zip(&expected) {
                    let child = list.get(i).unwrap();
                    let at = format!("{id}: {} in {}", node.kind(), parent.kind());
                    assert_eq!(child.node, *node, "{at}");
                    assert_eq!(child.node.start_position(), node.start_position(), "{at}");
                    assert_eq!(child.kind, node.kind_id(), "{at}");
                    assert_eq!(child.field, *field, "{at}");
                    assert_eq!(child.named, node.is_named(), "{at}");
                    fields += usize::from(field.is_some());
                }
                if list.len() > 1000 {
                    list.truncate(0);
                }
            }
            assert!(fields > 5, "{id}: {fields} children under a field");
        }
    }

    #[test]
    fn children_are_reported_under_the_kinds_that_ask_for_them_only() {
        let (tree, code) = tree_of("javascript");
        let language = tree.language();
        let call = language.id_for_node_kind("call_expression", true);
        let string = language.id_for_node_kind("string", true);
        let mut flags = vec![0; language.node_kind_count()];
        flags[usize::from(call)] = REPORT | REPORT_CHILDREN;
        flags[usize::from(string)] = REPORT;
        let expected: Vec<_> = cursor_walk(&tree)
            .into_iter()
            .filter(|(node, parent)| {
                node.kind_id() == call
                    || node.kind_id() == string
                    || parent.is_some_and(|p| p.kind_id() == call)
            })
            .map(|(node, _)| &code[node.byte_range()])
            .collect();
        let mut walker = Walker::new();
        let reports = walker.walk(&tree, &flags).unwrap();
        let reported: Vec<_> = (0..reports.len())
            .map(|i| &code[reports.get(i).unwrap().node.byte_range()])
            .collect();
        assert_eq!(reported, expected);
        assert!(reported.contains(&"foo.bar"), "{reported:?}");
        assert!(reported.contains(&"'y'"), "{reported:?}");
        // A kind past the flags is not reported, whatever it is.
        let reports = walker.walk(&tree, &[]).unwrap();
        assert_eq!(reports.len(), 0);
    }
}
