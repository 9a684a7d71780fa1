#include "codegen/compile.h"

#include "codegen/cpu_backend.h"
#include "ir/error.h"
#include "ir/verifier.h"
#include "runtime/interp/interpreter.h"

namespace loom {

std::vector<std::string> available_targets() { return {"interp", "cpu"}; }

std::unique_ptr<Executable> compile(const ir::Function& fn, const CompileOptions& options) {
  ir::verify(fn);
  if (options.target == "interp") return interp::make_interpreter_executable(fn);
  if (options.target == "cpu")
    return codegen::compile_cpu(fn, {.donate_inputs = options.donate_inputs});
  std::string known;
  for (const std::string& t : available_targets())
    known += (known.empty() ? "" : ", ") + t;
  throw_error(ErrorCode::Unsupported,
              "unknown target '" + options.target + "' (available: " + known + ")");
}

} // namespace loom
