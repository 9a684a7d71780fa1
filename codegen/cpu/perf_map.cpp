#include "codegen/cpu/perf_map.h"

#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/IR/Module.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <unistd.h>

namespace loom::codegen {

namespace {

bool perf_map_requested() {
  const char* flag = std::getenv("LOOM_PERF_MAP");
  return flag && std::strcmp(flag, "1") == 0;
}

// This process's map file, where perf looks for it.
std::string perf_map_path() { return "/tmp/perf-" + std::to_string(::getpid()) + ".map"; }

// Appends the graph's named functions once they have their final addresses. Executables
// compiled on several threads share the file: a mutex keeps each graph's lines together.
llvm::Error append_functions(llvm::jitlink::LinkGraph& graph) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::FILE* out = std::fopen(perf_map_path().c_str(), "a");
  if (!out) return llvm::Error::success(); // a profiling aid: it never fails a link
  for (llvm::jitlink::Symbol* symbol : graph.defined_symbols())
    if (symbol->isCallable() && symbol->hasName() && symbol->getSize() > 0)
      std::fprintf(out, "%" PRIx64 " %" PRIx64 " loom:%s\n", symbol->getAddress().getValue(),
                   static_cast<uint64_t>(symbol->getSize()), symbol->getName().str().c_str());
  std::fclose(out);
  return llvm::Error::success();
}

class PerfMapPlugin : public llvm::orc::ObjectLinkingLayer::Plugin {
public:
  void modifyPassConfig(llvm::orc::MaterializationResponsibility&, llvm::jitlink::LinkGraph&,
                        llvm::jitlink::PassConfiguration& config) override {
    config.PostFixupPasses.push_back(append_functions);
  }
  llvm::Error notifyFailed(llvm::orc::MaterializationResponsibility&) override {
    return llvm::Error::success();
  }
  llvm::Error notifyRemovingResources(llvm::orc::JITDylib&, llvm::orc::ResourceKey) override {
    return llvm::Error::success();
  }
  void notifyTransferringResources(llvm::orc::JITDylib&, llvm::orc::ResourceKey,
                                   llvm::orc::ResourceKey) override {}
};

} // namespace

bool attach_perf_map(llvm::orc::LLJIT& jit) {
  if (!perf_map_requested()) return false;
  auto* layer = llvm::dyn_cast<llvm::orc::ObjectLinkingLayer>(&jit.getObjLinkingLayer());
  if (!layer) return false; // LLJIT links with JITLink on every host loom targets
  layer->addPlugin(std::make_unique<PerfMapPlugin>());
  return true;
}

void keep_kernel_names_for_perf(llvm::Module& m) {
  if (!perf_map_requested()) return;
  for (llvm::Function& f : m)
    if (!f.isDeclaration() && f.hasInternalLinkage())
      f.setLinkage(llvm::GlobalValue::ExternalLinkage);
}

} // namespace loom::codegen
