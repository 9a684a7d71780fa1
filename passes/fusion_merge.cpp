// Fusion planning, phase 3: multi-output loop groups. A "unit" is what becomes one
// top-level node: a group (id >= 0) or a node left top-level (-1 - its position).
// Cheap nodes living only as copies inside groups are no unit of their own.
#include <algorithm>
#include <unordered_set>

#include "passes/fusion_plan.h"
#include "passes/storage.h"

namespace loom::passes::fusion {

namespace {

class Merger {
public:
  Merger(const ir::Function& fn, FusionPlan& plan) : plan_(plan) {
    for (int i = 0; i < fn.num_nodes(); ++i)
      position_[fn.nodes()[i].get()] = i;
    for (const auto& n : fn.nodes())
      if (!copy_only(n.get())) units_[unit_of(n.get())].push_back(n.get());
    for (const auto& [unit, nodes] : units_)
      successors_[unit] = compute_successors(unit);
    for (const auto& [output, param] : fn.output_aliases()) {
      const ir::Output* o = fn.find_output(output);
      const ir::Value* p = fn.find_param(param);
      if (o && p) updated_param_of_[o->value] = p;
    }
  }

  void run() {
    // A few sweeps reach the fixed point in practice; each sweep is linear in the
    // candidate pairs times a reachability search.
    constexpr int kMaxSweeps = 4;
    for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
      bool merged = merge_into_consumers();
      merged = merge_siblings() || merged;
      if (!merged) break;
    }
    drop_empty_groups();
  }

private:
  bool copy_only(const ir::Node* n) const {
    return plan_.computed_in.count(n) && !plan_.owner.count(n) && !plan_.kept_top_level.count(n);
  }

  int unit_of(const ir::Node* n) const {
    auto it = plan_.owner.find(n);
    return it != plan_.owner.end() ? it->second : -1 - position_.at(n);
  }

  // The units computing `reader` (several when a cheap node is copied into groups).
  void add_reader_units(const ir::Node* reader, std::unordered_set<int>& out) const {
    auto where = plan_.computed_in.find(reader);
    if (where != plan_.computed_in.end()) out.insert(where->second.begin(), where->second.end());
    if (!plan_.owner.count(reader) && !copy_only(reader)) out.insert(-1 - position_.at(reader));
  }

  // Units reading a value computed by unit `from`, sorted.
  std::vector<int> compute_successors(int from) const {
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

  const std::vector<int>& successors(int from) const { return successors_.at(from); }

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

  bool depends_on(int later, int earlier) const {
    const std::vector<int>& next = successors(earlier);
    return std::binary_search(next.begin(), next.end(), later) || indirect_path(earlier, later);
  }

  // Shapes of the values group `id` hands to other units.
  std::vector<Shape> output_shapes(int id) const {
    std::vector<Shape> shapes;
    for (const ir::Node* m : units_.at(id))
      for (int i = 0; i < m->num_results(); ++i)
        if (plan_.leaves_group(m->result(i), id)) shapes.push_back(m->result(i)->shape());
    return shapes;
  }

  bool is_loop_group(int unit) const {
    return unit >= 0 && units_.count(unit) && plan_.groups[unit].kind == GroupKind::Loop;
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

  bool compatible(int a, int b) const {
    return is_loop_group(a) && is_loop_group(b) && same_output_shapes(a, b) &&
           keeps_updates_in_place(a, b);
  }

  // A producer group merges into a consumer group: the outputs the consumer reads
  // become internal (or stay outputs for other readers).
  bool merge_into_consumers() {
    bool merged = false;
    for (int p = 0; p < static_cast<int>(plan_.groups.size()); ++p) {
      if (!is_loop_group(p)) continue;
      std::vector<int> readers = successors(p); // a copy: merging updates the lists
      for (int c : readers) {
        if (!compatible(p, c) || indirect_path(p, c)) continue;
        merge(p, c);
        merged = true;
        break;
      }
    }
    return merged;
  }

  // Groups reading a common value merge when neither depends on the other: the value is
  // read once.
  bool merge_siblings() {
    bool merged = false;
    std::vector<int> sources;
    for (const auto& [id, nodes] : units_)
      sources.push_back(id);
    std::sort(sources.begin(), sources.end());
    for (int source : sources) {
      if (!units_.count(source)) continue;
      std::vector<int> readers = successors(source); // a copy: merging updates the lists
      for (size_t i = 0; i < readers.size(); ++i)
        for (size_t j = i + 1; j < readers.size(); ++j) {
          int a = readers[i], b = readers[j];
          if (!compatible(a, b) || depends_on(a, b) || depends_on(b, a)) continue;
          merge(b, a);
          merged = true;
        }
    }
    return merged;
  }

  // Moves group `from` into group `into`.
  void merge(int from, int into) {
    Group& src = plan_.groups[from];
    Group& dst = plan_.groups[into];
    for (ir::Node* m : src.members) {
      if (dst.roles.emplace(m, Role::Loop).second) dst.members.push_back(m);
      auto owner = plan_.owner.find(m);
      if (owner != plan_.owner.end() && owner->second == from) owner->second = into;
      std::vector<int>& where = plan_.computed_in.at(m);
      std::replace(where.begin(), where.end(), from, into);
      std::sort(where.begin(), where.end());
      where.erase(std::unique(where.begin(), where.end()), where.end());
    }
    std::vector<const ir::Node*>& moved = units_[from];
    units_[into].insert(units_[into].end(), moved.begin(), moved.end());
    units_.erase(from);
    src.members.clear();
    src.roles.clear();
    merge_successors(from, into);
  }

  // The successor lists after `from` became part of `into` (what compute_successors
  // would now give, without recomputing it for every unit).
  void merge_successors(int from, int into) {
    std::vector<int>& merged = successors_[into];
    merged.insert(merged.end(), successors_[from].begin(), successors_[from].end());
    successors_.erase(from);
    for (auto& [unit, next] : successors_) {
      std::replace(next.begin(), next.end(), from, into);
      std::sort(next.begin(), next.end());
      next.erase(std::unique(next.begin(), next.end()), next.end());
      next.erase(std::remove(next.begin(), next.end(), unit), next.end());
    }
  }

  // Renumbers the remaining groups in order of creation.
  void drop_empty_groups() {
    std::vector<int> renumber(plan_.groups.size(), -1);
    std::vector<Group> kept;
    for (size_t id = 0; id < plan_.groups.size(); ++id) {
      if (plan_.groups[id].members.empty()) continue;
      renumber[id] = static_cast<int>(kept.size());
      kept.push_back(std::move(plan_.groups[id]));
    }
    plan_.groups = std::move(kept);
    for (auto& [node, id] : plan_.owner)
      id = renumber[id];
    for (auto& [node, ids] : plan_.computed_in)
      for (int& id : ids)
        id = renumber[id];
  }

  FusionPlan& plan_;
  std::unordered_map<const ir::Node*, int> position_;
  std::unordered_map<int, std::vector<const ir::Node*>> units_; // unit -> its top-level nodes
  std::unordered_map<int, std::vector<int>> successors_;        // unit -> units reading it
  std::unordered_map<const ir::Value*, const ir::Value*> updated_param_of_; // update -> parameter
};

} // namespace

void merge_loop_groups(const ir::Function& fn, FusionPlan& plan) { Merger(fn, plan).run(); }

} // namespace loom::passes::fusion
