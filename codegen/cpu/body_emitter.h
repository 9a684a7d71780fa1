// BodyEmitter: the target-neutral core of a loop kernel. It emits, as LLVM IR at the
// builder's position, the value of a body value at an output index (one i64 per
// dimension), recursing through the body's elementwise, data-movement, reduction and
// direct-convolution nodes. The loops around it are the CPU's (loop_kernel.cpp); a GPU
// target would pass indices from its grid coordinates instead.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <array>
#include <map>
#include <vector>

#include "codegen/cpu/llvm_util.h"
#include "ir/ir.h"

namespace loom::codegen {

using Index = std::vector<llvm::Value*>; // one i64 per dimension

inline bool is_reduce(Op op) {
  return op == Op::ReduceSum || op == Op::ReduceMax || op == Op::ReduceMin || op == Op::ReduceProd;
}

// Emits the value of body values at a given output index, recursively.
class BodyEmitter {
public:
  BodyEmitter(llvm::IRBuilder<>& b, llvm::IRBuilder<>& entry, const ir::Function& body,
              std::vector<llvm::Value*> param_ptrs)
      : b_(b), entry_(entry), ctx_(b.getContext()), body_(body),
        param_ptrs_(std::move(param_ptrs)) {
    scopes_.emplace_back();
  }

  llvm::Value* emit(const ir::Value* v, const Index& idx);

  // Address of element idx in a dense row-major buffer of the given shape.
  llvm::Value* element_ptr(llvm::Value* base, DType dt, const Shape& shape, const Index& idx) {
    return b_.CreateInBoundsGEP(memory_type(ctx_, dt), base, linearize(shape, idx));
  }

  llvm::Value* to_register(llvm::Value* v, DType dt) {
    return dt == DType::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
  }
  llvm::Value* to_memory(llvm::Value* v, DType dt) {
    return dt == DType::Bool ? b_.CreateZExt(v, b_.getInt8Ty()) : v;
  }

  bool can_fail() const { return can_fail_; }

  // Column reductions (codegen of emit_loop_kernel): the caller runs the reduced loops
  // outside the output's last dimension, so that the innermost loop walks memory
  // contiguously, and hands each result back with seed().
  llvm::Value* identity_of(const ir::Node& reduction) {
    return reduce_identity(reduction.op(), reduction.result()->dtype());
  }
  // *acc = combine(*acc, operand) at the input index of output index `out_idx` with the
  // reduced axes (in attribute order) at `reduced`.
  void accumulate(const ir::Node& n, const Index& out_idx, const Index& reduced, llvm::Value* acc);
  // Makes emit(v, idx) return `value` until the scope ends (also for v's size-1 dims
  // read at 0, the index its broadcasting consumers use).
  void seed(const ir::Value* v, const Index& idx, llvm::Value* value);
  // Tells LLVM that parameter loads never read what the kernel's stores (tagged with
  // this scope) write, so loop-invariant loads leave the loop and vectorizing needs no
  // run-time overlap checks.
  void set_outputs_scope(llvm::MDNode* scope) { outputs_scope_ = scope; }
  void push_scope() { scopes_.emplace_back(); }
  void pop_scope() { scopes_.pop_back(); }

  // Within a loop whose variable j stays in [lo, hi), pads and concats indexed by j
  // pick their branch at compile time instead of computing every branch and selecting.
  void set_segment(llvm::Value* j, int64_t lo, int64_t hi);

private:
  struct Key {
    const ir::Value* value;
    Index idx;
    bool operator<(const Key& o) const { return value != o.value ? value < o.value : idx < o.idx; }
  };

  llvm::Value* i64(int64_t v) { return b_.getInt64(v); }

  llvm::Value* linearize(const Shape& shape, const Index& idx);

  Index delinearize(llvm::Value* lin, const Shape& shape);

  // Index into an operand broadcast (numpy rules) to the result shape.
  Index broadcast_index(const Shape& operand, const Index& idx);

  llvm::Value* constant_value(const Literal& lit, DType dt, const Index& idx);

  llvm::Value* scalar_constant(DType dt, double d, int64_t i);

  llvm::Value* compute(const ir::Value* v, const Index& idx);

  // Philox-4x32-10 keyed by the seed with the element's linear index as counter: the
  // same recipe as runtime/interp/random_util.h, so results match bit for bit.
  std::array<llvm::Value*, 4> philox(llvm::Value* seed, llvm::Value* index);

  llvm::Value* unit_float(llvm::Value* word) { // (r >> 8) * 2^-24, exact in f32
    return b_.CreateFMul(b_.CreateUIToFP(b_.CreateLShr(word, 8), b_.getFloatTy()),
                         llvm::ConstantFP::get(b_.getFloatTy(), 0x1p-24));
  }

  llvm::Value* random(const ir::Node& n, const Index& idx);

  // Index of the first extreme element along the axis; NaN counts as extreme (first wins).
  llvm::Value* arg_reduce(const ir::Node& n, const Index& out_idx);

  // Wraps a negative index once (idx + extent); leaves others unchanged.
  llvm::Value* wrap_index(llvm::Value* index, int64_t extent);

  llvm::Value* one_hot(const ir::Node& n, const Index& idx);

  // out[pre, j..., post] = x[pre, indices[j...], post]. An index out of range raises the
  // kernel's error flag (reported by the program after the kernel) and reads element 0.
  llvm::Value* gather(const ir::Node& n, const Index& idx);

  void raise_error_if(llvm::Value* condition);

  size_t param_slot(const ir::Value* v);

  // Reads the operand at a clamped index and selects the pad value outside it. Along a
  // dimension indexed by the segment's j (see set_segment) the choice is made here.
  llvm::Value* pad(const ir::Node& n, const Index& idx);

  llvm::Value* clamp_index(llvm::Value* i, int64_t dim);

  llvm::Value* concat(const ir::Node& n, const Index& idx);

  // y[b, o, i, j] = sum over the filter taps (c, p, q) of
  //   x[b, g*cg + c, i*sh + p*dh, j*sw + q*dw] * w[o, c, p, q]
  // unrolled over (p, q, c) into kConvChains multiply-add chains, tap t on chain t mod
  // kConvChains, added up at the end (short dependency chains; a fixed order). Direct
  // convolutions are unpadded (prepare_for_cpu), so every tap reads inside x.
  llvm::Value* direct_conv(const ir::Node& n, const Index& idx);

  llvm::Value* reduce(const ir::Node& n, const Index& out_idx);

  // Loops over `axes` (from `level` on), then one flat loop over the trailing dims from
  // `flat_from` (none when flat_from is the rank), accumulating into acc.
  void reduce_loops(const ir::Node& n, Index& in, const std::vector<int64_t>& axes,
                    int64_t flat_from, size_t level, llvm::AllocaInst* acc, llvm::Type* t);

  llvm::Value* reduce_identity(Op op, DType dt);

  // Float sums and products may be reassociated (vectorized): the order is fixed by the
  // generated code, so results stay deterministic.
  llvm::Value* combine(Op op, llvm::Value* acc, llvm::Value* x, DType dt);

  llvm::Value* fconst(llvm::Type* t, double v) { return llvm::ConstantFP::get(t, v); }

  llvm::Value* unary(Op op, llvm::Value* x, DType dt);

  llvm::Value* binary(Op op, llvm::Value* a, llvm::Value* c, DType dt);

  // Casts with the semantics of docs/ops.md: float -> int saturates (NaN -> 0).
  llvm::Value* cast(llvm::Value* x, DType from, DType to);

  llvm::IRBuilder<>& b_;
  llvm::IRBuilder<>& entry_;
  llvm::LLVMContext& ctx_;
  const ir::Function& body_;
  std::vector<llvm::Value*> param_ptrs_;
  std::vector<std::map<Key, llvm::Value*>> scopes_;
  std::map<const void*, llvm::GlobalVariable*> globals_;
  bool can_fail_ = false;
  llvm::MDNode* outputs_scope_ = nullptr;
  llvm::Value* segment_j_ = nullptr;
  int64_t segment_lo_ = 0, segment_hi_ = 0;
};

} // namespace loom::codegen
