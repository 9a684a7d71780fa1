#include "frontend/grad.h"

#include "autodiff/autodiff.h"

namespace loom {

namespace {

// The one Graph all `values` belong to; InvalidArgument naming `api` otherwise.
Graph& common_graph(const std::string& api, const std::vector<const std::vector<Value>*>& lists,
                    const CallSite& loc) {
  Graph* graph = nullptr;
  for (const std::vector<Value>* list : lists)
    for (const Value& value : *list) {
      if (!value.defined())
        throw_at(ErrorCode::InvalidArgument, api + ": a null loom::Value (default-constructed)",
                 loc);
      if (graph && value.graph() != graph)
        throw_at(ErrorCode::InvalidArgument,
                 api + ": values belong to different Graphs; gradients cannot cross graphs", loc);
      graph = value.graph();
    }
  if (!graph) throw_at(ErrorCode::InvalidArgument, api + ": no values given", loc);
  return *graph;
}

std::vector<ir::Value*> ir_values(const std::vector<Value>& values) {
  std::vector<ir::Value*> result;
  result.reserve(values.size());
  for (const Value& value : values)
    result.push_back(value.ir());
  return result;
}

} // namespace

std::vector<Value> vjp(const std::vector<Value>& ys, const std::vector<Value>& cotangents,
                       const std::vector<Value>& wrt, CallSite loc) {
  Graph& graph = common_graph("vjp", {&ys, &cotangents, &wrt}, loc);
  std::vector<ir::Value*> grads;
  try {
    grads =
        autodiff::gradients(graph.function(), ir_values(ys), ir_values(cotangents), ir_values(wrt));
  } catch (const Error& e) {
    throw_at(e.code(), e.message(), loc); // point at the user's call, keep the code
  }
  std::vector<Value> result;
  result.reserve(grads.size());
  for (ir::Value* g : grads)
    result.emplace_back(&graph, g);
  return result;
}

std::vector<Value> grad(Value loss, const std::vector<Value>& wrt, CallSite loc) {
  std::vector<Value> ys{loss};
  Graph& graph = common_graph("grad", {&ys, &wrt}, loc);
  if (loss.rank() != 0 || !is_float(loss.dtype()))
    throw_at(ErrorCode::InvalidArgument,
             "grad: the loss must be a floating-point scalar, got " + loss.type().str() +
                 " (reduce it first, or use vjp for non-scalar values)",
             loc);
  Value one = graph.scalar(1.0, loss.dtype(), loc);
  return vjp(ys, {one}, wrt, loc);
}

} // namespace loom
