// ONNX Einsum for explicit-label equations ("bij,bjk->bik", "i,i", "ij->ji"): operands
// are folded left to right, each pair contracted with one batched matmul after labels
// needed nowhere else are summed away. Ellipses and repeated labels within one operand
// (diagonals) are unsupported.
#include <algorithm>
#include <numeric>

#include "frontend/onnx/onnx_converter.h"

namespace loom::onnx {
namespace {

using Labels = std::string; // one character per axis

struct Operand {
  Value value;
  Labels labels;
};

struct Equation {
  std::vector<Labels> inputs;
  Labels output;
};

Equation parse_equation(NodeContext& c, std::string text) {
  text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
  if (text.find("...") != std::string::npos) c.unsupported("ellipsis ('...') in the equation");
  Equation eq;
  size_t arrow = text.find("->");
  std::string lhs = text.substr(0, arrow);
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    eq.inputs.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (arrow != std::string::npos) {
    eq.output = text.substr(arrow + 2);
  } else { // implicit output: labels used exactly once, in alphabetical order
    for (char label : std::string(lhs))
      if (std::isalpha(static_cast<unsigned char>(label)) &&
          std::count(lhs.begin(), lhs.end(), label) == 1)
        eq.output += label;
    std::sort(eq.output.begin(), eq.output.end());
  }
  for (const Labels& labels : eq.inputs)
    for (char label : labels)
      if (std::count(labels.begin(), labels.end(), label) != 1)
        c.unsupported("repeated label '" + std::string(1, label) + "' in one operand (diagonals)");
  return eq;
}

bool contains(const Labels& labels, char label) { return labels.find(label) != std::string::npos; }

// Sums away the labels of `op` that are not in `keep`.
Operand reduce_unneeded(Operand op, const Labels& keep) {
  std::vector<int64_t> axes;
  Labels kept;
  for (size_t i = 0; i < op.labels.size(); ++i) {
    if (contains(keep, op.labels[i]))
      kept += op.labels[i];
    else
      axes.push_back(static_cast<int64_t>(i));
  }
  if (axes.empty()) return op;
  return {reduce_sum(op.value, axes, false), kept};
}

// Transposes `op` so that its labels read `order`.
Value arrange(const Operand& op, const Labels& order) {
  std::vector<int64_t> perm;
  for (char label : order)
    perm.push_back(static_cast<int64_t>(op.labels.find(label)));
  bool identity = std::is_sorted(perm.begin(), perm.end());
  return identity ? op.value : transpose(op.value, perm);
}

int64_t extent(const Operand& op, const Labels& labels, Shape* dims) {
  int64_t product = 1;
  for (char label : labels) {
    int64_t d = op.value.shape()[op.labels.find(label)];
    if (dims) dims->push_back(d);
    product *= d;
  }
  return product;
}

// a and b contracted over their shared labels not in `needed`: one batched matmul.
Operand contract(Operand a, Operand b, const Labels& needed) {
  a = reduce_unneeded(a, needed + b.labels);
  b = reduce_unneeded(b, needed + a.labels);
  Labels batch, left, contracted, right;
  for (char label : a.labels) {
    if (!contains(b.labels, label))
      left += label;
    else if (contains(needed, label))
      batch += label;
    else
      contracted += label;
  }
  for (char label : b.labels)
    if (!contains(a.labels, label)) right += label;
  Shape result_dims;
  int64_t nb = extent(a, batch, &result_dims), nl = extent(a, left, &result_dims);
  int64_t nc = extent(a, contracted, nullptr), nr = extent(b, right, &result_dims);
  Value lhs = reshape(arrange(a, batch + left + contracted), {nb, nl, nc});
  Value rhs = reshape(arrange(b, batch + contracted + right), {nb, nc, nr});
  return {reshape(matmul(lhs, rhs), result_dims), batch + left + right};
}

Value einsum_node(NodeContext& c) {
  Equation eq = parse_equation(c, c.string_attr("equation", ""));
  if (static_cast<int>(eq.inputs.size()) != c.num_inputs())
    c.fail(ErrorCode::InvalidArgument, "the equation names " + std::to_string(eq.inputs.size()) +
                                           " operands, the node has " +
                                           std::to_string(c.num_inputs()));
  std::vector<Operand> ops;
  for (int i = 0; i < c.num_inputs(); ++i) {
    ops.push_back({c.input(i), eq.inputs[static_cast<size_t>(i)]});
    if (static_cast<int64_t>(ops.back().labels.size()) != ops.back().value.rank())
      c.fail(ErrorCode::ShapeMismatch, "operand " + std::to_string(i) + " has rank " +
                                           std::to_string(ops.back().value.rank()) +
                                           " but labels '" + ops.back().labels + "'");
  }
  Operand acc = ops[0];
  for (size_t i = 1; i < ops.size(); ++i) {
    Labels needed = eq.output;
    for (size_t j = i + 1; j < ops.size(); ++j)
      needed += ops[j].labels;
    acc = contract(acc, ops[i], needed);
  }
  acc = reduce_unneeded(acc, eq.output);
  for (char label : eq.output)
    if (!contains(acc.labels, label))
      c.fail(ErrorCode::InvalidAttribute,
             "output label '" + std::string(1, label) + "' is in no operand");
  return arrange(acc, eq.output);
}

} // namespace

void register_einsum_op(ConverterTable& table) {
  table["Einsum"] = [](NodeContext& c) { return std::vector<Value>{einsum_node(c)}; };
}

} // namespace loom::onnx
