// Internal helpers shared by the CPU code generator's translation units (LLVM types
// for loom dtypes, loops). Never include from headers outside codegen/cpu.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>

#include "ir/dtype.h"

namespace loom::codegen {

// Type of a dtype's elements in memory (bool is i8) and in registers (bool is i1).
llvm::Type* memory_type(llvm::LLVMContext& ctx, DType dt);
llvm::Type* register_type(llvm::LLVMContext& ctx, DType dt);

// Whether the LLVM path handles this dtype (f16/bf16 go to the interpreter fallback).
bool lowerable_dtype(DType dt);

// Emits `for (iv = begin; iv < end; ++iv) body(iv)` at the builder's position and
// leaves the builder after the loop. `fold_tail`: asks the vectorizer to run the last
// iterations as one masked vector iteration instead of a scalar remainder (for short
// loops whose body is long).
void emit_loop(llvm::IRBuilder<>& b, llvm::Value* begin, llvm::Value* end,
               const std::function<void(llvm::Value* iv)>& body, const char* name = "i",
               bool fold_tail = false);

// Polynomial approximations of transcendental functions that vectorize (f32), or
// libm calls (f64). See codegen/cpu/math.cpp for accuracy.
llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_log(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_sigmoid(llvm::IRBuilder<>& b, llvm::Value* x);
llvm::Value* emit_erf(llvm::IRBuilder<>& b, llvm::Value* x);
// A call to a libm function of one or two arguments ("sinf"/"sin", "powf"/"pow").
llvm::Value* emit_libm_call(llvm::IRBuilder<>& b, const char* f32_name, const char* f64_name,
                            std::initializer_list<llvm::Value*> args);

} // namespace loom::codegen
