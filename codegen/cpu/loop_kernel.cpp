#include "codegen/cpu/loop_kernel.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <algorithm>
#include <functional>
#include <set>

#include "codegen/cpu/body_emitter.h"
#include "codegen/cpu/llvm_util.h"
#include "ir/window.h"

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

bool is_small_conv(const ir::Node& n) {
  return n.op() == Op::Conv2D && is_float(n.result()->dtype()) &&
         ir::conv_geometry(n).taps() <= kDirectConvTaps;
}

bool is_direct_conv(const ir::Node& n) {
  return is_small_conv(n) && !ir::conv_geometry(n).window.padded();
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

// Whether a reduction of the body sums at least this many elements into each output:
// its outputs then get a row each, so that a few of them (a bias gradient's 6 or 16)
// still spread over the threads instead of running as one row.
constexpr int64_t kLongReduction = 1024;
bool has_long_reductions(const ir::Function& body) {
  return std::any_of(body.nodes().begin(), body.nodes().end(), [](const auto& n) {
    return is_reduce(n->op()) &&
           n->operand(0)->type().numel() >=
               kLongReduction * std::max<int64_t>(n->result()->type().numel(), 1);
  });
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
  int64_t tile = !columns.empty() ? kColumnTile : has_long_reductions(body) ? 1 : 4096;
  RowSpace space = row_space(shape, tile);
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
  int64_t most = std::min<int64_t>(space.rows, 64);
  k.chunks = work < (1 << 13)
                 ? 1
                 : std::clamp<int64_t>(work / (1 << 14), std::min<int64_t>(2, most), most);
  // A kernel that touches few elements runs in microseconds: compile it for size, which
  // skips vectorization and loop versioning (most of LLVM's time on a training step).
  if (work < kSmallKernelElements) {
    fn->addFnAttr(llvm::Attribute::OptimizeForSize);
    fn->addFnAttr(llvm::Attribute::MinSize);
  }
  return k;
}

} // namespace loom::codegen
