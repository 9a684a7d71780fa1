// ONNX RNN, GRU and LSTM, unrolled over the static sequence length into cells built
// from matmul and elementwise ops. Weights follow ONNX's layouts: W [dirs, G*H, input],
// R [dirs, G*H, H], B [dirs, 2*G*H] (input biases, then recurrence biases), gate order
// i,o,f,c (LSTM) and z,r,h (GRU); directions forward, reverse and bidirectional.
#include <climits>

#include "frontend/onnx/onnx_converter.h"

namespace loom::onnx {
namespace {

using Results = std::vector<Value>;
using Activation = Value (*)(Value);

enum class CellKind { RNN, GRU, LSTM };

int64_t gate_count(CellKind kind) {
  return kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 3 : 4;
}

// Activation functions per direction: f (RNN); f, g (GRU); f, g, h (LSTM).
size_t activation_count(CellKind kind) {
  return kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 2 : 3;
}

Activation activation_named(NodeContext& c, const std::string& name) {
  if (name == "Sigmoid") return [](Value x) { return sigmoid(x); };
  if (name == "Tanh") return [](Value x) { return tanh(x); };
  if (name == "Relu") return [](Value x) { return relu(x); };
  c.unsupported("activation '" + name + "' (Sigmoid, Tanh and Relu are supported)");
}

// x[index] along axis 0, with that axis dropped.
Value take(Value x, int64_t index) {
  Value row = slice(x, {index}, {index + 1});
  Shape shape(x.shape().begin() + 1, x.shape().end());
  return reshape(row, shape);
}

// Columns [gate * H, (gate + 1) * H) of a [batch, G*H] matrix (or of a [G*H] vector).
Value gate(Value x, int64_t index, int64_t hidden) {
  if (x.rank() == 1) return slice(x, {index * hidden}, {(index + 1) * hidden});
  return slice(x, {0, index * hidden}, {INT64_MAX, (index + 1) * hidden});
}

// The weights of one direction, transposed for x @ w.
struct DirectionWeights {
  Value w;        // [input, G*H]
  Value r;        // [H, G*H]
  Value w_bias;   // [G*H] or null
  Value r_bias;   // [G*H] or null
  Value peephole; // [3H] (LSTM: i, o, f) or null
};

struct CellConfig {
  CellKind kind;
  int64_t hidden;
  std::vector<Activation> activations; // f, g (GRU/LSTM), h (LSTM), per direction
  float clip;                          // <= 0: no clipping
  bool linear_before_reset;
};

Value clipped(Value x, const CellConfig& cfg) {
  if (cfg.clip <= 0) return x;
  return minimum(maximum(x, -static_cast<double>(cfg.clip)), static_cast<double>(cfg.clip));
}

Value with_bias(Value x, Value bias) { return bias.defined() ? add(x, bias) : x; }

// One RNN/GRU/LSTM step; `c` is the LSTM cell state (unused otherwise). Returns {h, c}.
std::pair<Value, Value> step(const CellConfig& cfg, const DirectionWeights& dw, size_t act_base,
                             Value x, Value h, Value c) {
  int64_t H = cfg.hidden;
  Activation f = cfg.activations[act_base];
  Value xw = with_bias(matmul(x, dw.w), dw.w_bias);
  if (cfg.kind == CellKind::RNN)
    return {f(clipped(add(xw, with_bias(matmul(h, dw.r), dw.r_bias)), cfg)), c};
  Activation g = cfg.activations[act_base + 1];
  if (cfg.kind == CellKind::GRU) {
    Value hr = matmul(h, dw.r);
    Value rb = dw.r_bias;
    Value z = f(clipped(
        add(gate(xw, 0, H), with_bias(gate(hr, 0, H), rb.defined() ? gate(rb, 0, H) : rb)), cfg));
    Value r = f(clipped(
        add(gate(xw, 1, H), with_bias(gate(hr, 1, H), rb.defined() ? gate(rb, 1, H) : rb)), cfg));
    Value rbh = rb.defined() ? gate(rb, 2, H) : rb;
    Value candidate_recurrence = cfg.linear_before_reset
                                     ? mul(r, with_bias(gate(hr, 2, H), rbh))
                                     : with_bias(matmul(mul(r, h), gate(dw.r, 2, H)), rbh);
    Value n = g(clipped(add(gate(xw, 2, H), candidate_recurrence), cfg));
    return {add(mul(sub(1.0, z), n), mul(z, h)), c};
  }
  Activation act_h = cfg.activations[act_base + 2];
  Value pre = add(xw, with_bias(matmul(h, dw.r), dw.r_bias));
  auto peep = [&](int64_t index, Value state) {
    return dw.peephole.defined() ? mul(gate(dw.peephole, index, H), state) : Value();
  };
  auto with_peep = [](Value v, Value p) { return p.defined() ? add(v, p) : v; };
  Value i = f(clipped(with_peep(gate(pre, 0, H), peep(0, c)), cfg));
  Value fg = f(clipped(with_peep(gate(pre, 2, H), peep(2, c)), cfg));
  Value candidate = g(clipped(gate(pre, 3, H), cfg));
  Value c_next = add(mul(fg, c), mul(i, candidate));
  Value o = f(clipped(with_peep(gate(pre, 1, H), peep(1, c_next)), cfg));
  return {mul(o, act_h(c_next)), c_next};
}

DirectionWeights direction_weights(NodeContext& c, const CellConfig& cfg, int64_t d) {
  int64_t GH = gate_count(cfg.kind) * cfg.hidden;
  DirectionWeights dw;
  dw.w = transpose(take(c.input(1), d));
  dw.r = transpose(take(c.input(2), d));
  if (Value b = c.optional_input(3); b.defined()) {
    Value both = take(b, d);
    dw.w_bias = slice(both, {0}, {GH});
    dw.r_bias = slice(both, {GH}, {2 * GH});
  }
  if (cfg.kind == CellKind::LSTM)
    if (Value p = c.optional_input(7); p.defined()) dw.peephole = take(p, d);
  return dw;
}

// Stacks [batch, H] values into [count, batch, H].
Value stack(const std::vector<Value>& values) {
  std::vector<Value> rows;
  for (Value v : values) {
    Shape shape{1};
    shape.insert(shape.end(), v.shape().begin(), v.shape().end());
    rows.push_back(reshape(v, shape));
  }
  return concat(rows, 0);
}

CellConfig cell_config(NodeContext& c, CellKind kind, int64_t directions) {
  CellConfig cfg{kind,
                 c.required_int_attr("hidden_size"),
                 {},
                 c.float_attr("clip", 0.0f),
                 c.int_attr("linear_before_reset", 0) != 0};
  std::vector<std::string> names = c.strings_attr("activations");
  if (names.empty()) {
    std::vector<std::string> defaults = kind == CellKind::RNN ? std::vector<std::string>{"Tanh"}
                                        : kind == CellKind::GRU
                                            ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                            : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    for (int64_t d = 0; d < directions; ++d)
      names.insert(names.end(), defaults.begin(), defaults.end());
  }
  if (c.has_attr("activation_alpha") || c.has_attr("activation_beta"))
    c.unsupported("activation_alpha/activation_beta");
  for (const std::string& name : names)
    cfg.activations.push_back(activation_named(c, name));
  if (cfg.activations.size() != static_cast<size_t>(directions) * activation_count(kind))
    c.fail(ErrorCode::InvalidAttribute, "wrong number of activations");
  if (c.int_attr("input_forget", 0) != 0) c.unsupported("input_forget");
  return cfg;
}

Results recurrent_node(NodeContext& c, CellKind kind) {
  std::string direction = c.string_attr("direction", "forward");
  int64_t directions = direction == "bidirectional" ? 2 : 1;
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    c.fail(ErrorCode::InvalidAttribute, "unknown direction '" + direction + "'");
  CellConfig cfg = cell_config(c, kind, directions);
  bool batch_major = c.int_attr("layout", 0) != 0;
  Value x = c.input(0);
  if (batch_major) x = transpose(x, {1, 0, 2});
  int64_t seq = x.shape()[0], batch = x.shape()[1], H = cfg.hidden;
  if (c.has_input(4)) {
    for (int64_t len : c.constant_ints(4, "sequence_lens"))
      if (len != seq) c.unsupported("sequences shorter than the input (sequence_lens)");
  }
  Value initial_h = c.optional_input(5);
  Value initial_c = kind == CellKind::LSTM ? c.optional_input(6) : Value();
  Value zeros = broadcast_to(c.graph().scalar(0, x.dtype()), {batch, H});

  std::vector<Value> y_dirs, h_last, c_last;
  size_t acts_per_dir = cfg.activations.size() / static_cast<size_t>(directions);
  for (int64_t d = 0; d < directions; ++d) {
    DirectionWeights dw = direction_weights(c, cfg, d);
    Value h = initial_h.defined() ? take(initial_h, d) : zeros;
    Value cs = initial_c.defined() ? take(initial_c, d) : zeros;
    bool reverse = direction == "reverse" || d == 1;
    std::vector<Value> outputs(static_cast<size_t>(seq));
    for (int64_t s = 0; s < seq; ++s) {
      int64_t t = reverse ? seq - 1 - s : s;
      std::tie(h, cs) = step(cfg, dw, static_cast<size_t>(d) * acts_per_dir, take(x, t), h, cs);
      outputs[static_cast<size_t>(t)] = h;
    }
    y_dirs.push_back(stack(outputs)); // [seq, batch, H]
    h_last.push_back(h);
    c_last.push_back(cs);
  }
  // Y [seq, dirs, batch, H]; Y_h, Y_c [dirs, batch, H] (batch first with layout=1).
  std::vector<Value> y_rows;
  for (Value y : y_dirs)
    y_rows.push_back(reshape(y, {seq, 1, batch, H}));
  Value y = concat(y_rows, 1);
  Value y_h = stack(h_last), y_c = stack(c_last);
  if (batch_major) {
    y = transpose(y, {2, 0, 1, 3});
    y_h = transpose(y_h, {1, 0, 2});
    y_c = transpose(y_c, {1, 0, 2});
  }
  Results results{y, y_h};
  if (kind == CellKind::LSTM) results.push_back(y_c);
  return results;
}

} // namespace

void register_recurrent_ops(ConverterTable& table) {
  table["RNN"] = [](NodeContext& c) { return recurrent_node(c, CellKind::RNN); };
  table["GRU"] = [](NodeContext& c) { return recurrent_node(c, CellKind::GRU); };
  table["LSTM"] = [](NodeContext& c) { return recurrent_node(c, CellKind::LSTM); };
}

} // namespace loom::onnx
