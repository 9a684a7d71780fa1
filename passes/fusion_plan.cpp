// Fusion planning in three phases:
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

#include "passes/storage.h"

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
    for (const auto& [output, param] : fn_.output_aliases()) {
      const ir::Output* o = fn_.find_output(output);
      const ir::Value* p = fn_.find_param(param);
      if (!o || !p) continue;
      param_updates_.insert(o->value);
      updated_param_of_[o->value] = p;
    }
    for (const auto& n : fn_.nodes())
      start_core_group(*n);
    for (auto it = fn_.nodes().rbegin(); it != fn_.nodes().rend(); ++it)
      place(**it);
    merge_loop_groups();
    return compact();
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

  // --- phase 3: multi-output loop groups ------------------------------------------------
  // A "unit" is what becomes one top-level node: a group (id >= 0) or a node left
  // top-level (-1 - its position). Cheap nodes living only as copies inside groups are
  // no unit of their own.

  void add_reader_units(const ir::Node* reader, std::unordered_set<int>& out) const {
    auto copies = copies_.find(reader);
    if (copies != copies_.end()) out.insert(copies->second.begin(), copies->second.end());
    if (auto owner = plan_.owner.find(reader); owner != plan_.owner.end())
      out.insert(owner->second);
    else if (copies == copies_.end() || kept_top_level_.count(reader))
      out.insert(-1 - position_.at(reader));
  }

  // Units reading a value computed by unit `from`.
  std::vector<int> successors(int from) const {
    std::unordered_set<int> out;
    for (const ir::Node* m : units_.at(from))
      for (int i = 0; i < m->num_results(); ++i)
        for (const ir::Use& u : m->result(i)->uses())
          if (u.user) add_reader_units(u.user, out);
    out.erase(from);
    std::vector<int> sorted(out.begin(), out.end());
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

  // Whether `to` is reachable from `from` through some other unit (merging the two would
  // then put that unit both before and after the merged group: a cycle).
  bool indirect_path(int from, int to) const {
    std::vector<int> work;
    std::unordered_set<int> seen{from, to};
    for (int s : successors(from))
      if (seen.insert(s).second) work.push_back(s);
    while (!work.empty()) {
      int u = work.back();
      work.pop_back();
      for (int s : successors(u)) {
        if (s == to) return true;
        if (seen.insert(s).second) work.push_back(s);
      }
    }
    return false;
  }

  // Whether a reader of a value of group `id` computes it in another unit.
  bool read_elsewhere(const ir::Value* v, int id) const {
    for (const ir::Use& u : v->uses()) {
      if (!u.user) return true;
      std::unordered_set<int> readers;
      add_reader_units(u.user, readers);
      if (readers.size() != 1 || *readers.begin() != id) return true;
    }
    return false;
  }

  // Shapes of the values group `id` hands to other units.
  std::vector<Shape> output_shapes(int id) const {
    std::vector<Shape> shapes;
    for (const ir::Node* m : units_.at(id))
      for (int i = 0; i < m->num_results(); ++i)
        if (read_elsewhere(m->result(i), id)) shapes.push_back(m->result(i)->shape());
    return shapes;
  }

  bool is_loop_group(int unit) const {
    return unit >= 0 && plan_.groups[unit].kind == GroupKind::Loop &&
           !plan_.groups[unit].members.empty();
  }

  bool same_output_shapes(int a, int b) const {
    std::vector<Shape> shapes = output_shapes(a);
    for (const Shape& s : output_shapes(b))
      shapes.push_back(s);
    return std::all_of(shapes.begin(), shapes.end(),
                       [&](const Shape& s) { return s == shapes.front(); });
  }

  // Parameters whose update (an output aliasing them) group `id` computes.
  std::vector<const ir::Value*> updated_params(int id) const {
    std::vector<const ir::Value*> out;
    for (const ir::Node* m : units_.at(id))
      for (int i = 0; i < m->num_results(); ++i)
        if (auto it = updated_param_of_.find(m->result(i)); it != updated_param_of_.end())
          out.push_back(it->second);
    return out;
  }

  // Whether a member of group `id` reads the parameter other than elementwise on its own
  // shape (a transpose or broadcast of it, a reduction over it...).
  bool reads_out_of_order(int id, const ir::Value* param) const {
    for (const ir::Node* m : plan_.groups[id].members)
      for (const ir::Value* v : m->operands()) {
        if (storage::root(v) != param) continue;
        bool elementwise = has_trait(m->op(), kElementwise) && v == param &&
                           m->result()->shape() == param->shape();
        if (!elementwise) return true;
      }
    return false;
  }

  // Merging must not make a parameter update read its parameter out of order (say, a
  // transpose of the weight next to the weight's update): the update could then no
  // longer be written into the parameter's buffer.
  bool keeps_updates_in_place(int a, int b) const {
    for (auto [updater, other] : {std::pair{a, b}, std::pair{b, a}})
      for (const ir::Value* param : updated_params(updater))
        if (reads_out_of_order(other, param)) return false;
    return true;
  }

  // A producer group merges into a consumer group (its outputs the consumer reads
  // become internal or extra outputs).
  bool mergeable(int producer, int consumer) const {
    return is_loop_group(consumer) && same_output_shapes(producer, consumer) &&
           keeps_updates_in_place(producer, consumer) && !indirect_path(producer, consumer);
  }

  // Two groups reading a common value merge when neither depends on the other.
  bool siblings_mergeable(int a, int b) const {
    if (!is_loop_group(a) || !is_loop_group(b) || !same_output_shapes(a, b) ||
        !keeps_updates_in_place(a, b))
      return false;
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      std::vector<int> next = successors(from);
      if (std::binary_search(next.begin(), next.end(), to) || indirect_path(from, to)) return false;
    }
    return true;
  }

  bool merge_siblings() {
    bool merged = false;
    std::vector<int> unit_ids;
    for (const auto& [id, nodes] : units_)
      unit_ids.push_back(id);
    std::sort(unit_ids.begin(), unit_ids.end());
    for (int source : unit_ids) {
      if (!units_.count(source)) continue;
      std::vector<int> readers = successors(source);
      for (size_t i = 0; i < readers.size(); ++i)
        for (size_t j = i + 1; j < readers.size(); ++j)
          if (units_.count(readers[i]) && units_.count(readers[j]) &&
              siblings_mergeable(readers[i], readers[j])) {
            merge(readers[j], readers[i]);
            merged = true;
          }
    }
    return merged;
  }

  void merge_loop_groups() {
    for (int i = 0; i < fn_.num_nodes(); ++i) {
      const ir::Node* n = fn_.nodes()[i].get();
      position_[n] = i;
    }
    for (const auto& n : fn_.nodes()) {
      bool copy_only =
          copies_.count(n.get()) && !plan_.owner.count(n.get()) && !kept_top_level_.count(n.get());
      if (!copy_only) units_[unit_of(n.get())].push_back(n.get());
    }
    // A few sweeps reach the fixed point in practice; each sweep is linear in the
    // candidate pairs times a reachability search.
    constexpr int kMaxSweeps = 4;
    for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
      bool merged = false;
      for (int p = 0; p < static_cast<int>(plan_.groups.size()); ++p) {
        if (!is_loop_group(p)) continue;
        for (int c : successors(p)) {
          if (!mergeable(p, c)) continue;
          merge(p, c);
          merged = true;
          break;
        }
      }
      merged = merge_siblings() || merged;
      if (!merged) break;
    }
  }

  int unit_of(const ir::Node* n) const {
    auto it = plan_.owner.find(n);
    return it != plan_.owner.end() ? it->second : -1 - position_.at(n);
  }

  // Moves group `from` into group `into`.
  void merge(int from, int into) {
    Group& src = plan_.groups[from];
    Group& dst = plan_.groups[into];
    for (ir::Node* m : src.members) {
      add_member(dst, *m, Role::Loop);
      auto owner = plan_.owner.find(m);
      if (owner != plan_.owner.end() && owner->second == from) owner->second = into;
      if (auto it = copies_.find(m); it != copies_.end()) {
        std::replace(it->second.begin(), it->second.end(), from, into);
        std::sort(it->second.begin(), it->second.end());
        it->second.erase(std::unique(it->second.begin(), it->second.end()), it->second.end());
      }
    }
    std::vector<const ir::Node*>& moved = units_[from];
    units_[into].insert(units_[into].end(), moved.begin(), moved.end());
    units_.erase(from);
    src.members.clear();
    src.roles.clear();
  }

  // Drops groups emptied by merging and renumbers the rest in order of creation.
  FusionPlan compact() {
    FusionPlan out;
    std::unordered_map<int, int> renumber;
    for (int id = 0; id < static_cast<int>(plan_.groups.size()); ++id) {
      if (plan_.groups[id].members.empty()) continue;
      renumber[id] = static_cast<int>(out.groups.size());
      out.groups.push_back(std::move(plan_.groups[id]));
    }
    for (const auto& [node, id] : plan_.owner)
      out.owner[node] = renumber.at(id);
    for (int id = 0; id < static_cast<int>(out.groups.size()); ++id)
      for (const ir::Node* m : out.groups[id].members)
        out.computed_in[m].push_back(id);
    out.kept_top_level = kept_top_level_;
    return out;
  }

  const ir::Function& fn_;
  FusionPlan plan_;
  std::unordered_map<const ir::Node*, std::vector<int>> copies_; // cheap node -> groups
  std::unordered_set<const ir::Node*> kept_top_level_;           // cheap nodes also top-level
  std::unordered_map<const ir::Node*, int> position_;
  std::unordered_map<int, std::vector<const ir::Node*>> units_; // unit -> its top-level nodes
  std::unordered_set<const ir::Value*> param_updates_;          // outputs aliasing a parameter
  std::unordered_map<const ir::Value*, const ir::Value*>
      updated_param_of_; // such output -> parameter
};

} // namespace

FusionPlan plan_fusion(const ir::Function& fn) { return Planner(fn).run(); }

} // namespace loom::passes::fusion
