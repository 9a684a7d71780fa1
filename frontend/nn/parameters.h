// The parameter registry of a model: every weight is a graph input (so a training step
// can update it) registered by name together with its initializer.
//
//   Graph g;
//   nn::ParameterStore params(g, nn::Mode::Train);
//   nn::Linear fc(params, "fc", 784, 10);          // inputs "fc.weight", "fc.bias"
//   TensorMap initial = params.initial_values(42); // host tensors for those inputs
//
// Besides trainable parameters the store holds buffers (non-trainable state such as
// batch norm's running statistics, updated by the forward pass in training mode) and,
// on first request, an i64[] "rng_seed" input from which layers draw random seeds
// (dropout). A model built twice, in two Graphs (say training and inference), with the
// same layer names has the same input names, so one set of host tensors feeds both.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/nn/init.h"

namespace loom::nn {

enum class Mode { Train, Eval };

struct Parameter {
  std::string name;
  Value value; // the graph input
  Init init;
  bool trainable = true;
};

// A buffer and its value after the current step (recorded in training mode).
struct BufferUpdate {
  Value buffer;
  Value new_value;
};

class ParameterStore {
public:
  // Name of the seed input created by next_seed().
  static constexpr const char* kSeedInput = "rng_seed";

  explicit ParameterStore(Graph& graph, Mode mode = Mode::Train) : graph_(&graph), mode_(mode) {}
  ParameterStore(const ParameterStore&) = delete;
  ParameterStore& operator=(const ParameterStore&) = delete;

  Graph& graph() const { return *graph_; }
  Mode mode() const { return mode_; }
  bool training() const { return mode_ == Mode::Train; }

  // A trainable parameter: a graph input `name` of the given type. Names are unique
  // within the Graph (InvalidArgument otherwise, from Graph::input).
  Value parameter(const std::string& name, Shape shape, Init init, DType dtype = DType::F32,
                  CallSite loc = CallSite::current());
  // Non-trainable state: a graph input excluded from gradients.
  Value buffer(const std::string& name, Shape shape, Init init, DType dtype = DType::F32,
               CallSite loc = CallSite::current());
  // Records the value `buffer` takes after this step (once per buffer).
  void update_buffer(Value buffer, Value new_value, CallSite loc = CallSite::current());

  // A fresh i64[] seed for one random op, derived from the "rng_seed" input (created on
  // the first call) and a per-call counter: each call gives an independent stream, and
  // changing rng_seed (the training step advances it) changes them all.
  Value next_seed(CallSite loc = CallSite::current());
  // The "rng_seed" input, if next_seed() was called.
  std::optional<Value> seed_input() const { return seed_input_; }

  // Every parameter and buffer, in registration order.
  const std::vector<Parameter>& entries() const { return entries_; }
  std::vector<Value> trainable_values() const;
  const std::vector<BufferUpdate>& buffer_updates() const { return buffer_updates_; }
  const Parameter* find(std::string_view name) const;

  // The initial tensor of every parameter and buffer (and rng_seed = `seed`), by input
  // name, from the graph-side initializers evaluated once with `options`' target.
  TensorMap initial_values(int64_t seed, const CompileOptions& options = {}) const;
  // The specs behind initial_values (without rng_seed).
  std::vector<TensorInit> init_specs() const;

private:
  Value add_entry(const std::string& name, Shape shape, Init init, DType dtype, bool trainable,
                  const CallSite& loc);

  Graph* graph_;
  Mode mode_;
  std::vector<Parameter> entries_;
  std::vector<BufferUpdate> buffer_updates_;
  std::optional<Value> seed_input_;
  uint64_t seeds_drawn_ = 0;
};

// "prefix.name", or `name` alone for an empty prefix: layers name their parameters this way.
std::string join_name(const std::string& prefix, const std::string& name);

} // namespace loom::nn
