#include "frontend/nn/losses.h"

#include "frontend/nn/activations.h"

namespace loom::nn {

namespace {

void check_defined(const char* what, std::initializer_list<const Value*> values,
                   const CallSite& loc) {
  for (const Value* v : values)
    if (!v->defined())
      throw_at(ErrorCode::InvalidArgument, std::string(what) + ": a null loom::Value", loc);
}

// Logits [..., C] (floating point) and integer labels [...].
void check_class_inputs(const char* what, const Value& scores, const Value& labels,
                        const CallSite& loc) {
  check_defined(what, {&scores, &labels}, loc);
  if (!is_float(scores.dtype()) || scores.rank() < 1)
    throw_at(ErrorCode::DTypeMismatch,
             std::string(what) + ": scores must be floating point with a class axis, got " +
                 scores.type().str(),
             loc);
  if (!is_integer(labels.dtype()))
    throw_at(ErrorCode::DTypeMismatch,
             std::string(what) + ": labels must be integers, got " + labels.type().str(), loc);
  Shape example_shape(scores.shape().begin(), scores.shape().end() - 1);
  if (labels.shape() != example_shape)
    throw_at(ErrorCode::ShapeMismatch,
             std::string(what) + ": labels " + labels.type().str() + " must have shape " +
                 shape_str(example_shape) + " to match scores " + scores.type().str(),
             loc);
}

// sum_c one_hot(label)[c] * values[c]: each example's value at its label's class.
Value pick_label_class(const Value& values, const Value& labels, const CallSite& loc) {
  Value mask = one_hot(labels, values.shape().back(), values.dtype(), loc);
  return reduce_sum(mul(mask, values, loc), {-1}, /*keepdims=*/false, loc);
}

} // namespace

Value reduce_loss(Value per_example, Reduction reduction, CallSite loc) {
  check_defined("reduce_loss", {&per_example}, loc);
  switch (reduction) {
  case Reduction::None:
    return per_example;
  case Reduction::Sum:
    return reduce_sum(per_example, loc);
  case Reduction::Mean: {
    int64_t count = per_example.type().numel();
    return div(reduce_sum(per_example, loc), static_cast<double>(count), loc);
  }
  }
  throw_at(ErrorCode::InvalidArgument, "reduce_loss: unknown reduction", loc);
}

Value nll_loss(Value log_probs, Value labels, Reduction reduction, CallSite loc) {
  check_class_inputs("nll_loss", log_probs, labels, loc);
  return reduce_loss(neg(pick_label_class(log_probs, labels, loc), loc), reduction, loc);
}

Value cross_entropy(Value logits, Value labels, Reduction reduction, CallSite loc) {
  check_class_inputs("cross_entropy", logits, labels, loc);
  return nll_loss(log_softmax(logits, -1, loc), labels, reduction, loc);
}

Value cross_entropy_with_probs(Value logits, Value targets, Reduction reduction, CallSite loc) {
  check_defined("cross_entropy_with_probs", {&logits, &targets}, loc);
  if (logits.type() != targets.type() || !is_float(logits.dtype()) || logits.rank() < 1)
    throw_at(ErrorCode::ShapeMismatch,
             "cross_entropy_with_probs: targets " + targets.type().str() +
                 " must have the type of the floating-point logits " + logits.type().str(),
             loc);
  Value per_class = mul(targets, log_softmax(logits, -1, loc), loc);
  return reduce_loss(neg(reduce_sum(per_class, {-1}, false, loc), loc), reduction, loc);
}

Value mse_loss(Value prediction, Value target, Reduction reduction, CallSite loc) {
  check_defined("mse_loss", {&prediction, &target}, loc);
  Value error = sub(prediction, target, loc);
  if (error.shape() != prediction.shape())
    throw_at(ErrorCode::ShapeMismatch,
             "mse_loss: target " + target.type().str() + " must broadcast to the prediction " +
                 prediction.type().str(),
             loc);
  return reduce_loss(mul(error, error, loc), reduction, loc);
}

Value accuracy(Value logits, Value labels, CallSite loc) {
  check_class_inputs("accuracy", logits, labels, loc);
  Value predicted = argmax(logits, -1, /*keepdims=*/false, loc);
  Value correct = eq(predicted, cast(labels, DType::I64, loc), loc);
  return reduce_loss(cast(correct, logits.dtype(), loc), Reduction::Mean, loc);
}

} // namespace loom::nn
