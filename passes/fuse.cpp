// The fuse pass: plans groups (passes/fusion_plan.cpp) and materializes each as one
// `fusion` node with a nested body.
#include "passes/fuse.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "passes/dce.h"
#include "passes/fusion_plan.h"
#include "passes/rewrite_util.h"

namespace loom::passes {

namespace {

using fusion::Group;
using fusion::GroupKind;

class GroupBuilder {
public:
  GroupBuilder(ir::Function& fn, const fusion::FusionPlan& plan, int id,
               const std::unordered_map<const ir::Node*, int>& position)
      : fn_(fn), plan_(plan), id_(id), group_(plan.groups[id]), position_(position) {}

  // Adds the fusion node and redirects the group's readers to its results. The group's
  // original nodes are left without readers (the caller removes them).
  void build() {
    std::vector<ir::Node*> members = group_.members;
    std::sort(members.begin(), members.end(), [&](const ir::Node* a, const ir::Node* b) {
      return position_.at(a) < position_.at(b);
    });
    collect_inputs(members);
    std::vector<ir::Value*> outputs = collect_outputs(members);

    auto body = std::make_unique<ir::Function>("fusion", fn_.parent()); // named later
    std::unordered_map<const ir::Value*, ir::Value*> in_body;
    for (size_t i = 0; i < inputs_.size(); ++i)
      in_body[inputs_[i]] = body->add_param("p" + std::to_string(i), inputs_[i]->type());
    for (const ir::Node* m : members)
      clone_into(*body, *m, in_body);
    std::vector<TensorType> result_types;
    for (size_t i = 0; i < outputs.size(); ++i) {
      body->add_output("out" + std::to_string(i), in_body.at(outputs[i]));
      result_types.push_back(outputs[i]->type());
    }

    ir::Node* anchor = last_owned(members);
    ir::Node* node = fn_.insert_before(anchor, Op::Fusion, inputs_,
                                       {{"kind", std::string(fusion::kind_name(group_.kind))}},
                                       result_types, anchor->loc());
    node->set_body(std::move(body));
    for (size_t i = 0; i < outputs.size(); ++i)
      redirect_readers(outputs[i], node->result(static_cast<int>(i)));
  }

private:
  bool owned(const ir::Node* n) const {
    auto it = plan_.owner.find(n);
    return it != plan_.owner.end() && it->second == id_;
  }

  // Values read by members but computed outside the group, in first-use order. A
  // contraction's own operands come first, one parameter each.
  void collect_inputs(const std::vector<ir::Node*>& members) {
    std::unordered_set<const ir::Value*> seen;
    if (group_.kind == GroupKind::Contraction) {
      for (ir::Value* v : group_.core->operands())
        inputs_.push_back(v);
      seen.insert(inputs_.begin(), inputs_.end());
    }
    for (const ir::Node* m : members) {
      if (group_.kind == GroupKind::Contraction && m == group_.core) continue;
      for (ir::Value* v : m->operands())
        if (!group_.contains(v->def()) && seen.insert(v).second) inputs_.push_back(v);
    }
  }

  // Results of owned members that something outside the group reads.
  std::vector<ir::Value*> collect_outputs(const std::vector<ir::Node*>& members) const {
    std::vector<ir::Value*> outputs;
    for (const ir::Node* m : members) {
      if (!owned(m)) continue;
      for (int i = 0; i < m->num_results(); ++i)
        if (plan_.leaves_group(m->result(i), id_)) outputs.push_back(m->result(i));
    }
    return outputs;
  }

  void clone_into(ir::Function& body, const ir::Node& m,
                  std::unordered_map<const ir::Value*, ir::Value*>& in_body) const {
    std::vector<ir::Value*> operands;
    if (&m == group_.core && group_.kind == GroupKind::Contraction) {
      operands = {body.params()[0], body.params()[1]};
    } else {
      for (ir::Value* v : m.operands())
        operands.push_back(in_body.at(v));
    }
    std::vector<TensorType> types;
    for (int i = 0; i < m.num_results(); ++i)
      types.push_back(m.result(i)->type());
    ir::Node* copy = body.append(m.op(), operands, m.attrs(), types, m.loc());
    for (int i = 0; i < m.num_results(); ++i) {
      copy->result(i)->set_name(m.result(i)->name());
      in_body[m.result(i)] = copy->result(i);
    }
  }

  ir::Node* last_owned(const std::vector<ir::Node*>& members) const {
    ir::Node* last = nullptr;
    for (ir::Node* m : members)
      if (owned(m)) last = m;
    return last ? last : members.back();
  }

  // Readers outside the group now read the fusion's result.
  void redirect_readers(ir::Value* original, ir::Value* fused) const {
    fused->set_name(original->name());
    std::vector<ir::Use> uses = original->uses();
    for (const ir::Use& u : uses) {
      if (!u.user)
        fn_.set_output(u.index, fused);
      else if (!owned(u.user))
        u.user->set_operand(u.index, fused);
    }
  }

  ir::Function& fn_;
  const fusion::FusionPlan& plan_;
  int id_;
  const Group& group_;
  const std::unordered_map<const ir::Node*, int>& position_;
  std::vector<ir::Value*> inputs_;
};

// Bodies are numbered in program order, so printed IR reads top to bottom.
void name_bodies_in_order(ir::Function& fn) {
  int serial = 0;
  for (const auto& n : fn.nodes()) {
    if (n->op() != Op::Fusion || !n->body()) continue;
    std::string kind = n->attrs().has("kind") ? n->attrs().get_string("fusion", "kind") : "";
    n->body()->set_name(kind + "_fusion_" + std::to_string(serial++));
  }
}

} // namespace

bool fuse(ir::Function& fn) {
  fusion::FusionPlan plan = fusion::plan_fusion(fn);
  if (plan.groups.empty()) return false;
  std::unordered_map<const ir::Node*, int> position;
  for (int i = 0; i < fn.num_nodes(); ++i)
    position[fn.nodes()[i].get()] = i;
  for (int id = 0; id < static_cast<int>(plan.groups.size()); ++id)
    GroupBuilder(fn, plan, id, position).build();
  // The grouped nodes (and cheap nodes that only fed copies) have no readers left.
  eliminate_dead_code(fn);
  restore_topological_order(fn);
  name_bodies_in_order(fn);
  return true;
}

bool is_kernel(const ir::Node& node) {
  return node.op() != Op::Parameter && node.op() != Op::Constant && node.op() != Op::Reshape;
}

int count_kernels(const ir::Function& fn) {
  return static_cast<int>(std::count_if(fn.nodes().begin(), fn.nodes().end(),
                                        [](const auto& n) { return is_kernel(*n); }));
}

bool is_fusion_of_kind(const ir::Node& node, std::string_view kind) {
  return node.op() == Op::Fusion && node.attrs().has("kind") &&
         node.attrs().get_string("fusion", "kind") == kind;
}

} // namespace loom::passes
