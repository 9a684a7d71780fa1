// A stand-alone program around an object file from `loomc --emit=obj`: it links the
// loom runtime library only (no LLVM). Usage: driver IN_DIR OUT_DIR — reads
// IN_DIR/<input>.npy and writes OUT_DIR/<output>.npy.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "runtime/npy.h"
#include LOOM_AOT_HEADER

#define LOOM_CAT2(a, b) a##b
#define LOOM_CAT(a, b) LOOM_CAT2(a, b)
#define LOOM_FIELD(name) LOOM_CAT(LOOM_CAT(LOOM_, LOOM_AOT_ENTRY), name)

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s IN_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    const char* input_names[] = LOOM_FIELD(_INPUT_NAMES);
    const char* output_names[] = LOOM_FIELD(_OUTPUT_NAMES);
    const long long output_bytes[] = LOOM_FIELD(_OUTPUT_BYTES);
    std::vector<loom::Tensor> inputs;
    std::vector<void*> in_ptrs;
    for (const char* name : input_names) {
      inputs.push_back(loom::read_npy(std::string(argv[1]) + "/" + name + ".npy"));
      in_ptrs.push_back(inputs.back().raw_data());
    }
    // Buffers are 64-byte aligned, as generated code assumes.
    auto aligned = [](long long bytes) {
      size_t size = (static_cast<size_t>(bytes) + 127) / 64 * 64;
      return std::unique_ptr<unsigned char, decltype(&std::free)>(
          static_cast<unsigned char*>(std::aligned_alloc(64, size)), &std::free);
    };
    std::vector<std::unique_ptr<unsigned char, decltype(&std::free)>> outputs;
    std::vector<void*> out_ptrs;
    for (long long bytes : output_bytes) {
      outputs.push_back(aligned(bytes));
      out_ptrs.push_back(outputs.back().get());
    }
    auto arena = aligned(LOOM_FIELD(_ARENA_BYTES));
    if (LOOM_AOT_ENTRY(in_ptrs.data(), out_ptrs.data(), arena.get()) != 0) {
      std::fprintf(stderr, "driver: %s\n", loom_rt_last_error());
      return 1;
    }
    // Raw bytes: the test knows each output's type.
    for (size_t i = 0; i < outputs.size(); ++i) {
      std::string path = std::string(argv[2]) + "/" + output_names[i] + ".bin";
      FILE* f = std::fopen(path.c_str(), "wb");
      if (!f) return 1;
      std::fwrite(outputs[i].get(), 1, output_bytes[i], f);
      std::fclose(f);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "driver: %s\n", e.what());
    return 1;
  }
  return 0;
}
