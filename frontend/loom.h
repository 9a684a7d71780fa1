// The one header a loom user includes: build a Graph, compile it, run it.
//
//   loom::Graph g;
//   loom::Value x = g.input("x", loom::DType::F32, {3});
//   g.output("y", loom::exp(x) + 1.0);
//   auto exe = loom::compile(g);
//   loom::TensorMap out = exe->run({{"x", loom::Tensor::ones(loom::DType::F32, {3})}});
#pragma once

#include <memory>

#include "codegen/compile.h"
#include "frontend/graph.h"
#include "frontend/ops.h"
#include "runtime/tensor.h"

namespace loom {

// Compiles a private copy of the graph's function: later changes to the graph do not
// affect the executable.
inline std::unique_ptr<Executable> compile(const Graph& graph, const CompileOptions& options = {}) {
  return compile(graph.function(), options);
}

} // namespace loom
