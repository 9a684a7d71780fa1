#include "tests/cpu/cpu_test_util.h"

#include <algorithm>
#include <sstream>

#include "codegen/compile.h"
#include "tests/support/test_support.h"

namespace loom::test {

std::vector<Tensor> random_inputs(const ir::Function& fn, uint64_t seed,
                                  const InputDomain& domain) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> inputs;
  for (const ir::Value* p : fn.params()) {
    Tensor t(p->dtype(), p->shape());
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v;
      if (is_float(p->dtype()))
        v = std::uniform_real_distribution<double>(domain.lo, domain.hi)(rng);
      else if (p->dtype() == DType::Bool)
        v = static_cast<double>(rng() & 1);
      else
        v = static_cast<double>(
            std::uniform_int_distribution<int64_t>(domain.int_lo, domain.int_hi)(rng));
      store_from_double(t.dtype(), t.raw_data(), i, v);
    }
    inputs.push_back(t);
  }
  return inputs;
}

std::string compare_cpu_with_interp(const ir::Function& fn, const std::vector<Tensor>& inputs,
                                    double rtol, double atol) {
  auto interp = compile(fn, {.target = "interp"});
  auto cpu = compile(fn, {.target = "cpu"});
  std::vector<Tensor> expected = interp->run(inputs);
  std::vector<Tensor> got = cpu->run(inputs);
  for (size_t i = 0; i < expected.size(); ++i) {
    bool exact = !is_float(expected[i].dtype());
    std::string mismatch =
        compare_tensors(got[i], expected[i], exact ? 0.0 : rtol, exact ? 0.0 : atol);
    if (!mismatch.empty()) return "output '" + fn.outputs()[i].name + "': " + mismatch;
  }
  return "";
}

std::vector<std::vector<std::string>> call_arguments(const std::string& llvm_ir,
                                                     const std::string& callee) {
  std::vector<std::vector<std::string>> calls;
  std::string call = "call void @" + callee + "(";
  std::istringstream lines(llvm_ir);
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(call);
    if (at == std::string::npos) continue;
    std::string list = line.substr(at + call.size(), line.rfind(')') - at - call.size());
    std::vector<std::string> args;
    for (size_t from = 0, comma; from <= list.size(); from = comma + 2) {
      comma = std::min(list.find(", ", from), list.size());
      args.push_back(list.substr(from, comma - from));
    }
    calls.push_back(std::move(args));
  }
  return calls;
}

} // namespace loom::test
