#include "tests/support/op_builder.h"

#include "ir/error.h"
#include "ir/shape_rules.h"

namespace loom::test {

std::unique_ptr<ir::Module> single_op_module(Op op, const std::vector<TensorType>& operand_types,
                                             const Attrs& attrs) {
  auto module = std::make_unique<ir::Module>();
  ir::Function* fn = module->add_function("main");
  std::vector<ir::Value*> operands;
  for (size_t i = 0; i < operand_types.size(); ++i)
    operands.push_back(fn->add_param("x" + std::to_string(i), operand_types[i]));
  ir::Node* node = fn->append(op, operands, attrs, infer_types(op, operand_types, attrs));
  fn->add_output("out", node->result(0));
  return module;
}

const ir::Function& main_function(const ir::Module& module) {
  const ir::Function* fn = module.find_function("main");
  if (!fn) throw_error(ErrorCode::InvalidArgument, "module has no function 'main'");
  return *fn;
}

} // namespace loom::test
