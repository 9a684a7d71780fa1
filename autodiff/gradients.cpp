// The reverse-mode transformation (gradients) and the function builders on top of it
// (grad, vjp).
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "autodiff/autodiff.h"
#include "autodiff/emit.h"
#include "autodiff/vjp_table.h"
#include "ir/clone.h"
#include "ir/error.h"

namespace loom::autodiff {

namespace {

using ir::Function;
using ir::Node;
using ir::Value;

[[noreturn]] void invalid(const std::string& api, const std::string& what) {
  throw_error(ErrorCode::InvalidArgument, api + ": " + what);
}

std::string describe(const Value* v) {
  std::string name =
      v->name().empty() ? std::string(v->def()->name()) + " result" : "'" + v->name() + "'";
  return name + " (" + v->type().str() + ")";
}

void check_inputs(const Function& fn, const std::vector<Value*>& ys,
                  const std::vector<Value*>& cotangents, const std::vector<Value*>& wrt) {
  const std::string api = "gradients of @" + fn.name();
  if (ys.size() != cotangents.size())
    invalid(api, std::to_string(ys.size()) + " values but " + std::to_string(cotangents.size()) +
                     " cotangents");
  auto check_owned = [&](const Value* v, const char* role) {
    if (!v) invalid(api, std::string("null ") + role + " value");
    if (v->def()->parent() != &fn)
      invalid(api, std::string(role) + " value " + describe(v) + " is not in this function");
  };
  for (size_t i = 0; i < ys.size(); ++i) {
    check_owned(ys[i], "differentiated");
    check_owned(cotangents[i], "cotangent");
    if (ys[i]->type() != cotangents[i]->type())
      invalid(api, "cotangent " + describe(cotangents[i]) + " does not match the type of " +
                       describe(ys[i]));
  }
  for (const Value* v : wrt) {
    check_owned(v, "wrt");
    if (!is_float(v->dtype()))
      invalid(api, "cannot differentiate with respect to " + describe(v) + ": not floating point");
  }
}

// The nodes to differentiate: those on a path from a wrt value to a y through
// floating-point values and differentiable ops, in reverse order. Planning happens
// before anything is appended, so an unsupported op leaves the function unchanged.
struct Plan {
  std::unordered_set<const Value*> active; // float values that depend on some wrt value
  std::vector<const Node*> reverse_order;
};

bool carries_gradient(const Value* v) { return is_float(v->dtype()); }

// Whether gradients stop at this op (zero cotangents for its operands).
bool blocks_gradients(Op op) { return !vjp_table()[op].non_differentiable_reason.empty(); }

std::unordered_set<const Value*> values_depending_on(const Function& fn,
                                                     const std::vector<Value*>& wrt) {
  std::unordered_set<const Value*> active(wrt.begin(), wrt.end());
  for (const auto& node : fn.nodes()) {
    if (blocks_gradients(node->op())) continue;
    bool depends = std::any_of(node->operands().begin(), node->operands().end(),
                               [&](const Value* v) { return active.count(v) != 0; });
    if (!depends) continue;
    for (int r = 0; r < node->num_results(); ++r)
      if (carries_gradient(node->result(r))) active.insert(node->result(r));
  }
  return active;
}

void check_supported(const Function& fn, const Node& node) {
  auto where = [&] {
    return " in @" + fn.name() + (node.loc().known() ? " at " + node.loc().str() : "");
  };
  const VjpTable::Entry& entry = vjp_table()[node.op()];
  if (!entry.rule) {
    std::string why = entry.unsupported_reason.empty()
                          ? "has no VJP rule"
                          : "is not supported: " + entry.unsupported_reason;
    throw_error(ErrorCode::Unsupported,
                "gradients: op " + std::string(node.name()) + " " + why + where());
  }
  if (node.num_results() != 1 || node.body())
    throw_error(ErrorCode::Unsupported, "gradients: cannot differentiate " +
                                            std::string(node.name()) +
                                            " with nested body or several results" + where());
}

Plan make_plan(const Function& fn, const std::vector<Value*>& ys, const std::vector<Value*>& wrt) {
  Plan plan{values_depending_on(fn, wrt), {}};
  std::unordered_set<const Value*> needed; // active values whose cotangent is wanted
  for (const Value* y : ys)
    if (plan.active.count(y)) needed.insert(y);
  for (auto it = fn.nodes().rbegin(); it != fn.nodes().rend(); ++it) {
    const Node& node = **it;
    if (blocks_gradients(node.op())) continue;
    bool wanted = false;
    for (int r = 0; r < node.num_results(); ++r)
      wanted = wanted || needed.count(node.result(r));
    // A wanted value computed from inactive operands is itself a wrt value: stop there.
    bool has_active_operand =
        std::any_of(node.operands().begin(), node.operands().end(),
                    [&](const Value* v) { return plan.active.count(v) != 0; });
    if (!wanted || !has_active_operand) continue;
    check_supported(fn, node);
    plan.reverse_order.push_back(&node);
    for (const Value* v : node.operands())
      if (plan.active.count(v)) needed.insert(v);
  }
  return plan;
}

// Runs a plan: appends the gradient nodes to the function.
class ReversePass {
public:
  ReversePass(Function& fn, const Plan& plan) : b_(fn), plan_(plan) {}

  void seed(Value* y, Value* cotangent) {
    if (plan_.active.count(y)) accumulate(y, cotangent);
  }

  void run() {
    for (const Node* node : plan_.reverse_order)
      propagate(*node);
  }

  // The accumulated cotangent of `v`, or zeros if no gradient reached it.
  Value* cotangent_or_zeros(Value* v) {
    auto it = cotangents_.find(v);
    return it != cotangents_.end() ? it->second : emit::zeros_like(b_, v);
  }

private:
  void accumulate(Value* v, Value* cotangent) {
    auto [it, fresh] = cotangents_.emplace(v, cotangent);
    if (!fresh) it->second = emit::add(b_, it->second, cotangent);
  }

  void propagate(const Node& node) {
    auto it = cotangents_.find(node.result());
    if (it == cotangents_.end()) return;
    b_.set_loc(node.loc()); // gradient nodes point back at the node they differentiate
    std::vector<Value*> operand_cotangents = vjp_table()[node.op()].rule(b_, node, it->second);
    if (static_cast<int>(operand_cotangents.size()) != node.num_operands())
      throw_error(ErrorCode::Internal, "VJP rule of " + std::string(node.name()) + " returned " +
                                           std::to_string(operand_cotangents.size()) +
                                           " cotangents for " +
                                           std::to_string(node.num_operands()) + " operands");
    for (int i = 0; i < node.num_operands(); ++i) {
      Value* operand = node.operand(i);
      Value* cotangent = operand_cotangents[i];
      if (!cotangent || !plan_.active.count(operand)) continue;
      if (cotangent->type() != operand->type())
        throw_error(ErrorCode::Internal, "VJP rule of " + std::string(node.name()) +
                                             " gave operand " + std::to_string(i) +
                                             " a cotangent of type " + cotangent->type().str() +
                                             ", expected " + operand->type().str());
      accumulate(operand, cotangent);
    }
  }

  ir::Builder b_;
  const Plan& plan_;
  std::unordered_map<const Value*, Value*> cotangents_;
};

// Rules build every operand's cotangent; those of operands off the path are unused.
// Removes the nodes appended from `first_new` on whose results nobody uses, except `keep`.
void erase_unused_new_nodes(Function& fn, int first_new, const std::vector<Value*>& keep) {
  std::unordered_set<const Value*> kept(keep.begin(), keep.end());
  for (int i = fn.num_nodes() - 1; i >= first_new; --i) {
    Node* node = fn.nodes()[i].get();
    bool unused = true;
    for (int r = 0; r < node->num_results(); ++r)
      unused = unused && !node->result(r)->has_uses() && !kept.count(node->result(r));
    if (unused) fn.erase(node);
  }
}

// --- function builders --------------------------------------------------------------------

ir::Module& module_of(const Function& fn, const std::string& api) {
  if (!fn.parent()) invalid(api, "function @" + fn.name() + " is not in a module");
  return *fn.parent();
}

// The parameters named by wrt_params, checked: present, distinct, floating point.
std::vector<int> wrt_param_indices(const Function& fn, const std::vector<std::string>& wrt_params,
                                   const std::string& api) {
  std::vector<int> indices;
  for (const std::string& name : wrt_params) {
    const auto& params = fn.params();
    auto it = std::find_if(params.begin(), params.end(),
                           [&](const Value* p) { return p->name() == name; });
    if (it == params.end()) invalid(api, "@" + fn.name() + " has no parameter '" + name + "'");
    int index = static_cast<int>(it - params.begin());
    if (std::find(indices.begin(), indices.end(), index) != indices.end())
      invalid(api, "parameter '" + name + "' is listed twice");
    if (!is_float((*it)->dtype()))
      invalid(api, "cannot differentiate with respect to parameter '" + name + "' of type " +
                       (*it)->type().str() + ": not floating point");
    indices.push_back(index);
  }
  return indices;
}

// `base`, or `base` + "_2", "_3", ... if taken: differentiating a function that already
// has gradient outputs or cotangent parameters (second order) reuses the names.
template <typename Taken> std::string unused_name(const std::string& base, Taken taken) {
  std::string name = base;
  for (int k = 2; taken(name); ++k)
    name = base + "_" + std::to_string(k);
  return name;
}

Function* new_function(ir::Module& module, const std::string& name, const std::string& api) {
  if (module.find_function(name)) invalid(api, "the module already has a function @" + name);
  return module.add_function(name);
}

// Differentiates `ys` (with `cotangents`) in `fn` with respect to the given parameters
// and adds the "grad_<param>" outputs.
void add_gradient_outputs(Function& fn, const std::vector<Value*>& ys,
                          const std::vector<Value*>& cotangents,
                          const std::vector<int>& wrt_indices) {
  std::vector<Value*> wrt;
  for (int i : wrt_indices)
    wrt.push_back(fn.params()[i]);
  std::vector<Value*> grads = gradients(fn, ys, cotangents, wrt);
  for (size_t j = 0; j < wrt.size(); ++j) {
    std::string name = unused_name("grad_" + wrt[j]->name(),
                                   [&](const std::string& n) { return fn.find_output(n); });
    fn.add_output(name, grads[j]);
  }
}

int output_index(const Function& fn, const std::string& name) {
  for (size_t i = 0; i < fn.outputs().size(); ++i)
    if (fn.outputs()[i].name == name) return static_cast<int>(i);
  return -1;
}

} // namespace

std::vector<Value*> gradients(Function& fn, const std::vector<Value*>& ys,
                              const std::vector<Value*>& cotangents,
                              const std::vector<Value*>& wrt) {
  check_inputs(fn, ys, cotangents, wrt);
  Plan plan = make_plan(fn, ys, wrt);
  int first_new = fn.num_nodes();
  ReversePass pass(fn, plan);
  for (size_t i = 0; i < ys.size(); ++i)
    pass.seed(ys[i], cotangents[i]);
  pass.run();
  std::vector<Value*> grads;
  for (Value* v : wrt)
    grads.push_back(pass.cotangent_or_zeros(v));
  erase_unused_new_nodes(fn, first_new, grads);
  return grads;
}

Function* grad(const Function& fn, const std::string& loss_output,
               const std::vector<std::string>& wrt_params) {
  const std::string api = "grad";
  ir::Module& module = module_of(fn, api);
  int loss_index = output_index(fn, loss_output);
  if (loss_index < 0) invalid(api, "@" + fn.name() + " has no output '" + loss_output + "'");
  const TensorType& loss_type = fn.outputs()[loss_index].value->type();
  if (loss_type.rank() != 0 || !is_float(loss_type.dtype))
    invalid(api, "the loss output '" + loss_output + "' must be a floating-point scalar, got " +
                     loss_type.str());
  std::vector<int> wrt_indices = wrt_param_indices(fn, wrt_params, api);
  // Fails now, before the new function exists, if a path crosses an op without a rule.
  std::vector<Value*> wrt;
  for (int i : wrt_indices)
    wrt.push_back(fn.params()[i]);
  make_plan(fn, {fn.outputs()[loss_index].value}, wrt);

  Function* out = new_function(module, fn.name() + "_grad", api);
  ir::clone_body_into(fn, *out);
  Value* loss = out->outputs()[loss_index].value;
  Value* one = ir::Builder(*out).scalar(loss_type.dtype, 1.0);
  add_gradient_outputs(*out, {loss}, {one}, wrt_indices);
  return out;
}

Function* vjp(const Function& fn, const std::vector<std::string>& wrt_params) {
  const std::string api = "vjp";
  ir::Module& module = module_of(fn, api);
  std::vector<int> wrt_indices = wrt_param_indices(fn, wrt_params, api);
  std::vector<Value*> outputs, wrt;
  for (const ir::Output& out : fn.outputs())
    outputs.push_back(out.value);
  for (int i : wrt_indices)
    wrt.push_back(fn.params()[i]);
  make_plan(fn, outputs, wrt);

  Function* out = new_function(module, fn.name() + "_vjp", api);
  ir::clone_body_into(fn, *out);
  std::vector<Value*> ys, cotangents;
  for (const ir::Output& output : out->outputs()) {
    ys.push_back(output.value);
    std::string name = unused_name(output.name + "_cotangent",
                                   [&](const std::string& n) { return out->find_param(n); });
    cotangents.push_back(out->add_param(name, output.value->type()));
  }
  add_gradient_outputs(*out, ys, cotangents, wrt_indices);
  return out;
}

} // namespace loom::autodiff
