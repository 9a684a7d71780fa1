// Reads a model for the tools: .loom text, .loompb protobuf, or .onnx (imported, with
// symbolic dimensions fixed by --shape NAME=d0,d1,... or by the inputs' shapes).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "frontend/onnx/onnx_import.h"
#include "ir/error.h"
#include "ir/serialize.h"
#include "tools/cli.h"

namespace loom::cli {

// Parses "NAME=d0,d1,..." into (name, shape).
inline std::pair<std::string, Shape> parse_shape_flag(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw_error(ErrorCode::InvalidArgument, "--shape expects NAME=d0,d1,..., got '" + text + "'");
  Shape shape;
  std::string dims = text.substr(eq + 1);
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string d = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    try {
      size_t used = 0;
      long long v = std::stoll(d, &used);
      if (used != d.size() || v < 0) throw std::invalid_argument(d);
      shape.push_back(v);
    } catch (const std::exception&) {
      throw_error(ErrorCode::InvalidArgument,
                  "--shape " + text + ": '" + d + "' is not a dimension");
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return {text.substr(0, eq), shape};
}

inline std::unique_ptr<ir::Module> load_model(const std::string& path,
                                              const OnnxImportOptions& onnx = {}) {
  if (ends_with(path, ".onnx")) return import_onnx_file(path, onnx);
  return ir::read_module_file(path);
}

// The function to run: --function NAME, else @main, else the only function.
inline const ir::Function& pick_function(const ir::Module& m, const std::string& name) {
  if (!name.empty()) {
    if (auto* f = m.find_function(name)) return *f;
    throw_error(ErrorCode::InvalidArgument, "no function @" + name + " in the model");
  }
  if (auto* f = m.find_function("main")) return *f;
  if (m.functions().size() == 1) return *m.functions()[0];
  throw_error(ErrorCode::InvalidArgument,
              "the model has several functions and none is @main: use --function");
}

} // namespace loom::cli
