// LSTM and GRU cells against a host reference of PyTorch's equations, and the
// finite-difference gradient check of an LSTM unrolled over 5 steps.
#include <catch2/catch.hpp>

#include "frontend/nn/nn.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;

namespace {

using Matrix = std::vector<double>; // row-major

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// x [rows, k] @ w [k, cols] + bias [cols].
Matrix affine(const Matrix& x, const Matrix& w, const Matrix& bias, int64_t rows, int64_t k,
              int64_t cols) {
  Matrix out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double acc = bias[c];
      for (int64_t p = 0; p < k; ++p)
        acc += x[r * k + p] * w[p * cols + c];
      out[r * cols + c] = acc;
    }
  return out;
}

struct Sizes {
  int64_t batch = 2, input = 3, hidden = 4;
};

TensorMap random_inputs(const nn::ParameterStore& store, uint64_t seed) {
  TensorMap inputs;
  for (const nn::Parameter& p : store.entries())
    inputs[p.name] = random_tensor(p.value.dtype(), p.value.shape(), seed++, -0.6, 0.6);
  return inputs;
}

} // namespace

TEST_CASE("LSTMCell follows the LSTM equations", "[nn][recurrent]") {
  Sizes n;
  Graph g;
  nn::ParameterStore store(g);
  nn::LSTMCell cell(store, "lstm", n.input, n.hidden, DType::F64);
  Value x = g.input("x", DType::F64, {n.batch, n.input});
  Value h = g.input("h", DType::F64, {n.batch, n.hidden});
  Value c = g.input("c", DType::F64, {n.batch, n.hidden});
  nn::LSTMState next = cell(x, {h, c});
  g.output("h_next", next.h);
  g.output("c_next", next.c);

  TensorMap inputs = random_inputs(store, 10);
  inputs["x"] = random_tensor(DType::F64, {n.batch, n.input}, 1);
  inputs["h"] = random_tensor(DType::F64, {n.batch, n.hidden}, 2);
  inputs["c"] = random_tensor(DType::F64, {n.batch, n.hidden}, 3);
  TensorMap out = run_graph(g, inputs);

  // z = x w_ih + h w_hh + b, gates i, f, g, o in column blocks of `hidden`.
  int64_t H = n.hidden;
  Matrix zx = affine(to_doubles(inputs["x"]), to_doubles(inputs["lstm.w_ih"]),
                     to_doubles(inputs["lstm.bias"]), n.batch, n.input, 4 * H);
  Matrix zh = affine(to_doubles(inputs["h"]), to_doubles(inputs["lstm.w_hh"]), Matrix(4 * H, 0.0),
                     n.batch, H, 4 * H);
  Matrix c_prev = to_doubles(inputs["c"]);
  for (int64_t b = 0; b < n.batch; ++b)
    for (int64_t j = 0; j < H; ++j) {
      auto z = [&](int64_t gate) {
        return zx[b * 4 * H + gate * H + j] + zh[b * 4 * H + gate * H + j];
      };
      double c_next = sigmoid_ref(z(1)) * c_prev[b * H + j] + sigmoid_ref(z(0)) * std::tanh(z(2));
      double h_next = sigmoid_ref(z(3)) * std::tanh(c_next);
      CHECK(out.at("c_next").at(b * H + j) == Approx(c_next).epsilon(1e-12));
      CHECK(out.at("h_next").at(b * H + j) == Approx(h_next).epsilon(1e-12));
    }
}

TEST_CASE("GRUCell follows the GRU equations", "[nn][recurrent]") {
  Sizes n;
  Graph g;
  nn::ParameterStore store(g);
  nn::GRUCell cell(store, "gru", n.input, n.hidden, DType::F64);
  Value x = g.input("x", DType::F64, {n.batch, n.input});
  Value h = g.input("h", DType::F64, {n.batch, n.hidden});
  g.output("h_next", cell(x, h));

  TensorMap inputs = random_inputs(store, 20);
  inputs["x"] = random_tensor(DType::F64, {n.batch, n.input}, 4);
  inputs["h"] = random_tensor(DType::F64, {n.batch, n.hidden}, 5);
  TensorMap out = run_graph(g, inputs);

  int64_t H = n.hidden;
  Matrix gx = affine(to_doubles(inputs["x"]), to_doubles(inputs["gru.w_ih"]),
                     to_doubles(inputs["gru.b_ih"]), n.batch, n.input, 3 * H);
  Matrix gh = affine(to_doubles(inputs["h"]), to_doubles(inputs["gru.w_hh"]),
                     to_doubles(inputs["gru.b_hh"]), n.batch, H, 3 * H);
  Matrix h_prev = to_doubles(inputs["h"]);
  for (int64_t b = 0; b < n.batch; ++b)
    for (int64_t j = 0; j < H; ++j) {
      auto at = [&](const Matrix& m, int64_t gate) { return m[b * 3 * H + gate * H + j]; };
      double r = sigmoid_ref(at(gx, 0) + at(gh, 0));
      double z = sigmoid_ref(at(gx, 1) + at(gh, 1));
      double candidate = std::tanh(at(gx, 2) + r * at(gh, 2));
      double expected = (1 - z) * candidate + z * h_prev[b * H + j];
      CHECK(out.at("h_next").at(b * H + j) == Approx(expected).epsilon(1e-12));
    }
}

TEST_CASE("an LSTM unrolled over 5 steps passes the finite-difference gradient check",
          "[nn][recurrent][gradcheck]") {
  Sizes n;
  const int64_t steps = 5;
  Graph g;
  nn::ParameterStore store(g);
  nn::LSTM lstm(store, "lstm", n.input, n.hidden, DType::F64);
  Value x = g.input("x", DType::F64, {n.batch, steps, n.input});
  Value h0 = g.input("h0", DType::F64, {n.batch, n.hidden});
  Value c0 = g.input("c0", DType::F64, {n.batch, n.hidden});
  Value readout = g.input("readout", DType::F64, {n.batch, steps, n.hidden});
  nn::LSTM::Result result = lstm(x, nn::LSTMState{h0, c0});
  CHECK(result.outputs.shape() == Shape{n.batch, steps, n.hidden});
  // Every step's output and the final cell state reach the loss.
  Value loss = reduce_sum(result.outputs * readout) + reduce_sum(result.final.c * result.final.c);

  TensorMap inputs = random_inputs(store, 30);
  inputs["x"] = random_tensor(DType::F64, {n.batch, steps, n.input}, 6);
  inputs["h0"] = random_tensor(DType::F64, {n.batch, n.hidden}, 7);
  inputs["c0"] = random_tensor(DType::F64, {n.batch, n.hidden}, 8);
  inputs["readout"] = random_tensor(DType::F64, {n.batch, steps, n.hidden}, 9);
  std::vector<Value> wrt = store.trainable_values();
  wrt.insert(wrt.end(), {x, h0, c0});
  check_gradients_numerically(g, loss, wrt, inputs);
}

TEST_CASE("a GRU cell applied twice passes the finite-difference gradient check",
          "[nn][recurrent][gradcheck]") {
  Sizes n;
  Graph g;
  nn::ParameterStore store(g);
  nn::GRUCell cell(store, "gru", n.input, n.hidden, DType::F64);
  Value x = g.input("x", DType::F64, {n.batch, n.input});
  Value h0 = g.input("h0", DType::F64, {n.batch, n.hidden});
  Value h2 = cell(x, cell(x, h0));
  Value loss = reduce_sum(h2 * h2 * h0);
  TensorMap inputs = random_inputs(store, 40);
  inputs["x"] = random_tensor(DType::F64, {n.batch, n.input}, 10);
  inputs["h0"] = random_tensor(DType::F64, {n.batch, n.hidden}, 11);
  std::vector<Value> wrt = store.trainable_values();
  wrt.insert(wrt.end(), {x, h0});
  check_gradients_numerically(g, loss, wrt, inputs);
}

TEST_CASE("LSTM starts from zeros when no state is given", "[nn][recurrent]") {
  Graph g;
  nn::ParameterStore store(g);
  nn::LSTM lstm(store, "lstm", 2, 3);
  Value x = g.input("x", DType::F32, {1, 4, 2});
  nn::LSTM::Result result = lstm(x);
  g.output("outputs", result.outputs);
  g.output("h", result.final.h);
  TensorMap inputs = store.initial_values(1);
  inputs["x"] = Tensor::zeros(DType::F32, {1, 4, 2});
  TensorMap out = run_graph(g, inputs);
  // The last step's output is the final h.
  for (int64_t j = 0; j < 3; ++j)
    CHECK(out.at("outputs").at(9 + j) == out.at("h").at(j));
  Error e = error_from([&] { lstm(g.input("bad", DType::F32, {1, 4, 5})); });
  CHECK(e.code() == ErrorCode::ShapeMismatch);
}
