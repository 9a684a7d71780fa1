#include "codegen/cpu/program.h"

#include <llvm/IR/IRBuilder.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "codegen/cpu/gemm_update.h"
#include "codegen/cpu/llvm_util.h"
#include "codegen/cpu/loop_kernel.h"
#include "codegen/cpu/matrix_view.h"
#include "codegen/cpu/store_epilogue.h"
#include "ir/builder.h"
#include "ir/clone.h"
#include "ir/error.h"
#include "ir/printer.h"
#include "ir/serialize.h"
#include "ir/shape_rules.h"
#include "ir/window.h"
#include "passes/fuse.h"
#include "runtime/cpu/gemm.h"
#include "runtime/cpu_rt.h"

namespace loom::codegen {

namespace {

constexpr int64_t kAlign = 64;
int64_t align_up(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Wraps one node into a body function whose parameters are the node's operands.
ir::Function* wrap_node(ir::Module& scratch, const ir::Node& n, const std::string& name) {
  ir::Function* body = scratch.add_function(name);
  std::vector<ir::Value*> params;
  for (int i = 0; i < n.num_operands(); ++i)
    params.push_back(body->add_param("p" + std::to_string(i), n.operand(i)->type()));
  std::vector<TensorType> types;
  for (int r = 0; r < n.num_results(); ++r)
    types.push_back(n.result(r)->type());
  ir::Node* copy = body->append(n.op(), params, n.attrs(), types, n.loc());
  for (int r = 0; r < n.num_results(); ++r)
    body->add_output("out" + std::to_string(r), copy->result(r));
  return body;
}

class ProgramLowering {
public:
  ProgramLowering(const ir::Function& fn, llvm::LLVMContext& ctx, const std::string& entry_name)
      : fn_(fn), ctx_(ctx), module_(std::make_unique<llvm::Module>("loom." + fn.name(), ctx)),
        b_(ctx) {
    ptr_ = llvm::PointerType::get(ctx, 0);
    i64_ = llvm::Type::getInt64Ty(ctx);
    i32_ = llvm::Type::getInt32Ty(ctx);
    auto* type = llvm::FunctionType::get(i32_, {ptr_, ptr_, ptr_}, false);
    entry_ = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, entry_name, *module_);
    entry_->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", entry_));
  }

  // A donated parameter is overwritten at its value's node.
  void set_donated(const std::vector<Donation>& donated) {
    for (const auto& [param, value] : donated)
      donated_[param] = fn_.index_of(value->def());
  }

  LoweredProgram run() {
    find_gemm_updates();
    find_absorbed_views();
    count_shared_b_operands();
    assign_homes();
    int index = 0;
    for (const auto& node : fn_.nodes())
      lower_node(*node, index++);
    copy_outputs();
    b_.CreateRet(b_.getInt32(0));
    LoweredProgram p;
    p.module = std::move(module_);
    p.arena_bytes = arena_bytes_;
    p.kernels = kernels_;
    p.library_calls = library_calls_;
    p.interpreter_calls = interpreter_calls_;
    return p;
  }

private:
  llvm::Value* param_ptr(int i) {
    return b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(ptr_, entry_->getArg(0), i));
  }
  llvm::Value* result_ptr(int i) {
    return b_.CreateLoad(ptr_, b_.CreateConstInBoundsGEP1_64(ptr_, entry_->getArg(1), i));
  }

  // Every value gets a home: a parameter buffer, an output buffer, a constant global,
  // or an arena slot. Arena slots are reused once a value is dead (first fit).
  void assign_homes() {
    std::unordered_map<const ir::Value*, int> last_use;
    int index = 0;
    auto read_at = [&](const ir::Value* v, int at) {
      last_use[v] = at;
      if (auto view = views_.find(v); view != views_.end())
        last_use[view->second.source] = at; // read in place
    };
    for (const auto& node : fn_.nodes()) {
      for (const ir::Value* v : node->operands())
        read_at(v, index);
      if (auto u = updates_.find(node.get()); u != updates_.end()) // the GEMMs run here
        for (const GemmTerm& t : u->second.terms) {
          read_at(t.a, index);
          read_at(t.b, index);
        }
      ++index;
    }
    for (size_t i = 0; i < fn_.outputs().size(); ++i) {
      const ir::Value* v = fn_.outputs()[i].value;
      if (v->def()->op() != Op::Parameter && v->def()->op() != Op::Constant &&
          !output_slot_.count(v))
        output_slot_[v] = static_cast<int>(i);
    }
    std::vector<std::pair<int64_t, int64_t>> free_list; // (offset, size)
    std::vector<std::pair<int, const ir::Value*>> live; // (last use, value) in the arena
    index = 0;
    for (const auto& node : fn_.nodes()) {
      // Release buffers whose last use was before this node.
      for (auto it = live.begin(); it != live.end();) {
        if (it->first < index) {
          free_list.push_back({arena_offset_[it->second], align_up(it->second->type().nbytes())});
          it = live.erase(it);
        } else {
          ++it;
        }
      }
      for (int r = 0; r < node->num_results(); ++r) {
        const ir::Value* v = node->result(r);
        if (node->op() == Op::Parameter || node->op() == Op::Constant || output_slot_.count(v) ||
            absorbed_.count(node.get()) || fused_into_.count(node.get()))
          continue;
        int64_t size = align_up(std::max<int64_t>(v->type().nbytes(), 1));
        arena_offset_[v] = allocate(free_list, size);
        live.push_back({last_use.count(v) ? last_use[v] : index, v});
      }
      ++index;
    }
  }

  int64_t allocate(std::vector<std::pair<int64_t, int64_t>>& free_list, int64_t size) {
    for (auto it = free_list.begin(); it != free_list.end(); ++it) {
      if (it->second < size) continue;
      int64_t offset = it->first;
      if (it->second == size)
        free_list.erase(it);
      else
        *it = {offset + size, it->second - size};
      return offset;
    }
    int64_t offset = arena_bytes_;
    arena_bytes_ += size;
    return offset;
  }

  llvm::Value* buffer(const ir::Value* v) {
    if (auto o = buffer_override_.find(v); o != buffer_override_.end()) return o->second;
    if (absorbed_.count(v->def())) materialize(*v->def());
    auto cached = buffer_cache_.find(v);
    if (cached != buffer_cache_.end()) return cached->second;
    llvm::Value* p;
    const ir::Node* def = v->def();
    if (def->op() == Op::Parameter) {
      int i = 0;
      while (fn_.params()[i] != v)
        ++i;
      p = param_ptr(i);
    } else if (def->op() == Op::Constant) {
      p = constant_global(def->attrs().get_literal("constant", "value"));
    } else if (auto it = output_slot_.find(v); it != output_slot_.end()) {
      p = result_ptr(it->second);
    } else {
      p = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), entry_->getArg(2), arena_offset_.at(v));
    }
    buffer_cache_[v] = p;
    return p;
  }

  llvm::Value* constant_global(const Literal& lit) {
    auto* data = llvm::ConstantDataArray::getRaw(
        llvm::StringRef(reinterpret_cast<const char*>(lit.data()), lit.nbytes()), lit.nbytes(),
        b_.getInt8Ty());
    auto* g = new llvm::GlobalVariable(*module_, data->getType(), true,
                                       llvm::GlobalValue::PrivateLinkage, data, "const");
    g->setAlignment(llvm::Align(kAlign));
    return g;
  }

  // A stack array of buffer pointers handed to a kernel or runtime call.
  llvm::Value* pointer_array(const std::vector<const ir::Value*>& values) {
    llvm::IRBuilder<> alloca_builder(&entry_->getEntryBlock(), entry_->getEntryBlock().begin());
    llvm::Value* array = alloca_builder.CreateAlloca(
        ptr_, b_.getInt32(static_cast<uint32_t>(std::max<size_t>(values.size(), 1))));
    for (size_t i = 0; i < values.size(); ++i)
      b_.CreateStore(buffer(values[i]), b_.CreateConstInBoundsGEP1_64(ptr_, array, i));
    return array;
  }

  // Bodies that print alike (an unrolled RNN's steps, a layer's twins) share one kernel.
  LoopKernel loop_kernel(const std::string& name, const ir::Function& body) {
    std::string key = ir::print_function(body);
    key.erase(0, key.find('(')); // the body's own name does not matter
    auto [it, fresh] = kernel_cache_.try_emplace(std::move(key));
    if (fresh) it->second = emit_loop_kernel(*module_, name, body);
    return it->second;
  }

  std::vector<const ir::Value*> kernel_buffers(const ir::Node& n) {
    std::vector<const ir::Value*> values(n.operands().begin(), n.operands().end());
    for (int r = 0; r < n.num_results(); ++r)
      values.push_back(n.result(r));
    return values;
  }

  void lower_node(const ir::Node& n, int index) {
    if (n.op() == Op::Parameter || n.op() == Op::Constant || absorbed_.count(&n) ||
        fused_into_.count(&n))
      return;
    if (auto u = updates_.find(&n); u != updates_.end()) {
      lower_gemm_update(n, u->second);
      return;
    }
    std::string name = "k" + std::to_string(index) + "_" + std::string(n.name());
    if (n.op() == Op::MatMul &&
        (n.result()->dtype() == DType::F32 || n.result()->dtype() == DType::F64)) {
      lower_matmul(n);
      return;
    }
    if (lower_window_op(n)) return;
    if (n.op() == Op::ScatterAdd && lower_scatter_add(n)) return;
    if (passes::is_fusion_of_kind(n, "contraction") && lower_contraction(n, name)) return;
    const ir::Function* body = n.op() == Op::Fusion ? n.body() : nullptr;
    if (!body && (has_trait(n.op(), kElementwise) || has_trait(n.op(), kLayout) ||
                  has_trait(n.op(), kReduction) || has_trait(n.op(), kRandom) ||
                  n.op() == Op::Iota || n.op() == Op::OneHot || is_direct_conv(n)))
      body = wrap_node(scratch_, n, name);
    // Contraction fusions get here when their core is a direct convolution.
    if (body && can_lower_loop_body(*body)) {
      LoopKernel k = loop_kernel(name, *body);
      call_kernel(k, kernel_buffers(n), n);
      return;
    }
    lower_on_interpreter(n, name);
  }

  // A consumer needs an absorbed view's own bytes after all (a fallback path): compute
  // the node now into fresh arena space.
  void materialize(const ir::Node& node) {
    absorbed_.erase(&node);
    for (int r = 0; r < node.num_results(); ++r) {
      views_.erase(node.result(r));
      arena_offset_[node.result(r)] = arena_bytes_;
      arena_bytes_ += align_up(std::max<int64_t>(node.result(r)->type().nbytes(), 1));
    }
    lower_node(node, -1);
  }

  // The view through which a matmul operand is read in place, if it is an absorbed
  // view (or a fusion parameter bound to one).
  std::optional<MatrixView> operand_view(const ir::Value* v) const {
    if (auto it = view_override_.find(v); it != view_override_.end()) return it->second;
    if (buffer_override_.count(v)) return std::nullopt;
    if (auto it = views_.find(v); it != views_.end()) return it->second;
    return std::nullopt;
  }

  // The operand's buffer (at the view's offset) and its GEMM transpose flag and leading
  // dimension (0: dense).
  struct GemmOperand {
    llvm::Value* pointer;
    bool transposed;
    int64_t ld;
  };
  GemmOperand gemm_operand(const ir::Value* v) {
    std::optional<MatrixView> view = operand_view(v);
    if (!view) return {buffer(v), false, 0};
    llvm::Value* base = buffer(view->source);
    llvm::Value* p =
        view->offset == 0
            ? base
            : b_.CreateConstInBoundsGEP1_64(llvm::Type::getIntNTy(ctx_, 8 * dtype_size(v->dtype())),
                                            base, view->offset);
    return {p, view->transposed, view->ld};
  }

  // What an f32 2-D matmul reads as B: the value (or the view's source) and how, with
  // the GEMM's n and k. GEMMs with equal keys read the same bytes the same way: a value
  // keeps its buffer while it is live, and a donated parameter is overwritten only after
  // its last read (find_absorbed_views), so a copy packed by the first stays valid.
  using SharedB = std::tuple<const ir::Value*, int64_t, int64_t, bool, int64_t, int64_t>;
  std::optional<SharedB> shared_b_key(const ir::Node& matmul, const ir::Node* fusion) const {
    if (matmul.result()->rank() != 2 || matmul.result()->dtype() != DType::F32) return std::nullopt;
    const ir::Value* b = matmul.operand(1);
    if (fusion) {
      const auto& params = fusion->body()->params();
      auto it = std::find(params.begin(), params.end(), b);
      if (it == params.end()) return std::nullopt;
      b = fusion->operand(static_cast<int>(it - params.begin()));
    }
    int64_t n = matmul.result()->shape()[1], k = matmul.operand(0)->shape()[1];
    if (auto v = views_.find(b); v != views_.end())
      return SharedB{v->second.source, v->second.offset, v->second.ld, v->second.transposed, n, k};
    return SharedB{b, 0, 0, false, n, k};
  }

  // Before lowering: how many GEMMs read each B, over the top-level matmuls and the
  // matmul cores of fusions (contraction fusions, and those a GEMM update lowers; both
  // are lowered with lowering_fusion_ set, so that their B is the fusion's operand).
  void count_shared_b_operands() {
    for (const auto& node : fn_.nodes()) {
      const ir::Node* core = node.get();
      const ir::Node* fusion = nullptr;
      if (node->op() == Op::Fusion) {
        core = nullptr;
        for (const auto& inner : node->body()->nodes())
          if (inner->op() == Op::MatMul) core = inner.get();
        fusion = node.get();
      }
      if (!core || core->op() != Op::MatMul) continue;
      if (std::optional<SharedB> key = shared_b_key(*core, fusion)) ++shared_b_readers_[*key];
    }
  }

  // The packed-B cache a GEMM passes to loom_rt_matmul (null when its B is read by one
  // GEMM only) and whether it is the first of its readers, which packs.
  std::pair<llvm::Value*, bool> shared_b_cache(const ir::Node& matmul) {
    llvm::Value* none = llvm::ConstantPointerNull::get(ptr_);
    std::optional<SharedB> key = shared_b_key(matmul, lowering_fusion_);
    if (!key) return {none, false};
    auto readers = shared_b_readers_.find(*key);
    if (readers == shared_b_readers_.end() || readers->second < 2) return {none, false};
    auto [slot, first] = shared_b_cache_.try_emplace(*key, arena_bytes_);
    if (first)
      arena_bytes_ += align_up(loom_rt_packed_b_cache_bytes(std::get<4>(*key), std::get<5>(*key)));
    return {b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), entry_->getArg(2), slot->second), first};
  }

  // An epilogue the GEMM applies as it stores C (codegen/cpu/store_epilogue.h), with
  // the buffer of its bias or of its mask (null when it has none).
  struct StoreArgs {
    StoreEpilogue epilogue;
    llvm::Value* bias = nullptr;
    llvm::Value* mask = nullptr;
  };

  void lower_matmul(const ir::Node& n, double alpha = 1.0, double beta = 0.0,
                    const std::optional<StoreArgs>& store = std::nullopt) {
    const Shape &a = n.operand(0)->shape(), &bs = n.operand(1)->shape(), &c = n.result()->shape();
    int64_t m = a[a.size() - 2], k = a.back(), nn = bs.back();
    size_t batch_rank = c.size() - 2;
    std::vector<int64_t> dims(c.begin(), c.end() - 2), a_strides(batch_rank, 0),
        b_strides(batch_rank, 0);
    auto strides_of = [&](const Shape& s, std::vector<int64_t>& out) {
      int64_t stride = s[s.size() - 2] * s.back();
      for (size_t i = 0; i + 2 < s.size(); ++i) {
        size_t d = s.size() - 3 - i;    // operand batch dim, from the right
        size_t od = batch_rank - 1 - i; // output batch dim
        out[od] = s[d] == 1 ? 0 : stride;
        stride *= s[d];
      }
    };
    strides_of(a, a_strides);
    strides_of(bs, b_strides);
    auto array = [&](const std::vector<int64_t>& values) -> llvm::Value* {
      auto* type = llvm::ArrayType::get(i64_, values.size());
      auto* init = llvm::ConstantDataArray::get(ctx_, values);
      return new llvm::GlobalVariable(*module_, type, true, llvm::GlobalValue::PrivateLinkage, init,
                                      "dims");
    };
    llvm::Value* dims_g = batch_rank ? array(dims) : llvm::ConstantPointerNull::get(ptr_);
    llvm::Value* as_g = batch_rank ? array(a_strides) : llvm::ConstantPointerNull::get(ptr_);
    llvm::Value* bs_g = batch_rank ? array(b_strides) : llvm::ConstantPointerNull::get(ptr_);
    llvm::Type* f64 = b_.getDoubleTy();
    std::vector<llvm::Type*> params = {i32_, i32_, ptr_, ptr_, ptr_, i64_, i64_, i64_,
                                       i64_, ptr_, ptr_, ptr_, i64_, i64_, f64,  f64,
                                       ptr_, i32_, i32_, ptr_, ptr_, f64};
    llvm::FunctionCallee matmul = module_->getOrInsertFunction(
        "loom_rt_matmul", llvm::FunctionType::get(b_.getVoidTy(), params, false));
    int dtype = n.result()->dtype() == DType::F32 ? 0 : 1;
    // Views feeding the matmul (transposes, row slices) are read in place.
    GemmOperand ga = gemm_operand(n.operand(0)), gb = gemm_operand(n.operand(1));
    int flags = (ga.transposed ? 1 : 0) | (gb.transposed ? 2 : 0);
    std::pair<llvm::Value*, bool> cache =
        batch_rank == 0
            ? shared_b_cache(n)
            : std::pair<llvm::Value*, bool>{llvm::ConstantPointerNull::get(ptr_), false};
    std::vector<llvm::Value*> args{b_.getInt32(dtype),
                                   b_.getInt32(flags),
                                   ga.pointer,
                                   gb.pointer,
                                   buffer(n.result()),
                                   b_.getInt64(m),
                                   b_.getInt64(nn),
                                   b_.getInt64(k),
                                   b_.getInt64(batch_rank),
                                   dims_g,
                                   as_g,
                                   bs_g,
                                   b_.getInt64(ga.ld),
                                   b_.getInt64(gb.ld),
                                   llvm::ConstantFP::get(f64, alpha),
                                   llvm::ConstantFP::get(f64, beta),
                                   cache.first,
                                   b_.getInt32(cache.second ? 1 : 0)};
    // The store epilogue: kind, bias, mask, fill.
    args.push_back(b_.getInt32(store ? store->epilogue.kind : 0));
    llvm::Value* none = llvm::ConstantPointerNull::get(ptr_);
    args.push_back(store && store->bias ? store->bias : none);
    args.push_back(store && store->mask ? store->mask : none);
    args.push_back(llvm::ConstantFP::get(f64, store ? store->epilogue.fill : 0.0));
    b_.CreateCall(matmul, args);
    ++library_calls_;
  }

  // Nodes whose every result is a matrix view (codegen/cpu/matrix_view.h) read only as
  // matmul operands (directly, or as the core matmul operand of a contraction fusion)
  // are not materialized: the GEMMs read their sources in place.
  void find_absorbed_views() {
    for (const auto& node : fn_.nodes()) {
      if (node->op() == Op::Parameter || node->op() == Op::Constant || node->num_results() == 0)
        continue;
      std::vector<MatrixView> found;
      bool absorb = true;
      for (int r = 0; r < node->num_results() && absorb; ++r) {
        const ir::Value* v = node->result(r);
        std::optional<MatrixView> view = matrix_view(v);
        if (!view || v->uses().empty()) {
          absorb = false;
          break;
        }
        // A donated parameter must not be overwritten before a deferred read happens.
        int overwritten_at =
            donated_.count(view->source) ? donated_.at(view->source) : fn_.num_nodes();
        for (const ir::Use& u : v->uses())
          absorb = absorb && u.user && reads_as_matmul_operand(*u.user, u.index) &&
                   read_index(*u.user) < overwritten_at;
        found.push_back(*view);
      }
      if (!absorb) continue;
      absorbed_.insert(node.get());
      for (int r = 0; r < node->num_results(); ++r)
        views_[node->result(r)] = found[r];
    }
    skip_bypassed_producers();
  }

  // A node read only by absorbed views that reach past it (a slice feeding a reshape
  // that a GEMM reads in place) is never read: it is not computed either.
  void skip_bypassed_producers() {
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& node : fn_.nodes()) {
        if (node->op() == Op::Parameter || node->op() == Op::Constant ||
            absorbed_.count(node.get()))
          continue;
        bool bypassed = node->num_results() > 0;
        for (int r = 0; r < node->num_results() && bypassed; ++r) {
          const ir::Value* v = node->result(r);
          if (v->uses().empty()) bypassed = false;
          for (const ir::Use& u : v->uses())
            bypassed = bypassed && u.user && absorbed_.count(u.user) && read_past(*u.user, *node);
        }
        if (!bypassed) continue;
        absorbed_.insert(node.get());
        changed = true;
      }
    }
  }

  // Whether the absorbed node's views read their sources without reading `producer`.
  bool read_past(const ir::Node& absorbed, const ir::Node& producer) const {
    for (int r = 0; r < absorbed.num_results(); ++r) {
      auto it = views_.find(absorbed.result(r));
      if (it != views_.end() && it->second.source->def() == &producer) return false;
    }
    return true;
  }

  static const ir::Node* core_contraction(const ir::Node& fusion) {
    const ir::Node* core = nullptr;
    for (const auto& inner : fusion.body()->nodes())
      if (inner->op() == Op::MatMul || inner->op() == Op::Conv2D) {
        if (core) return nullptr;
        core = inner.get();
      }
    return core;
  }

  static bool reads_as_matmul_operand(const ir::Node& user, int index) {
    if (user.op() == Op::MatMul)
      return user.result()->dtype() == DType::F32 || user.result()->dtype() == DType::F64;
    if (!passes::is_fusion_of_kind(user, "contraction")) return false;
    const ir::Node* core = core_contraction(user);
    if (!core || core->op() != Op::MatMul) return false;
    const ir::Value* param = user.body()->params()[index];
    for (const ir::Use& u : param->uses())
      if (u.user != core) return false;
    return true;
  }

  // Runs a loop kernel over its rows; if it can fail, checks its error flag afterwards
  // and returns from the entry with the op's message.
  void call_kernel(const LoopKernel& k, const std::vector<const ir::Value*>& values,
                   const ir::Node& n) {
    llvm::Value* bufs = pointer_array(values);
    llvm::FunctionCallee parallel_for = module_->getOrInsertFunction(
        "loom_rt_parallel_for",
        llvm::FunctionType::get(b_.getVoidTy(), {ptr_, ptr_, i64_, i64_}, false));
    b_.CreateCall(parallel_for, {k.function, bufs, b_.getInt64(k.rows), b_.getInt64(k.chunks)});
    ++kernels_;
    if (!k.can_fail) return;
    llvm::GlobalVariable* flag = module_->getGlobalVariable("loom.error_flag", true);
    llvm::Value* raised = b_.CreateICmpNE(b_.CreateLoad(b_.getInt32Ty(), flag), b_.getInt32(0));
    std::string where = n.loc().known() ? " (node at " + n.loc().str() + ")" : "";
    std::string message = std::string(n.name()) + ": an index is out of range" + where;
    return_error_if(raised, message, flag);
  }

  void return_error_if(llvm::Value* condition, const std::string& message,
                       llvm::GlobalVariable* flag) {
    llvm::BasicBlock* fail = llvm::BasicBlock::Create(ctx_, "fail", entry_);
    llvm::BasicBlock* ok = llvm::BasicBlock::Create(ctx_, "ok", entry_);
    b_.CreateCondBr(condition, fail, ok);
    b_.SetInsertPoint(fail);
    if (flag) b_.CreateStore(b_.getInt32(0), flag);
    llvm::FunctionCallee set_error = module_->getOrInsertFunction(
        "loom_rt_set_error", llvm::FunctionType::get(b_.getVoidTy(), {ptr_}, false));
    b_.CreateCall(set_error, {b_.CreateGlobalStringPtr(message)});
    b_.CreateRet(b_.getInt32(1));
    b_.SetInsertPoint(ok);
  }

  // scatter_add (f32/f64 with i32/i64 indices) calls the runtime, which reports
  // out-of-range indices through its return value.
  bool lower_scatter_add(const ir::Node& n) {
    DType dt = n.result()->dtype(), it = n.operand(1)->dtype();
    if (dt != DType::F32 && dt != DType::F64) return false;
    int64_t axis = n.attrs().get_int("scatter_add", "axis");
    const Shape& x = n.operand(0)->shape();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= x[d];
    for (size_t d = axis + 1; d < x.size(); ++d)
      inner *= x[d];
    llvm::FunctionCallee fn = module_->getOrInsertFunction(
        "loom_rt_scatter_add",
        llvm::FunctionType::get(i32_, {i32_, i32_, ptr_, ptr_, ptr_, ptr_, i64_, i64_, i64_, i64_},
                                false));
    llvm::Value* status = b_.CreateCall(
        fn, {b_.getInt32(dt == DType::F32 ? 0 : 1), b_.getInt32(it == DType::I32 ? 0 : 1),
             buffer(n.operand(0)), buffer(n.operand(1)), buffer(n.operand(2)), buffer(n.result()),
             b_.getInt64(outer), b_.getInt64(x[axis]), b_.getInt64(inner),
             b_.getInt64(n.operand(1)->type().numel())});
    std::string where = n.loc().known() ? " (node at " + n.loc().str() + ")" : "";
    return_error_if(b_.CreateICmpNE(status, b_.getInt32(0)),
                    "scatter_add: an index is out of range" + where, nullptr);
    ++library_calls_;
    return true;
  }

  // A contraction fusion: the matmul/conv writes straight into the fusion's output
  // buffer, then a loop kernel applies the elementwise epilogue in place; or the GEMM
  // applies it as it stores C, when it is one it knows (codegen/cpu/store_epilogue.h).
  bool lower_contraction(const ir::Node& fusion, const std::string& name) {
    const ir::Function& body = *fusion.body();
    const ir::Node* core = nullptr;
    for (const auto& inner : body.nodes()) {
      if (inner->op() != Op::MatMul && inner->op() != Op::Conv2D) continue;
      if (core) return false;
      core = inner.get();
    }
    if (!core || is_direct_conv(*core) || fusion.num_results() != 1 ||
        fusion.result()->type() != core->result()->type())
      return false;
    for (const ir::Value* v : core->operands())
      if (v->def()->op() != Op::Parameter) return false;
    DType dt = core->result()->dtype();
    if (dt != DType::F32 && !(dt == DType::F64 && core->op() == Op::MatMul)) return false;

    // The epilogue as its own body: the fusion's parameters plus the contraction result.
    ir::Function* epilogue = scratch_.add_function(name + ".epilogue");
    std::unordered_map<const ir::Value*, ir::Value*> map;
    for (size_t i = 0; i < body.params().size(); ++i)
      map[body.params()[i]] =
          epilogue->add_param("p" + std::to_string(i), body.params()[i]->type());
    map[core->result()] = epilogue->add_param("acc", core->result()->type());
    for (const auto& inner : body.nodes()) {
      if (inner->op() == Op::Parameter || inner.get() == core) continue;
      std::vector<ir::Value*> ops;
      for (ir::Value* v : inner->operands())
        ops.push_back(map.at(v));
      std::vector<TensorType> types;
      for (int r = 0; r < inner->num_results(); ++r)
        types.push_back(inner->result(r)->type());
      ir::Node* copy = epilogue->append(inner->op(), ops, inner->attrs(), types, inner->loc());
      for (int r = 0; r < inner->num_results(); ++r)
        map[inner->result(r)] = copy->result(r);
    }
    epilogue->add_output("out", map.at(body.outputs()[0].value));
    if (!can_lower_loop_body(*epilogue)) return false;

    bool has_epilogue = body.outputs()[0].value != core->result();
    std::optional<StoreArgs> store;
    if (has_epilogue && core->op() == Op::MatMul && dt == DType::F32)
      if (std::optional<StoreEpilogue> e = match_store_epilogue(*epilogue)) {
        const ir::Value* operand = e->operand >= 0 ? fusion.operand(e->operand) : nullptr;
        if (!operand || !views_.count(operand)) {
          llvm::Value* read = operand ? buffer(operand) : nullptr;
          bool is_mask = e->kind == cpu::GemmEpilogue::kSelect;
          store = StoreArgs{*e, is_mask ? nullptr : read, is_mask ? read : nullptr};
        }
      }

    bind_body_params(fusion);
    buffer_override_[core->result()] = buffer(fusion.result());
    lowering_fusion_ = &fusion;
    bool lowered = core->op() == Op::MatMul ? (lower_matmul(*core, 1.0, 0.0, store), true)
                                            : lower_window_op(*core);
    lowering_fusion_ = nullptr;
    buffer_override_.clear();
    view_override_.clear();
    if (!lowered) return false;
    if (!has_epilogue || store) return true;

    LoopKernel k = loop_kernel(name, *epilogue);
    std::vector<const ir::Value*> values;
    for (const ir::Value* operand : fusion.operands()) // absorbed views are not read here
      values.push_back(views_.count(operand) ? views_.at(operand).source : operand);
    values.push_back(fusion.result()); // acc, read in place
    values.push_back(fusion.result()); // out
    call_kernel(k, values, fusion);
    return true;
  }

  // A fusion body's parameters read the fusion operands' buffers (absorbed views: their
  // sources, through the GEMM's flags, leading dimension and offset).
  void bind_body_params(const ir::Node& fusion) {
    const ir::Function& body = *fusion.body();
    for (size_t i = 0; i < body.params().size(); ++i) {
      const ir::Value* operand = fusion.operand(static_cast<int>(i));
      if (views_.count(operand)) {
        view_override_[body.params()[i]] = views_.at(operand);
        buffer_override_[body.params()[i]] = nullptr; // never read directly
      } else if (fused_into_.count(operand->def())) {
        buffer_override_[body.params()[i]] = nullptr; // a product accumulated, never stored
      } else {
        buffer_override_[body.params()[i]] = buffer(operand);
      }
    }
  }

  // GEMM accumulations (codegen/cpu/gemm_update.h). Skipped when a deferred GEMM would
  // read a donated parameter after (or while) it is overwritten.
  void find_gemm_updates() {
    for (const auto& node : fn_.nodes()) {
      std::optional<GemmAccumulation> u = match_gemm_accumulation(*node);
      if (!u) continue;
      int at = fn_.index_of(node.get());
      bool safe = true;
      for (const GemmTerm& t : u->terms)
        for (const ir::Value* v : {t.a, t.b}) {
          std::optional<MatrixView> view = matrix_view(v);
          const ir::Value* source = view ? view->source : nullptr;
          for (const ir::Value* read : {v, source})
            if (read && donated_.count(read) && donated_.at(read) <= at) safe = false;
        }
      if (!safe) continue;
      for (const ir::Node* f : u->fused)
        fused_into_[f] = node.get();
      updates_[node.get()] = std::move(*u);
    }
  }

  // Where a node's operands are read: a product fused into a GEMM update is read there.
  int read_index(const ir::Node& n) const {
    auto it = fused_into_.find(&n);
    return fn_.index_of(it != fused_into_.end() ? it->second : &n);
  }

  // out = beta P + alpha (A0 B0 + A1 B1 + ...): P is copied into out unless they share a
  // buffer (a donated parameter updated in place), then the GEMMs accumulate into out.
  void lower_gemm_update(const ir::Node& node, const GemmAccumulation& u) {
    llvm::Value* out = buffer(node.result());
    double first_beta = 0.0;
    if (u.accumulator) {
      llvm::Value* acc = buffer(u.accumulator);
      llvm::BasicBlock* copy = llvm::BasicBlock::Create(ctx_, "copy_acc", entry_);
      llvm::BasicBlock* gemm = llvm::BasicBlock::Create(ctx_, "gemm_update", entry_);
      b_.CreateCondBr(b_.CreateICmpEQ(out, acc), gemm, copy);
      b_.SetInsertPoint(copy);
      b_.CreateMemCpy(out, llvm::MaybeAlign(4), acc, llvm::MaybeAlign(4),
                      node.result()->type().nbytes());
      b_.CreateBr(gemm);
      b_.SetInsertPoint(gemm);
      first_beta = u.beta;
    }
    for (size_t i = 0; i < u.terms.size(); ++i) {
      const GemmTerm& t = u.terms[i];
      if (t.fusion) bind_body_params(*t.fusion);
      buffer_override_[t.matmul->result()] = out;
      lowering_fusion_ = t.fusion;
      lower_matmul(*t.matmul, u.alpha, i == 0 ? first_beta : 1.0);
      lowering_fusion_ = nullptr;
      buffer_override_.clear();
      view_override_.clear();
    }
  }

  llvm::Value* i64_array(const std::vector<int64_t>& values, const char* name) {
    auto* init = llvm::ConstantDataArray::get(ctx_, values);
    return new llvm::GlobalVariable(*module_, init->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, init, name);
  }

  // Convolutions and pooling in f32 call the runtime's im2col/GEMM and pooling loops.
  bool lower_window_op(const ir::Node& n) {
    if (n.num_operands() == 0 || n.operand(0)->dtype() != DType::F32 || is_direct_conv(n))
      return false;
    std::vector<int64_t> params;
    std::vector<const ir::Value*> args;
    switch (n.op()) {
    case Op::Conv2D:
    case Op::Conv2DBackpropInput:
    case Op::Conv2DBackpropFilter: {
      // The runtime's ConvShape (runtime/cpu/conv.cpp) reads these in this order.
      ir::ConvGeometry g = ir::conv_geometry(n);
      const ir::Window2D& win = g.window;
      params = {g.x[0],       g.x[1],         g.x[2],         g.x[3],
                g.w[0],       g.w[2],         g.w[3],         g.y[2],
                g.y[3],       win.stride_h,   win.stride_w,   win.pad_top,
                win.pad_left, win.dilation_h, win.dilation_w, g.groups};
      args = {n.operand(0), n.operand(1), n.result()};
      break;
    }
    case Op::MaxPool2D:
    case Op::MaxPool2DGrad:
    case Op::AvgPool2D:
    case Op::AvgPool2DGrad: {
      // The runtime's PoolShape (runtime/cpu/pool.cpp) reads these in this order.
      ir::PoolGeometry g = ir::pool_geometry(n);
      const ir::Window2D& win = g.window;
      params = {
          g.x[0],      g.x[1],       g.x[2],         g.x[3],        g.y[2],
          g.y[3],      g.kernel_h,   g.kernel_w,     win.stride_h,  win.stride_w,
          win.pad_top, win.pad_left, win.pad_bottom, win.pad_right, g.count_include_pad ? 1 : 0};
      args.assign(n.operands().begin(), n.operands().end());
      args.push_back(n.result());
      break;
    }
    default:
      return false;
    }
    std::vector<llvm::Type*> arg_types(args.size() + 1, ptr_);
    llvm::FunctionCallee callee =
        module_->getOrInsertFunction("loom_rt_" + std::string(n.name()) + "_f32",
                                     llvm::FunctionType::get(b_.getVoidTy(), arg_types, false));
    std::vector<llvm::Value*> call_args;
    for (const ir::Value* v : args)
      call_args.push_back(buffer(v));
    call_args.push_back(i64_array(params, "window"));
    b_.CreateCall(callee, call_args);
    ++library_calls_;
    return true;
  }

  // Serializes the group as a one-function module and calls the interpreter on it.
  void lower_on_interpreter(const ir::Node& n, const std::string& name) {
    ir::Module group;
    if (n.op() == Op::Fusion)
      ir::clone_function_into(*n.body(), group, "main");
    else
      wrap_node(group, n, "main");
    std::string bytes = ir::serialize_module(group);
    auto* data = llvm::ConstantDataArray::getRaw(bytes, bytes.size(), b_.getInt8Ty());
    auto* g = new llvm::GlobalVariable(*module_, data->getType(), true,
                                       llvm::GlobalValue::PrivateLinkage, data, name + ".ir");
    llvm::Value* bufs = pointer_array(kernel_buffers(n));
    llvm::FunctionCallee call = module_->getOrInsertFunction(
        "loom_rt_interp_call", llvm::FunctionType::get(i32_, {ptr_, i64_, ptr_}, false));
    llvm::Value* status = b_.CreateCall(call, {g, b_.getInt64(bytes.size()), bufs});
    // Propagate a run-time error (e.g. an index out of range) to the caller.
    llvm::BasicBlock* fail = llvm::BasicBlock::Create(ctx_, "fail", entry_);
    llvm::BasicBlock* ok = llvm::BasicBlock::Create(ctx_, "ok", entry_);
    b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(0)), fail, ok);
    b_.SetInsertPoint(fail);
    b_.CreateRet(status);
    b_.SetInsertPoint(ok);
    ++interpreter_calls_;
  }

  // Outputs that are parameters, constants or repeated values are copied into place.
  void copy_outputs() {
    for (size_t i = 0; i < fn_.outputs().size(); ++i) {
      const ir::Value* v = fn_.outputs()[i].value;
      auto it = output_slot_.find(v);
      if (it != output_slot_.end() && it->second == static_cast<int>(i)) continue;
      int64_t bytes = v->type().nbytes();
      if (bytes == 0) continue;
      b_.CreateMemCpy(result_ptr(static_cast<int>(i)), llvm::MaybeAlign(kAlign), buffer(v),
                      llvm::MaybeAlign(kAlign), bytes);
    }
  }

  const ir::Function& fn_;
  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> b_;
  llvm::Function* entry_;
  llvm::PointerType* ptr_;
  llvm::Type *i64_, *i32_;
  ir::Module scratch_; // wrapped single-node bodies
  std::unordered_map<const ir::Value*, int> output_slot_;
  std::unordered_map<const ir::Value*, int64_t> arena_offset_;
  std::unordered_map<const ir::Value*, llvm::Value*> buffer_cache_;
  // Body values of a contraction fusion mapped to the fusion's buffers while lowering it.
  std::unordered_map<const ir::Value*, llvm::Value*> buffer_override_;
  std::unordered_map<const ir::Value*, MatrixView> view_override_;
  std::unordered_map<std::string, LoopKernel> kernel_cache_; // body text -> kernel
  std::unordered_set<const ir::Node*> absorbed_;             // nodes whose results are all views
  std::unordered_map<const ir::Value*, MatrixView> views_;   // results of absorbed nodes
  std::unordered_map<const ir::Node*, GemmAccumulation> updates_; // node -> the GEMMs computing it
  std::unordered_map<const ir::Node*, const ir::Node*>
      fused_into_; // product -> update node // transposes read in place by GEMMs
  std::unordered_map<const ir::Value*, int>
      donated_; // parameter -> index of the node overwriting it
  // Matmul B operands read unchanged by several f32 GEMMs: how many read each, and the
  // arena offset of its packed copy (loom_rt_matmul's b_cache) once the first is lowered.
  std::map<SharedB, int> shared_b_readers_;
  std::map<SharedB, int64_t> shared_b_cache_;
  const ir::Node* lowering_fusion_ = nullptr; // the fusion whose core matmul is lowered
  int64_t arena_bytes_ = 0;
  int kernels_ = 0, library_calls_ = 0, interpreter_calls_ = 0;
};

} // namespace

LoweredProgram lower_program(const ir::Function& fn, llvm::LLVMContext& ctx,
                             const std::string& entry_name, const std::vector<Donation>& donated) {
  ProgramLowering lowering(fn, ctx, entry_name);
  lowering.set_donated(donated);
  return lowering.run();
}

} // namespace loom::codegen
