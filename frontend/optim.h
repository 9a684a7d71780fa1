// Optimizers as graph builders, and the whole training step as one function.
//
//   Graph g;
//   nn::ParameterStore params(g);
//   nn::Linear fc(params, "fc", 784, 10);
//   Value x = g.input("x", DType::F32, {64, 784});
//   Value labels = g.input("labels", DType::I32, {64});
//   Value loss = nn::cross_entropy(fc(x), labels);
//   optim::TrainStep step = optim::build_train_step(params, loss, optim::Adam({.lr = 1e-3}));
//   optim::Trainer trainer(g, step, /*seed=*/42, {.target = "interp"});
//   double l = trainer.step({{"x", xb}, {"labels", yb}});
//
// The training step is `(params, buffers, optimizer state, step counter, rng seed, batch)
// -> (loss, new params, new buffers, new optimizer state, new counter, new seed)`; every
// new value is an output marked with Graph::output_updates as replacing its input, so
// memory planning may update it in place and the Trainer swaps outputs into inputs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/nn/parameters.h"

namespace loom::optim {

// A per-parameter state tensor with the parameter's type (e.g. Adam's "m"), starting at
// `initial_value`.
struct Slot {
  std::string name;
  double initial_value = 0.0;
};

// A parameter's value and slots after one update.
struct ParamUpdate {
  Value param;
  std::vector<Value> slots; // in the order of Optimizer::slots()
};

// A learning-rate schedule, evaluated inside the training step from its counter t (1 on
// the first update): the update uses lr * factor(t), so the rate changes over training
// without recompiling. The default is a constant rate.
struct LrSchedule {
  // Cosine annealing over `steps` updates from lr down to lr * final_fraction, constant
  // after that: PyTorch's CosineAnnealingLR with eta_min = final_fraction * lr, stepped
  // once per update and without restarts.
  static LrSchedule cosine(int64_t steps, double final_fraction = 0.0,
                           CallSite loc = CallSite::current());
  bool constant() const { return cosine_steps == 0; }
  int64_t cosine_steps = 0;
  double final_fraction = 0.0;
};

class Optimizer {
public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Slot> slots() const = 0;
  // Builds one update of `param` from its gradient and current slots. `step` is an
  // i64[] holding t, the 1-based index of this update (for bias corrections).
  virtual ParamUpdate update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                             CallSite loc = CallSite::current()) const = 0;

  void set_schedule(LrSchedule schedule) { schedule_ = schedule; }
  const LrSchedule& schedule() const { return schedule_; }

protected:
  // The schedule's factor at `step` as a scalar of param's dtype; undefined (a null
  // Value) for a constant rate, whose graphs then multiply by lr alone.
  Value lr_factor(const Value& param, const Value& step, const CallSite& loc) const;

private:
  LrSchedule schedule_;
};

// --- The optimizers (update rules as in PyTorch's torch.optim; see optim.cpp) ---------

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;     // 0: plain SGD; > 0 adds the "momentum_buffer" slot
  bool nesterov = false;     // needs momentum > 0
  double weight_decay = 0.0; // L2 penalty added to the gradient
};
class SGD final : public Optimizer {
public:
  explicit SGD(SGDOptions options = {}, CallSite loc = CallSite::current());
  std::string name() const override;
  std::vector<Slot> slots() const override;
  ParamUpdate update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                     CallSite loc = CallSite::current()) const override;

private:
  SGDOptions options_;
};

struct AdaGradOptions {
  double lr = 0.01;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
};
class AdaGrad final : public Optimizer {
public:
  explicit AdaGrad(AdaGradOptions options = {}, CallSite loc = CallSite::current());
  std::string name() const override { return "adagrad"; }
  std::vector<Slot> slots() const override;
  ParamUpdate update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                     CallSite loc = CallSite::current()) const override;

private:
  AdaGradOptions options_;
};

struct RMSPropOptions {
  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0; // > 0 adds the "momentum_buffer" slot
  bool centered = false; // adds the "grad_avg" slot
};
class RMSProp final : public Optimizer {
public:
  explicit RMSProp(RMSPropOptions options = {}, CallSite loc = CallSite::current());
  std::string name() const override { return "rmsprop"; }
  std::vector<Slot> slots() const override;
  ParamUpdate update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                     CallSite loc = CallSite::current()) const override;

private:
  RMSPropOptions options_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0; // Adam: L2 added to the gradient; AdamW: decoupled
};
class Adam final : public Optimizer {
public:
  explicit Adam(AdamOptions options = {}, CallSite loc = CallSite::current());
  std::string name() const override { return "adam"; }
  std::vector<Slot> slots() const override;
  ParamUpdate update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                     CallSite loc = CallSite::current()) const override;

private:
  AdamOptions options_;
};

// AdamW's default weight decay is PyTorch's, 0.01.
class AdamW final : public Optimizer {
public:
  explicit AdamW(AdamOptions options = {.weight_decay = 0.01}, CallSite loc = CallSite::current());
  std::string name() const override { return "adamw"; }
  std::vector<Slot> slots() const override;
  ParamUpdate update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                     CallSite loc = CallSite::current()) const override;

private:
  AdamOptions options_;
};

// An optimizer by name with default settings and learning rate `lr`: "sgd", "momentum"
// (0.9), "nesterov" (0.9), "adagrad", "rmsprop", "adam", "adamw".
// Error(InvalidArgument) listing the names for an unknown one.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, double lr);
std::vector<std::string> optimizer_names();

// --- The training step -----------------------------------------------------------------

// One tensor carried from step to step: read from input `input`, replaced by output
// `output`.
struct StateEntry {
  std::string input;
  std::string output;
  TensorType type;
  nn::Init init;
};

struct TrainStep {
  // Input holding the number of completed updates (i64[], starts at 0).
  static constexpr const char* kStepInput = "optim.step";

  std::string loss_output = "loss";
  std::vector<StateEntry> state; // parameters, buffers, optimizer slots, counter, rng seed

  // Initial state tensors by input name: parameters and buffers from their initializers
  // (evaluated with `options`' target), slots from their initial values, the counter at
  // 0 and the rng seed at `seed`.
  TensorMap initial_state(int64_t seed, const CompileOptions& options = {}) const;
  const StateEntry* find(std::string_view input) const;
};

// Appends the training step to the store's Graph: the gradients of `loss` with respect
// to every trainable parameter, the optimizer's updates, the buffer updates recorded in
// training mode, the counter and seed increments, and the outputs ("loss" and
// "new.<input>" for each state input). Names the new inputs "<param>.<slot>" and
// "optim.step". `loss` must be a floating-point scalar of the store's Graph.
TrainStep build_train_step(nn::ParameterStore& store, Value loss, const Optimizer& optimizer,
                           CallSite loc = CallSite::current());

// Runs a training step: holds the state tensors on the host, calls the compiled step per
// batch and swaps its new-state outputs into the next call's inputs.
class Trainer {
public:
  // Compiles the Graph's function (with the training step built into it) for
  // `options.target` and initializes the state from `seed`.
  Trainer(const Graph& graph, TrainStep step, int64_t seed, const CompileOptions& options = {});

  // One step on `batch` (every input that is not state). Returns the outputs that are
  // not state updates: the loss and any extra outputs of the Graph.
  TensorMap run(const TensorMap& batch);
  // run() returning the loss as a double.
  double step(const TensorMap& batch);

  const TensorMap& state() const { return state_; }
  // Replaces one state tensor (same type required), e.g. to load weights.
  void set_state(const std::string& input, Tensor value);
  // Runs another compiled function of the same model (an inference Graph), feeding it
  // the state tensors its inputs name in addition to `inputs`.
  TensorMap infer(Executable& program, const TensorMap& inputs) const;

  const TrainStep& train_step() const { return step_; }
  const Executable& executable() const { return *program_; }
  double compile_ms() const { return compile_ms_; }

private:
  TrainStep step_;
  std::unique_ptr<Executable> program_;
  TensorMap state_;
  double compile_ms_ = 0.0;
};

} // namespace loom::optim
