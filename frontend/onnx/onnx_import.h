// ONNX import: an ONNX ModelProto (.onnx file) becomes a loom Module with one function.
//
// Initializers become named module constants (weights). Every ONNX node maps to loom ops
// or a composition of them (docs/onnx.md lists the operators). loom shapes are static:
// symbolic dimensions (`dim_param`) take their values from `input_shapes`, and inputs
// that act as shapes, axes or indices of shape arithmetic (Reshape's shape, Slice's
// starts, ...) must be constants: initializers, Constant nodes, results of `Shape`, or
// graph inputs whose values the caller hands over in `known_inputs`. Shape arithmetic
// on constants is folded at import time.
//
// Errors: a file that cannot be read is Error(IOError); bytes that are not an ONNX model
// (truncated, not protobuf, inconsistent) are Error(SerializationError) naming the file;
// a model using operators or features loom does not support is Error(Unsupported)
// listing every unsupported operator with its count.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"
#include "runtime/tensor.h"

namespace loom {

struct OnnxImportOptions {
  // Name of the imported function.
  std::string function_name = "main";
  // Concrete shapes for graph inputs, overriding the declared shape. Needed for inputs
  // with symbolic dimensions (a free batch size); every dimension must be given.
  std::map<std::string, Shape> input_shapes;
  // Values of graph inputs known at import time. The importer uses such a value only
  // where an operator needs a constant (a shape, axes, pads); the input stays a
  // parameter of the function, so callers still pass it when running.
  std::map<std::string, Tensor> known_inputs;
};

// Imports a serialized ModelProto. `filename` prefixes error messages.
std::unique_ptr<ir::Module> import_onnx(std::string_view bytes,
                                        const OnnxImportOptions& options = {},
                                        const std::string& filename = "<input>");

// Reads and imports an .onnx file.
std::unique_ptr<ir::Module> import_onnx_file(const std::string& path,
                                             const OnnxImportOptions& options = {});

// A serialized ONNX TensorProto (the .pb files of the ONNX test data) as a loom Tensor.
// Error(SerializationError) for malformed bytes, Error(Unsupported) for element types
// loom lacks (uint8, int16, string, complex, float8, ...).
Tensor onnx_tensor_from_bytes(std::string_view bytes, const std::string& filename = "<input>");
Tensor read_onnx_tensor_file(const std::string& path);

// What a model contains, without importing it (for tools and test harnesses).
struct OnnxModelInfo {
  struct Tensor {
    std::string name;
    std::string element_type;   // ONNX's name: "float", "int64", "uint8", ...
    std::optional<DType> dtype; // loom's dtype, if loom has the element type
  };
  int64_t opset = 0;                 // version of the default operator set
  std::vector<std::string> op_types; // one per node, in graph order ("domain.Op" outside ai.onnx)
  std::vector<Tensor> inputs;        // graph inputs that are not initializers
  std::vector<Tensor> outputs;
};
OnnxModelInfo read_onnx_model_info(const std::string& path);

// The operator types (default domain) the importer converts, sorted.
std::vector<std::string> supported_onnx_ops();

} // namespace loom
