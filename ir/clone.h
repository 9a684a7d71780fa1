// Deep copies of IR (literals are shared: they are immutable).
#pragma once

#include <memory>
#include <unordered_map>

#include "ir/ir.h"

namespace loom::ir {

std::unique_ptr<Module> clone_module(const Module& m);
// Copies the parameters, nodes, outputs and aliases of `src` into the empty function `dst`.
void clone_body_into(const Function& src, Function& dst);
// Copies `fn` into `dst` (a new function named like fn); returns it.
Function* clone_function_into(const Function& fn, Module& dst);
// Same, under another name (e.g. a copy inside fn's own module).
Function* clone_function_into(const Function& fn, Module& dst, const std::string& new_name);
// A standalone copy (its own module holding only this function and the module's constants).
std::unique_ptr<Module> clone_function_as_module(const Function& fn);

} // namespace loom::ir
