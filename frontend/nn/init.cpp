#include "frontend/nn/init.h"

#include <cmath>
#include <sstream>

#include "frontend/loom.h"

namespace loom::nn {

namespace {

std::string kind_name(Init::Kind kind) {
  switch (kind) {
  case Init::Kind::Constant:
    return "constant";
  case Init::Kind::Uniform:
    return "uniform";
  case Init::Kind::Normal:
    return "normal";
  case Init::Kind::GlorotUniform:
    return "glorot_uniform";
  case Init::Kind::GlorotNormal:
    return "glorot_normal";
  case Init::Kind::HeUniform:
    return "he_uniform";
  case Init::Kind::HeNormal:
    return "he_normal";
  }
  return "?";
}

bool is_random(Init::Kind kind) { return kind != Init::Kind::Constant; }

[[noreturn]] void invalid_init(const Init& init, const TensorType& type, const std::string& why) {
  throw_error(ErrorCode::InvalidArgument,
              "initializer " + init.str() + " for " + type.str() + ": " + why);
}

// Golden-ratio increment (as in splitmix64): multiplying by it spreads consecutive seeds
// over the whole 64-bit range before the salt is added.
constexpr uint64_t kGoldenRatio64 = 0x9E3779B97F4A7C15ull;

Value i64_scalar(Graph& graph, uint64_t bits, const CallSite& loc) {
  return graph.constant(Tensor::from_vector<int64_t>({}, {static_cast<int64_t>(bits)}), loc);
}

} // namespace

std::string Init::str() const {
  std::ostringstream s;
  s << kind_name(kind) << "(";
  switch (kind) {
  case Kind::Constant:
    s << a;
    break;
  case Kind::Uniform:
    s << "low=" << a << ", high=" << b;
    break;
  case Kind::Normal:
    s << "mean=" << a << ", stddev=" << b;
    break;
  default:
    s << "gain=" << a;
    break;
  }
  s << ")";
  return s.str();
}

Fans compute_fans(const Shape& shape) {
  if (shape.size() < 2) {
    double n = static_cast<double>(shape_numel(shape));
    return {n, n};
  }
  if (shape.size() == 2) return {static_cast<double>(shape[0]), static_cast<double>(shape[1])};
  double receptive_field = static_cast<double>(shape_numel(Shape(shape.begin() + 2, shape.end())));
  return {static_cast<double>(shape[1]) * receptive_field,
          static_cast<double>(shape[0]) * receptive_field};
}

Distribution resolve(const Init& init, const TensorType& type) {
  using D = Distribution::Kind;
  if (is_random(init.kind) && !is_float(type.dtype))
    invalid_init(init, type, "random initializers need a floating-point dtype");
  Fans fans = compute_fans(type.shape);
  switch (init.kind) {
  case Init::Kind::Constant:
    return {D::Constant, init.a, 0.0};
  case Init::Kind::Uniform:
    if (!(init.a <= init.b)) invalid_init(init, type, "low must not exceed high");
    return {D::Uniform, init.a, init.b};
  case Init::Kind::Normal:
    if (!(init.b >= 0.0)) invalid_init(init, type, "stddev must be non-negative");
    return {D::Normal, init.a, init.b};
  default:
    break;
  }
  if (!(init.a >= 0.0)) invalid_init(init, type, "gain must be non-negative");
  if (fans.fan_in <= 0.0 || fans.fan_out <= 0.0)
    invalid_init(init, type, "fans of an empty tensor are zero");
  double glorot_variance = 2.0 / (fans.fan_in + fans.fan_out);
  double he_variance = 2.0 / fans.fan_in;
  switch (init.kind) {
  case Init::Kind::GlorotUniform: {
    double limit = init.a * std::sqrt(3.0 * glorot_variance);
    return {D::Uniform, -limit, limit};
  }
  case Init::Kind::GlorotNormal:
    return {D::Normal, 0.0, init.a * std::sqrt(glorot_variance)};
  case Init::Kind::HeUniform: {
    double limit = init.a * std::sqrt(3.0 * he_variance);
    return {D::Uniform, -limit, limit};
  }
  case Init::Kind::HeNormal:
    return {D::Normal, 0.0, init.a * std::sqrt(he_variance)};
  default:
    throw_error(ErrorCode::Internal, "resolve: unhandled initializer " + init.str());
  }
}

Value derive_seed(Value seed, uint64_t salt, CallSite loc) {
  if (!seed.defined())
    throw_at(ErrorCode::InvalidArgument, "derive_seed: the seed is a null loom::Value", loc);
  if (seed.type() != TensorType{DType::I64, {}})
    throw_at(ErrorCode::DTypeMismatch,
             "derive_seed: the seed must be i64[], got " + seed.type().str(), loc);
  Graph& graph = *seed.graph();
  return add(mul(seed, i64_scalar(graph, kGoldenRatio64, loc), loc), i64_scalar(graph, salt, loc),
             loc);
}

Value init_value(const Init& init, const TensorType& type, Value seed, CallSite loc) {
  if (!seed.defined())
    throw_at(ErrorCode::InvalidArgument, "init_value: the seed is a null loom::Value", loc);
  Distribution dist;
  try {
    dist = resolve(init, type);
  } catch (const Error& e) {
    throw_at(e.code(), e.message(), loc);
  }
  Graph& graph = *seed.graph();
  switch (dist.kind) {
  case Distribution::Kind::Constant:
    return broadcast_to(graph.scalar(dist.a, type.dtype, loc), type.shape, loc);
  case Distribution::Kind::Uniform:
    return add(mul(random_uniform(seed, type.shape, type.dtype, loc), dist.b - dist.a, loc), dist.a,
               loc);
  case Distribution::Kind::Normal:
    return add(mul(random_normal(seed, type.shape, type.dtype, loc), dist.b, loc), dist.a, loc);
  }
  throw_error(ErrorCode::Internal, "init_value: unhandled distribution");
}

uint64_t name_salt(const std::string& name) {
  uint64_t hash = 0xcbf29ce484222325ull; // FNV-1a offset basis
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001b3ull; // FNV prime
  }
  return hash;
}

TensorMap initialize(const std::vector<TensorInit>& specs, int64_t seed,
                     const CompileOptions& options) {
  if (specs.empty()) return {};
  Graph graph("initialize");
  Value seed_input = graph.input("seed", DType::I64, {});
  for (const TensorInit& spec : specs)
    graph.output(spec.name,
                 init_value(spec.init, spec.type, derive_seed(seed_input, name_salt(spec.name))));
  std::unique_ptr<Executable> program = compile(graph, options);
  return program->run({{"seed", Tensor::from_vector<int64_t>({}, {seed})}});
}

Tensor initialize(const Init& init, const TensorType& type, int64_t seed,
                  const CompileOptions& options) {
  return initialize({{"tensor", type, init}}, seed, options).at("tensor");
}

} // namespace loom::nn
