#include "frontend/onnx/onnx_conformance.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "codegen/compile.h"
#include "frontend/onnx/onnx_import.h"

namespace loom {
namespace {

namespace fs = std::filesystem;

bool is_target_test(const OnnxModelInfo& info) {
  const std::vector<std::string>& ops = onnx_conformance_target_ops();
  return info.op_types.size() == 1 &&
         std::find(ops.begin(), ops.end(), info.op_types[0]) != ops.end();
}

bool has_eligible_dtypes(const OnnxModelInfo& info) {
  auto eligible = [](const OnnxModelInfo::Tensor& t) {
    return t.dtype && (*t.dtype == DType::F32 || *t.dtype == DType::F64 || *t.dtype == DType::I32 ||
                       *t.dtype == DType::I64 || *t.dtype == DType::Bool);
  };
  return std::all_of(info.inputs.begin(), info.inputs.end(), eligible) &&
         std::all_of(info.outputs.begin(), info.outputs.end(), eligible);
}

bool selected(const ConformanceOptions& options, const std::string& name,
              const OnnxModelInfo& info) {
  if (!options.filter.empty() && name.find(options.filter) == std::string::npos) return false;
  switch (options.subset) {
  case ConformanceSubset::All:
    return true;
  case ConformanceSubset::Target:
    return is_target_test(info);
  case ConformanceSubset::Eligible:
    return is_target_test(info) && has_eligible_dtypes(info);
  }
  return true;
}

// "" when `actual` matches `expected`, else what differs.
std::string compare(const Tensor& actual, const Tensor& expected,
                    const ConformanceOptions& options) {
  if (actual.type() != expected.type())
    return "got " + actual.type().str() + ", expected " + expected.type().str();
  for (int64_t i = 0; i < expected.numel(); ++i) {
    double a = actual.at(i), e = expected.at(i);
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue; // also equal infinities
    if (std::abs(a - e) <= options.atol + options.rtol * std::abs(e)) continue;
    return "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " +
           std::to_string(e);
  }
  return "";
}

std::vector<Tensor> read_tensors(const fs::path& data_dir, const std::string& prefix,
                                 size_t count) {
  std::vector<Tensor> tensors;
  for (size_t k = 0; k < count; ++k)
    tensors.push_back(
        read_onnx_tensor_file((data_dir / (prefix + std::to_string(k) + ".pb")).string()));
  return tensors;
}

// "" when every output matches, else the first difference.
std::string run_and_compare(const fs::path& test_dir, const OnnxModelInfo& info,
                            const ConformanceOptions& options) {
  fs::path data_dir = test_dir / "test_data_set_0";
  std::vector<Tensor> inputs = read_tensors(data_dir, "input_", info.inputs.size());
  std::vector<Tensor> expected = read_tensors(data_dir, "output_", info.outputs.size());
  OnnxImportOptions import_options;
  TensorMap feeds;
  for (size_t k = 0; k < inputs.size(); ++k) {
    import_options.input_shapes[info.inputs[k].name] = inputs[k].shape();
    import_options.known_inputs[info.inputs[k].name] = inputs[k];
    feeds[info.inputs[k].name] = inputs[k];
  }
  auto module = import_onnx_file((test_dir / "model.onnx").string(), import_options);
  auto executable = compile(*module->functions().at(0), {.target = options.target});
  TensorMap outputs = executable->run(feeds);
  for (size_t k = 0; k < expected.size(); ++k) {
    const std::string& name = info.outputs[k].name;
    std::string difference = compare(outputs.at(name), expected[k], options);
    if (!difference.empty()) return "output '" + name + "': " + difference;
  }
  return "";
}

// An element type loom lacks makes the test unsupported before anything is read.
std::string unsupported_tensor(const OnnxModelInfo& info) {
  for (const auto* list : {&info.inputs, &info.outputs})
    for (const OnnxModelInfo::Tensor& t : *list)
      if (!t.dtype) return "'" + t.name + "' has the element type " + t.element_type;
  return "";
}

// Classifies every error: loom's Unsupported is "unsupported", any other is a failure.
ConformanceResult classify(const fs::path& test_dir, const OnnxModelInfo& info,
                           const ConformanceOptions& options) {
  std::string name = test_dir.filename().string();
  if (std::string why = unsupported_tensor(info); !why.empty())
    return {name, ConformanceOutcome::Unsupported, why};
  try {
    std::string difference = run_and_compare(test_dir, info, options);
    if (difference.empty()) return {name, ConformanceOutcome::Pass, ""};
    return {name, ConformanceOutcome::Fail, difference};
  } catch (const Error& e) {
    bool unsupported = e.code() == ErrorCode::Unsupported;
    return {name, unsupported ? ConformanceOutcome::Unsupported : ConformanceOutcome::Fail,
            e.what()};
  } catch (const std::exception& e) {
    return {name, ConformanceOutcome::Fail, std::string("exception: ") + e.what()};
  }
}

} // namespace

const std::vector<std::string>& onnx_conformance_target_ops() {
  static const std::vector<std::string> ops = {"Add",
                                               "Sub",
                                               "Mul",
                                               "Div",
                                               "Neg",
                                               "Abs",
                                               "Exp",
                                               "Log",
                                               "Sqrt",
                                               "Reciprocal",
                                               "Pow",
                                               "Tanh",
                                               "Sigmoid",
                                               "Relu",
                                               "LeakyRelu",
                                               "Elu",
                                               "Gelu",
                                               "Softplus",
                                               "Erf",
                                               "Max",
                                               "Min",
                                               "Where",
                                               "Equal",
                                               "Less",
                                               "Greater",
                                               "Not",
                                               "Cast",
                                               "MatMul",
                                               "Gemm",
                                               "Conv",
                                               "ConvTranspose",
                                               "MaxPool",
                                               "AveragePool",
                                               "GlobalAveragePool",
                                               "BatchNormalization",
                                               "LayerNormalization",
                                               "Softmax",
                                               "LogSoftmax",
                                               "ReduceSum",
                                               "ReduceMean",
                                               "ReduceMax",
                                               "ReduceMin",
                                               "ReduceProd",
                                               "ArgMax",
                                               "Reshape",
                                               "Transpose",
                                               "Flatten",
                                               "Squeeze",
                                               "Unsqueeze",
                                               "Concat",
                                               "Split",
                                               "Slice",
                                               "Gather",
                                               "Pad",
                                               "Expand",
                                               "Identity",
                                               "Dropout",
                                               "Constant",
                                               "ConstantOfShape",
                                               "Shape",
                                               "Clip",
                                               "LSTM",
                                               "GRU",
                                               "RNN",
                                               "Einsum",
                                               "Range",
                                               "Tile",
                                               "CumSum"};
  return ops;
}

ConformanceResult run_onnx_conformance_test(const std::string& test_dir,
                                            const ConformanceOptions& options) {
  fs::path dir(test_dir);
  OnnxModelInfo info;
  try {
    info = read_onnx_model_info((dir / "model.onnx").string());
  } catch (const Error& e) {
    return {dir.filename().string(), ConformanceOutcome::Fail, e.what()};
  }
  return classify(dir, info, options);
}

ConformanceSummary
run_onnx_conformance(const std::string& dir, const ConformanceOptions& options,
                     const std::function<void(const ConformanceResult&)>& on_result) {
  if (!fs::is_directory(dir)) throw_error(ErrorCode::IOError, "'" + dir + "' is not a directory");
  std::vector<fs::path> tests;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    if (fs::exists(entry.path() / "model.onnx")) tests.push_back(entry.path());
  std::sort(tests.begin(), tests.end());

  ConformanceSummary summary;
  for (const fs::path& test : tests) {
    std::string name = test.filename().string();
    ConformanceResult result{name, ConformanceOutcome::Fail, ""};
    try {
      OnnxModelInfo info = read_onnx_model_info((test / "model.onnx").string());
      if (!selected(options, name, info)) continue;
      result = classify(test, info, options);
    } catch (const Error& e) {
      if (options.subset != ConformanceSubset::All) continue; // cannot tell its operators
      result.reason = e.what();
    }
    switch (result.outcome) {
    case ConformanceOutcome::Pass:
      ++summary.passed;
      break;
    case ConformanceOutcome::Fail:
      ++summary.failed;
      break;
    case ConformanceOutcome::Unsupported:
      ++summary.unsupported;
      break;
    }
    if (on_result) on_result(result);
    summary.results.push_back(std::move(result));
  }
  return summary;
}

} // namespace loom
