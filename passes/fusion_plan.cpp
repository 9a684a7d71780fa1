// Fusion planning (phases 1 and 2; phase 3 is in fusion_merge.cpp):
//  1. every reduction and contraction starts a group and takes its epilogue: the chain
//     of single-use elementwise consumers with the core's output shape;
//  2. in reverse program order (consumers before producers), each loop-fusable node
//     joins the one group that reads it, if the group accepts it in the role its readers
//     need, or else starts a loop group of its own; cheap index-only nodes are copied
//     into every group that reads them;
//  3. a loop group whose outputs feed another loop group of the same shape merges into
//     it (one kernel with several outputs), unless that would create a cycle; loop
//     groups of the same shape reading a common value merge when neither depends on
//     the other (the value is read once).
// A node joins a group only when every reader of its result is in that group, so the
// only values leaving a group are its roots' results: work is never duplicated and
// groups stay convex.
#include "passes/fusion_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_set>

namespace loom::passes::fusion {

std::string_view kind_name(GroupKind kind) {
  switch (kind) {
  case GroupKind::Loop:
    return "loop";
  case GroupKind::Reduction:
    return "reduction";
  case GroupKind::Contraction:
    return "contraction";
  }
  return "loop";
}

NodeClass classify(const ir::Node& node) {
  switch (node.op()) {
  case Op::Parameter:
    return NodeClass::Fixed;
  case Op::Constant:
    return node.result()->type().numel() <= kMaxInlinedConstantElements ? NodeClass::Cheap
                                                                        : NodeClass::Fixed;
  case Op::Iota:
  case Op::BroadcastTo:
  case Op::Reshape:
  case Op::Transpose:
  case Op::Slice:
    return NodeClass::Cheap;
  case Op::Pad:
  case Op::Concat:
    return NodeClass::Loop;
  case Op::ReduceSum:
  case Op::ReduceMax:
  case Op::ReduceMin:
  case Op::ReduceProd:
    return NodeClass::Reduce;
  case Op::MatMul:
  case Op::Conv2D:
    return NodeClass::Contraction;
  default:
    return has_trait(node.op(), kElementwise) ? NodeClass::Loop : NodeClass::Opaque;
  }
}

bool FusionPlan::reads_outside(const ir::Node* reader, int id) const {
  auto where = computed_in.find(reader);
  if (where == computed_in.end() || kept_top_level.count(reader)) return true;
  return std::any_of(where->second.begin(), where->second.end(), [&](int g) { return g != id; });
}

bool FusionPlan::leaves_group(const ir::Value* v, int id) const {
  return std::any_of(v->uses().begin(), v->uses().end(),
                     [&](const ir::Use& u) { return !u.user || reads_outside(u.user, id); });
}

namespace {

class Planner {
public:
  explicit Planner(const ir::Function& fn) : fn_(fn) {}

  FusionPlan run() {
    for (const auto& [output, param] : fn_.output_aliases())
      if (const ir::Output* o = fn_.find_output(output)) param_updates_.insert(o->value);
    for (const auto& n : fn_.nodes())
      start_core_group(*n);
    for (auto it = fn_.nodes().rbegin(); it != fn_.nodes().rend(); ++it)
      place(**it);
    FusionPlan plan = finish();
    merge_loop_groups(fn_, plan);
    return plan;
  }

private:
  // --- phase 1: cores and their epilogues ----------------------------------------------

  // The single node reading v (possibly through several operands), if v is not an output.
  static ir::Node* sole_user(const ir::Value* v) {
    ir::Node* user = nullptr;
    for (const ir::Use& u : v->uses()) {
      if (!u.user || (user && u.user != user)) return nullptr;
      user = u.user;
    }
    return user;
  }

  // An epilogue never computes a parameter update (an output aliasing a parameter):
  // the update then becomes a loop kernel, which may write straight into the
  // parameter's buffer while reading it (a reduction or contraction kernel may not).
  bool is_param_update(const ir::Node& n) const {
    for (int i = 0; i < n.num_results(); ++i)
      if (param_updates_.count(n.result(i))) return true;
    return false;
  }

  void start_core_group(ir::Node& core) {
    NodeClass cls = classify(core);
    if (cls != NodeClass::Reduce && cls != NodeClass::Contraction) return;
    Group g;
    g.kind = cls == NodeClass::Reduce ? GroupKind::Reduction : GroupKind::Contraction;
    g.core = &core;
    add_member(g, core, Role::Core);
    const ir::Node* tail = &core;
    while (ir::Node* e = sole_user(tail->result())) {
      bool chain = classify(*e) == NodeClass::Loop && has_trait(e->op(), kElementwise) &&
                   !plan_.owner.count(e) && e->result()->shape() == core.result()->shape() &&
                   !is_param_update(*e);
      if (!chain) break;
      add_member(g, *e, Role::Epilogue);
      tail = e;
    }
    // A contraction without an epilogue is an ordinary top-level node.
    if (g.kind == GroupKind::Contraction && g.members.size() == 1) return;
    int id = static_cast<int>(plan_.groups.size());
    for (ir::Node* m : g.members)
      plan_.owner[m] = id;
    plan_.groups.push_back(std::move(g));
  }

  // --- phase 2: producers join their readers' group -------------------------------------

  // The groups reading n's results with the roles of the readers in each, and whether
  // some reader is outside every group (a top-level node or a function output).
  struct Readers {
    std::map<int, std::vector<Role>> groups;
    bool outside = false;
  };

  Readers readers_of(const ir::Node& n) const {
    Readers r;
    for (int i = 0; i < n.num_results(); ++i) {
      for (const ir::Use& u : n.result(i)->uses()) {
        if (!u.user) {
          r.outside = true;
          continue;
        }
        bool in_group = false;
        if (auto it = plan_.owner.find(u.user); it != plan_.owner.end()) {
          r.groups[it->second].push_back(plan_.groups[it->second].roles.at(u.user));
          in_group = true;
        }
        if (auto it = copies_.find(u.user); it != copies_.end()) {
          for (int g : it->second)
            r.groups[g].push_back(plan_.groups[g].roles.at(u.user));
          in_group = true;
        }
        if (!in_group || kept_top_level_.count(u.user)) r.outside = true;
      }
    }
    return r;
  }

  static bool all_in(const std::vector<Role>& roles, std::initializer_list<Role> allowed) {
    return std::all_of(roles.begin(), roles.end(), [&](Role r) {
      return std::find(allowed.begin(), allowed.end(), r) != allowed.end();
    });
  }

  // The role a node of class `cls` would have in `g`, given its readers' roles there.
  static std::optional<Role> role_in(const Group& g, NodeClass cls,
                                     const std::vector<Role>& readers) {
    bool epilogue_side = all_in(readers, {Role::Epilogue, Role::EpilogueOperand});
    switch (g.kind) {
    case GroupKind::Loop:
      return Role::Loop;
    case GroupKind::Reduction:
      if (all_in(readers, {Role::Prologue, Role::Core})) return Role::Prologue;
      if (cls == NodeClass::Cheap && epilogue_side) return Role::EpilogueOperand;
      return std::nullopt;
    case GroupKind::Contraction:
      // The contraction reads its operands straight from the body's parameters.
      if (cls == NodeClass::Cheap && epilogue_side) return Role::EpilogueOperand;
      return std::nullopt;
    }
    return std::nullopt;
  }

  static void add_member(Group& g, ir::Node& n, Role role) {
    if (g.roles.emplace(&n, role).second) g.members.push_back(&n);
  }

  int new_loop_group(ir::Node& n) {
    Group g;
    add_member(g, n, Role::Loop);
    int id = static_cast<int>(plan_.groups.size());
    plan_.groups.push_back(std::move(g));
    plan_.owner[&n] = id;
    return id;
  }

  void place(ir::Node& n) {
    NodeClass cls = classify(n);
    if (plan_.owner.count(&n) || (cls != NodeClass::Cheap && cls != NodeClass::Loop)) return;
    Readers readers = readers_of(n);
    if (cls == NodeClass::Cheap) {
      place_cheap(n, readers);
      return;
    }
    if (!readers.outside && readers.groups.size() == 1) {
      auto& [id, roles] = *readers.groups.begin();
      if (std::optional<Role> role = role_in(plan_.groups[id], cls, roles)) {
        add_member(plan_.groups[id], n, *role);
        plan_.owner[&n] = id;
        return;
      }
    }
    new_loop_group(n);
  }

  // A cheap node is copied into every group that accepts it. If some reader still needs
  // the top-level value, reshapes and constants stay top-level (a reshape is a view of
  // its operand's bytes, a constant lives in the constant pool); anything else becomes
  // a loop group of its own (a transpose feeding a matmul is one copy kernel).
  void place_cheap(ir::Node& n, const Readers& readers) {
    bool needed_outside = readers.outside;
    for (const auto& [id, roles] : readers.groups) {
      std::optional<Role> role = role_in(plan_.groups[id], NodeClass::Cheap, roles);
      if (!role) {
        needed_outside = true;
        continue;
      }
      add_member(plan_.groups[id], n, *role);
      copies_[&n].push_back(id);
    }
    if (!needed_outside) return;
    if (n.op() == Op::Reshape || n.op() == Op::Constant)
      kept_top_level_.insert(&n);
    else
      new_loop_group(n);
  }

  FusionPlan finish() {
    for (int id = 0; id < static_cast<int>(plan_.groups.size()); ++id)
      for (const ir::Node* m : plan_.groups[id].members)
        plan_.computed_in[m].push_back(id);
    plan_.kept_top_level = std::move(kept_top_level_);
    return std::move(plan_);
  }

  const ir::Function& fn_;
  FusionPlan plan_;
  std::unordered_map<const ir::Node*, std::vector<int>> copies_; // cheap node -> groups
  std::unordered_set<const ir::Node*> kept_top_level_;           // cheap nodes also top-level
  std::unordered_set<const ir::Value*> param_updates_;           // outputs aliasing a parameter
};

} // namespace

FusionPlan plan_fusion(const ir::Function& fn) { return Planner(fn).run(); }

} // namespace loom::passes::fusion
