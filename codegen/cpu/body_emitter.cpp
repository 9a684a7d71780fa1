#include "codegen/cpu/body_emitter.h"

#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "codegen/cpu/loop_kernel.h"
#include "ir/error.h"
#include "ir/scalar.h"
#include "ir/window.h"

namespace loom::codegen {

llvm::Value* BodyEmitter::emit(const ir::Value* v, const Index& idx) {
  Key key{v, idx};
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto found = it->find(key);
    if (found != it->end()) return found->second;
  }
  llvm::Value* r = compute(v, idx);
  scopes_.back()[key] = r;
  return r;
}

llvm::Value* BodyEmitter::linearize(const Shape& shape, const Index& idx) {
  llvm::Value* lin = i64(0);
  int64_t stride = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] != 1) lin = b_.CreateAdd(lin, b_.CreateMul(idx[d], i64(stride)));
    stride *= shape[d];
  }
  return lin;
}

Index BodyEmitter::delinearize(llvm::Value* lin, const Shape& shape) {
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

Index BodyEmitter::broadcast_index(const Shape& operand, const Index& idx) {
  size_t offset = idx.size() - operand.size();
  Index out(operand.size());
  for (size_t d = 0; d < operand.size(); ++d)
    out[d] = operand[d] == 1 ? i64(0) : idx[offset + d];
  return out;
}

llvm::Value* BodyEmitter::constant_value(const Literal& lit, DType dt, const Index& idx) {
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
    g = new llvm::GlobalVariable(*m, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
                                 "literal");
    g->setAlignment(llvm::Align(64));
    globals_[lit.identity()] = g;
  }
  llvm::Value* p = element_ptr(g, dt, lit.type().shape, idx);
  return to_register(b_.CreateLoad(memory_type(ctx_, dt), p), dt);
}

llvm::Value* BodyEmitter::scalar_constant(DType dt, double d, int64_t i) {
  llvm::Type* t = register_type(ctx_, dt);
  if (is_float(dt)) return llvm::ConstantFP::get(t, d);
  if (dt == DType::Bool) return b_.getInt1(d != 0.0);
  return llvm::ConstantInt::get(t, static_cast<uint64_t>(i), true);
}

llvm::Value* BodyEmitter::compute(const ir::Value* v, const Index& idx) {
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

std::array<llvm::Value*, 4> BodyEmitter::philox(llvm::Value* seed, llvm::Value* index) {
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

llvm::Value* BodyEmitter::random(const ir::Node& n, const Index& idx) {
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
  llvm::Value* angle = emit_libm_call(b_, "cosf", "cos",
                                      {b_.CreateFMul(llvm::ConstantFP::get(f64, 2.0 * M_PI), u2)});
  llvm::Value* z = b_.CreateFMul(radius, angle);
  return dt == DType::F64 ? z : b_.CreateFPTrunc(z, register_type(ctx_, dt));
}

llvm::Value* BodyEmitter::arg_reduce(const ir::Node& n, const Index& out_idx) {
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
        b_.CreateStore(b_.CreateSelect(take, k, b_.CreateLoad(b_.getInt64Ty(), best_at)), best_at);
        scopes_.pop_back();
      },
      "arg");
  return b_.CreateLoad(b_.getInt64Ty(), best_at);
}

llvm::Value* BodyEmitter::wrap_index(llvm::Value* index, int64_t extent) {
  index = b_.CreateSExtOrTrunc(index, b_.getInt64Ty());
  return b_.CreateSelect(b_.CreateICmpSLT(index, i64(0)), b_.CreateAdd(index, i64(extent)), index);
}

llvm::Value* BodyEmitter::one_hot(const ir::Node& n, const Index& idx) {
  int64_t depth = n.attrs().get_int("one_hot", "depth");
  Index in(idx.begin(), idx.end() - 1);
  llvm::Value* index = wrap_index(emit(n.operand(0), in), depth);
  llvm::Value* hit = b_.CreateICmpEQ(index, idx.back());
  DType dt = n.result()->dtype();
  if (dt == DType::Bool) return hit;
  llvm::Type* t = register_type(ctx_, dt);
  return is_float(dt) ? b_.CreateUIToFP(hit, t) : b_.CreateZExt(hit, t);
}

llvm::Value* BodyEmitter::gather(const ir::Node& n, const Index& idx) {
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

void BodyEmitter::raise_error_if(llvm::Value* condition) {
  llvm::Module* m = b_.GetInsertBlock()->getModule();
  llvm::GlobalVariable* flag = m->getGlobalVariable("loom.error_flag", true);
  if (!flag)
    flag = new llvm::GlobalVariable(*m, b_.getInt32Ty(), false, llvm::GlobalValue::InternalLinkage,
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

void BodyEmitter::accumulate(const ir::Node& n, const Index& out_idx, const Index& reduced,
                             llvm::Value* acc) {
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

void BodyEmitter::seed(const ir::Value* v, const Index& idx, llvm::Value* value) {
  scopes_.back()[Key{v, idx}] = value;
  scopes_.back()[Key{v, broadcast_index(v->shape(), idx)}] = value;
}

void BodyEmitter::set_segment(llvm::Value* j, int64_t lo, int64_t hi) {
  segment_j_ = j;
  segment_lo_ = lo;
  segment_hi_ = hi;
}

size_t BodyEmitter::param_slot(const ir::Value* v) {
  const auto& params = body_.params();
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i] == v) return i;
  throw_error(ErrorCode::Internal, "cpu codegen: parameter of another function");
}

llvm::Value* BodyEmitter::pad(const ir::Node& n, const Index& idx) {
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

llvm::Value* BodyEmitter::clamp_index(llvm::Value* i, int64_t dim) {
  llvm::Value* hi = i64(std::max<int64_t>(dim - 1, 0));
  llvm::Value* c = b_.CreateSelect(b_.CreateICmpSLT(i, i64(0)), i64(0), i);
  return b_.CreateSelect(b_.CreateICmpSGT(c, hi), hi, c);
}

llvm::Value* BodyEmitter::concat(const ir::Node& n, const Index& idx) {
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

llvm::Value* BodyEmitter::direct_conv(const ir::Node& n, const Index& idx) {
  constexpr int kConvChains = 4;
  ir::ConvGeometry geometry = ir::conv_geometry(n);
  const ir::Window2D& win = geometry.window;
  const Shape& ws = n.operand(1)->shape();
  int64_t cg = ws[1], og = ws[0] / geometry.groups;
  llvm::Value* first_channel =
      geometry.groups == 1 ? i64(0) : b_.CreateMul(b_.CreateUDiv(idx[1], i64(og)), i64(cg));
  std::vector<llvm::Value*> chains(kConvChains, scalar_constant(n.result()->dtype(), 0.0, 0));
  int64_t tap = 0;
  for (int64_t p = 0; p < ws[2]; ++p) {
    llvm::Value* row =
        b_.CreateAdd(b_.CreateMul(idx[2], i64(win.stride_h)), i64(p * win.dilation_h));
    for (int64_t q = 0; q < ws[3]; ++q) {
      llvm::Value* col =
          b_.CreateAdd(b_.CreateMul(idx[3], i64(win.stride_w)), i64(q * win.dilation_w));
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

llvm::Value* BodyEmitter::reduce(const ir::Node& n, const Index& out_idx) {
  const auto& axes = n.attrs().get_ints(std::string(n.name()), "axes");
  bool keepdims = n.attrs().get_bool(std::string(n.name()), "keepdims");
  const Shape& in_shape = n.operand(0)->shape();
  DType dt = n.result()->dtype();
  llvm::Type* t = register_type(ctx_, dt);
  llvm::AllocaInst* acc = entry_.CreateAlloca(t);
  b_.CreateStore(reduce_identity(n.op(), dt), acc);
  Index in(in_shape.size());
  size_t kept = 0;
  auto reduced = [&](int64_t d) { return std::find(axes.begin(), axes.end(), d) != axes.end(); };
  for (size_t d = 0; d < in_shape.size(); ++d)
    if (!reduced(static_cast<int64_t>(d))) in[d] = out_idx[keepdims ? d : kept++];
  // Reduced axes that end the operand's shape are one flat, contiguous loop. Looping
  // over them one by one, LLVM fully unrolls a short innermost axis (28 or 56
  // elements) and vectorizes the next one out with gathers.
  int64_t flat_from = static_cast<int64_t>(in_shape.size());
  while (flat_from > 0 && reduced(flat_from - 1))
    --flat_from;
  if (static_cast<int64_t>(in_shape.size()) - flat_from < 2) flat_from = in_shape.size();
  std::vector<int64_t> outer_axes;
  for (int64_t axis : axes)
    if (axis < flat_from) outer_axes.push_back(axis);
  reduce_loops(n, in, outer_axes, flat_from, 0, acc, t);
  return b_.CreateLoad(t, acc);
}

void BodyEmitter::reduce_loops(const ir::Node& n, Index& in, const std::vector<int64_t>& axes,
                               int64_t flat_from, size_t level, llvm::AllocaInst* acc,
                               llvm::Type* t) {
  const Shape& shape = n.operand(0)->shape();
  auto accumulate_element = [&] {
    scopes_.emplace_back(); // values computed inside the loop do not outlive it
    llvm::Value* x = emit(n.operand(0), in);
    b_.CreateStore(combine(n.op(), b_.CreateLoad(t, acc), x, n.result()->dtype()), acc);
    scopes_.pop_back();
  };
  if (level < axes.size()) {
    int64_t axis = axes[level];
    emit_loop(
        b_, i64(0), i64(shape[axis]),
        [&](llvm::Value* iv) {
          in[axis] = iv;
          reduce_loops(n, in, axes, flat_from, level + 1, acc, t);
        },
        "r");
    return;
  }
  if (flat_from == static_cast<int64_t>(shape.size())) return accumulate_element();
  Shape trailing(shape.begin() + flat_from, shape.end());
  emit_loop(
      b_, i64(0), i64(shape_numel(trailing)),
      [&](llvm::Value* flat) {
        Index trailing_idx = delinearize(flat, trailing);
        std::copy(trailing_idx.begin(), trailing_idx.end(), in.begin() + flat_from);
        accumulate_element();
      },
      "r");
}

llvm::Value* BodyEmitter::reduce_identity(Op op, DType dt) {
  llvm::Type* t = register_type(ctx_, dt);
  bool fl = is_float(dt);
  switch (op) {
  case Op::ReduceSum:
    return fl ? llvm::ConstantFP::get(t, 0.0) : llvm::ConstantInt::get(t, 0);
  case Op::ReduceProd:
    return fl ? llvm::ConstantFP::get(t, 1.0) : llvm::ConstantInt::get(t, 1);
  case Op::ReduceMax:
    return fl ? llvm::ConstantFP::getInfinity(t, true)
              : llvm::ConstantInt::get(t, llvm::APInt::getSignedMinValue(t->getIntegerBitWidth()));
  case Op::ReduceMin:
    return fl ? llvm::ConstantFP::getInfinity(t, false)
              : llvm::ConstantInt::get(t, llvm::APInt::getSignedMaxValue(t->getIntegerBitWidth()));
  default:
    throw_error(ErrorCode::Internal, "not a reduction");
  }
}

llvm::Value* BodyEmitter::combine(Op op, llvm::Value* acc, llvm::Value* x, DType dt) {
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

llvm::Value* BodyEmitter::unary(Op op, llvm::Value* x, DType dt) {
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
    llvm::Value* r = b_.CreateSelect(b_.CreateFCmpOGT(x, fconst(t, 0)), fconst(t, 1), fconst(t, 0));
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

llvm::Value* BodyEmitter::binary(Op op, llvm::Value* a, llvm::Value* c, DType dt) {
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

llvm::Value* BodyEmitter::cast(llvm::Value* x, DType from, DType to) {
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

} // namespace loom::codegen
