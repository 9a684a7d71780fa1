#include "frontend/nn/recurrent.h"

#include <cmath>
#include <limits>

namespace loom::nn {

namespace {

Init recurrent_init(int64_t hidden_size) {
  double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  return Init::uniform(-bound, bound);
}

void check_sizes(const std::string& what, int64_t input_size, int64_t hidden_size,
                 const CallSite& loc) {
  if (input_size <= 0 || hidden_size <= 0)
    throw_at(ErrorCode::InvalidArgument,
             what + ": input_size and hidden_size must be positive, got " +
                 std::to_string(input_size) + " and " + std::to_string(hidden_size),
             loc);
}

// x [batch, features] with the expected feature count and dtype.
void check_step_input(const std::string& what, const Value& x, int64_t features, DType dtype,
                      const std::string& role, const CallSite& loc) {
  if (!x.defined()) throw_at(ErrorCode::InvalidArgument, what + ": " + role + " is null", loc);
  if (x.dtype() != dtype || x.rank() != 2 || x.shape()[1] != features)
    throw_at(ErrorCode::ShapeMismatch,
             what + ": " + role + " must be " + std::string(dtype_name(dtype)) + "[batch, " +
                 std::to_string(features) + "], got " + x.type().str(),
             loc);
}

// Gate k of a [batch, gates * hidden] pre-activation: columns [k*hidden, (k+1)*hidden).
Value gate(const Value& preactivation, int64_t k, int64_t hidden, const CallSite& loc) {
  constexpr int64_t kAll = std::numeric_limits<int64_t>::max();
  return slice(preactivation, {0, k * hidden}, {kAll, (k + 1) * hidden}, {}, loc);
}

} // namespace

// --- LSTMCell ----------------------------------------------------------------------

LSTMCell::LSTMCell(ParameterStore& store, const std::string& name, int64_t input_size,
                   int64_t hidden_size, DType dtype, CallSite loc)
    : name_(name) {
  check_sizes("LSTMCell '" + name + "'", input_size, hidden_size, loc);
  Init init = recurrent_init(hidden_size);
  w_ih_ = store.parameter(join_name(name, "w_ih"), {input_size, 4 * hidden_size}, init, dtype, loc);
  w_hh_ =
      store.parameter(join_name(name, "w_hh"), {hidden_size, 4 * hidden_size}, init, dtype, loc);
  bias_ = store.parameter(join_name(name, "bias"), {4 * hidden_size}, init, dtype, loc);
}

LSTMState LSTMCell::operator()(Value x, const LSTMState& state, CallSite loc) const {
  std::string what = "LSTMCell '" + name_ + "'";
  int64_t hidden = hidden_size();
  check_step_input(what, x, input_size(), w_ih_.dtype(), "input x", loc);
  check_step_input(what, state.h, hidden, w_ih_.dtype(), "state h", loc);
  check_step_input(what, state.c, hidden, w_ih_.dtype(), "state c", loc);
  if (state.h.shape() != state.c.shape() || state.h.shape()[0] != x.shape()[0])
    throw_at(ErrorCode::ShapeMismatch,
             what + ": x " + x.type().str() + ", h " + state.h.type().str() + " and c " +
                 state.c.type().str() + " must have the same batch size",
             loc);
  Value z = add(add(matmul(x, w_ih_, loc), matmul(state.h, w_hh_, loc), loc), bias_, loc);
  Value input_gate = sigmoid(gate(z, 0, hidden, loc), loc);
  Value forget_gate = sigmoid(gate(z, 1, hidden, loc), loc);
  Value candidate = tanh(gate(z, 2, hidden, loc), loc);
  Value output_gate = sigmoid(gate(z, 3, hidden, loc), loc);
  Value c = add(mul(forget_gate, state.c, loc), mul(input_gate, candidate, loc), loc);
  Value h = mul(output_gate, tanh(c, loc), loc);
  return {h, c};
}

LSTMState LSTMCell::zero_state(Graph& graph, int64_t batch, CallSite loc) const {
  Shape shape{batch, hidden_size()};
  Value zeros = broadcast_to(graph.scalar(0.0, w_ih_.dtype(), loc), shape, loc);
  return {zeros, zeros};
}

// --- GRUCell -----------------------------------------------------------------------

GRUCell::GRUCell(ParameterStore& store, const std::string& name, int64_t input_size,
                 int64_t hidden_size, DType dtype, CallSite loc)
    : name_(name) {
  check_sizes("GRUCell '" + name + "'", input_size, hidden_size, loc);
  Init init = recurrent_init(hidden_size);
  w_ih_ = store.parameter(join_name(name, "w_ih"), {input_size, 3 * hidden_size}, init, dtype, loc);
  w_hh_ =
      store.parameter(join_name(name, "w_hh"), {hidden_size, 3 * hidden_size}, init, dtype, loc);
  b_ih_ = store.parameter(join_name(name, "b_ih"), {3 * hidden_size}, init, dtype, loc);
  b_hh_ = store.parameter(join_name(name, "b_hh"), {3 * hidden_size}, init, dtype, loc);
}

Value GRUCell::operator()(Value x, Value h, CallSite loc) const {
  std::string what = "GRUCell '" + name_ + "'";
  int64_t hidden = hidden_size();
  check_step_input(what, x, w_ih_.shape()[0], w_ih_.dtype(), "input x", loc);
  check_step_input(what, h, hidden, w_ih_.dtype(), "state h", loc);
  if (h.shape()[0] != x.shape()[0])
    throw_at(ErrorCode::ShapeMismatch,
             what + ": x " + x.type().str() + " and h " + h.type().str() +
                 " must have the same batch size",
             loc);
  Value from_input = add(matmul(x, w_ih_, loc), b_ih_, loc);
  Value from_hidden = add(matmul(h, w_hh_, loc), b_hh_, loc);
  auto preactivation = [&](int64_t k) {
    return add(gate(from_input, k, hidden, loc), gate(from_hidden, k, hidden, loc), loc);
  };
  Value reset = sigmoid(preactivation(0), loc);
  Value update = sigmoid(preactivation(1), loc);
  Value candidate = tanh(add(gate(from_input, 2, hidden, loc),
                             mul(reset, gate(from_hidden, 2, hidden, loc), loc), loc),
                         loc);
  // (1 - z) * n + z * h, written as n + z * (h - n).
  return add(candidate, mul(update, sub(h, candidate, loc), loc), loc);
}

// --- LSTM --------------------------------------------------------------------------

LSTM::LSTM(ParameterStore& store, const std::string& name, int64_t input_size, int64_t hidden_size,
           DType dtype, CallSite loc)
    : cell_(store, name, input_size, hidden_size, dtype, loc) {}

LSTM::Result LSTM::operator()(Value x, std::optional<LSTMState> initial, CallSite loc) const {
  if (!x.defined() || x.rank() != 3 || x.shape()[2] != cell_.input_size() || x.shape()[1] < 1)
    throw_at(ErrorCode::ShapeMismatch,
             "LSTM: input must be [batch, time >= 1, " + std::to_string(cell_.input_size()) +
                 "], got " + (x.defined() ? x.type().str() : std::string("a null Value")),
             loc);
  int64_t batch = x.shape()[0], steps = x.shape()[1], features = x.shape()[2];
  int64_t hidden = cell_.hidden_size();
  LSTMState state = initial ? *initial : cell_.zero_state(*x.graph(), batch, loc);
  std::vector<Value> outputs;
  constexpr int64_t kAll = std::numeric_limits<int64_t>::max();
  for (int64_t t = 0; t < steps; ++t) {
    Value x_t = reshape(slice(x, {0, t}, {kAll, t + 1}, {}, loc), {batch, features}, loc);
    state = cell_(x_t, state, loc);
    outputs.push_back(reshape(state.h, {batch, 1, hidden}, loc));
  }
  return {concat(outputs, 1, loc), state};
}

} // namespace loom::nn
