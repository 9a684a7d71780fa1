#include "codegen/cpu_backend.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "codegen/cpu/direct_conv.h"
#include "codegen/cpu/loop_kernel.h"
#include "codegen/cpu/perf_map.h"
#include "codegen/cpu/program.h"
#include "ir/clone.h"
#include "ir/error.h"
#include "passes/memory_plan.h"
#include "passes/pass.h"
#include "runtime/cpu_rt.h"

namespace loom::codegen {

namespace {

void initialize_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

[[noreturn]] void llvm_fail(const std::string& what, llvm::Error err) {
  std::string msg;
  llvm::raw_string_ostream os(msg);
  os << err;
  throw_error(ErrorCode::Internal, "cpu backend: " + what + ": " + os.str());
}

template <typename T> T unwrap(llvm::Expected<T> value, const std::string& what) {
  if (!value) llvm_fail(what, value.takeError());
  return std::move(*value);
}

std::unique_ptr<llvm::TargetMachine> host_target_machine() {
  initialize_llvm();
  auto builder = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detect host");
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  builder.setRelocationModel(llvm::Reloc::PIC_);
  return unwrap(builder.createTargetMachine(), "create target machine");
}

// Host CPU and vector width on every function, so the vectorizer uses AVX-512 where
// the host has it (LLVM would otherwise prefer 256-bit vectors on some CPUs).
void set_function_attributes(llvm::Module& m, const llvm::TargetMachine& tm) {
  bool avx512 = tm.getTargetFeatureString().contains("+avx512f");
  for (llvm::Function& f : m) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", tm.getTargetCPU());
    f.addFnAttr("target-features", tm.getTargetFeatureString());
    f.addFnAttr("prefer-vector-width", avx512 ? "512" : "256");
  }
}

void optimize(llvm::Module& m, llvm::TargetMachine& tm) {
  m.setDataLayout(tm.createDataLayout());
  m.setTargetTriple(tm.getTargetTriple().str());
  set_function_attributes(m, tm);
  std::string err;
  llvm::raw_string_ostream es(err);
  if (llvm::verifyModule(m, &es))
    throw_error(ErrorCode::Internal, "cpu backend produced invalid LLVM IR: " + es.str());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

// The function after loom's own pass pipeline.
std::unique_ptr<ir::Module> prepare(const ir::Function& fn, const CpuOptions& options) {
  auto module = ir::clone_function_as_module(fn);
  ir::Function& copy = *module->functions()[0];
  prepare_for_cpu(copy);
  passes::run_pipeline(copy, passes::level_pipeline(options.pipeline));
  return module;
}

std::vector<IOSpec> specs_of_params(const ir::Function& fn) {
  std::vector<IOSpec> specs;
  for (const ir::Value* p : fn.params())
    specs.push_back({p->name(), p->type()});
  return specs;
}

std::vector<IOSpec> specs_of_outputs(const ir::Function& fn) {
  std::vector<IOSpec> specs;
  for (const ir::Output& o : fn.outputs())
    specs.push_back({o.name, o.value->type()});
  return specs;
}

using EntryFn = int32_t (*)(void* const*, void* const*, uint8_t*);

// Output index -> parameter index for outputs written into a donated input's buffer:
// the outputs that alias a parameter and that the memory planner can update in place.
std::map<int, int> donated_outputs(const ir::Function& fn) {
  std::map<int, int> donated;
  passes::MemoryPlan plan = passes::plan_memory(fn);
  for (size_t o = 0; o < fn.outputs().size(); ++o) {
    auto it = plan.in_place_params.find(fn.outputs()[o].value);
    if (it == plan.in_place_params.end()) continue;
    auto alias = fn.output_aliases().find(fn.outputs()[o].name);
    const ir::Value* param = fn.params()[it->second];
    if (alias == fn.output_aliases().end() || alias->second != param->name()) continue;
    // The value must be written only here: not another output, not the parameter itself.
    int outputs_of_value = 0;
    for (const ir::Output& other : fn.outputs())
      outputs_of_value += other.value == fn.outputs()[o].value;
    if (outputs_of_value == 1 && fn.outputs()[o].value->def()->op() != Op::Parameter)
      donated[o] = it->second;
  }
  return donated;
}

class CpuExecutable : public Executable {
public:
  CpuExecutable(const ir::Function& fn, std::unique_ptr<llvm::orc::LLJIT> jit, EntryFn entry,
                int64_t arena_bytes, std::map<int, int> donated)
      : Executable(specs_of_params(fn), specs_of_outputs(fn)), jit_(std::move(jit)), entry_(entry),
        arena_(Tensor(DType::I8, {std::max<int64_t>(arena_bytes, 1)})),
        donated_(std::move(donated)) {}

  std::string target() const override { return "cpu"; }

protected:
  std::vector<Tensor> execute(const std::vector<Tensor>& inputs) override {
    std::vector<void*> in_ptrs;
    for (const Tensor& t : inputs)
      in_ptrs.push_back(const_cast<void*>(t.raw_data()));
    std::lock_guard<std::mutex> lock(mu_); // one arena: calls are serialized
    // Output buffers of the previous call are reused when the caller has dropped them:
    // fresh pages cost a page fault each, which dominates memory-bound kernels.
    output_cache_.resize(this->outputs().size());
    std::vector<void*> out_ptrs;
    std::vector<Tensor> results(output_cache_.size());
    for (size_t i = 0; i < output_cache_.size(); ++i) {
      if (auto d = donated_.find(static_cast<int>(i)); d != donated_.end()) {
        results[i] = inputs[d->second]; // written in place into the donated input
        out_ptrs.push_back(in_ptrs[d->second]);
        continue;
      }
      Tensor& t = output_cache_[i];
      if (!t.defined() || !t.storage_unique())
        t = Tensor::uninitialized(this->outputs()[i].type.dtype, this->outputs()[i].type.shape);
      results[i] = t;
      out_ptrs.push_back(t.raw_data());
    }
    if (entry_(in_ptrs.data(), out_ptrs.data(), static_cast<uint8_t*>(arena_.raw_data())) != 0)
      throw_error(ErrorCode::RuntimeError, loom_rt_last_error());
    return results;
  }

private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  EntryFn entry_;
  Tensor arena_;
  std::vector<Tensor> output_cache_;
  std::map<int, int> donated_; // output index -> input index it is written into
  std::mutex mu_;
};

std::unique_ptr<llvm::orc::LLJIT> make_jit() {
  initialize_llvm();
  auto jtmb = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detect host");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto jit = unwrap(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(),
                    "create JIT");
  attach_perf_map(*jit);
  // The loom runtime's entry points, then libm and libc from the process.
  llvm::orc::SymbolMap symbols;
  int count = 0;
  const RuntimeSymbol* rt = runtime_symbols(&count);
  for (int i = 0; i < count; ++i)
    symbols[jit->mangleAndIntern(rt[i].name)] = {llvm::orc::ExecutorAddr::fromPtr(rt[i].address),
                                                 llvm::JITSymbolFlags::Exported};
  llvm::orc::JITDylib& lib = jit->getMainJITDylib();
  if (auto err = lib.define(llvm::orc::absoluteSymbols(std::move(symbols))))
    llvm_fail("define runtime symbols", std::move(err));
  lib.addGenerator(unwrap(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                              jit->getDataLayout().getGlobalPrefix()),
                          "process symbols"));
  return jit;
}

} // namespace

namespace {

// The optimized LLVM module of fn (after loom's pipeline), with what it was made from.
struct CompiledModule {
  std::unique_ptr<ir::Module> prepared; // the pipelined copy of fn
  std::unique_ptr<llvm::LLVMContext> ctx;
  LoweredProgram program;
  std::unique_ptr<llvm::TargetMachine> tm;
  std::map<int, int> donated; // output index -> input index written in place
};

CompiledModule compile_module(const ir::Function& fn, const CpuOptions& options) {
  CompiledModule c;
  c.prepared = prepare(fn, options);
  const ir::Function& f = *c.prepared->functions()[0];
  if (options.donate_inputs) c.donated = donated_outputs(f);
  std::vector<Donation> donations;
  for (const auto& [output, param] : c.donated)
    donations.push_back({f.params()[param], f.outputs()[output].value});
  c.ctx = std::make_unique<llvm::LLVMContext>();
  c.program = lower_program(f, *c.ctx, options.entry_name, donations);
  c.tm = host_target_machine();
  optimize(*c.program.module, *c.tm);
  return c;
}

} // namespace

std::unique_ptr<Executable> compile_cpu(const ir::Function& fn, const CpuOptions& options) {
  CompiledModule c = compile_module(fn, options);
  keep_kernel_names_for_perf(*c.program.module);
  auto jit = make_jit();
  if (auto err = jit->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(c.program.module), std::move(c.ctx))))
    llvm_fail("add module", std::move(err));
  auto entry = unwrap(jit->lookup(options.entry_name), "look up entry");
  return std::make_unique<CpuExecutable>(*c.prepared->functions()[0], std::move(jit),
                                         entry.toPtr<EntryFn>(), c.program.arena_bytes,
                                         std::move(c.donated));
}

std::string emit_cpu_llvm_ir(const ir::Function& fn, const CpuOptions& options) {
  CompiledModule c = compile_module(fn, options);
  std::string text;
  llvm::raw_string_ostream os(text);
  c.program.module->print(os, nullptr);
  return os.str();
}

int64_t emit_cpu_object(const ir::Function& fn, const std::string& path,
                        const CpuOptions& options) {
  CompiledModule c = compile_module(fn, options);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) throw_error(ErrorCode::IOError, "cannot write " + path + ": " + ec.message());
  llvm::legacy::PassManager pm;
  if (c.tm->addPassesToEmitFile(pm, out, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw_error(ErrorCode::Unsupported, "the host target cannot emit object files");
  pm.run(*c.program.module);
  out.flush();
  return c.program.arena_bytes;
}

void prepare_for_cpu(ir::Function& fn) { pad_direct_convolutions(fn); }

bool cpu_supports(Op op) {
  // Generated loop kernels and library calls; other ops run through interpreter kernels.
  if (loop_kernel_computes(op)) return true;
  switch (op) {
  case Op::MatMul:
  case Op::Fusion:
  case Op::ScatterAdd:
  case Op::Conv2D:
  case Op::Conv2DBackpropInput:
  case Op::Conv2DBackpropFilter:
  case Op::MaxPool2D:
  case Op::MaxPool2DGrad:
  case Op::AvgPool2D:
  case Op::AvgPool2DGrad:
    return true;
  default:
    return false;
  }
}

} // namespace loom::codegen
