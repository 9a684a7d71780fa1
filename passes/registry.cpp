// The one list of passes, and the pipelines of the named optimization levels.
#include "ir/error.h"
#include "passes/cse.h"
#include "passes/dce.h"
#include "passes/pass.h"

namespace loom::passes {

const std::vector<PassInfo>& registry() {
  static const std::vector<PassInfo> passes = {
      {"cse", "merge identical nodes and equal constants", eliminate_common_subexpressions},
      {"dce", "remove nodes that reach no output", eliminate_dead_code},
  };
  return passes;
}

std::vector<std::string> level_pipeline(const std::string& level) {
  if (level == "O0") return {};
  if (level == "O1" || level == "O2") return {"cse", "dce"};
  throw_error(ErrorCode::InvalidArgument, "unknown optimization level '" + level + "' (use O0, O1 or O2)");
}

} // namespace loom::passes
