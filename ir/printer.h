// The .loom text printer. The grammar is documented in ir/parser.h; printing a parsed
// module gives back the same text, and print -> parse -> print is the identity for any
// module the printer produced.
#pragma once

#include <string>

#include "ir/ir.h"

namespace loom::ir {

struct PrintOptions {
  // Appends ` loc("file":line:col)` (or ` loc(unknown)`) to every node and parameter.
  bool print_locations = false;
};

// Named constants first (`const @name : type = dense<...>`), then every function.
std::string print_module(const Module& m, const PrintOptions& opts = {});
// One function. Literals shared with a constant of the function's module print as `@name`.
std::string print_function(const Function& f, const PrintOptions& opts = {});

} // namespace loom::ir
