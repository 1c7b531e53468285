// The one walk over a syntax tree that the code index makes per file (see walk.rs).
//
// A TSTreeCursor walk over every node cost 15% of the parse itself on JavaScript
// repositories, most of it spent stepping onto punctuation and keywords that no convention
// pattern looks at, and on the bookkeeping the cursor keeps for moving in every direction.
// This walk only moves forward: it reads each node's children straight from tree-sitter's
// subtree arrays, tracks positions the way `ts_node_child_iterator_next` does (node.c), and
// makes a TSNode only for the nodes the caller's flags ask for.
//
// It reads tree-sitter's internal headers, so it is compiled against the sources of the very
// tree-sitter crate this package links (build.rs), pinned to one version in Cargo.toml.

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tree_sitter/api.h"
#include "language.h"
#include "length.h"
#include "subtree.h"
#include "tree.h"

// Bits of the per-kind flags.
#define TACIT_REPORT 1          // report every node of the kind
#define TACIT_REPORT_CHILDREN 2 // report every visible child of a node of the kind
#define TACIT_NO_PARENT UINT32_MAX

typedef struct {
  TSNode node;
  // Public kind ids of the node and of its nearest visible ancestor, as a tree cursor sees it
  // (hidden nodes are transparent); 0 for the root's parent.
  uint16_t kind;
  uint16_t parent_kind;
  // Index of the parent's report, or TACIT_NO_PARENT when the parent was not reported.
  uint32_t parent_report;
} TacitReport;

// The children of one node being walked, and the visible node they belong to. Small, so that
// the walk keeps the current one in registers: a frame holding the parent's TSNode was
// copied through the stack on every step.
typedef struct {
  const Subtree *children;
  const TSSymbol *alias_sequence;
  Length position;
  uint32_t child_count;
  uint32_t child_index;
  uint32_t structural_child_index;
  uint32_t parent_report;
  uint16_t parent_kind;
  bool report_children;
} TacitFrame;

typedef struct {
  TacitReport *reports;
  uint32_t len;
  uint32_t cap;
  TacitFrame *frames;
  uint32_t frames_cap;
} TacitWalk;

// Appends a report; false when memory ran out.
static bool tacit_report(TacitWalk *walk, const TSTree *tree, const Subtree *subtree,
                         Length position, TSSymbol alias, uint16_t kind,
                         uint16_t parent_kind, uint32_t parent_report) {
  if (walk->len == walk->cap) {
    uint32_t cap = walk->cap ? walk->cap * 2 : 256;
    TacitReport *grown = realloc(walk->reports, (size_t)cap * sizeof(TacitReport));
    if (!grown) return false;
    walk->reports = grown;
    walk->cap = cap;
  }
  // The fields of `ts_node_new` (node.c), written in place.
  TacitReport *report = &walk->reports[walk->len++];
  report->node.context[0] = position.bytes;
  report->node.context[1] = position.extent.row;
  report->node.context[2] = position.extent.column;
  report->node.context[3] = alias;
  report->node.id = subtree;
  report->node.tree = tree;
  report->kind = kind;
  report->parent_kind = parent_kind;
  report->parent_report = parent_report;
  return true;
}

static bool tacit_push_frame(TacitWalk *walk, uint32_t *depth, const TacitFrame *frame) {
  if (*depth == walk->frames_cap) {
    uint32_t cap = walk->frames_cap ? walk->frames_cap * 2 : 64;
    TacitFrame *grown = realloc(walk->frames, (size_t)cap * sizeof(TacitFrame));
    if (!grown) return false;
    walk->frames = grown;
    walk->frames_cap = cap;
  }
  walk->frames[(*depth)++] = *frame;
  return true;
}

// `ts_language_public_symbol` (language.c), inlined: it is asked of every visible node.
static inline TSSymbol tacit_public_symbol(const TSLanguage *language, TSSymbol symbol) {
  if (symbol == ts_builtin_sym_error) return symbol;
  return language->public_symbol_map[symbol];
}

// The frame that walks the children of `subtree`, which starts at `position`.
static inline TacitFrame tacit_frame(const TSLanguage *language, Subtree subtree,
                                     Length position, uint16_t parent_kind,
                                     bool report_children, uint32_t parent_report) {
  return (TacitFrame){
      .children = ts_subtree_children(subtree),
      .alias_sequence = ts_language_alias_sequence(language, subtree.ptr->production_id),
      .position = position,
      .child_count = subtree.ptr->child_count,
      .child_index = 0,
      .structural_child_index = 0,
      .parent_report = parent_report,
      .parent_kind = parent_kind,
      .report_children = report_children,
  };
}

// Reports, in the order a tree cursor visits them, the visible nodes under `root` (and `root`
// itself) whose kind has TACIT_REPORT, and the visible children of nodes whose kind has
// TACIT_REPORT_CHILDREN. `flags` is indexed by public kind id; kinds past `flag_count` have
// none. Returns false when memory ran out (the reports are then incomplete).
bool tacit_walk(TacitWalk *walk, TSNode root, const uint8_t *flags, uint32_t flag_count) {
  walk->len = 0;
  const TSTree *tree = root.tree;
  const TSLanguage *language = tree->language;
  const Subtree *root_subtree = (const Subtree *)root.id;
  TSSymbol root_alias = (TSSymbol)root.context[3];
  TSSymbol root_symbol = root_alias ? root_alias : ts_subtree_symbol(*root_subtree);
  uint16_t root_kind = tacit_public_symbol(language, root_symbol);
  uint8_t root_flags = root_kind < flag_count ? flags[root_kind] : 0;
  Length root_position = {root.context[0], {root.context[1], root.context[2]}};
  uint32_t root_report = TACIT_NO_PARENT;
  if (root_flags & (TACIT_REPORT | TACIT_REPORT_CHILDREN)) {
    if (!tacit_report(walk, tree, root_subtree, root_position, root_alias, root_kind, 0,
                      TACIT_NO_PARENT))
      return false;
    root_report = walk->len - 1;
  }
  if (ts_subtree_child_count(*root_subtree) == 0) return true;

  // The frame being walked lives in locals; only the frames it interrupts are stacked.
  uint32_t depth = 0;
  TacitFrame frame = tacit_frame(language, *root_subtree, root_position, root_kind,
                                 (root_flags & TACIT_REPORT_CHILDREN) != 0, root_report);
  for (;;) {
    if (frame.child_index == frame.child_count) {
      if (depth == 0) return true;
      frame = walk->frames[--depth];
      continue;
    }
    const Subtree *child = &frame.children[frame.child_index];
    TSSymbol alias = 0;
    if (!ts_subtree_extra(*child)) {
      if (frame.alias_sequence) alias = frame.alias_sequence[frame.structural_child_index];
      frame.structural_child_index++;
    }
    if (frame.child_index > 0) {
      frame.position = length_add(frame.position, ts_subtree_padding(*child));
    }
    Length position = frame.position;
    frame.position = length_add(frame.position, ts_subtree_size(*child));
    frame.child_index++;

    bool has_children = ts_subtree_child_count(*child) > 0;
    if (!(ts_subtree_visible(*child) || alias)) {
      // A hidden node: its children are children of the visible parent.
      if (has_children) {
        if (!tacit_push_frame(walk, &depth, &frame)) return false;
        frame = tacit_frame(language, *child, position, frame.parent_kind,
                            frame.report_children, frame.parent_report);
      }
      continue;
    }
    TSSymbol symbol = alias ? alias : ts_subtree_symbol(*child);
    uint16_t kind = tacit_public_symbol(language, symbol);
    uint8_t kind_flags = kind < flag_count ? flags[kind] : 0;
    uint32_t index = TACIT_NO_PARENT;
    if ((kind_flags & (TACIT_REPORT | TACIT_REPORT_CHILDREN)) || frame.report_children) {
      if (!tacit_report(walk, tree, child, position, alias, kind, frame.parent_kind,
                        frame.parent_report))
        return false;
      index = walk->len - 1;
    }
    if (has_children) {
      if (!tacit_push_frame(walk, &depth, &frame)) return false;
      frame = tacit_frame(language, *child, position, kind,
                          (kind_flags & TACIT_REPORT_CHILDREN) != 0, index);
    }
  }
}

void tacit_walk_free(TacitWalk *walk) {
  free(walk->reports);
  free(walk->frames);
  walk->reports = NULL;
  walk->frames = NULL;
  walk->len = walk->cap = walk->frames_cap = 0;
}

// One visible child of a node, as `ts_node_child` and a tree cursor's field id give it.
typedef struct {
  TSNode node;
  uint16_t kind;
  // The field the child is under (0 for none), hidden parents' fields inherited.
  uint16_t field;
  bool named;
} TacitChild;

// The children of one node, or of a hidden node among them, being listed.
typedef struct {
  const Subtree *children;
  const TSSymbol *alias_sequence;
  const TSFieldMapEntry *field_map;
  const TSFieldMapEntry *field_map_end;
  Length position;
  uint32_t child_count;
  uint32_t child_index;
  uint32_t structural_child_index;
  // The hidden node's own field, which its children without one of their own are under.
  TSFieldId field;
} TacitChildFrame;

typedef struct {
  TacitChild *children;
  uint32_t len;
  uint32_t cap;
  TacitChildFrame *frames;
  uint32_t frames_cap;
} TacitChildren;

static inline TacitChildFrame tacit_child_frame(const TSLanguage *language, Subtree subtree,
                                               Length position, TSFieldId field) {
  TacitChildFrame frame = {
      .children = ts_subtree_children(subtree),
      .alias_sequence = ts_language_alias_sequence(language, subtree.ptr->production_id),
      .position = position,
      .child_count = subtree.ptr->child_count,
      .child_index = 0,
      .structural_child_index = 0,
      .field = field,
  };
  ts_language_field_map(language, subtree.ptr->production_id, &frame.field_map,
                        &frame.field_map_end);
  return frame;
}

// Appends the visible children of `parent` (hidden nodes are transparent, as for a tree
// cursor) to `out->children` after its first `out->len`. A child's field is the first found
// walking up from it through its hidden ancestors, as `ts_tree_cursor_current_field_id`
// (tree_cursor.c) finds it; an extra node has none. Returns false when memory ran out.
bool tacit_children(TacitChildren *out, TSNode parent) {
  const Subtree *subtree = (const Subtree *)parent.id;
  if (ts_subtree_child_count(*subtree) == 0) return true;
  const TSTree *tree = parent.tree;
  const TSLanguage *language = tree->language;
  Length position = {parent.context[0], {parent.context[1], parent.context[2]}};
  uint32_t depth = 0;
  TacitChildFrame frame = tacit_child_frame(language, *subtree, position, 0);
  for (;;) {
    if (frame.child_index == frame.child_count) {
      if (depth == 0) return true;
      frame = out->frames[--depth];
      continue;
    }
    const Subtree *child = &frame.children[frame.child_index];
    TSSymbol alias = 0;
    TSFieldId field = 0;
    if (!ts_subtree_extra(*child)) {
      if (frame.alias_sequence) alias = frame.alias_sequence[frame.structural_child_index];
      for (const TSFieldMapEntry *map = frame.field_map; map < frame.field_map_end; map++) {
        if (!map->inherited && map->child_index == frame.structural_child_index) {
          field = map->field_id;
          break;
        }
      }
      if (!field) field = frame.field;
      frame.structural_child_index++;
    }
    if (frame.child_index > 0) {
      frame.position = length_add(frame.position, ts_subtree_padding(*child));
    }
    Length child_position = frame.position;
    frame.position = length_add(frame.position, ts_subtree_size(*child));
    frame.child_index++;

    if (!(ts_subtree_visible(*child) || alias)) {
      if (ts_subtree_child_count(*child) > 0) {
        if (depth == out->frames_cap) {
          uint32_t cap = out->frames_cap ? out->frames_cap * 2 : 16;
          TacitChildFrame *grown =
              realloc(out->frames, (size_t)cap * sizeof(TacitChildFrame));
          if (!grown) return false;
          out->frames = grown;
          out->frames_cap = cap;
        }
        out->frames[depth++] = frame;
        frame = tacit_child_frame(language, *child, child_position, field);
      }
      continue;
    }
    if (out->len == out->cap) {
      uint32_t cap = out->cap ? out->cap * 2 : 64;
      TacitChild *grown = realloc(out->children, (size_t)cap * sizeof(TacitChild));
      if (!grown) return false;
      out->children = grown;
      out->cap = cap;
    }
    TacitChild *listed = &out->children[out->len++];
    listed->node.context[0] = child_position.bytes;
    listed->node.context[1] = child_position.extent.row;
    listed->node.context[2] = child_position.extent.column;
    listed->node.context[3] = alias;
    listed->node.id = child;
    listed->node.tree = tree;
    listed->kind = tacit_public_symbol(language, alias ? alias : ts_subtree_symbol(*child));
    listed->field = field;
    listed->named = alias ? ts_language_symbol_metadata(language, alias).named
                          : ts_subtree_named(*child);
  }
}

void tacit_children_free(TacitChildren *out) {
  free(out->children);
  free(out->frames);
  out->children = NULL;
  out->frames = NULL;
  out->len = out->cap = out->frames_cap = 0;
}
