#include "frontend/nn/parameters.h"

#include <algorithm>

namespace loom::nn {

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

Value ParameterStore::add_entry(const std::string& name, Shape shape, Init init, DType dtype,
                                bool trainable, const CallSite& loc) {
  TensorType type{dtype, shape};
  try {
    resolve(init, type); // reject a bad initializer where the user wrote it
  } catch (const Error& e) {
    throw_at(e.code(), "parameter '" + name + "': " + e.message(), loc);
  }
  if (trainable && !is_float(dtype))
    throw_at(ErrorCode::InvalidArgument,
             "parameter '" + name + "': a trainable parameter must be floating point, got " +
                 type.str(),
             loc);
  Value value = graph_->input(name, dtype, std::move(shape), loc);
  entries_.push_back({name, value, init, trainable});
  return value;
}

Value ParameterStore::parameter(const std::string& name, Shape shape, Init init, DType dtype,
                                CallSite loc) {
  return add_entry(name, std::move(shape), init, dtype, /*trainable=*/true, loc);
}

Value ParameterStore::buffer(const std::string& name, Shape shape, Init init, DType dtype,
                             CallSite loc) {
  return add_entry(name, std::move(shape), init, dtype, /*trainable=*/false, loc);
}

void ParameterStore::update_buffer(Value buffer, Value new_value, CallSite loc) {
  auto is_this_buffer = [&](const Parameter& p) { return !p.trainable && p.value == buffer; };
  if (std::none_of(entries_.begin(), entries_.end(), is_this_buffer))
    throw_at(ErrorCode::InvalidArgument,
             "update_buffer: the value is not a buffer registered in this ParameterStore", loc);
  for (const BufferUpdate& update : buffer_updates_)
    if (update.buffer == buffer)
      throw_at(ErrorCode::InvalidArgument,
               "update_buffer: buffer '" + buffer.name() + "' is already updated in this step",
               loc);
  if (!new_value.defined() || new_value.graph() != graph_ || new_value.type() != buffer.type())
    throw_at(ErrorCode::InvalidArgument,
             "update_buffer: the new value of buffer '" + buffer.name() +
                 "' must be a Value of this Graph with type " + buffer.type().str(),
             loc);
  buffer_updates_.push_back({buffer, new_value});
}

Value ParameterStore::next_seed(CallSite loc) {
  if (!seed_input_) seed_input_ = graph_->input(kSeedInput, DType::I64, {}, loc);
  return derive_seed(*seed_input_, ++seeds_drawn_, loc);
}

std::vector<Value> ParameterStore::trainable_values() const {
  std::vector<Value> values;
  for (const Parameter& p : entries_)
    if (p.trainable) values.push_back(p.value);
  return values;
}

const Parameter* ParameterStore::find(std::string_view name) const {
  for (const Parameter& p : entries_)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<TensorInit> ParameterStore::init_specs() const {
  std::vector<TensorInit> specs;
  for (const Parameter& p : entries_)
    specs.push_back({p.name, p.value.type(), p.init});
  return specs;
}

TensorMap ParameterStore::initial_values(int64_t seed, const CompileOptions& options) const {
  TensorMap values = initialize(init_specs(), seed, options);
  if (seed_input_) values[kSeedInput] = Tensor::from_vector<int64_t>({}, {seed});
  return values;
}

} // namespace loom::nn
