// ONNX reductions: ReduceSum/Mean/Max/Min/Prod and their L1/L2/LogSum/LogSumExp/
// SumSquare relatives, ArgMax and ArgMin. Axes come from an attribute (before opset 13
// for ReduceSum, before 18 for the others) or from a constant input.
#include <climits>
#include <limits>

#include "frontend/onnx/onnx_converter.h"

namespace loom::onnx {
namespace {

using Results = std::vector<Value>;
using Reducer = Value (*)(Value, std::vector<int64_t>, bool);

struct ReduceSpec {
  std::vector<int64_t> axes; // normalized; all axes when the node names none
  bool keepdims;
  bool identity; // noop_with_empty_axes with no axes: the input passes through
};

ReduceSpec reduce_spec(NodeContext& c, Value x, int64_t axes_input_since) {
  std::optional<std::vector<int64_t>> axes;
  if (c.opset() < axes_input_since)
    axes = c.ints_attr("axes");
  else if (c.has_input(1))
    axes = c.constant_ints(1, "axes");
  ReduceSpec spec{{}, c.int_attr("keepdims", 1) != 0, false};
  if (!axes || axes->empty()) {
    spec.identity = c.int_attr("noop_with_empty_axes", 0) != 0;
    for (int64_t i = 0; i < x.rank(); ++i)
      spec.axes.push_back(i);
  } else {
    for (int64_t axis : *axes)
      spec.axes.push_back(c.normalize_axis(axis, x.rank()));
  }
  return spec;
}

int64_t reduced_count(Value x, const std::vector<int64_t>& axes) {
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= x.shape()[axis];
  return count;
}

// A reduction whose input is first mapped by `pre` and whose result is mapped by `post`.
void add_reduction(ConverterTable& table, const std::string& op, int64_t axes_input_since,
                   Reducer reduce, Value (*pre)(Value), Value (*post)(Value, int64_t)) {
  table[op] = [=](NodeContext& c) {
    Value x = c.input(0);
    ReduceSpec spec = reduce_spec(c, x, axes_input_since);
    if (spec.identity) return Results{x};
    Value y = reduce(pre ? pre(x) : x, spec.axes, spec.keepdims);
    return Results{post ? post(y, reduced_count(x, spec.axes)) : y};
  };
}

Value reduce_sum_fn(Value x, std::vector<int64_t> axes, bool keep) {
  return reduce_sum(x, axes, keep);
}
// ONNX allows bool for ReduceMax/ReduceMin (any/all); loom reduces numbers only.
Value reduce_max_fn(Value x, std::vector<int64_t> axes, bool keep) {
  if (x.dtype() == DType::Bool)
    return cast(reduce_max(cast(x, DType::I32), axes, keep), DType::Bool);
  return reduce_max(x, axes, keep);
}
Value reduce_min_fn(Value x, std::vector<int64_t> axes, bool keep) {
  if (x.dtype() == DType::Bool)
    return cast(reduce_min(cast(x, DType::I32), axes, keep), DType::Bool);
  return reduce_min(x, axes, keep);
}
Value reduce_prod_fn(Value x, std::vector<int64_t> axes, bool keep) {
  return reduce_prod(x, axes, keep);
}

// log(sum(exp(x))) with the maximum subtracted first so that large inputs stay finite.
Value reduce_log_sum_exp(Value x, std::vector<int64_t> axes, bool keep) {
  Value peak = reduce_max(x, axes, true);
  // An empty or infinite maximum would turn x - peak into NaN: shift by 0 instead.
  Value finite_peak = select(lt(abs(peak), std::numeric_limits<double>::infinity()), peak, 0.0);
  Value sum = reduce_sum(exp(sub(x, finite_peak)), axes, true);
  Value y = add(log(sum), finite_peak);
  return keep ? y : reduce_sum(y, axes, false);
}

// Index of the extreme value along `axis`; with select_last_index the last one wins,
// found as the first index along the reversed axis.
Value arg_extreme(NodeContext& c, bool is_max) {
  Value x = c.input(0);
  int64_t axis = c.normalize_axis(c.int_attr("axis", 0), x.rank());
  bool keepdims = c.int_attr("keepdims", 1) != 0;
  auto arg = [&](Value v) {
    return is_max ? argmax(v, axis, keepdims) : argmin(v, axis, keepdims);
  };
  if (c.int_attr("select_last_index", 0) == 0) return arg(x);
  std::vector<int64_t> starts(static_cast<size_t>(axis + 1), 0), stops(starts.size(), INT64_MAX),
      steps(starts.size(), 1);
  starts[axis] = -1;
  stops[axis] = INT64_MIN;
  steps[axis] = -1;
  Value reversed_index = arg(slice(x, starts, stops, steps));
  return sub(static_cast<double>(x.shape()[axis] - 1), reversed_index);
}

} // namespace

void register_reduction_ops(ConverterTable& table) {
  add_reduction(table, "ReduceSum", 13, reduce_sum_fn, nullptr, nullptr);
  add_reduction(table, "ReduceMax", 18, reduce_max_fn, nullptr, nullptr);
  add_reduction(table, "ReduceMin", 18, reduce_min_fn, nullptr, nullptr);
  add_reduction(table, "ReduceProd", 18, reduce_prod_fn, nullptr, nullptr);
  add_reduction(table, "ReduceMean", 18, reduce_sum_fn, nullptr,
                [](Value y, int64_t count) { return div(y, static_cast<double>(count)); });
  add_reduction(
      table, "ReduceSumSquare", 18, reduce_sum_fn, [](Value x) { return mul(x, x); }, nullptr);
  add_reduction(
      table, "ReduceL1", 18, reduce_sum_fn, [](Value x) { return abs(x); }, nullptr);
  add_reduction(
      table, "ReduceL2", 18, reduce_sum_fn, [](Value x) { return mul(x, x); },
      [](Value y, int64_t) { return sqrt(y); });
  add_reduction(table, "ReduceLogSum", 18, reduce_sum_fn, nullptr,
                [](Value y, int64_t) { return log(y); });
  add_reduction(table, "ReduceLogSumExp", 18, reduce_log_sum_exp, nullptr, nullptr);
  table["ArgMax"] = [](NodeContext& c) { return Results{arg_extreme(c, true)}; };
  table["ArgMin"] = [](NodeContext& c) { return Results{arg_extreme(c, false)}; };
}

} // namespace loom::onnx
