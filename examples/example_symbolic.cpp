// A first loom program: describe a computation symbolically, compile it, run it.
#include <iostream>

#include "frontend/loom.h"

using namespace loom;

int main() {
  // D = B * A + 1 on two vectors of ten floats.
  Graph graph;
  Value A = graph.input("A", DType::F32, {10});
  Value B = graph.input("B", DType::F32, {10});
  Value C = B * A;
  Value D = C + 1.0;
  graph.output("D", D);

  std::unique_ptr<Executable> program = compile(graph, {.target = "interp"});
  TensorMap results = program->run({
      {"A", Tensor::ones(DType::F32, {10})},
      {"B", Tensor::full(DType::F32, {10}, 2.0)},
  });

  const Tensor& d = results.at("D");
  std::cout << "D = [";
  for (int64_t i = 0; i < d.numel(); ++i)
    std::cout << (i ? ", " : "") << d.at(i);
  std::cout << "]\n";
}
