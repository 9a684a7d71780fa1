// Weight initializers: a description (Init), its graph-side form built from the seeded
// random ops, and a host-side form that evaluates the graph-side one through
// loom::compile, so parameters fed as inputs get exactly the same distributions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codegen/compile.h"
#include "frontend/ops.h"
#include "runtime/executable.h"

namespace loom::nn {

// How a tensor is initialized. Glorot/He variants derive their scale from the tensor's
// fans (see compute_fans); the others are fully specified.
struct Init {
  enum class Kind { Constant, Uniform, Normal, GlorotUniform, GlorotNormal, HeUniform, HeNormal };
  Kind kind = Kind::Constant;
  // Constant: a = value. Uniform: [a, b). Normal: mean a, standard deviation b.
  // Glorot/He: a = gain (multiplies the standard scale).
  double a = 0.0;
  double b = 0.0;

  static Init zeros() { return {Kind::Constant, 0.0, 0.0}; }
  static Init ones() { return {Kind::Constant, 1.0, 0.0}; }
  static Init constant(double value) { return {Kind::Constant, value, 0.0}; }
  static Init uniform(double low, double high) { return {Kind::Uniform, low, high}; }
  static Init normal(double mean, double stddev) { return {Kind::Normal, mean, stddev}; }
  // Glorot & Bengio 2010: U(-l, l) with l = gain * sqrt(6 / (fan_in + fan_out)).
  static Init glorot_uniform(double gain = 1.0) { return {Kind::GlorotUniform, gain, 0.0}; }
  // N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
  static Init glorot_normal(double gain = 1.0) { return {Kind::GlorotNormal, gain, 0.0}; }
  // He et al. 2015 (for ReLU): U(-l, l) with l = gain * sqrt(6 / fan_in).
  static Init he_uniform(double gain = 1.0) { return {Kind::HeUniform, gain, 0.0}; }
  // N(0, s^2) with s = gain * sqrt(2 / fan_in).
  static Init he_normal(double gain = 1.0) { return {Kind::HeNormal, gain, 0.0}; }

  std::string str() const; // "glorot_uniform(gain=1)", "constant(0)", ...
};

// Fan-in and fan-out of a weight, by loom's layouts: a rank-2 weight is [in, out] (it
// multiplies from the right: x @ w); rank >= 3 is [out, in, kernel...] (OIHW filters),
// whose fans include the kernel's size; rank 0 and 1 use the element count for both.
struct Fans {
  double fan_in = 1.0;
  double fan_out = 1.0;
};
Fans compute_fans(const Shape& shape);

// The concrete distribution an Init resolves to for one tensor.
struct Distribution {
  enum class Kind { Constant, Uniform, Normal };
  Kind kind = Kind::Constant;
  double a = 0.0; // value, low, or mean
  double b = 0.0; // -, high, or stddev
};
// Throws Error(InvalidArgument) for an invalid Init (e.g. low > high, stddev < 0) or a
// random Init for a non-floating-point dtype.
Distribution resolve(const Init& init, const TensorType& type);

// An i64[] seed derived from `seed` and `salt` (seed * golden ratio + salt, wrapping):
// distinct salts give independent random streams from one seed input.
Value derive_seed(Value seed, uint64_t salt, CallSite loc = CallSite::current());

// A tensor of `type` drawn per `init` from the i64[] `seed` (graph-side initializer).
Value init_value(const Init& init, const TensorType& type, Value seed,
                 CallSite loc = CallSite::current());

// What to initialize on the host: a named tensor and its Init.
struct TensorInit {
  std::string name;
  TensorType type;
  Init init;
};

// Host tensors for `specs`, by name, computed by compiling the graph-side initializers
// once (target from `options`) and running them with `seed`. Each tensor's stream is
// derived from `seed` and a hash of its name, so it does not change when other tensors
// are added or removed.
TensorMap initialize(const std::vector<TensorInit>& specs, int64_t seed,
                     const CompileOptions& options = {});
Tensor initialize(const Init& init, const TensorType& type, int64_t seed,
                  const CompileOptions& options = {});

// FNV-1a hash of a name, the salt `initialize` uses for it.
uint64_t name_salt(const std::string& name);

} // namespace loom::nn
