#pragma once

#include <string>

#include "ir/ir.h"

namespace loom::passes {

// The function as a Graphviz digraph: one box per top-level node (op, result type and
// name), edges from producers to readers, parameters and outputs as ellipses. A fusion
// node is drawn as a cluster holding its body (labelled with its kind); edges into a
// cluster end at the body parameter they bind, edges out of it start at the body node
// computing the output.
std::string function_to_dot(const ir::Function& fn);

} // namespace loom::passes
