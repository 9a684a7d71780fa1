// The interpreter driver: assembles the kernel table and walks a function's nodes.
#include "runtime/interp/interpreter.h"

#include <unordered_map>

#include "ir/clone.h"
#include "ir/error.h"
#include "runtime/interp/kernels.h"

namespace loom::interp {

namespace {

// A fusion node computes exactly what its body computes (the body's parameters are the
// node's operands, its outputs the node's results): the interpreter just recurses.
std::vector<Tensor> fusion_kernel(const ir::Node& node, const std::vector<Tensor>& operands) {
  if (!node.body()) throw_error(ErrorCode::Internal, "fusion node without a body");
  return evaluate(*node.body(), operands);
}

KernelTable build_kernel_table() {
  KernelTable t;
  t.add(Op::Fusion, fusion_kernel);
  register_source_kernels(t);
  register_elementwise_kernels(t);
  register_reduction_kernels(t);
  register_linalg_kernels(t);
  register_layout_kernels(t);
  register_conv_kernels(t);
  return t;
}

std::string describe_node(const ir::Node& node) {
  std::string s = "'" + std::string(node.name()) + "' node";
  if (node.loc().known()) s += " at " + node.loc().str();
  return s;
}

std::vector<Tensor> run_node(const ir::Node& node, const std::vector<Tensor>& operands) {
  const Kernel* kernel = kernel_table().find(node.op());
  if (!kernel)
    throw_error(ErrorCode::Unsupported,
                "the interpreter has no kernel for op '" + std::string(node.name()) + "'");
  std::vector<Tensor> results;
  try {
    results = (*kernel)(node, operands);
  } catch (const Error& e) {
    // Keep the code, add where in the user's program the failing node came from.
    throw Error(e.code(), e.message() + " (in " + describe_node(node) + ")");
  }
  // A kernel producing other types than the node declares is an interpreter bug.
  bool ok = static_cast<int>(results.size()) == node.num_results();
  for (int i = 0; ok && i < node.num_results(); ++i)
    ok = results[i].defined() && results[i].type() == node.result(i)->type();
  if (!ok)
    throw_error(ErrorCode::Internal, "interpreter kernel for " + describe_node(node) +
                                         " returned results that do not match the node's types");
  return results;
}

class InterpreterExecutable : public Executable {
public:
  InterpreterExecutable(std::unique_ptr<ir::Module> module, const ir::Function& fn)
      : Executable(input_specs(fn), output_specs(fn)), module_(std::move(module)), fn_(fn) {}

  std::string target() const override { return "interp"; }

protected:
  std::vector<Tensor> execute(const std::vector<Tensor>& inputs) override {
    return evaluate(fn_, inputs);
  }

private:
  static std::vector<IOSpec> input_specs(const ir::Function& fn) {
    std::vector<IOSpec> specs;
    for (const ir::Value* p : fn.params())
      specs.push_back({p->name(), p->type()});
    return specs;
  }
  static std::vector<IOSpec> output_specs(const ir::Function& fn) {
    std::vector<IOSpec> specs;
    for (const ir::Output& o : fn.outputs())
      specs.push_back({o.name, o.value->type()});
    return specs;
  }

  std::unique_ptr<ir::Module> module_; // owns fn_
  const ir::Function& fn_;
};

// For each value consumed by a node, the position of the last node that reads it; values
// that are function outputs are never released.
std::unordered_map<const ir::Value*, size_t> last_uses(const ir::Function& fn) {
  std::unordered_map<const ir::Value*, size_t> last;
  for (size_t i = 0; i < fn.nodes().size(); ++i)
    for (const ir::Value* v : fn.nodes()[i]->operands())
      last[v] = i;
  for (const ir::Output& o : fn.outputs())
    last.erase(o.value);
  return last;
}

} // namespace

const KernelTable& kernel_table() {
  static const KernelTable table = build_kernel_table();
  return table;
}

bool has_interp_kernel(Op op) { return kernel_table().find(op) != nullptr; }

std::vector<Tensor> evaluate(const ir::Function& fn, const std::vector<Tensor>& args) {
  if (args.size() != fn.params().size())
    throw_error(ErrorCode::InvalidArgument, "function '" + fn.name() + "' takes " +
                                                std::to_string(fn.params().size()) +
                                                " arguments, got " + std::to_string(args.size()));
  std::unordered_map<const ir::Value*, Tensor> values;
  for (size_t i = 0; i < args.size(); ++i)
    values[fn.params()[i]] = args[i];

  // Intermediate tensors are dropped after their last use to bound peak memory.
  std::unordered_map<const ir::Value*, size_t> last_use = last_uses(fn);
  for (size_t index = 0; index < fn.nodes().size(); ++index) {
    const ir::Node* node = fn.nodes()[index].get();
    if (node->op() == Op::Parameter) continue;
    std::vector<Tensor> operands;
    operands.reserve(node->num_operands());
    for (const ir::Value* v : node->operands()) {
      auto it = values.find(v);
      if (it == values.end())
        throw_error(ErrorCode::Internal, "interpreter: an operand of " + describe_node(*node) +
                                             " is used before it is defined");
      operands.push_back(it->second);
    }
    std::vector<Tensor> results = run_node(*node, operands);
    for (int i = 0; i < node->num_results(); ++i)
      values[node->result(i)] = std::move(results[i]);
    for (const ir::Value* v : node->operands()) {
      auto last = last_use.find(v);
      if (last != last_use.end() && last->second == index) values.erase(v);
    }
  }

  std::vector<Tensor> outputs;
  for (const ir::Output& o : fn.outputs()) {
    const Tensor& t = values.at(o.value);
    // Never hand out a caller's argument storage as an output: it would alias the input.
    bool is_param = o.value->def()->op() == Op::Parameter;
    outputs.push_back(is_param ? t.clone() : t);
  }
  return outputs;
}

std::unique_ptr<Executable> make_interpreter_executable(const ir::Function& fn) {
  std::unique_ptr<ir::Module> module = ir::clone_function_as_module(fn);
  const ir::Function* copy = module->find_function(fn.name());
  if (!copy)
    throw_error(ErrorCode::Internal, "clone_function_as_module lost function '" + fn.name() + "'");
  return std::make_unique<InterpreterExecutable>(std::move(module), *copy);
}

} // namespace loom::interp
