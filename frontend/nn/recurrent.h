// Recurrent cells and an LSTM unrolled over a fixed sequence length. Gate layouts and
// equations follow PyTorch's LSTMCell/GRUCell, with weights stored [in, gates * hidden]
// (x @ w) and, like PyTorch, every weight and bias drawn from
// U(-1/sqrt(hidden), 1/sqrt(hidden)).
#pragma once

#include <optional>
#include <string>

#include "frontend/nn/parameters.h"

namespace loom::nn {

struct LSTMState {
  Value h; // [batch, hidden]
  Value c; // [batch, hidden]
};

// i, f, g, o = split(x @ w_ih + h @ w_hh + bias) (in that order, each [batch, hidden])
// c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
// Parameters: "<name>.w_ih" [input, 4H], "<name>.w_hh" [H, 4H], "<name>.bias" [4H].
class LSTMCell {
public:
  LSTMCell(ParameterStore& store, const std::string& name, int64_t input_size, int64_t hidden_size,
           DType dtype = DType::F32, CallSite loc = CallSite::current());
  // x is [batch, input_size].
  LSTMState operator()(Value x, const LSTMState& state, CallSite loc = CallSite::current()) const;
  // h = c = 0 for a batch of `batch` sequences, in `graph`.
  LSTMState zero_state(Graph& graph, int64_t batch, CallSite loc = CallSite::current()) const;

  int64_t input_size() const { return w_ih_.shape()[0]; }
  int64_t hidden_size() const { return w_hh_.shape()[0]; }

private:
  std::string name_;
  Value w_ih_, w_hh_, bias_;
};

// r = sigmoid(x w_ir + b_ir + h w_hr + b_hr);  z = sigmoid(x w_iz + b_iz + h w_hz + b_hz)
// n = tanh(x w_in + b_in + r * (h w_hn + b_hn));  h' = (1 - z) * n + z * h
// Parameters: "<name>.w_ih" [input, 3H], "<name>.w_hh" [H, 3H], "<name>.b_ih" [3H],
// "<name>.b_hh" [3H] (two biases, because r multiplies only the hidden one).
class GRUCell {
public:
  GRUCell(ParameterStore& store, const std::string& name, int64_t input_size, int64_t hidden_size,
          DType dtype = DType::F32, CallSite loc = CallSite::current());
  Value operator()(Value x, Value h, CallSite loc = CallSite::current()) const;

  int64_t hidden_size() const { return w_hh_.shape()[0]; }

private:
  std::string name_;
  Value w_ih_, w_hh_, b_ih_, b_hh_;
};

// An LSTMCell applied along axis 1 of x [batch, time, input], unrolled over the static
// sequence length.
class LSTM {
public:
  struct Result {
    Value outputs;   // [batch, time, hidden]: h at every step
    LSTMState final; // the state after the last step
  };

  LSTM(ParameterStore& store, const std::string& name, int64_t input_size, int64_t hidden_size,
       DType dtype = DType::F32, CallSite loc = CallSite::current());
  // Starts from `initial`, or from zeros.
  Result operator()(Value x, std::optional<LSTMState> initial = std::nullopt,
                    CallSite loc = CallSite::current()) const;

  const LSTMCell& cell() const { return cell_; }

private:
  LSTMCell cell_;
};

} // namespace loom::nn
