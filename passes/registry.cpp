// The one list of passes, and the pipelines of the named optimization levels.
#include "ir/error.h"
#include "passes/cse.h"
#include "passes/dce.h"
#include "passes/fold.h"
#include "passes/fuse.h"
#include "passes/memory_plan.h"
#include "passes/merge_matmuls.h"
#include "passes/pass.h"
#include "passes/schedule.h"
#include "passes/simplify.h"
#include "passes/stability.h"

namespace loom::passes {

const std::vector<PassInfo>& registry() {
  static const std::vector<PassInfo> passes = {
      {"simplify", "algebraic identities (x*1, x+0, transpose of transpose, ...)", simplify},
      {"fold", "evaluate nodes whose operands are all constants", fold_constants},
      {"cse", "merge identical nodes and equal constants", eliminate_common_subexpressions},
      {"dce", "remove nodes that reach no output", eliminate_dead_code},
      {"stability", "numerically stable forms (log-softmax, log-sum-exp, ...)", improve_stability},
      {"merge-matmuls", "one matmul for products of a tensor's row blocks by one matrix",
       merge_matmuls},
      {"fuse", "group nodes into fusion kernels", fuse},
      {"schedule", "order nodes to keep peak live memory low", schedule},
      {"plan-memory", "assign arena offsets (arena_offset attributes)", annotate_memory_plan},
  };
  return passes;
}

std::vector<std::string> level_pipeline(const std::string& level) {
  // simplify runs again after fold and cse: folding turns broadcast chains of constants
  // into plain constants that expose more identities.
  if (level == "O0") return {};
  if (level == "O1") return {"simplify", "fold", "cse", "simplify", "dce"};
  if (level == "O2")
    return {"simplify",      "stability", "fold", "cse",      "simplify",
            "merge-matmuls", "dce",       "fuse", "schedule", "plan-memory"};
  throw_error(ErrorCode::InvalidArgument,
              "unknown optimization level '" + level + "' (use O0, O1 or O2)");
}

} // namespace loom::passes
