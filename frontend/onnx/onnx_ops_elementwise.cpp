// ONNX elementwise operators: arithmetic, comparisons, activations, Cast, Clip, Where,
// and the pass-through operators Identity and Dropout (inference).
#include <cmath>
#include <numbers>

#include "frontend/nn/activations.h"
#include "frontend/onnx/onnx_converter.h"

namespace loom::onnx {
namespace {

using Results = std::vector<Value>;

void add_unary(ConverterTable& table, const std::string& op, Value (*fn)(Value)) {
  table[op] = [fn](NodeContext& c) { return Results{fn(c.input(0))}; };
}

void add_binary(ConverterTable& table, const std::string& op, Value (*fn)(Value, Value)) {
  table[op] = [fn](NodeContext& c) { return Results{fn(c.input(0), c.input(1))}; };
}

// Max, Min, Sum, Mean: any number (>= 1) of broadcast operands folded left to right.
void add_variadic(ConverterTable& table, const std::string& op, Value (*fn)(Value, Value),
                  bool mean = false) {
  table[op] = [fn, mean](NodeContext& c) {
    Value acc = c.input(0);
    for (int i = 1; i < c.num_inputs(); ++i)
      acc = fn(acc, c.input(i));
    if (mean) acc = div(acc, static_cast<double>(c.num_inputs()));
    return Results{acc};
  };
}

// x < 0 ? alpha * x : x, the slope given as an attribute.
Value leaky_relu_node(NodeContext& c) {
  return nn::leaky_relu(c.input(0), c.float_attr("alpha", 0.01f));
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): Gelu's approximate="tanh" form.
Value gelu_tanh(Value x) {
  double k = std::sqrt(2.0 / std::numbers::pi);
  Value inner = mul(k, add(x, mul(0.044715, mul(x, mul(x, x)))));
  return mul(mul(0.5, x), add(1.0, tanh(inner)));
}

Value gelu_node(NodeContext& c) {
  std::string approximate = c.string_attr("approximate", "none");
  if (approximate == "none") return nn::gelu(c.input(0));
  if (approximate == "tanh") return gelu_tanh(c.input(0));
  c.fail(ErrorCode::InvalidAttribute,
         "approximate must be 'none' or 'tanh', not '" + approximate + "'");
}

// ONNX lets Pow's exponent have another type than the base; loom's pow does not.
Value pow_node(NodeContext& c) {
  Value base = c.input(0), exponent = c.input(1);
  if (exponent.dtype() != base.dtype()) exponent = cast(exponent, base.dtype());
  return pow(base, exponent);
}

Value cast_node(NodeContext& c) {
  int64_t to = c.required_int_attr("to");
  std::optional<DType> dtype = dtype_from_onnx(static_cast<int32_t>(to));
  if (!dtype) c.unsupported("casting to " + onnx_type_name(static_cast<int32_t>(to)));
  return cast(c.input(0), *dtype);
}

// Clip's bounds are inputs since opset 11, attributes before.
Value clip_node(NodeContext& c) {
  Value x = c.input(0);
  if (c.opset() < 11) {
    float lo = c.float_attr("min", -std::numeric_limits<float>::infinity());
    float hi = c.float_attr("max", std::numeric_limits<float>::infinity());
    return minimum(maximum(x, static_cast<double>(lo)), static_cast<double>(hi));
  }
  if (Value lo = c.optional_input(1); lo.defined()) x = maximum(x, lo);
  if (Value hi = c.optional_input(2); hi.defined()) x = minimum(x, hi);
  return x;
}

// Inference-mode dropout (or a ratio of 0) is the identity; its optional mask output is
// all true.
Results dropout_node(NodeContext& c) {
  if (c.opset() >= 12 && c.has_input(2)) {
    std::vector<int64_t> training = c.constant_ints(2, "training_mode");
    bool zero_ratio = c.has_input(1) && c.constant_input(1, "ratio").at(0) == 0.0;
    if (!training.empty() && training[0] != 0 && !zero_ratio)
      c.unsupported("training-mode dropout (random masks) is not supported");
  }
  if (c.opset() < 7 && c.int_attr("is_test", 0) == 0)
    c.unsupported("training-mode dropout (is_test=0) is not supported");
  Value x = c.input(0);
  Results results{x};
  if (c.wants_output(1))
    results.push_back(broadcast_to(c.graph().scalar(1, DType::Bool), x.shape()));
  return results;
}

Value selu(NodeContext& c) {
  double alpha = c.float_attr("alpha", 1.67326319217681884765625f);
  double gamma = c.float_attr("gamma", 1.05070102214813232421875f);
  return mul(gamma, nn::elu(c.input(0), alpha));
}

Value hard_sigmoid(NodeContext& c) {
  double alpha = c.float_attr("alpha", 0.2f), beta = c.float_attr("beta", 0.5f);
  return minimum(maximum(add(mul(c.input(0), alpha), beta), 0.0), 1.0);
}

Value prelu(NodeContext& c) {
  Value x = c.input(0), slope = c.input(1);
  return select(lt(x, 0.0), mul(x, slope), x);
}

Value xor_node(Value a, Value b) { return ne(a, b); }
Value reciprocal(Value x) { return div(1.0, x); }
Value softsign(Value x) { return div(x, add(1.0, abs(x))); }
Value identity(Value x) { return x; }

} // namespace

void register_elementwise_ops(ConverterTable& table) {
  add_unary(table, "Neg", [](Value x) { return neg(x); });
  add_unary(table, "Abs", [](Value x) { return abs(x); });
  add_unary(table, "Sign", [](Value x) { return sign(x); });
  add_unary(table, "Exp", [](Value x) { return exp(x); });
  add_unary(table, "Log", [](Value x) { return log(x); });
  add_unary(table, "Sqrt", [](Value x) { return sqrt(x); });
  add_unary(table, "Tanh", [](Value x) { return tanh(x); });
  add_unary(table, "Sigmoid", [](Value x) { return sigmoid(x); });
  add_unary(table, "Relu", [](Value x) { return relu(x); });
  add_unary(table, "Sin", [](Value x) { return sin(x); });
  add_unary(table, "Cos", [](Value x) { return cos(x); });
  add_unary(table, "Erf", [](Value x) { return erf(x); });
  add_unary(table, "Floor", [](Value x) { return floor(x); });
  add_unary(table, "Ceil", [](Value x) { return ceil(x); });
  add_unary(table, "Not", [](Value x) { return logical_not(x); });
  add_unary(table, "Reciprocal", reciprocal);
  add_unary(table, "Softsign", softsign);
  add_unary(table, "Softplus", [](Value x) { return nn::softplus(x); });
  add_unary(table, "Identity", identity);

  add_binary(table, "Add", [](Value a, Value b) { return add(a, b); });
  add_binary(table, "Sub", [](Value a, Value b) { return sub(a, b); });
  add_binary(table, "Mul", [](Value a, Value b) { return mul(a, b); });
  add_binary(table, "Div", [](Value a, Value b) { return div(a, b); });
  add_binary(table, "Equal", [](Value a, Value b) { return eq(a, b); });
  add_binary(table, "Less", [](Value a, Value b) { return lt(a, b); });
  add_binary(table, "LessOrEqual", [](Value a, Value b) { return le(a, b); });
  add_binary(table, "Greater", [](Value a, Value b) { return gt(a, b); });
  add_binary(table, "GreaterOrEqual", [](Value a, Value b) { return ge(a, b); });
  add_binary(table, "And", [](Value a, Value b) { return logical_and(a, b); });
  add_binary(table, "Or", [](Value a, Value b) { return logical_or(a, b); });
  add_binary(table, "Xor", xor_node);

  add_variadic(table, "Max", [](Value a, Value b) { return maximum(a, b); });
  add_variadic(table, "Min", [](Value a, Value b) { return minimum(a, b); });
  add_variadic(table, "Sum", [](Value a, Value b) { return add(a, b); });
  add_variadic(
      table, "Mean", [](Value a, Value b) { return add(a, b); }, /*mean=*/true);

  table["Pow"] = [](NodeContext& c) { return Results{pow_node(c)}; };
  table["Where"] = [](NodeContext& c) {
    return Results{select(c.input(0), c.input(1), c.input(2))};
  };
  table["Cast"] = [](NodeContext& c) { return Results{cast_node(c)}; };
  table["Clip"] = [](NodeContext& c) { return Results{clip_node(c)}; };
  table["Dropout"] = dropout_node;
  table["LeakyRelu"] = [](NodeContext& c) { return Results{leaky_relu_node(c)}; };
  table["Elu"] = [](NodeContext& c) {
    return Results{nn::elu(c.input(0), c.float_attr("alpha", 1.0f))};
  };
  table["Gelu"] = [](NodeContext& c) { return Results{gelu_node(c)}; };
  table["Selu"] = [](NodeContext& c) { return Results{selu(c)}; };
  table["HardSigmoid"] = [](NodeContext& c) { return Results{hard_sigmoid(c)}; };
  table["PRelu"] = [](NodeContext& c) { return Results{prelu(c)}; };
}

} // namespace loom::onnx
