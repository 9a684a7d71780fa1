// loom-opt: reads a model (.loom text or .loompb protobuf), verifies it and prints it,
// or writes it in the format chosen by the output's extension.
//
//   loom-opt MODEL [-o OUT.loom|OUT.loompb] [--print-locations]
//   loom-opt --list-ops
#include <cstdio>
#include <iostream>

#include "ir/error.h"
#include "ir/op.h"
#include "ir/printer.h"
#include "ir/serialize.h"
#include "ir/verifier.h"
#include "runtime/interp/kernels.h"
#include "tools/cli.h"

namespace {

constexpr const char* kUsage =
    "usage: loom-opt MODEL.loom|MODEL.loompb [-o OUT.loom|OUT.loompb] [--print-locations]\n"
    "       loom-opt --list-ops\n";

void list_ops() {
  std::printf("%-24s %-8s %-40s %-6s %-4s %-4s %-4s %-4s\n", "name", "operands", "traits", "interp", "vjp", "cpu",
              "cuda", "onnx");
  for (int i = 0; i < loom::kNumOps; ++i) {
    const loom::OpInfo& info = loom::op_info(static_cast<loom::Op>(i));
    std::string operands = info.operand_count == loom::kVariadic   ? "1+"
                           : info.operand_count == loom::kAnyCount ? "0+"
                                                                   : std::to_string(info.operand_count);
    const char* interp = loom::interp::has_interp_kernel(info.op) ? "yes" : "no";
    std::printf("%-24s %-8s %-40s %-6s %-4s %-4s %-4s %-4s\n", std::string(info.mnemonic).c_str(),
                operands.c_str(), loom::trait_list(info.traits).c_str(), interp, "no", "no", "no", "no");
  }
}

int run(int argc, char** argv) {
  loom::cli::Args args(argc, argv);
  std::string input, output;
  loom::ir::PrintOptions print_options;
  while (!args.empty()) {
    if (args.flag("--list-ops")) {
      list_ops();
      return 0;
    }
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args.flag("--print-locations")) {
      print_options.print_locations = true;
    } else if (auto o = args.value("-o")) {
      output = *o;
    } else {
      std::string a = args.next();
      if (a.starts_with("-")) loom::throw_error(loom::ErrorCode::InvalidArgument, "unknown option " + a + "\n" + kUsage);
      if (!input.empty()) loom::throw_error(loom::ErrorCode::InvalidArgument, "more than one input file given");
      input = a;
    }
  }
  if (input.empty()) loom::throw_error(loom::ErrorCode::InvalidArgument, std::string("no input file\n") + kUsage);

  auto module = loom::ir::read_module_file(input);
  loom::ir::verify(*module);
  if (output.empty()) {
    std::cout << loom::ir::print_module(*module, print_options);
  } else {
    loom::ir::write_module_file(*module, output);
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  return loom::cli::run_tool("loom-opt", [&] { return run(argc, argv); });
}
