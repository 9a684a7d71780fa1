#include "ir/clone.h"

#include "ir/error.h"

namespace loom::ir {

namespace {

// Copies nodes of `src` into the empty function `dst`.
void copy_body(const Function& src, Function& dst) {
  std::unordered_map<const Value*, Value*> map;
  for (const auto& node : src.nodes()) {
    if (node->op() == Op::Parameter) {
      map[node->result()] =
          dst.add_param(node->result()->name(), node->result()->type(), node->loc());
      continue;
    }
    std::vector<Value*> operands;
    for (Value* v : node->operands())
      operands.push_back(map.at(v));
    std::vector<TensorType> types;
    for (int r = 0; r < node->num_results(); ++r)
      types.push_back(node->result(r)->type());
    Node* copy = dst.append(node->op(), operands, node->attrs(), types, node->loc());
    for (int r = 0; r < node->num_results(); ++r) {
      copy->result(r)->set_name(node->result(r)->name());
      map[node->result(r)] = copy->result(r);
    }
    if (node->body()) {
      auto body = std::make_unique<Function>(node->body()->name(), dst.parent());
      copy_body(*node->body(), *body);
      copy->set_body(std::move(body));
    }
  }
  for (const Output& out : src.outputs())
    dst.add_output(out.name, map.at(out.value));
  for (const auto& [output, param] : src.output_aliases())
    dst.set_output_alias(output, param);
}

void copy_constants(const Module* src, Module& dst) {
  if (!src) return;
  for (const auto& [name, lit] : src->constants())
    dst.add_constant(name, lit);
}

} // namespace

void clone_body_into(const Function& src, Function& dst) { copy_body(src, dst); }

std::unique_ptr<Module> clone_module(const Module& m) {
  auto out = std::make_unique<Module>();
  copy_constants(&m, *out);
  for (const auto& fn : m.functions())
    clone_function_into(*fn, *out);
  return out;
}

Function* clone_function_into(const Function& fn, Module& dst) {
  return clone_function_into(fn, dst, fn.name());
}

Function* clone_function_into(const Function& fn, Module& dst, const std::string& new_name) {
  Function* copy = dst.add_function(new_name);
  copy_body(fn, *copy);
  return copy;
}

std::unique_ptr<Module> clone_function_as_module(const Function& fn) {
  auto out = std::make_unique<Module>();
  copy_constants(fn.parent(), *out);
  clone_function_into(fn, *out);
  return out;
}

} // namespace loom::ir
