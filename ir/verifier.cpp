#include "ir/verifier.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_set>

#include "ir/error.h"
#include "ir/shape_rules.h"

namespace loom::ir {

namespace {

class FunctionVerifier {
public:
  explicit FunctionVerifier(const Function& fn) : fn_(fn) {}

  void run() {
    // Every (user, value, operand index) recorded in use lists, collected once so that
    // checking operands is linear even for values with many uses.
    for (const auto& node : fn_.nodes())
      for (int r = 0; r < node->num_results(); ++r)
        for (const Use& u : node->result(r)->uses())
          if (u.user) recorded_uses_.insert({u.user, node->result(r), u.index});
    check_parameters();
    for (const auto& node : fn_.nodes())
      check_node(*node);
    check_outputs();
  }

private:
  [[noreturn]] void fail(const Node* node, const std::string& what) const {
    std::string where = "function @" + fn_.name();
    if (node) {
      where += ", " + std::string(node->name()) + " node";
      if (node->loc().known()) where += " at " + node->loc().str();
    }
    throw_error(ErrorCode::VerifyError, where + ": " + what);
  }

  void check_parameters() {
    size_t param_nodes = 0;
    bool seen_other = false;
    for (const auto& node : fn_.nodes()) {
      if (node->op() != Op::Parameter) {
        seen_other = true;
        continue;
      }
      if (seen_other) fail(node.get(), "parameters must precede all other nodes");
      if (param_nodes >= fn_.params().size() || fn_.params()[param_nodes] != node->result())
        fail(node.get(), "parameter node is not in the parameter list in order");
      ++param_nodes;
    }
    if (param_nodes != fn_.params().size())
      fail(nullptr, "parameter list and parameter nodes disagree");
    std::set<std::string> names;
    for (Value* p : fn_.params()) {
      if (p->name().empty()) fail(p->def(), "parameter without a name");
      if (!names.insert(p->name()).second)
        fail(p->def(), "duplicate parameter name '" + p->name() + "'");
    }
  }

  void check_node(const Node& node) {
    if (node.parent() != &fn_) fail(&node, "node belongs to another function");
    const OpInfo& info = op_info(node.op());
    if (!operand_count_ok(info, node.num_operands()))
      fail(&node, "expects " + operand_count_str(info) + " operands, has " +
                      std::to_string(node.num_operands()));
    std::vector<TensorType> operand_types;
    for (int i = 0; i < node.num_operands(); ++i) {
      Value* v = node.operand(i);
      if (!v) fail(&node, "operand " + std::to_string(i) + " is null");
      if (!defined_.count(v))
        fail(&node, "operand " + std::to_string(i) +
                        " is not defined earlier in the function (SSA order)");
      if (!recorded_uses_.count({&node, v, i}))
        fail(&node, "operand " + std::to_string(i) + " is missing from its value's use list");
      operand_types.push_back(v->type());
    }
    for (int r = 0; r < node.num_results(); ++r) {
      const Value* v = node.result(r);
      if (v->def() != &node || v->result_index() != r)
        fail(&node, "result does not point back to its node");
      for (const Use& u : v->uses())
        check_use(node, *v, u);
    }
    if (node.op() == Op::Parameter) {
      if (node.num_results() != 1) fail(&node, "parameter must have one result");
    } else if (node.op() == Op::Fusion) {
      check_fusion_signature(node, operand_types);
    } else {
      check_types(node, operand_types);
    }
    if (node.body()) {
      try {
        verify(*node.body());
      } catch (const Error& e) {
        fail(&node, "in nested body: " + e.message());
      }
    }
    for (int r = 0; r < node.num_results(); ++r)
      defined_.insert(node.result(r));
  }

  void check_use(const Node& node, const Value& v, const Use& u) {
    if (u.user == nullptr) {
      if (u.index < 0 || u.index >= static_cast<int>(fn_.outputs().size()) ||
          fn_.outputs()[u.index].value != &v)
        fail(&node, "stale output use in a result's use list");
    } else if (u.index < 0 || u.index >= u.user->num_operands() || u.user->operand(u.index) != &v) {
      fail(&node, "stale use in a result's use list");
    }
  }

  // A fusion's body takes the operands as parameters and returns the results.
  void check_fusion_signature(const Node& node, const std::vector<TensorType>& operand_types) {
    const Function* body = node.body();
    if (!body) fail(&node, "fusion node without a body");
    if (body->params().size() != operand_types.size())
      fail(&node, "body has " + std::to_string(body->params().size()) + " parameters for " +
                      std::to_string(operand_types.size()) + " operands");
    for (size_t i = 0; i < operand_types.size(); ++i)
      if (body->params()[i]->type() != operand_types[i])
        fail(&node, "body parameter " + std::to_string(i) + " has type " +
                        body->params()[i]->type().str() + ", operand is " + operand_types[i].str());
    if (static_cast<int>(body->outputs().size()) != node.num_results())
      fail(&node, "body has " + std::to_string(body->outputs().size()) + " outputs for " +
                      std::to_string(node.num_results()) + " results");
    for (int r = 0; r < node.num_results(); ++r)
      if (body->outputs()[r].value->type() != node.result(r)->type())
        fail(&node, "result " + std::to_string(r) + " has type " + node.result(r)->type().str() +
                        ", body output is " + body->outputs()[r].value->type().str());
  }

  void check_types(const Node& node, const std::vector<TensorType>& operand_types) {
    std::vector<TensorType> expected;
    try {
      expected = infer_types(node.op(), operand_types, node.attrs());
    } catch (const Error& e) {
      fail(&node, e.message());
    }
    if (static_cast<int>(expected.size()) != node.num_results())
      fail(&node, "has " + std::to_string(node.num_results()) + " results, the op defines " +
                      std::to_string(expected.size()));
    for (int r = 0; r < node.num_results(); ++r)
      if (node.result(r)->type() != expected[r])
        fail(&node, "result " + std::to_string(r) + " has type " + node.result(r)->type().str() +
                        ", the op's shape rule gives " + expected[r].str());
  }

  void check_outputs() {
    std::set<std::string> names;
    for (size_t i = 0; i < fn_.outputs().size(); ++i) {
      const Output& out = fn_.outputs()[i];
      if (out.name.empty()) fail(nullptr, "output " + std::to_string(i) + " has no name");
      if (!names.insert(out.name).second) fail(nullptr, "duplicate output name '" + out.name + "'");
      if (!out.value || !defined_.count(out.value))
        fail(nullptr, "output '" + out.name + "' is not a value of this function");
      const auto& uses = out.value->uses();
      if (std::find(uses.begin(), uses.end(), Use{nullptr, static_cast<int>(i)}) == uses.end())
        fail(nullptr, "output '" + out.name + "' is missing from its value's use list");
    }
    for (const auto& [output, param] : fn_.output_aliases()) {
      const Output* out = fn_.find_output(output);
      Value* p = fn_.find_param(param);
      if (!out) fail(nullptr, "alias names unknown output '" + output + "'");
      if (!p) fail(nullptr, "output '" + output + "' aliases unknown parameter '" + param + "'");
      if (out->value->type() != p->type())
        fail(nullptr, "output '" + output + "' (" + out->value->type().str() +
                          ") cannot update parameter '" + param + "' (" + p->type().str() + ")");
    }
  }

  struct UseKey {
    const Node* user;
    const Value* value;
    int index;
    bool operator<(const UseKey& o) const {
      return std::tie(user, value, index) < std::tie(o.user, o.value, o.index);
    }
  };

  const Function& fn_;
  std::unordered_set<const Value*> defined_;
  std::set<UseKey> recorded_uses_;
};

} // namespace

void verify(const Function& fn) { FunctionVerifier(fn).run(); }

void verify(const Module& module) {
  std::set<std::string> names;
  for (const auto& fn : module.functions()) {
    if (!names.insert(fn->name()).second)
      throw_error(ErrorCode::VerifyError, "duplicate function @" + fn->name());
    verify(*fn);
  }
}

} // namespace loom::ir
