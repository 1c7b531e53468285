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

// Where a forward walk is among the children of one subtree.
typedef struct {
  const Subtree *children;
  const TSSymbol *alias_sequence;
  Length position;
  uint32_t child_count;
  uint32_t child_index;
  uint32_t structural_child_index;
} TacitSiblings;

// One child, as `ts_node_child_iterator_next` (node.c) steps onto it.
typedef struct {
  const Subtree *subtree;
  Length position;
  TSSymbol alias;
  // Its index among the non-extra children (which the alias sequence and the field map
  // count), or UINT32_MAX for an extra node.
  uint32_t structural_index;
} TacitStep;

static inline TacitSiblings tacit_siblings(const TSLanguage *language, Subtree subtree,
                                           Length position) {
  return (TacitSiblings){
      .children = ts_subtree_children(subtree),
      .alias_sequence = ts_language_alias_sequence(language, subtree.ptr->production_id),
      .position = position,
      .child_count = subtree.ptr->child_count,
      .child_index = 0,
      .structural_child_index = 0,
  };
}

// Steps onto the next child; false past the last. Positions are summed as tree-sitter's own
// child iterator does: a first child's padding is its parent's.
static inline bool tacit_next(TacitSiblings *siblings, TacitStep *step) {
  if (siblings->child_index == siblings->child_count) return false;
  const Subtree *child = &siblings->children[siblings->child_index];
  step->subtree = child;
  step->alias = 0;
  step->structural_index = UINT32_MAX;
  if (!ts_subtree_extra(*child)) {
    if (siblings->alias_sequence)
      step->alias = siblings->alias_sequence[siblings->structural_child_index];
    step->structural_index = siblings->structural_child_index++;
  }
  if (siblings->child_index > 0) {
    siblings->position = length_add(siblings->position, ts_subtree_padding(*child));
  }
  step->position = siblings->position;
  siblings->position = length_add(siblings->position, ts_subtree_size(*child));
  siblings->child_index++;
  return true;
}

// The children of one node being walked, and the visible node they belong to. Small, so that
// the walk keeps the current one in registers: a frame holding the parent's TSNode was
// copied through the stack on every step.
typedef struct {
  TacitSiblings siblings;
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

// `items` (`*cap` elements of `size` bytes, `len` used) with room for one more, grown by
// doubling from `first`; NULL when memory ran out, `items` then left as it was.
static void *tacit_reserve(void *items, uint32_t *cap, uint32_t len, size_t size,
                           uint32_t first) {
  if (len < *cap) return items;
  uint32_t grown_cap = *cap ? *cap * 2 : first;
  void *grown = realloc(items, (size_t)grown_cap * size);
  if (grown) *cap = grown_cap;
  return grown;
}

// The node `ts_node_new` (node.c) makes for `subtree` at `position`.
static inline TSNode tacit_node(const TSTree *tree, const Subtree *subtree, Length position,
                                TSSymbol alias) {
  return (TSNode){
      .context = {position.bytes, position.extent.row, position.extent.column, alias},
      .id = subtree,
      .tree = tree,
  };
}

// Appends a report; false when memory ran out.
static bool tacit_report(TacitWalk *walk, const TSTree *tree, const Subtree *subtree,
                         Length position, TSSymbol alias, uint16_t kind,
                         uint16_t parent_kind, uint32_t parent_report) {
  TacitReport *reports =
      tacit_reserve(walk->reports, &walk->cap, walk->len, sizeof(TacitReport), 256);
  if (!reports) return false;
  walk->reports = reports;
  TacitReport *report = &reports[walk->len++];
  report->node = tacit_node(tree, subtree, position, alias);
  report->kind = kind;
  report->parent_kind = parent_kind;
  report->parent_report = parent_report;
  return true;
}

static bool tacit_push_frame(TacitWalk *walk, uint32_t *depth, const TacitFrame *frame) {
  TacitFrame *frames =
      tacit_reserve(walk->frames, &walk->frames_cap, *depth, sizeof(TacitFrame), 64);
  if (!frames) return false;
  walk->frames = frames;
  frames[(*depth)++] = *frame;
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
      .siblings = tacit_siblings(language, subtree, position),
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
    TacitStep step;
    if (!tacit_next(&frame.siblings, &step)) {
      if (depth == 0) return true;
      frame = walk->frames[--depth];
      continue;
    }
    const Subtree *child = step.subtree;
    TSSymbol alias = step.alias;
    Length position = step.position;

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
  TacitSiblings siblings;
  const TSFieldMapEntry *field_map;
  const TSFieldMapEntry *field_map_end;
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
      .siblings = tacit_siblings(language, subtree, position),
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
    TacitStep step;
    if (!tacit_next(&frame.siblings, &step)) {
      if (depth == 0) return true;
      frame = out->frames[--depth];
      continue;
    }
    const Subtree *child = step.subtree;
    TSSymbol alias = step.alias;
    Length child_position = step.position;
    TSFieldId field = 0;
    if (step.structural_index != UINT32_MAX) {
      for (const TSFieldMapEntry *map = frame.field_map; map < frame.field_map_end; map++) {
        if (!map->inherited && map->child_index == step.structural_index) {
          field = map->field_id;
          break;
        }
      }
      if (!field) field = frame.field;
    }

    if (!(ts_subtree_visible(*child) || alias)) {
      if (ts_subtree_child_count(*child) > 0) {
        TacitChildFrame *frames =
            tacit_reserve(out->frames, &out->frames_cap, depth, sizeof(TacitChildFrame), 16);
        if (!frames) return false;
        out->frames = frames;
        frames[depth++] = frame;
        frame = tacit_child_frame(language, *child, child_position, field);
      }
      continue;
    }
    TacitChild *children =
        tacit_reserve(out->children, &out->cap, out->len, sizeof(TacitChild), 64);
    if (!children) return false;
    out->children = children;
    TacitChild *listed = &children[out->len++];
    listed->node = tacit_node(tree, child, child_position, alias);
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
