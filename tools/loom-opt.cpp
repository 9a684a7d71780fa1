// loom-opt: reads a model (.loom text or .loompb protobuf), verifies it, runs a pass
// pipeline on every function and prints the result, or writes it in the format chosen
// by the output's extension. Reports (pass timings, memory plan) go to stderr.
//
//   loom-opt MODEL [-O0|-O1|-O2|--passes=a,b,c] [options] [-o OUT.loom|OUT.loompb]
//   loom-opt --list-ops | --list-passes
#include <cstdio>
#include <fstream>
#include <iostream>

#include "autodiff/autodiff.h"
#include "codegen/cpu_backend.h"
#include "ir/error.h"
#include "ir/op.h"
#include "ir/printer.h"
#include "ir/serialize.h"
#include "ir/verifier.h"
#include "passes/dot.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "runtime/interp/kernels.h"
#include "tools/cli.h"
#include "tools/model_loader.h"
#include <algorithm>
#include <map>

namespace {

constexpr const char* kUsage =
    "usage: loom-opt MODEL.loom|MODEL.loompb [options] [-o OUT.loom|OUT.loompb]\n"
    "       loom-opt --list-ops | --list-passes\n"
    "options:\n"
    "  -O0, -O1, -O2          run an optimization level (default -O0: no passes)\n"
    "  --passes=a,b,c         run these passes in order instead\n"
    "  --verify-each          verify the IR after every pass\n"
    "  --print-after-all      print the IR after every pass (to stderr)\n"
    "  --print-after=NAME     print the IR after each run of pass NAME (repeatable)\n"
    "  --time-passes          print milliseconds per pass (to stderr)\n"
    "  --mem-report           print the memory plan's sizes (to stderr)\n"
    "  --dot=FILE             write the final graph as Graphviz, fused groups as clusters\n"
    "  --print-locations      print source locations with the IR\n"
    "  --shape NAME=d0,d1,... fix a symbolic input dimension of an .onnx model\n";

// ONNX operators whose import produces each loom op directly (the onnx column is "yes"
// when one of them is supported by frontend/onnx).
const std::map<std::string, std::vector<std::string>>& onnx_sources() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"constant", {"Constant"}},
      {"parameter", {"Identity"}},
      {"iota", {"Range"}},
      {"random_uniform", {"RandomUniform"}},
      {"random_normal", {"RandomNormal"}},
      {"neg", {"Neg"}},
      {"abs", {"Abs"}},
      {"sign", {"Sign"}},
      {"exp", {"Exp"}},
      {"log", {"Log"}},
      {"sqrt", {"Sqrt"}},
      {"rsqrt", {"Reciprocal"}},
      {"tanh", {"Tanh"}},
      {"sigmoid", {"Sigmoid"}},
      {"relu", {"Relu"}},
      {"sin", {"Sin"}},
      {"cos", {"Cos"}},
      {"erf", {"Erf"}},
      {"floor", {"Floor"}},
      {"ceil", {"Ceil"}},
      {"logical_not", {"Not"}},
      {"cast", {"Cast"}},
      {"add", {"Add"}},
      {"sub", {"Sub"}},
      {"mul", {"Mul"}},
      {"div", {"Div"}},
      {"pow", {"Pow"}},
      {"maximum", {"Max"}},
      {"minimum", {"Min"}},
      {"eq", {"Equal"}},
      {"ne", {"Equal"}},
      {"lt", {"Less"}},
      {"le", {"LessOrEqual"}},
      {"gt", {"Greater"}},
      {"ge", {"GreaterOrEqual"}},
      {"logical_and", {"And"}},
      {"logical_or", {"Or"}},
      {"select", {"Where"}},
      {"reduce_sum", {"ReduceSum"}},
      {"reduce_max", {"ReduceMax"}},
      {"reduce_min", {"ReduceMin"}},
      {"reduce_prod", {"ReduceProd"}},
      {"argmax", {"ArgMax"}},
      {"argmin", {"ArgMin"}},
      {"matmul", {"MatMul", "Gemm"}},
      {"reshape", {"Reshape", "Flatten"}},
      {"transpose", {"Transpose"}},
      {"broadcast_to", {"Expand"}},
      {"slice", {"Slice"}},
      {"concat", {"Concat"}},
      {"pad", {"Pad"}},
      {"gather", {"Gather"}},
      {"scatter_add", {"ScatterElements"}},
      {"one_hot", {"OneHot"}},
      {"conv2d", {"Conv"}},
      {"conv2d_backprop_input", {"ConvTranspose"}},
      {"max_pool2d", {"MaxPool"}},
      {"avg_pool2d", {"AveragePool"}}};
  return table;
}

bool onnx_imports_to(std::string_view mnemonic) {
  static const std::vector<std::string> supported = loom::supported_onnx_ops();
  auto it = onnx_sources().find(std::string(mnemonic));
  if (it == onnx_sources().end()) return false;
  for (const std::string& name : it->second)
    if (std::find(supported.begin(), supported.end(), name) != supported.end()) return true;
  return false;
}

void list_ops() {
  std::printf("%-24s %-8s %-40s %-6s %-4s %-4s %-4s %-4s\n", "name", "operands", "traits", "interp",
              "vjp", "cpu", "cuda", "onnx");
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  for (int i = 0; i < loom::kNumOps; ++i) {
    const loom::OpInfo& info = loom::op_info(static_cast<loom::Op>(i));
    std::string operands = info.operand_count == loom::kVariadic ? "1+"
                           : info.operand_count == loom::kAnyCount
                               ? "0+"
                               : std::to_string(info.operand_count);
    // The interpreter evaluates parameters and fusion bodies itself.
    bool interp = loom::interp::has_interp_kernel(info.op) || info.op == loom::Op::Parameter ||
                  info.op == loom::Op::Fusion;
    std::printf("%-24s %-8s %-40s %-6s %-4s %-4s %-4s %-4s\n", std::string(info.mnemonic).c_str(),
                operands.c_str(), loom::trait_list(info.traits).c_str(), yes(interp),
                yes(loom::autodiff::has_vjp(info.op)), yes(loom::codegen::cpu_supports(info.op)),
                "no", yes(onnx_imports_to(info.mnemonic)));
  }
}

void list_passes() {
  for (const loom::passes::PassInfo& p : loom::passes::registry())
    std::printf("%-14s %s\n", p.name.c_str(), p.description.c_str());
  for (const char* level : {"O1", "O2"}) {
    std::string names;
    for (const std::string& n : loom::passes::level_pipeline(level))
      names += (names.empty() ? "" : ",") + n;
    std::printf("-%s = %s\n", level, names.c_str());
  }
}

struct Options {
  std::string input, output, dot_file, pipeline_flag;
  loom::ir::PrintOptions print;
  loom::passes::PipelineOptions pipeline;
  bool mem_report = false;
  loom::OnnxImportOptions onnx;
};

void set_pipeline(Options& o, const std::string& flag) {
  if (!o.pipeline_flag.empty())
    loom::throw_error(loom::ErrorCode::InvalidArgument,
                      "both " + o.pipeline_flag + " and " + flag + " given: choose one pipeline");
  o.pipeline_flag = flag;
}

// Parses the command line; returns false if the request was served (a listing).
bool parse(int argc, char** argv, Options& o) {
  loom::cli::Args args(argc, argv);
  o.pipeline.verify_each = false; // the final module is always verified
  o.pipeline.print_stream = &std::cerr;
  while (!args.empty()) {
    if (args.flag("--list-ops")) {
      list_ops();
      return false;
    }
    if (args.flag("--list-passes")) {
      list_passes();
      return false;
    }
    if (args.flag("--help") || args.flag("-h")) {
      std::fputs(kUsage, stdout);
      return false;
    }
    if (args.flag("--print-locations"))
      o.print.print_locations = true;
    else if (args.flag("--verify-each"))
      o.pipeline.verify_each = true;
    else if (args.flag("--print-after-all"))
      o.pipeline.print_after_all = true;
    else if (args.flag("--time-passes"))
      o.pipeline.time_passes = true;
    else if (args.flag("--mem-report"))
      o.mem_report = true;
    else if (auto name = args.value("--print-after"))
      o.pipeline.print_after.push_back(*name);
    else if (auto shape = args.value("--shape"))
      o.onnx.input_shapes.insert(loom::cli::parse_shape_flag(*shape));
    else if (auto file = args.value("--dot"))
      o.dot_file = *file;
    else if (auto passes = args.value("--passes"))
      set_pipeline(o, "--passes=" + *passes);
    else if (auto out = args.value("-o"))
      o.output = *out;
    else {
      std::string a = args.next();
      if (a == "-O0" || a == "-O1" || a == "-O2")
        set_pipeline(o, a);
      else if (a.starts_with("-"))
        loom::throw_error(loom::ErrorCode::InvalidArgument, "unknown option " + a + "\n" + kUsage);
      else if (!o.input.empty())
        loom::throw_error(loom::ErrorCode::InvalidArgument, "more than one input file given");
      else
        o.input = a;
    }
  }
  if (o.input.empty())
    loom::throw_error(loom::ErrorCode::InvalidArgument, std::string("no input file\n") + kUsage);
  for (const std::string& name : o.pipeline.print_after)
    if (!loom::passes::find_pass(name))
      loom::passes::parse_pipeline(name); // throws naming the known passes
  return true;
}

void write_dot(const loom::ir::Module& module, const std::string& path) {
  std::ofstream out(path);
  for (const auto& fn : module.functions())
    out << loom::passes::function_to_dot(*fn);
  if (!out) loom::throw_error(loom::ErrorCode::IOError, "cannot write " + path);
}

void report_memory(const loom::ir::Module& module) {
  for (const auto& fn : module.functions()) {
    loom::passes::MemoryPlan plan = loom::passes::plan_memory(*fn);
    loom::passes::check_memory_plan(*fn, plan);
    std::string prefix = module.functions().size() > 1 ? "@" + fn->name() + " " : "";
    std::cerr << prefix << plan.report() << "\n";
  }
}

int run(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 0;
  std::vector<std::string> passes = o.pipeline_flag.empty()
                                        ? std::vector<std::string>{}
                                        : loom::passes::pipeline_from_flag(o.pipeline_flag);

  auto module = loom::cli::load_model(o.input, o.onnx);
  loom::ir::verify(*module);
  loom::passes::PipelineResult result = loom::passes::run_pipeline(*module, passes, o.pipeline);

  if (o.pipeline.time_passes) std::cerr << result.timing_table();
  if (o.mem_report) report_memory(*module);
  if (!o.dot_file.empty()) write_dot(*module, o.dot_file);
  if (o.output.empty())
    std::cout << loom::ir::print_module(*module, o.print);
  else
    loom::ir::write_module_file(*module, o.output);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  return loom::cli::run_tool("loom-opt", [&] { return run(argc, argv); });
}
