// Executable: a compiled function invoked with named tensors. Every target
// (interpreter, CPU JIT, CUDA) implements execute(); input checking lives here once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "runtime/tensor.h"

namespace loom {

using TensorMap = std::map<std::string, Tensor>;

struct IOSpec {
  std::string name;
  TensorType type;
};

class Executable {
public:
  Executable(std::vector<IOSpec> inputs, std::vector<IOSpec> outputs)
      : inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}
  virtual ~Executable() = default;

  const std::vector<IOSpec>& inputs() const { return inputs_; }
  const std::vector<IOSpec>& outputs() const { return outputs_; }
  virtual std::string target() const = 0;

  // Checks that every input is present with the declared dtype and shape and that no
  // unknown name is given (Error(InvalidInput) naming the input, expected and given),
  // then runs. Returns outputs by name.
  TensorMap run(const TensorMap& inputs);
  // Positional form: inputs and outputs in signature order.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);

  // "A: f32[10], B: f32[10]" — for error messages and tool listings.
  std::string describe_inputs() const;

protected:
  // Inputs are already checked and in signature order.
  virtual std::vector<Tensor> execute(const std::vector<Tensor>& inputs) = 0;

private:
  std::vector<IOSpec> inputs_;
  std::vector<IOSpec> outputs_;
};

} // namespace loom
