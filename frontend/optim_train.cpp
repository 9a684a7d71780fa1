// The training-step builder and the Trainer that runs it.
#include <chrono>

#include "frontend/grad.h"
#include "frontend/loom.h"
#include "frontend/optim.h"

namespace loom::optim {

namespace {

std::string updated_output_name(const std::string& input) { return "new." + input; }

// Adds output "new.<input>" replacing `input` with `value`, and records the entry.
void add_state(Graph& graph, TrainStep& step, Value input, Value value, nn::Init init,
               const CallSite& loc) {
  std::string output = updated_output_name(input.name());
  graph.output_updates(output, value, input, loc);
  step.state.push_back({input.name(), output, input.type(), init});
}

void check_loss(const nn::ParameterStore& store, const Value& loss, const CallSite& loc) {
  if (!loss.defined() || loss.graph() != &store.graph())
    throw_at(ErrorCode::InvalidArgument,
             "build_train_step: the loss must be a Value of the ParameterStore's Graph", loc);
  if (loss.rank() != 0 || !is_float(loss.dtype()))
    throw_at(ErrorCode::InvalidArgument,
             "build_train_step: the loss must be a floating-point scalar, got " + loss.type().str(),
             loc);
  if (!store.training())
    throw_at(ErrorCode::InvalidArgument,
             "build_train_step: the ParameterStore is in inference mode (Mode::Eval); "
             "build the training model with Mode::Train",
             loc);
}

} // namespace

TrainStep build_train_step(nn::ParameterStore& store, Value loss, const Optimizer& optimizer,
                           CallSite loc) {
  check_loss(store, loss, loc);
  Graph& graph = store.graph();
  TrainStep step;
  graph.output(step.loss_output, loss, loc);

  Value completed = graph.input(TrainStep::kStepInput, DType::I64, {}, loc);
  Value t = add(completed, 1.0, loc); // this update's 1-based index

  std::vector<Value> params = store.trainable_values();
  std::vector<Value> grads = grad(loss, params, loc);
  std::vector<Slot> slots = optimizer.slots();
  for (size_t i = 0; i < params.size(); ++i) {
    const nn::Parameter& param = *store.find(params[i].name());
    std::vector<Value> slot_inputs;
    for (const Slot& slot : slots)
      slot_inputs.push_back(graph.input(nn::join_name(param.name, slot.name), param.value.dtype(),
                                        param.value.shape(), loc));
    ParamUpdate update = optimizer.update(param.value, grads[i], slot_inputs, t, loc);
    add_state(graph, step, param.value, update.param, param.init, loc);
    for (size_t s = 0; s < slots.size(); ++s)
      add_state(graph, step, slot_inputs[s], update.slots[s],
                nn::Init::constant(slots[s].initial_value), loc);
  }
  for (const nn::BufferUpdate& update : store.buffer_updates())
    add_state(graph, step, update.buffer, update.new_value, store.find(update.buffer.name())->init,
              loc);
  add_state(graph, step, completed, t, nn::Init::zeros(), loc);
  if (std::optional<Value> seed = store.seed_input())
    // The seed's initial value is the Trainer's seed (see initial_state).
    add_state(graph, step, *seed, add(*seed, 1.0, loc), nn::Init::zeros(), loc);
  return step;
}

const StateEntry* TrainStep::find(std::string_view input) const {
  for (const StateEntry& entry : state)
    if (entry.input == input) return &entry;
  return nullptr;
}

TensorMap TrainStep::initial_state(int64_t seed, const CompileOptions& options) const {
  std::vector<nn::TensorInit> specs;
  for (const StateEntry& entry : state)
    specs.push_back({entry.input, entry.type, entry.init});
  TensorMap values = nn::initialize(specs, seed, options);
  if (find(nn::ParameterStore::kSeedInput))
    values[nn::ParameterStore::kSeedInput] = Tensor::from_vector<int64_t>({}, {seed});
  return values;
}

Trainer::Trainer(const Graph& graph, TrainStep step, int64_t seed, const CompileOptions& options)
    : step_(std::move(step)) {
  for (const StateEntry& entry : step_.state)
    if (!graph.function().find_output(entry.output))
      throw_error(ErrorCode::InvalidArgument, "Trainer: the Graph has no output '" + entry.output +
                                                  "'; was the TrainStep built in this Graph?");
  auto start = std::chrono::steady_clock::now();
  // The runner swaps outputs into inputs after each step, so parameter and optimizer
  // state updates can be written in place into the inputs' buffers.
  CompileOptions donating = options;
  donating.donate_inputs = true;
  program_ = compile(graph, donating);
  auto end = std::chrono::steady_clock::now();
  compile_ms_ = std::chrono::duration<double, std::milli>(end - start).count();
  state_ = step_.initial_state(seed, options);
}

TensorMap Trainer::run(const TensorMap& batch) {
  TensorMap inputs = state_;
  for (const auto& [name, tensor] : batch)
    if (!inputs.emplace(name, tensor).second)
      throw_error(ErrorCode::InvalidInput,
                  "Trainer: batch input '" + name + "' is training state, not a batch input");
  TensorMap outputs = program_->run(inputs);
  for (const StateEntry& entry : step_.state) {
    auto it = outputs.find(entry.output);
    state_[entry.input] = std::move(it->second);
    outputs.erase(it);
  }
  return outputs;
}

double Trainer::step(const TensorMap& batch) { return run(batch).at(step_.loss_output).at(0); }

void Trainer::set_state(const std::string& input, Tensor value) {
  auto it = state_.find(input);
  if (it == state_.end())
    throw_error(ErrorCode::InvalidArgument, "Trainer::set_state: no state input '" + input + "'");
  if (!value.defined() || value.type() != it->second.type())
    throw_error(ErrorCode::InvalidInput,
                "Trainer::set_state: '" + input + "' needs " + it->second.type().str() + ", got " +
                    (value.defined() ? value.type().str() : std::string("an undefined tensor")));
  it->second = std::move(value);
}

TensorMap Trainer::infer(Executable& program, const TensorMap& inputs) const {
  TensorMap all = inputs;
  for (const IOSpec& spec : program.inputs()) {
    auto it = state_.find(spec.name);
    if (it != state_.end() && !all.count(spec.name)) all.emplace(spec.name, it->second);
  }
  return program.run(all);
}

} // namespace loom::optim
