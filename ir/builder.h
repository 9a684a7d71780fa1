// Checked IR construction below the user-facing frontend: appends (or inserts) nodes
// whose result types come from the op's shape rule. Used by autodiff and passes; the
// frontend adds user source locations and operator sugar on top.
#pragma once

#include <vector>

#include "ir/ir.h"
#include "ir/shape_rules.h"

namespace loom::ir {

class Builder {
public:
  // Appends at the end of `fn`, or before `insert_before` when given.
  explicit Builder(Function& fn, Node* insert_before = nullptr) : fn_(fn), before_(insert_before) {}

  Function& function() const { return fn_; }
  // Location given to the nodes this builder creates.
  void set_loc(SourceLoc loc) { loc_ = std::move(loc); }

  // Creates a node; throws the shape rule's Error (with the location appended) on bad input.
  Node* create(Op op, const std::vector<Value*>& operands, Attrs attrs = {});
  // Single-result convenience.
  Value* op(Op op, const std::vector<Value*>& operands, Attrs attrs = {}) {
    return create(op, operands, std::move(attrs))->result();
  }
  Value* constant(Literal value);
  Value* scalar(DType dtype, double value) { return constant(Literal::scalar(dtype, value)); }

private:
  Function& fn_;
  Node* before_;
  SourceLoc loc_;
};

} // namespace loom::ir
