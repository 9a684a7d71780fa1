#include "tests/support/test_support.h"

#include <cmath>
#include <cstdio>
#include <sys/wait.h>

namespace loom::test {

std::string source_path(const std::string& relative) {
  return std::string(LOOM_SOURCE_DIR) + "/" + relative;
}

std::string bin_path(const std::string& program) {
  return std::string(LOOM_BINARY_DIR) + "/bin/" + program;
}

CommandResult run_command(const std::string& command) {
  CommandResult r{0, false, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, false, "popen failed"};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
    r.output.append(buf, n);
  int status = pclose(pipe);
  if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.exit_code = -1;
  } else {
    r.exit_code = WEXITSTATUS(status);
    // A shell reports a child killed by signal N as 128+N.
    r.signaled = r.exit_code > 128 && r.exit_code < 160;
  }
  return r;
}

std::string compare_tensors(const Tensor& actual, const Tensor& expected, double rtol,
                            double atol) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape())
    return "type mismatch: got " + actual.type().str() + ", expected " + expected.type().str();
  for (int64_t i = 0; i < actual.numel(); ++i) {
    double a = actual.at(i), e = expected.at(i);
    if (std::isnan(a) && std::isnan(e)) continue;
    if (a == e) continue;
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e)))
      return "element " + std::to_string(i) + ": got " + std::to_string(a) + ", expected " +
             std::to_string(e);
  }
  return "";
}

} // namespace loom::test
