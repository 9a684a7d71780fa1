// Fusion planning: which top-level nodes become one kernel. Used by the fuse pass
// (passes/fuse.cpp), which turns each group into a `fusion` node. The rules are
// documented in passes/README.md ("Fusion").
#pragma once

#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/ir.h"

namespace loom::passes::fusion {

enum class GroupKind { Loop, Reduction, Contraction };
// "loop", "reduction", "contraction": the fusion node's `kind` attribute.
std::string_view kind_name(GroupKind kind);

// How a node takes part in its group.
enum class Role {
  Loop,            // any member of a loop group
  Prologue,        // computes (part of) the input of a reduction
  Core,            // the reduction or the contraction
  Epilogue,        // elementwise consumer chain of the core, on the core's output shape
  EpilogueOperand, // index-only producer (broadcast of a bias) of an epilogue operand
};

// How a node can be fused at all.
enum class NodeClass {
  Fixed,       // parameters and large constants: always read from outside
  Cheap,       // index-only (small constants, iota, broadcast_to, reshape, transpose,
               // slice): copied into every group that reads it, never computed twice
               // in a way that costs arithmetic
  Loop,        // elementwise ops, pad, concat
  Reduce,      // reduce_sum/max/min/prod
  Contraction, // matmul, conv2d
  Opaque,      // everything else stays a top-level node
};
NodeClass classify(const ir::Node& node);

// Constants with at most this many elements are copied into fusion bodies.
inline constexpr int64_t kMaxInlinedConstantElements = 256;

struct Group {
  GroupKind kind = GroupKind::Loop;
  const ir::Node* core = nullptr; // the reduction or contraction
  std::vector<ir::Node*> members; // every node computed in the group (cheap ones included)
  std::unordered_map<const ir::Node*, Role> roles;
  bool contains(const ir::Node* n) const { return roles.count(n) != 0; }
};

struct FusionPlan {
  std::vector<Group> groups;
  // The group that owns a node: the node is computed there and nowhere else. Cheap
  // nodes copied into groups are members of those groups but owned by none (unless a
  // reader outside every group makes one group compute it as its own output).
  std::unordered_map<const ir::Node*, int> owner;
  // Every group computing a node: its owner and the groups holding a copy.
  std::unordered_map<const ir::Node*, std::vector<int>> computed_in;
  // Cheap nodes copied into groups that also stay top-level nodes, because a top-level
  // node or a function output reads them.
  std::unordered_set<const ir::Node*> kept_top_level;

  // Whether `reader` is computed somewhere other than (only) in group `id`: the value it
  // reads must then leave group `id` as an output.
  bool reads_outside(const ir::Node* reader, int id) const;
  // Whether a value computed in group `id` must be one of its outputs.
  bool leaves_group(const ir::Value* v, int id) const;
};

// Plans the fusion groups of a function's top-level nodes. Every group is convex (no
// path leaves it and comes back), so replacing groups by nodes creates no cycle.
FusionPlan plan_fusion(const ir::Function& fn);

// Phase 3 of planning (passes/fusion_merge.cpp): merges loop groups into multi-output
// loop groups of one output shape, producer into consumer or siblings reading a common
// value, when that creates no cycle and keeps parameter updates writable in place.
// Removes the groups emptied by merging.
void merge_loop_groups(const ir::Function& fn, FusionPlan& plan);

} // namespace loom::passes::fusion
