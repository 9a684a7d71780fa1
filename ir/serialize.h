// The .loompb binary format (schema: ir/loom.proto) and reading/writing modules by file
// extension (.loom text or .loompb protobuf).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ir/ir.h"

namespace loom::ir {

// The module as .loompb bytes, constant data included. Deterministic: equal modules give
// equal bytes, and serialize(deserialize(b)) == b for bytes b this function produced.
// A literal attribute sharing its buffer with a module constant is written as a
// reference to that constant. Throws Error(SerializationError) for IR that cannot be
// written (an operand or output not defined earlier in its function, a literal without data).
std::string serialize_module(const Module& m);

// Rebuilds a module from .loompb bytes and verifies it. Any malformed input (truncated,
// not a protobuf, bad content) throws Error(SerializationError) whose message starts with
// `filename` and says what is wrong; it never crashes.
std::unique_ptr<Module> deserialize_module(std::string_view bytes,
                                           const std::string& filename = "<input>");

// By extension: .loompb or .pb -> protobuf, .loom -> text. Error(IOError) if the file
// cannot be written or read, Error(InvalidArgument) for another extension.
void write_module_file(const Module& m, const std::string& path);
std::unique_ptr<Module> read_module_file(const std::string& path);

} // namespace loom::ir
