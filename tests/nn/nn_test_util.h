// Helpers shared by the nn and train tests: host-side random data, running a Graph on
// the interpreter, finite-difference gradient checks, and error-location checks.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "frontend/grad.h"
#include "frontend/loom.h"

namespace loom::test {

// Uniform values in [low, high) from a fixed-seed host generator (test data only; the
// library's randomness is the seeded random op).
inline Tensor random_tensor(DType dtype, Shape shape, uint64_t seed, double low = -1.0,
                            double high = 1.0) {
  Tensor t(dtype, std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(low, high);
  for (int64_t i = 0; i < t.numel(); ++i)
    store_from_double(dtype, t.raw_data(), i, dist(rng));
  return t;
}

inline std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> values(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i)
    values[static_cast<size_t>(i)] = t.at(i);
  return values;
}

// Compiles `graph` for the interpreter and runs it.
inline TensorMap run_graph(const Graph& graph, const TensorMap& inputs) {
  return compile(graph, {.target = "interp"})->run(inputs);
}

// Compares d(loss)/d(wrt) built by loom::grad with central finite differences of the
// loss, element by element, at `inputs` (all of wrt's inputs must be in it). Build the
// graph in f64. Every element of each wrt input is perturbed by +-h.
inline void check_gradients_numerically(Graph& graph, Value loss, const std::vector<Value>& wrt,
                                        const TensorMap& inputs, double h = 1e-6,
                                        double rtol = 1e-6, double atol = 1e-8) {
  std::vector<Value> grads = grad(loss, wrt);
  graph.output("loss", loss);
  for (size_t i = 0; i < wrt.size(); ++i)
    graph.output("grad." + wrt[i].name(), grads[i]);
  std::unique_ptr<Executable> program = compile(graph, {.target = "interp"});
  TensorMap at_point = program->run(inputs);

  auto loss_at = [&](const TensorMap& perturbed) {
    return program->run(perturbed).at("loss").at(0);
  };
  for (const Value& input : wrt) {
    const Tensor& analytic = at_point.at("grad." + input.name());
    const Tensor& base = inputs.at(input.name());
    for (int64_t e = 0; e < base.numel(); ++e) {
      TensorMap plus = inputs, minus = inputs;
      plus[input.name()] = base.clone();
      minus[input.name()] = base.clone();
      store_from_double(base.dtype(), plus[input.name()].raw_data(), e, base.at(e) + h);
      store_from_double(base.dtype(), minus[input.name()].raw_data(), e, base.at(e) - h);
      double numeric = (loss_at(plus) - loss_at(minus)) / (2 * h);
      double symbolic = analytic.at(e);
      INFO(input.name() << "[" << e << "]: symbolic " << symbolic << ", numeric " << numeric);
      CHECK(std::fabs(symbolic - numeric) <= atol + rtol * std::fabs(numeric));
    }
  }
}

// Runs `build`, which must throw a loom::Error, and returns it.
inline Error error_from(const std::function<void()>& build) {
  try {
    build();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a loom::Error");
  throw std::logic_error("unreachable");
}

// The message ends with " at <file>:<line>" (pass __FILE__ and __LINE__ of the call).
inline void check_points_at(const Error& e, const char* file, int line) {
  std::string suffix = " at " + std::string(file) + ":" + std::to_string(line);
  CHECK_THAT(e.message(), Catch::Matchers::EndsWith(suffix));
}

} // namespace loom::test
