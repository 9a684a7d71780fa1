// Helpers shared by the builder implementations (frontend/ops*.cpp); not a public API.
#pragma once

#include <string_view>
#include <vector>

#include "frontend/ops.h"

namespace loom::frontend_detail {

// The graph `value` belongs to; InvalidArgument (naming the op) for a null Value.
Graph& graph_of(Op op, const Value& value, const CallSite& loc);

// A possibly negative axis of an operand of type `type`, mapped into [0, rank).
// InvalidAttribute naming the op and the type when out of range.
int64_t normalize_axis(Op op, int64_t axis, const TensorType& type, const CallSite& loc);

} // namespace loom::frontend_detail
