#include "ir/builder.h"

#include "ir/error.h"

namespace loom::ir {

Node* Builder::create(Op op, const std::vector<Value*>& operands, Attrs attrs) {
  std::vector<TensorType> operand_types;
  for (Value* v : operands) {
    if (!v) throw_error(ErrorCode::InvalidArgument, std::string(op_name(op)) + ": null operand");
    operand_types.push_back(v->type());
  }
  std::vector<TensorType> types;
  try {
    types = infer_types(op, operand_types, attrs);
  } catch (const Error& e) {
    if (!loc_.known()) throw;
    throw Error(e.code(), e.message() + " at " + loc_.str());
  }
  if (before_)
    return fn_.insert_before(before_, op, operands, std::move(attrs), std::move(types), loc_);
  return fn_.append(op, operands, std::move(attrs), std::move(types), loc_);
}

Value* Builder::constant(Literal value) {
  return op(Op::Constant, {}, {{"value", std::move(value)}});
}

} // namespace loom::ir
