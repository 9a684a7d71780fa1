// Helpers shared by all test areas.
#pragma once

#include <string>

#include "runtime/tensor.h"

namespace loom::test {

// Absolute path of a file in the source tree, e.g. source_path("tests/data/x.npy").
std::string source_path(const std::string& relative);
// Absolute path of a built program, e.g. bin_path("loom-opt").
std::string bin_path(const std::string& program);

struct CommandResult {
  int exit_code; // -1 if killed by a signal
  bool signaled;
  std::string output; // stdout and stderr together
};
// Runs a shell command, capturing its output.
CommandResult run_command(const std::string& command);

// Max |a-b| / (atol + rtol*|b|) style comparison; returns "" if close, else a message
// naming the first mismatching element.
std::string compare_tensors(const Tensor& actual, const Tensor& expected, double rtol, double atol);

} // namespace loom::test
