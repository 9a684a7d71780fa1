#include "codegen/cpu/loop_kernel.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "codegen/cpu/llvm_util.h"
#include "ir/error.h"
#include "ir/scalar.h"

namespace loom::codegen {

// Elementwise ops BodyEmitter::unary/binary know. A new op of ops.def runs through the
// interpreter inside compiled code until it is added here and there.
bool has_scalar_lowering(Op op) {
  switch (op) {
  case Op::Neg:
  case Op::Abs:
  case Op::Sign:
  case Op::Exp:
  case Op::Log:
  case Op::Sqrt:
  case Op::Rsqrt:
  case Op::Tanh:
  case Op::Sigmoid:
  case Op::Relu:
  case Op::Sin:
  case Op::Cos:
  case Op::Erf:
  case Op::Floor:
  case Op::Ceil:
  case Op::LogicalNot:
  case Op::Cast:
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Pow:
  case Op::Maximum:
  case Op::Minimum:
  case Op::Eq:
  case Op::Ne:
  case Op::Lt:
  case Op::Le:
  case Op::Gt:
  case Op::Ge:
  case Op::LogicalAnd:
  case Op::LogicalOr:
  case Op::Select:
    return true;
  default:
    return false;
  }
}

namespace {

using Index = std::vector<llvm::Value*>; // one i64 per dimension

bool is_reduce(Op op) {
  return op == Op::ReduceSum || op == Op::ReduceMax || op == Op::ReduceMin || op == Op::ReduceProd;
}

// The window attributes of an unpadded conv2d.
struct ConvWindow {
  int64_t groups, sh, sw, dh, dw;
  explicit ConvWindow(const ir::Node& n) {
    const Attrs& a = n.attrs();
    const auto& strides = a.get_ints("conv2d", "strides");
    const auto& dilations = a.get_ints("conv2d", "dilations");
    groups = a.get_int("conv2d", "groups");
    sh = strides[0], sw = strides[1], dh = dilations[0], dw = dilations[1];
  }
};

} // namespace

bool is_small_conv(const ir::Node& n) {
  if (n.op() != Op::Conv2D || !is_float(n.result()->dtype())) return false;
  const Shape& w = n.operand(1)->shape();
  return w[1] * w[2] * w[3] <= kDirectConvTaps;
}

bool is_direct_conv(const ir::Node& n) {
  const auto& pads = n.op() == Op::Conv2D ? n.attrs().get_ints("conv2d", "pads") : Shape{};
  return is_small_conv(n) &&
         std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
}

bool loop_kernel_computes(Op op) {
  if (has_trait(op, kElementwise)) return has_scalar_lowering(op);
  if (has_trait(op, kRandom) || has_trait(op, kLayout) || is_reduce(op)) return true;
  switch (op) {
  case Op::Parameter:
  case Op::Constant:
  case Op::Iota:
  case Op::ArgMax:
  case Op::ArgMin:
  case Op::OneHot:
  case Op::Gather:
    return true;
  default:
    return false;
  }
}

namespace {

bool lowerable_node(const ir::Node& n) {
  for (int i = 0; i < n.num_results(); ++i)
    if (!lowerable_dtype(n.result(i)->dtype())) return false;
  for (const ir::Value* v : n.operands())
    if (!lowerable_dtype(v->dtype())) return false;
  Op op = n.op();
  if (op == Op::Conv2D) return is_direct_conv(n);
  bool integer = n.num_operands() > 0 && !is_float(n.operand(0)->dtype());
  if ((op == Op::Div || op == Op::Pow) && integer)
    return false; // run-time errors live in the interpreter
  return loop_kernel_computes(op);
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

  llvm::Value* emit(const ir::Value* v, const Index& idx) {
    Key key{v, idx};
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto found = it->find(key);
      if (found != it->end()) return found->second;
    }
    llvm::Value* r = compute(v, idx);
    scopes_.back()[key] = r;
    return r;
  }

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

private:
  struct Key {
    const ir::Value* value;
    Index idx;
    bool operator<(const Key& o) const { return value != o.value ? value < o.value : idx < o.idx; }
  };

  llvm::Value* i64(int64_t v) { return b_.getInt64(v); }

  llvm::Value* linearize(const Shape& shape, const Index& idx) {
    llvm::Value* lin = i64(0);
    int64_t stride = 1;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (shape[d] != 1) lin = b_.CreateAdd(lin, b_.CreateMul(idx[d], i64(stride)));
      stride *= shape[d];
    }
    return lin;
  }

  Index delinearize(llvm::Value* lin, const Shape& shape) {
    Index idx(shape.size());
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (shape[d] == 1) {
        idx[d] = i64(0);
        continue;
      }
      idx[d] = d == 0 ? lin : b_.CreateURem(lin, i64(shape[d]));
      if (d > 0) lin = b_.CreateUDiv(lin, i64(shape[d]));
    }
    return idx;
  }

  // Index into an operand broadcast (numpy rules) to the result shape.
  Index broadcast_index(const Shape& operand, const Index& idx) {
    size_t offset = idx.size() - operand.size();
    Index out(operand.size());
    for (size_t d = 0; d < operand.size(); ++d)
      out[d] = operand[d] == 1 ? i64(0) : idx[offset + d];
    return out;
  }

  llvm::Value* constant_value(const Literal& lit, DType dt, const Index& idx) {
    if (lit.type().numel() == 1) return scalar_constant(dt, lit.as_double(0), lit.as_int(0));
    llvm::Module* m = b_.GetInsertBlock()->getModule();
    auto it = globals_.find(lit.identity());
    llvm::GlobalVariable* g;
    if (it != globals_.end()) {
      g = it->second;
    } else {
      auto* data = llvm::ConstantDataArray::getRaw(
          llvm::StringRef(reinterpret_cast<const char*>(lit.data()), lit.nbytes()),
          lit.type().numel(), memory_type(ctx_, dt));
      g = new llvm::GlobalVariable(*m, data->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                   data, "literal");
      g->setAlignment(llvm::Align(64));
      globals_[lit.identity()] = g;
    }
    llvm::Value* p = element_ptr(g, dt, lit.type().shape, idx);
    return to_register(b_.CreateLoad(memory_type(ctx_, dt), p), dt);
  }

  llvm::Value* scalar_constant(DType dt, double d, int64_t i) {
    llvm::Type* t = register_type(ctx_, dt);
    if (is_float(dt)) return llvm::ConstantFP::get(t, d);
    if (dt == DType::Bool) return b_.getInt1(d != 0.0);
    return llvm::ConstantInt::get(t, static_cast<uint64_t>(i), true);
  }

  llvm::Value* compute(const ir::Value* v, const Index& idx) {
    const ir::Node& n = *v->def();
    DType dt = v->dtype();
    const Shape& shape = v->shape();
    switch (n.op()) {
    case Op::Parameter: {
      size_t slot = param_slot(v);
      llvm::LoadInst* load =
          b_.CreateLoad(memory_type(ctx_, dt), element_ptr(param_ptrs_[slot], dt, shape, idx));
      if (outputs_scope_) load->setMetadata(llvm::LLVMContext::MD_noalias, outputs_scope_);
      return to_register(load, dt);
    }
    case Op::Constant:
      return constant_value(n.attrs().get_literal("constant", "value"), dt, idx);
    case Op::Iota: {
      llvm::Value* i = idx[n.attrs().get_int("iota", "axis")];
      return is_float(dt) ? b_.CreateSIToFP(i, register_type(ctx_, dt))
                          : b_.CreateSExtOrTrunc(i, register_type(ctx_, dt));
    }
    case Op::BroadcastTo:
      return emit(n.operand(0), broadcast_index(n.operand(0)->shape(), idx));
    case Op::Reshape:
      return emit(n.operand(0), delinearize(linearize(shape, idx), n.operand(0)->shape()));
    case Op::Transpose: {
      const auto& perm = n.attrs().get_ints("transpose", "perm");
      Index in(idx.size());
      for (size_t i = 0; i < perm.size(); ++i)
        in[perm[i]] = idx[i];
      return emit(n.operand(0), in);
    }
    case Op::Slice: {
      const auto& start = n.attrs().get_ints("slice", "start");
      const auto& step = n.attrs().get_ints("slice", "step");
      Index in(idx.size());
      for (size_t d = 0; d < idx.size(); ++d)
        in[d] = b_.CreateAdd(i64(start[d]), b_.CreateMul(idx[d], i64(step[d])));
      return emit(n.operand(0), in);
    }
    case Op::Pad:
      return pad(n, idx);
    case Op::RandomUniform:
    case Op::RandomNormal:
      return random(n, idx);
    case Op::ArgMax:
    case Op::ArgMin:
      return arg_reduce(n, idx);
    case Op::OneHot:
      return one_hot(n, idx);
    case Op::Gather:
      return gather(n, idx);
    case Op::Concat:
      return concat(n, idx);
    case Op::Conv2D:
      return direct_conv(n, idx);
    case Op::Select: {
      llvm::Value* c = emit(n.operand(0), broadcast_index(n.operand(0)->shape(), idx));
      llvm::Value* a = emit(n.operand(1), broadcast_index(n.operand(1)->shape(), idx));
      llvm::Value* e = emit(n.operand(2), broadcast_index(n.operand(2)->shape(), idx));
      return b_.CreateSelect(c, a, e);
    }
    case Op::Cast:
      return cast(emit(n.operand(0), idx), n.operand(0)->dtype(), dt);
    default:
      break;
    }
    if (is_reduce(n.op())) return reduce(n, idx);
    if (has_trait(n.op(), kUnary))
      return unary(n.op(), emit(n.operand(0), idx), n.operand(0)->dtype());
    if (has_trait(n.op(), kBinary)) {
      llvm::Value* a = emit(n.operand(0), broadcast_index(n.operand(0)->shape(), idx));
      llvm::Value* c = emit(n.operand(1), broadcast_index(n.operand(1)->shape(), idx));
      return binary(n.op(), a, c, n.operand(0)->dtype());
    }
    throw_error(ErrorCode::Internal, "cpu codegen: cannot lower " + std::string(n.name()));
  }

  // Philox-4x32-10 keyed by the seed with the element's linear index as counter: the
  // same recipe as runtime/interp/random_util.h, so results match bit for bit.
  std::array<llvm::Value*, 4> philox(llvm::Value* seed, llvm::Value* index) {
    llvm::Type* i32 = b_.getInt32Ty();
    llvm::Type* i64t = b_.getInt64Ty();
    std::array<llvm::Value*, 4> c = {b_.CreateTrunc(index, i32),
                                     b_.CreateTrunc(b_.CreateLShr(index, 32), i32), b_.getInt32(0),
                                     b_.getInt32(0)};
    llvm::Value* k0 = b_.CreateTrunc(seed, i32);
    llvm::Value* k1 = b_.CreateTrunc(b_.CreateLShr(seed, 32), i32);
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        k0 = b_.CreateAdd(k0, b_.getInt32(0x9E3779B9));
        k1 = b_.CreateAdd(k1, b_.getInt32(0xBB67AE85));
      }
      llvm::Value* p0 = b_.CreateMul(b_.CreateZExt(c[0], i64t), b_.getInt64(0xD2511F53));
      llvm::Value* p1 = b_.CreateMul(b_.CreateZExt(c[2], i64t), b_.getInt64(0xCD9E8D57));
      auto hi = [&](llvm::Value* p) { return b_.CreateTrunc(b_.CreateLShr(p, 32), i32); };
      c = {b_.CreateXor(b_.CreateXor(hi(p1), c[1]), k0), b_.CreateTrunc(p1, i32),
           b_.CreateXor(b_.CreateXor(hi(p0), c[3]), k1), b_.CreateTrunc(p0, i32)};
    }
    return c;
  }

  llvm::Value* unit_float(llvm::Value* word) { // (r >> 8) * 2^-24, exact in f32
    return b_.CreateFMul(b_.CreateUIToFP(b_.CreateLShr(word, 8), b_.getFloatTy()),
                         llvm::ConstantFP::get(b_.getFloatTy(), 0x1p-24));
  }

  llvm::Value* random(const ir::Node& n, const Index& idx) {
    llvm::Value* seed = emit(n.operand(0), {});
    auto r = philox(seed, linearize(n.result()->shape(), idx));
    DType dt = n.result()->dtype();
    llvm::Type* f64 = b_.getDoubleTy();
    if (n.op() == Op::RandomUniform) {
      if (dt == DType::F32) return unit_float(r[0]);
      llvm::Value* bits = b_.CreateXor(b_.CreateShl(b_.CreateZExt(r[0], b_.getInt64Ty()), 21),
                                       b_.CreateZExt(b_.CreateLShr(r[1], 11), b_.getInt64Ty()));
      return b_.CreateFMul(b_.CreateUIToFP(bits, f64), llvm::ConstantFP::get(f64, 0x1p-53));
    }
    // Box-Muller in f64 with u1 in (0, 1].
    llvm::Value* u1 =
        b_.CreateFSub(llvm::ConstantFP::get(f64, 1.0), b_.CreateFPExt(unit_float(r[0]), f64));
    llvm::Value* u2 = b_.CreateFPExt(unit_float(r[1]), f64);
    llvm::Value* radius = emit_libm_call(
        b_, "sqrtf", "sqrt",
        {b_.CreateFMul(llvm::ConstantFP::get(f64, -2.0), emit_libm_call(b_, "logf", "log", {u1}))});
    llvm::Value* angle = emit_libm_call(
        b_, "cosf", "cos", {b_.CreateFMul(llvm::ConstantFP::get(f64, 2.0 * M_PI), u2)});
    llvm::Value* z = b_.CreateFMul(radius, angle);
    return dt == DType::F64 ? z : b_.CreateFPTrunc(z, register_type(ctx_, dt));
  }

  // Index of the first extreme element along the axis; NaN counts as extreme (first wins).
  llvm::Value* arg_reduce(const ir::Node& n, const Index& out_idx) {
    std::string op(n.name());
    int64_t axis = n.attrs().get_int(op, "axis");
    bool keepdims = n.attrs().get_bool(op, "keepdims");
    const ir::Value* x = n.operand(0);
    DType dt = x->dtype();
    llvm::Type* t = register_type(ctx_, dt);
    llvm::AllocaInst* best = entry_.CreateAlloca(t);
    llvm::AllocaInst* best_at = entry_.CreateAlloca(b_.getInt64Ty());
    b_.CreateStore(llvm::Constant::getNullValue(t), best);
    b_.CreateStore(i64(-1), best_at);
    Index in(x->shape().size());
    size_t kept = 0;
    for (size_t d = 0; d < in.size(); ++d)
      if (static_cast<int64_t>(d) != axis) in[d] = out_idx[keepdims ? d : kept++];
    bool is_max = n.op() == Op::ArgMax;
    bool fl = is_float(dt);
    emit_loop(
        b_, i64(0), i64(x->shape()[axis]),
        [&](llvm::Value* k) {
          in[axis] = k;
          scopes_.emplace_back();
          llvm::Value* v = emit(x, in);
          llvm::Value* cur = b_.CreateLoad(t, best);
          llvm::Value* first = b_.CreateICmpSLT(b_.CreateLoad(b_.getInt64Ty(), best_at), i64(0));
          llvm::Value* better;
          if (fl) {
            llvm::Value* cur_nan = b_.CreateFCmpUNO(cur, cur);
            llvm::Value* v_nan = b_.CreateFCmpUNO(v, v);
            llvm::Value* cmp = is_max ? b_.CreateFCmpOGT(v, cur) : b_.CreateFCmpOLT(v, cur);
            better = b_.CreateAnd(b_.CreateNot(cur_nan), b_.CreateOr(v_nan, cmp));
          } else {
            better = is_max ? b_.CreateICmpSGT(v, cur) : b_.CreateICmpSLT(v, cur);
          }
          llvm::Value* take = b_.CreateOr(first, better);
          b_.CreateStore(b_.CreateSelect(take, v, cur), best);
          b_.CreateStore(b_.CreateSelect(take, k, b_.CreateLoad(b_.getInt64Ty(), best_at)),
                         best_at);
          scopes_.pop_back();
        },
        "arg");
    return b_.CreateLoad(b_.getInt64Ty(), best_at);
  }

  // Wraps a negative index once (idx + extent); leaves others unchanged.
  llvm::Value* wrap_index(llvm::Value* index, int64_t extent) {
    index = b_.CreateSExtOrTrunc(index, b_.getInt64Ty());
    return b_.CreateSelect(b_.CreateICmpSLT(index, i64(0)), b_.CreateAdd(index, i64(extent)),
                           index);
  }

  llvm::Value* one_hot(const ir::Node& n, const Index& idx) {
    int64_t depth = n.attrs().get_int("one_hot", "depth");
    Index in(idx.begin(), idx.end() - 1);
    llvm::Value* index = wrap_index(emit(n.operand(0), in), depth);
    llvm::Value* hit = b_.CreateICmpEQ(index, idx.back());
    DType dt = n.result()->dtype();
    if (dt == DType::Bool) return hit;
    llvm::Type* t = register_type(ctx_, dt);
    return is_float(dt) ? b_.CreateUIToFP(hit, t) : b_.CreateZExt(hit, t);
  }

  // out[pre, j..., post] = x[pre, indices[j...], post]. An index out of range raises the
  // kernel's error flag (reported by the program after the kernel) and reads element 0.
  llvm::Value* gather(const ir::Node& n, const Index& idx) {
    int64_t axis = n.attrs().get_int("gather", "axis");
    const Shape& x_shape = n.operand(0)->shape();
    int64_t index_rank = n.operand(1)->rank();
    Index index_idx(idx.begin() + axis, idx.begin() + axis + index_rank);
    llvm::Value* index = wrap_index(emit(n.operand(1), index_idx), x_shape[axis]);
    llvm::Value* bad = b_.CreateICmpUGE(index, i64(x_shape[axis]));
    raise_error_if(bad);
    Index in(idx.begin(), idx.begin() + axis);
    in.push_back(b_.CreateSelect(bad, i64(0), index));
    in.insert(in.end(), idx.begin() + axis + index_rank, idx.end());
    return emit(n.operand(0), in);
  }

  void raise_error_if(llvm::Value* condition) {
    llvm::Module* m = b_.GetInsertBlock()->getModule();
    llvm::GlobalVariable* flag = m->getGlobalVariable("loom.error_flag", true);
    if (!flag)
      flag =
          new llvm::GlobalVariable(*m, b_.getInt32Ty(), false, llvm::GlobalValue::InternalLinkage,
                                   b_.getInt32(0), "loom.error_flag");
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    auto* raise = llvm::BasicBlock::Create(ctx_, "raise", fn);
    auto* cont = llvm::BasicBlock::Create(ctx_, "cont", fn);
    b_.CreateCondBr(condition, raise, cont);
    b_.SetInsertPoint(raise);
    b_.CreateStore(b_.getInt32(1), flag)->setAtomic(llvm::AtomicOrdering::Monotonic);
    b_.CreateBr(cont);
    b_.SetInsertPoint(cont);
    can_fail_ = true;
  }

public:
  bool can_fail() const { return can_fail_; }

  // Column reductions (codegen of emit_loop_kernel): the caller runs the reduced loops
  // outside the output's last dimension, so that the innermost loop walks memory
  // contiguously, and hands each result back with seed().
  llvm::Value* identity_of(const ir::Node& reduction) {
    return reduce_identity(reduction.op(), reduction.result()->dtype());
  }
  // *acc = combine(*acc, operand) at the input index of output index `out_idx` with the
  // reduced axes (in attribute order) at `reduced`.
  void accumulate(const ir::Node& n, const Index& out_idx, const Index& reduced, llvm::Value* acc) {
    const auto& axes = n.attrs().get_ints(std::string(n.name()), "axes");
    bool keepdims = n.attrs().get_bool(std::string(n.name()), "keepdims");
    Index in(n.operand(0)->rank());
    size_t kept = 0;
    for (size_t d = 0; d < in.size(); ++d) {
      auto axis = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d));
      in[d] = axis != axes.end() ? reduced[axis - axes.begin()] : out_idx[keepdims ? d : kept++];
    }
    scopes_.emplace_back();
    llvm::Type* t = register_type(ctx_, n.result()->dtype());
    b_.CreateStore(
        combine(n.op(), b_.CreateLoad(t, acc), emit(n.operand(0), in), n.result()->dtype()), acc);
    scopes_.pop_back();
  }
  // Makes emit(v, idx) return `value` until the scope ends (also for v's size-1 dims
  // read at 0, the index its broadcasting consumers use).
  void seed(const ir::Value* v, const Index& idx, llvm::Value* value) {
    scopes_.back()[Key{v, idx}] = value;
    scopes_.back()[Key{v, broadcast_index(v->shape(), idx)}] = value;
  }
  // Tells LLVM that parameter loads never read what the kernel's stores (tagged with
  // this scope) write, so loop-invariant loads leave the loop and vectorizing needs no
  // run-time overlap checks.
  void set_outputs_scope(llvm::MDNode* scope) { outputs_scope_ = scope; }
  void push_scope() { scopes_.emplace_back(); }
  void pop_scope() { scopes_.pop_back(); }

  // Within a loop whose variable j stays in [lo, hi), pads and concats indexed by j
  // pick their branch at compile time instead of computing every branch and selecting.
  void set_segment(llvm::Value* j, int64_t lo, int64_t hi) {
    segment_j_ = j;
    segment_lo_ = lo;
    segment_hi_ = hi;
  }

private:
  size_t param_slot(const ir::Value* v) {
    const auto& params = body_.params();
    for (size_t i = 0; i < params.size(); ++i)
      if (params[i] == v) return i;
    throw_error(ErrorCode::Internal, "cpu codegen: parameter of another function");
  }

  // Reads the operand at a clamped index and selects the pad value outside it. Along a
  // dimension indexed by the segment's j (see set_segment) the choice is made here.
  llvm::Value* pad(const ir::Node& n, const Index& idx) {
    const auto& lo = n.attrs().get_ints("pad", "pads_lo");
    const Shape& in_shape = n.operand(0)->shape();
    llvm::Value* inside = b_.getTrue();
    Index in(idx.size());
    DType dt = n.result()->dtype();
    double value = n.attrs().get_float("pad", "value");
    llvm::Value* pad_value = scalar_constant(dt, value, convert_scalar<int64_t>(value));
    for (size_t d = 0; d < idx.size(); ++d) {
      if (idx[d] == segment_j_) {
        if (segment_hi_ <= lo[d] || segment_lo_ >= lo[d] + in_shape[d])
          return pad_value;                                               // all padding
        if (segment_lo_ >= lo[d] && segment_hi_ <= lo[d] + in_shape[d]) { // all inside
          in[d] = b_.CreateSub(idx[d], i64(lo[d]));
          continue;
        }
      }
      llvm::Value* i = b_.CreateSub(idx[d], i64(lo[d]));
      inside = b_.CreateAnd(inside, b_.CreateICmpULT(i, i64(in_shape[d])));
      in[d] = clamp_index(i, in_shape[d]);
    }
    if (shape_numel(in_shape) == 0) return pad_value;
    return b_.CreateSelect(inside, emit(n.operand(0), in), pad_value);
  }

  llvm::Value* clamp_index(llvm::Value* i, int64_t dim) {
    llvm::Value* hi = i64(std::max<int64_t>(dim - 1, 0));
    llvm::Value* c = b_.CreateSelect(b_.CreateICmpSLT(i, i64(0)), i64(0), i);
    return b_.CreateSelect(b_.CreateICmpSGT(c, hi), hi, c);
  }

  llvm::Value* concat(const ir::Node& n, const Index& idx) {
    int64_t axis = n.attrs().get_int("concat", "axis");
    llvm::Value* result = nullptr;
    int64_t offset = 0;
    for (const ir::Value* operand : n.operands()) {
      int64_t len = operand->shape()[axis];
      if (len == 0) continue;
      if (idx[axis] == segment_j_ && segment_lo_ >= offset &&
          segment_hi_ <= offset + len) { // one operand
        Index in = idx;
        in[axis] = b_.CreateSub(idx[axis], i64(offset));
        return emit(operand, in);
      }
      Index in = idx;
      in[axis] = clamp_index(b_.CreateSub(idx[axis], i64(offset)), len);
      llvm::Value* v = emit(operand, in);
      result = result ? b_.CreateSelect(b_.CreateICmpSLT(idx[axis], i64(offset)), result, v) : v;
      offset += len;
    }
    return result;
  }

  // y[b, o, i, j] = sum over the filter taps (c, p, q) of
  //   x[b, g*cg + c, i*sh + p*dh, j*sw + q*dw] * w[o, c, p, q]
  // unrolled over (p, q, c) into kConvChains multiply-add chains, tap t on chain t mod
  // kConvChains, added up at the end (short dependency chains; a fixed order). Direct
  // convolutions are unpadded (prepare_for_cpu), so every tap reads inside x.
  llvm::Value* direct_conv(const ir::Node& n, const Index& idx) {
    constexpr int kConvChains = 4;
    ConvWindow win(n);
    const Shape& ws = n.operand(1)->shape();
    int64_t cg = ws[1], og = ws[0] / win.groups;
    llvm::Value* first_channel =
        win.groups == 1 ? i64(0) : b_.CreateMul(b_.CreateUDiv(idx[1], i64(og)), i64(cg));
    std::vector<llvm::Value*> chains(kConvChains, scalar_constant(n.result()->dtype(), 0.0, 0));
    int64_t tap = 0;
    for (int64_t p = 0; p < ws[2]; ++p) {
      llvm::Value* row = b_.CreateAdd(b_.CreateMul(idx[2], i64(win.sh)), i64(p * win.dh));
      for (int64_t q = 0; q < ws[3]; ++q) {
        llvm::Value* col = b_.CreateAdd(b_.CreateMul(idx[3], i64(win.sw)), i64(q * win.dw));
        for (int64_t c = 0; c < cg; ++c, ++tap) {
          llvm::Value* xv =
              emit(n.operand(0), {idx[0], b_.CreateAdd(first_channel, i64(c)), row, col});
          llvm::Value* wv = emit(n.operand(1), {idx[1], i64(c), i64(p), i64(q)});
          llvm::Value*& chain = chains[tap % kConvChains];
          chain = b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {xv->getType()}, {xv, wv, chain});
        }
      }
    }
    llvm::Value* sum = chains[0];
    for (int k = 1; k < kConvChains; ++k)
      sum = b_.CreateFAdd(sum, chains[k]);
    return sum;
  }

  llvm::Value* reduce(const ir::Node& n, const Index& out_idx) {
    const auto& axes = n.attrs().get_ints(std::string(n.name()), "axes");
    bool keepdims = n.attrs().get_bool(std::string(n.name()), "keepdims");
    const Shape& in_shape = n.operand(0)->shape();
    DType dt = n.result()->dtype();
    llvm::Type* t = register_type(ctx_, dt);
    llvm::AllocaInst* acc = entry_.CreateAlloca(t);
    b_.CreateStore(reduce_identity(n.op(), dt), acc);
    Index in(in_shape.size());
    size_t kept = 0;
    for (size_t d = 0; d < in_shape.size(); ++d) {
      bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
      if (!reduced) in[d] = out_idx[keepdims ? d : kept++];
    }
    reduce_loops(n, in, axes, 0, acc, t);
    return b_.CreateLoad(t, acc);
  }

  void reduce_loops(const ir::Node& n, Index& in, const std::vector<int64_t>& axes, size_t level,
                    llvm::AllocaInst* acc, llvm::Type* t) {
    if (level == axes.size()) {
      scopes_.emplace_back(); // values computed inside the loop do not outlive it
      llvm::Value* x = emit(n.operand(0), in);
      b_.CreateStore(combine(n.op(), b_.CreateLoad(t, acc), x, n.result()->dtype()), acc);
      scopes_.pop_back();
      return;
    }
    int64_t axis = axes[level];
    emit_loop(
        b_, i64(0), i64(n.operand(0)->shape()[axis]),
        [&](llvm::Value* iv) {
          in[axis] = iv;
          reduce_loops(n, in, axes, level + 1, acc, t);
        },
        "r");
  }

  llvm::Value* reduce_identity(Op op, DType dt) {
    llvm::Type* t = register_type(ctx_, dt);
    bool fl = is_float(dt);
    switch (op) {
    case Op::ReduceSum:
      return fl ? llvm::ConstantFP::get(t, 0.0) : llvm::ConstantInt::get(t, 0);
    case Op::ReduceProd:
      return fl ? llvm::ConstantFP::get(t, 1.0) : llvm::ConstantInt::get(t, 1);
    case Op::ReduceMax:
      return fl ? llvm::ConstantFP::getInfinity(t, true)
                : llvm::ConstantInt::get(t,
                                         llvm::APInt::getSignedMinValue(t->getIntegerBitWidth()));
    case Op::ReduceMin:
      return fl ? llvm::ConstantFP::getInfinity(t, false)
                : llvm::ConstantInt::get(t,
                                         llvm::APInt::getSignedMaxValue(t->getIntegerBitWidth()));
    default:
      throw_error(ErrorCode::Internal, "not a reduction");
    }
  }

  // Float sums and products may be reassociated (vectorized): the order is fixed by the
  // generated code, so results stay deterministic.
  llvm::Value* combine(Op op, llvm::Value* acc, llvm::Value* x, DType dt) {
    bool fl = is_float(dt);
    llvm::FastMathFlags reassoc;
    reassoc.setAllowReassoc();
    switch (op) {
    case Op::ReduceSum: {
      if (!fl) return b_.CreateAdd(acc, x);
      auto* r = llvm::cast<llvm::Instruction>(b_.CreateFAdd(acc, x));
      r->setFastMathFlags(reassoc);
      return r;
    }
    case Op::ReduceProd: {
      if (!fl) return b_.CreateMul(acc, x);
      auto* r = llvm::cast<llvm::Instruction>(b_.CreateFMul(acc, x));
      r->setFastMathFlags(reassoc);
      return r;
    }
    case Op::ReduceMax:
      return fl ? b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, acc, x)
                : b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, acc, x);
    case Op::ReduceMin:
      return fl ? b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, acc, x)
                : b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, acc, x);
    default:
      throw_error(ErrorCode::Internal, "not a reduction");
    }
  }

  llvm::Value* fconst(llvm::Type* t, double v) { return llvm::ConstantFP::get(t, v); }

  llvm::Value* unary(Op op, llvm::Value* x, DType dt) {
    llvm::Type* t = x->getType();
    bool fl = is_float(dt);
    switch (op) {
    case Op::Neg:
      return fl ? b_.CreateFNeg(x) : b_.CreateSub(llvm::ConstantInt::get(t, 0), x);
    case Op::Abs:
      return fl ? b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x)
                : b_.CreateBinaryIntrinsic(llvm::Intrinsic::abs, x, b_.getFalse());
    case Op::Sign: {
      if (!fl) {
        llvm::Value* pos = b_.CreateZExt(b_.CreateICmpSGT(x, llvm::ConstantInt::get(t, 0)), t);
        llvm::Value* neg = b_.CreateZExt(b_.CreateICmpSLT(x, llvm::ConstantInt::get(t, 0)), t);
        return b_.CreateSub(pos, neg);
      }
      llvm::Value* r =
          b_.CreateSelect(b_.CreateFCmpOGT(x, fconst(t, 0)), fconst(t, 1), fconst(t, 0));
      r = b_.CreateSelect(b_.CreateFCmpOLT(x, fconst(t, 0)), fconst(t, -1), r);
      return b_.CreateSelect(b_.CreateFCmpUNO(x, x), x, r);
    }
    case Op::Exp:
      return emit_exp(b_, x);
    case Op::Log:
      return emit_log(b_, x);
    case Op::Sqrt:
      return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
    case Op::Rsqrt:
      return b_.CreateFDiv(fconst(t, 1), b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x));
    case Op::Tanh:
      return emit_tanh(b_, x);
    case Op::Sigmoid:
      return emit_sigmoid(b_, x);
    case Op::Relu:
      if (!fl)
        return b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, x, llvm::ConstantInt::get(t, 0));
      return b_.CreateSelect(b_.CreateFCmpOLT(x, fconst(t, 0)), fconst(t, 0), x); // NaN stays NaN
    case Op::Sin:
      return emit_libm_call(b_, "sinf", "sin", {x});
    case Op::Cos:
      return emit_libm_call(b_, "cosf", "cos", {x});
    case Op::Erf:
      return emit_erf(b_, x);
    case Op::Floor:
      return b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x);
    case Op::Ceil:
      return b_.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, x);
    case Op::LogicalNot:
      return b_.CreateNot(x);
    default:
      throw_error(ErrorCode::Internal, "cpu codegen: unary " + std::string(op_name(op)));
    }
  }

  llvm::Value* binary(Op op, llvm::Value* a, llvm::Value* c, DType dt) {
    bool fl = is_float(dt);
    switch (op) {
    case Op::Add:
      return fl ? b_.CreateFAdd(a, c) : b_.CreateAdd(a, c);
    case Op::Sub:
      return fl ? b_.CreateFSub(a, c) : b_.CreateSub(a, c);
    case Op::Mul:
      return fl ? b_.CreateFMul(a, c) : b_.CreateMul(a, c);
    case Op::Div:
      return b_.CreateFDiv(a, c);
    case Op::Pow:
      return emit_libm_call(b_, "powf", "pow", {a, c});
    case Op::Maximum:
      return fl ? b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, c)
                : b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, a, c);
    case Op::Minimum:
      return fl ? b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, a, c)
                : b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, a, c);
    case Op::Eq:
      return fl ? b_.CreateFCmpOEQ(a, c) : b_.CreateICmpEQ(a, c);
    case Op::Ne:
      return fl ? b_.CreateFCmpUNE(a, c) : b_.CreateICmpNE(a, c);
    case Op::Lt:
      return fl ? b_.CreateFCmpOLT(a, c)
                : (dt == DType::Bool ? b_.CreateICmpULT(a, c) : b_.CreateICmpSLT(a, c));
    case Op::Le:
      return fl ? b_.CreateFCmpOLE(a, c)
                : (dt == DType::Bool ? b_.CreateICmpULE(a, c) : b_.CreateICmpSLE(a, c));
    case Op::Gt:
      return fl ? b_.CreateFCmpOGT(a, c)
                : (dt == DType::Bool ? b_.CreateICmpUGT(a, c) : b_.CreateICmpSGT(a, c));
    case Op::Ge:
      return fl ? b_.CreateFCmpOGE(a, c)
                : (dt == DType::Bool ? b_.CreateICmpUGE(a, c) : b_.CreateICmpSGE(a, c));
    case Op::LogicalAnd:
      return b_.CreateAnd(a, c);
    case Op::LogicalOr:
      return b_.CreateOr(a, c);
    default:
      throw_error(ErrorCode::Internal, "cpu codegen: binary " + std::string(op_name(op)));
    }
  }

  // Casts with the semantics of docs/ops.md: float -> int saturates (NaN -> 0).
  llvm::Value* cast(llvm::Value* x, DType from, DType to) {
    if (from == to) return x;
    llvm::Type* t = register_type(ctx_, to);
    if (to == DType::Bool)
      return is_float(from) ? b_.CreateFCmpUNE(x, fconst(x->getType(), 0))
                            : b_.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0));
    if (from == DType::Bool) return is_float(to) ? b_.CreateUIToFP(x, t) : b_.CreateZExt(x, t);
    if (is_float(from) && is_float(to)) return b_.CreateFPCast(x, t);
    if (is_float(from))
      return b_.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {t, x->getType()}, {x});
    if (is_float(to)) return b_.CreateSIToFP(x, t);
    return b_.CreateSExtOrTrunc(x, t);
  }

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

// The row space: all output dims but the last, with the last dim split into tiles when
// there are too few rows to share among threads.
struct RowSpace {
  Shape outer;       // dims iterated by rows
  int64_t last = 1;  // extent of the last dim
  int64_t tile = 1;  // elements of the last dim per row
  int64_t tiles = 1; // tiles per last dim
  int64_t rows = 1;
};

// `tile`: the last dim's tile when there are few rows (column reductions use smaller
// tiles: each element of theirs stands for a whole column of work).
RowSpace row_space(const Shape& shape, int64_t tile) {
  RowSpace s;
  if (!shape.empty()) {
    s.outer.assign(shape.begin(), shape.end() - 1);
    s.last = shape.back();
  }
  int64_t outer_rows = shape_numel(s.outer);
  s.tile = (outer_rows < 16 && s.last > tile) ? tile : std::max<int64_t>(s.last, 1);
  s.tiles = s.last == 0 ? 0 : (s.last + s.tile - 1) / s.tile;
  s.rows = outer_rows * s.tiles;
  return s;
}

// Below this many elements (largest value of the body) a kernel is compiled for size.
constexpr int64_t kSmallKernelElements = 8192;

// Elements of the largest parameter or intermediate of a body: the kernel's work.
int64_t largest_value(const ir::Function& body) {
  int64_t largest = 0;
  for (const ir::Value* p : body.params())
    largest = std::max(largest, p->type().numel());
  for (const auto& n : body.nodes())
    for (int r = 0; r < n->num_results(); ++r)
      largest = std::max(largest, n->result(r)->type().numel());
  return largest;
}

// Reductions of the body that keep the output's last axis and are read at the output
// index: computed a tile of columns at a time with the reduced loops outside, so the
// inner loop is contiguous (bias gradients, column sums) instead of striding.
std::vector<const ir::Node*> column_reductions(const ir::Function& body, const Shape& out_shape) {
  std::vector<const ir::Node*> found;
  if (out_shape.empty() || out_shape.back() < 2) return found;
  for (const auto& n : body.nodes()) {
    if (!is_reduce(n->op()) || n->result()->shape() != out_shape) continue;
    DType dt = n->result()->dtype();
    if (dt == DType::Bool) continue;
    const auto& axes = n->attrs().get_ints(std::string(n->name()), "axes");
    int64_t last = n->operand(0)->rank() - 1;
    if (std::find(axes.begin(), axes.end(), last) == axes.end()) found.push_back(n.get());
  }
  return found;
}

// Boundaries along the output's last axis where a pad or concat of the output's shape
// changes branch: 0, the boundaries, the extent (just {0, extent} when there are none).
std::vector<int64_t> last_axis_segments(const ir::Function& body, const Shape& out_shape) {
  if (out_shape.empty()) return {};
  int64_t extent = out_shape.back(), last = static_cast<int64_t>(out_shape.size()) - 1;
  std::set<int64_t> cuts = {0, extent};
  for (const auto& n : body.nodes()) {
    if (n->result()->shape() != out_shape) continue;
    if (n->op() == Op::Pad) {
      int64_t lo = n->attrs().get_ints("pad", "pads_lo")[last];
      cuts.insert({lo, lo + n->operand(0)->shape()[last]});
    } else if (n->op() == Op::Concat && n->attrs().get_int("concat", "axis") == last) {
      int64_t offset = 0;
      for (const ir::Value* operand : n->operands())
        cuts.insert(offset += operand->shape()[last]);
    }
  }
  std::vector<int64_t> segments;
  for (int64_t c : cuts)
    if (c >= 0 && c <= extent) segments.push_back(c);
  return segments;
}

constexpr int64_t kColumnTile = 256; // accumulators per column reduction (on the stack)

// The j loop over [lo, hi) of one row, for a body with column reductions: per tile,
// each reduction accumulates into a stack array with the reduced loops outermost, then
// the outputs are computed with the reductions' values seeded from the arrays.
void emit_column_tiles(llvm::IRBuilder<>& b, llvm::IRBuilder<>& entry, BodyEmitter& em,
                       const std::vector<const ir::Node*>& columns, const Index& outer,
                       llvm::Value* lo, llvm::Value* hi,
                       const std::function<void(llvm::Value*)>& store_outputs) {
  llvm::LLVMContext& ctx = b.getContext();
  std::vector<llvm::Value*> accs;
  for (const ir::Node* r : columns)
    accs.push_back(entry.CreateAlloca(
        llvm::ArrayType::get(register_type(ctx, r->result()->dtype()), kColumnTile)));
  llvm::Value* tiles = b.CreateUDiv(b.CreateAdd(b.CreateSub(hi, lo), b.getInt64(kColumnTile - 1)),
                                    b.getInt64(kColumnTile));
  emit_loop(
      b, b.getInt64(0), tiles,
      [&](llvm::Value* tile) {
        llvm::Value* t_lo = b.CreateAdd(lo, b.CreateMul(tile, b.getInt64(kColumnTile)));
        llvm::Value* t_hi = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                                    b.CreateAdd(t_lo, b.getInt64(kColumnTile)), hi);
        auto slot = [&](size_t c, llvm::Value* j) {
          llvm::Type* t = register_type(ctx, columns[c]->result()->dtype());
          return b.CreateInBoundsGEP(t, accs[c], b.CreateSub(j, t_lo));
        };
        for (size_t c = 0; c < columns.size(); ++c) {
          const ir::Node& r = *columns[c];
          emit_loop(
              b, t_lo, t_hi, [&](llvm::Value* j) { b.CreateStore(em.identity_of(r), slot(c, j)); },
              "init");
          const auto& axes = r.attrs().get_ints(std::string(r.name()), "axes");
          Index reduced(axes.size());
          std::function<void(size_t)> loops = [&](size_t level) {
            if (level == axes.size()) {
              emit_loop(
                  b, t_lo, t_hi,
                  [&](llvm::Value* j) {
                    Index idx = outer;
                    idx.push_back(j);
                    em.accumulate(r, idx, reduced, slot(c, j));
                  },
                  "col");
              return;
            }
            emit_loop(
                b, b.getInt64(0), b.getInt64(r.operand(0)->shape()[axes[level]]),
                [&](llvm::Value* iv) {
                  reduced[level] = iv;
                  loops(level + 1);
                },
                "r");
          };
          loops(0);
        }
        emit_loop(
            b, t_lo, t_hi,
            [&](llvm::Value* j) {
              em.push_scope();
              Index idx = outer;
              idx.push_back(j);
              for (size_t c = 0; c < columns.size(); ++c) {
                llvm::Type* t = register_type(ctx, columns[c]->result()->dtype());
                em.seed(columns[c]->result(), idx, b.CreateLoad(t, slot(c, j)));
              }
              store_outputs(j);
              em.pop_scope();
            },
            "j");
      },
      "tile");
}

} // namespace

bool can_lower_loop_body(const ir::Function& body) {
  if (body.outputs().empty()) return false;
  const Shape& shape = body.outputs()[0].value->shape();
  for (const ir::Output& o : body.outputs())
    if (o.value->shape() != shape || !lowerable_dtype(o.value->dtype())) return false;
  for (const auto& n : body.nodes())
    if (n->body() || !lowerable_node(*n)) return false;
  return true;
}

LoopKernel emit_loop_kernel(llvm::Module& module, const std::string& name,
                            const ir::Function& body) {
  llvm::LLVMContext& ctx = module.getContext();
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type* ptr = llvm::PointerType::get(ctx, 0);
  auto* fn_type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, i64, i64}, false);
  auto* fn = llvm::Function::Create(fn_type, llvm::GlobalValue::InternalLinkage, name, module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::Value* buffers = fn->getArg(0);
  llvm::Value* begin = fn->getArg(1);
  llvm::Value* end = fn->getArg(2);

  auto* entry_bb = llvm::BasicBlock::Create(ctx, "entry", fn);
  llvm::IRBuilder<> entry(entry_bb);
  auto* body_bb = llvm::BasicBlock::Create(ctx, "start", fn);
  llvm::IRBuilder<> b(body_bb);

  size_t slots = body.params().size() + body.outputs().size();
  std::vector<llvm::Value*> ptrs;
  for (size_t i = 0; i < slots; ++i)
    ptrs.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, buffers, i)));
  std::vector<llvm::Value*> param_ptrs(ptrs.begin(), ptrs.begin() + body.params().size());
  BodyEmitter em(b, entry, body, param_ptrs);

  const Shape& shape = body.outputs()[0].value->shape();
  std::vector<const ir::Node*> columns = column_reductions(body, shape);
  RowSpace space = row_space(shape, columns.empty() ? 4096 : kColumnTile);
  std::vector<int64_t> segments = last_axis_segments(body, shape);
  bool has_direct_conv = std::any_of(body.nodes().begin(), body.nodes().end(),
                                     [](const auto& n) { return is_direct_conv(*n); });
  // A kernel holding a convolution never writes over its inputs: the memory plan only
  // overwrites operands of elementwise nodes and loop fusions (passes/storage.cpp).
  llvm::MDNode* outputs_scope = nullptr;
  if (has_direct_conv) {
    llvm::MDBuilder md(ctx);
    llvm::MDNode* domain = md.createAnonymousAliasScopeDomain("loom.kernel");
    outputs_scope = llvm::MDNode::get(ctx, {md.createAnonymousAliasScope(domain, "outputs")});
    em.set_outputs_scope(outputs_scope);
  }
  emit_loop(
      b, begin, end,
      [&](llvm::Value* row) {
        // row -> (outer index, tile); the last dim runs over the tile.
        llvm::Value* tile =
            space.tiles == 1 ? b.getInt64(0) : b.CreateURem(row, b.getInt64(space.tiles));
        llvm::Value* outer_linear =
            space.tiles == 1 ? row : b.CreateUDiv(row, b.getInt64(space.tiles));
        Index outer(space.outer.size());
        llvm::Value* rest = outer_linear;
        for (int64_t d = static_cast<int64_t>(space.outer.size()) - 1; d >= 0; --d) {
          outer[d] = d == 0 ? rest : b.CreateURem(rest, b.getInt64(space.outer[d]));
          if (d > 0) rest = b.CreateUDiv(rest, b.getInt64(space.outer[d]));
        }
        llvm::Value* lo = b.CreateMul(tile, b.getInt64(space.tile));
        llvm::Value* hi = b.CreateBinaryIntrinsic(
            llvm::Intrinsic::smin, b.CreateAdd(lo, b.getInt64(space.tile)), b.getInt64(space.last));
        llvm::Value* out_row = b.CreateMul(outer_linear, b.getInt64(space.last));
        auto store_outputs = [&](llvm::Value* j) {
          Index idx = outer;
          if (!shape.empty()) idx.push_back(j);
          for (size_t o = 0; o < body.outputs().size(); ++o) {
            const ir::Value* v = body.outputs()[o].value;
            llvm::Value* value = em.to_memory(em.emit(v, idx), v->dtype());
            llvm::Value* p =
                b.CreateInBoundsGEP(memory_type(ctx, v->dtype()), ptrs[body.params().size() + o],
                                    b.CreateAdd(out_row, j));
            llvm::StoreInst* store = b.CreateStore(value, p);
            if (outputs_scope) store->setMetadata(llvm::LLVMContext::MD_alias_scope, outputs_scope);
          }
        };
        if (!columns.empty()) {
          emit_column_tiles(b, entry, em, columns, outer, lo, hi, store_outputs);
        } else if (segments.size() >
                   2) { // the last axis splits where pads and concats change branch
          for (size_t s = 0; s + 1 < segments.size(); ++s) {
            llvm::Value* s_lo =
                b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, lo, b.getInt64(segments[s]));
            llvm::Value* s_hi =
                b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, hi, b.getInt64(segments[s + 1]));
            emit_loop(
                b, s_lo, s_hi,
                [&](llvm::Value* j) {
                  em.push_scope();
                  em.set_segment(j, segments[s], segments[s + 1]);
                  store_outputs(j);
                  em.set_segment(nullptr, 0, 0);
                  em.pop_scope();
                },
                "seg");
          }
        } else {
          emit_loop(b, lo, hi, store_outputs, "j", has_direct_conv);
        }
      },
      "row");
  b.CreateRetVoid();
  entry.CreateBr(body_bb);

  LoopKernel k;
  k.function = fn;
  k.can_fail = em.can_fail();
  k.rows = space.rows;
  // Split only work big enough to pay for handing it to threads (measured: from 8K
  // elements with the spinning pool); the split never changes results.
  int64_t work = largest_value(body);
  k.chunks = work < (1 << 13) ? 1 : std::min<int64_t>(space.rows, 64);
  // A kernel that touches few elements runs in microseconds: compile it for size, which
  // skips vectorization and loop versioning (most of LLVM's time on a training step).
  if (work < kSmallKernelElements) {
    fn->addFnAttr(llvm::Attribute::OptimizeForSize);
    fn->addFnAttr(llvm::Attribute::MinSize);
  }
  return k;
}

} // namespace loom::codegen
