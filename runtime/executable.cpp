#include "runtime/executable.h"

#include "ir/error.h"

namespace loom {

namespace {

[[noreturn]] void throw_input_error(const std::string& message) {
  throw_error(ErrorCode::InvalidInput, message);
}

void check_input(const IOSpec& spec, const Tensor& given) {
  if (!given.defined())
    throw_input_error("input '" + spec.name + "': expected " + spec.type.str() +
                      ", got an undefined tensor");
  if (given.type() != spec.type)
    throw_input_error("input '" + spec.name + "': expected " + spec.type.str() + ", got " +
                      given.type().str());
}

} // namespace

std::string Executable::describe_inputs() const {
  std::string s;
  for (const IOSpec& spec : inputs_) {
    if (!s.empty()) s += ", ";
    s += spec.name + ": " + spec.type.str();
  }
  return s.empty() ? "(none)" : s;
}

TensorMap Executable::run(const TensorMap& inputs) {
  for (const auto& [name, tensor] : inputs) {
    bool known = false;
    for (const IOSpec& spec : inputs_)
      known = known || spec.name == name;
    if (!known)
      throw_input_error("unknown input '" + name + "'; expected inputs: " + describe_inputs());
  }
  std::vector<Tensor> ordered;
  ordered.reserve(inputs_.size());
  for (const IOSpec& spec : inputs_) {
    auto it = inputs.find(spec.name);
    if (it == inputs.end())
      throw_input_error("missing input '" + spec.name + "' (" + spec.type.str() +
                        "); expected inputs: " + describe_inputs());
    ordered.push_back(it->second);
  }
  std::vector<Tensor> results = run(ordered);
  TensorMap named;
  for (size_t i = 0; i < outputs_.size(); ++i)
    named[outputs_[i].name] = std::move(results[i]);
  return named;
}

std::vector<Tensor> Executable::run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != inputs_.size())
    throw_input_error("expected " + std::to_string(inputs_.size()) + " inputs (" +
                      describe_inputs() + "), got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs_.size(); ++i)
    check_input(inputs_[i], inputs[i]);
  std::vector<Tensor> results = execute(inputs);
  // A target returning the wrong outputs is a loom bug, not a user error.
  if (results.size() != outputs_.size())
    throw_error(ErrorCode::Internal, "target '" + target() + "' returned " +
                                         std::to_string(results.size()) + " outputs, expected " +
                                         std::to_string(outputs_.size()));
  for (size_t i = 0; i < outputs_.size(); ++i)
    if (!results[i].defined() || results[i].type() != outputs_[i].type)
      throw_error(ErrorCode::Internal, "target '" + target() + "' returned output '" +
                                           outputs_[i].name + "' as " + results[i].type().str() +
                                           ", expected " + outputs_[i].type.str());
  return results;
}

} // namespace loom
