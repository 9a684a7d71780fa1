// LOOM_PERF_MAP=1: compiled executables list their functions in /tmp/perf-<pid>.map (the
// file perf reads for JIT-ed code) with the linker's addresses and sizes, so that no
// two entries overlap and every sample lands in the function that holds it.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "codegen/cpu_backend.h"
#include "ir/builder.h"
#include "tests/cpu/cpu_test_util.h"
#include "tests/support/test_support.h"

using namespace loom;

namespace {

struct Entry {
  uint64_t start, size;
  std::string name;
};

// The map's lines from byte `from` on.
std::vector<Entry> entries_from(const std::string& path, std::streamoff from) {
  std::ifstream in(path);
  in.seekg(from);
  std::vector<Entry> entries;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Entry e;
    fields >> std::hex >> e.start >> e.size >> e.name;
    entries.push_back(e);
  }
  return entries;
}

} // namespace

TEST_CASE("LOOM_PERF_MAP lists each kernel with its own address range", "[cpu]") {
  ir::Module m;
  ir::Function* fn = m.add_function("main");
  ir::Value* x = fn->add_param("x", {DType::F32, {64, 300}});
  ir::Value* w = fn->add_param("w", {DType::F32, {300, 20}});
  ir::Builder b(*fn);
  ir::Value* y = b.op(Op::Tanh, {b.op(Op::MatMul, {x, w})});
  fn->add_output("y", y);
  fn->add_output("total", b.op(Op::ReduceSum, {b.op(Op::Exp, {x})},
                               {{"axes", std::vector<int64_t>{1}}, {"keepdims", false}}));

  std::string path = "/tmp/perf-" + std::to_string(::getpid()) + ".map";
  bool existed = std::ifstream(path).good();
  std::streamoff before =
      existed ? static_cast<std::streamoff>(std::ifstream(path, std::ios::ate).tellg()) : 0;
  ::setenv("LOOM_PERF_MAP", "1", 1);
  // The compiled code is unchanged: it matches the interpreter.
  CHECK(test::compare_cpu_with_interp(*fn, test::random_inputs(*fn, 1), 1e-5, 1e-5) == "");
  ::unsetenv("LOOM_PERF_MAP");

  std::vector<Entry> entries = entries_from(path, before);
  if (!existed) std::remove(path.c_str());
  int entry_functions = 0, kernels = 0;
  for (const Entry& e : entries) {
    INFO(e.name << " at " << std::hex << e.start << " size " << e.size);
    CHECK(e.size > 0);
    CHECK(e.name.rfind("loom:", 0) == 0);
    entry_functions += e.name == "loom:loom_entry";
    kernels += e.name.rfind("loom:k", 0) == 0;
  }
  CHECK(entry_functions == 1);
  CHECK(kernels >= 2); // the epilogue tanh and the exp + sum
  for (size_t i = 0; i < entries.size(); ++i)
    for (size_t j = i + 1; j < entries.size(); ++j) {
      INFO(entries[i].name << " and " << entries[j].name);
      CHECK((entries[i].start + entries[i].size <= entries[j].start ||
             entries[j].start + entries[j].size <= entries[i].start));
    }
}
