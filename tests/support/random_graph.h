// Random IR graphs for property tests (fixed seeds): elementwise ops with broadcasting
// and simplifiable constants, reductions, matmuls, reshapes, transposes, broadcasts,
// slices, pads, concats, softmax and log-sigmoid patterns, and parameter updates
// (outputs aliasing parameters).
#pragma once

#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/ir.h"

namespace loom::test {

inline TensorType random_graph_f32(Shape s) { return {DType::F32, std::move(s)}; }

class RandomGraph {
public:
  explicit RandomGraph(uint32_t seed)
      : rng_(seed), fn_(module_->add_function("random_" + std::to_string(seed))), b_(*fn_) {
    for (int64_t& d : dims_)
      d = pick(1, 5);
  }

  std::unique_ptr<ir::Module> build() {
    pool_.push_back(param(random_shape()));
    int steps = pick(4, 14);
    for (int i = 0; i < steps; ++i)
      step();
    add_outputs();
    return std::move(module_);
  }

private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  ir::Value* any() { return pool_[pick(0, static_cast<int>(pool_.size()) - 1)]; }
  ir::Value* op(Op o, std::vector<ir::Value*> args, Attrs attrs = {}) {
    return b_.op(o, args, std::move(attrs));
  }
  ir::Value* scalar(double v) { return b_.scalar(DType::F32, v); }

  // Shapes built from three base dimensions, so independent values often broadcast.
  Shape random_shape() {
    Shape s;
    int rank = pick(1, 3);
    for (int i = 0; i < rank; ++i)
      s.push_back(chance(0.2) ? 1 : dims_[pick(0, 2)]);
    return s;
  }

  ir::Value* param(Shape s) {
    ir::Value* p =
        fn_->add_param("p" + std::to_string(fn_->params().size()), random_graph_f32(std::move(s)));
    return p;
  }

  // A value whose shape broadcasts with x's: another value if one fits, else a new
  // parameter or a constant (0, 1, -1, 0.5: some simplify away).
  ir::Value* partner(ir::Value* x) {
    if (chance(0.25)) return scalar(std::vector<double>{0.0, 1.0, -1.0, 0.5}[pick(0, 3)]);
    for (int attempt = 0; attempt < 4; ++attempt) {
      ir::Value* y = any();
      if (broadcast_shapes(x->shape(), y->shape())) return y;
    }
    Shape s = x->shape();
    for (int64_t& d : s)
      if (chance(0.3)) d = 1;
    if (!s.empty() && chance(0.3)) s.erase(s.begin());
    return param(s);
  }

  void step() {
    int kind = pick(0, 99);
    ir::Value* x = any();
    ir::Value* out = nullptr;
    if (kind < 28)
      out = unary(x);
    else if (kind < 52)
      out = binary(x);
    else if (kind < 62)
      out = reduce(x);
    else if (kind < 70)
      out = matmul(x);
    else if (kind < 76)
      out = reshape(x);
    else if (kind < 82)
      out = transpose(x);
    else if (kind < 86)
      out = broadcast(x);
    else if (kind < 91)
      out = data_movement(x);
    else if (kind < 95)
      out = softmax_log(x);
    else
      out = select(x);
    if (out) pool_.push_back(out);
  }

  ir::Value* unary(ir::Value* x) {
    switch (pick(0, 7)) {
    case 0:
      return op(Op::Neg, {x});
    case 1:
      return op(Op::Abs, {x});
    case 2:
      return op(Op::Tanh, {x});
    case 3:
      return op(Op::Sigmoid, {x});
    case 4:
      return op(Op::Relu, {x});
    case 5:
      return op(Op::Exp, {op(Op::Tanh, {x})});
    case 6:
      return op(Op::Log, {op(Op::Sigmoid, {x})}); // log-sigmoid rewrite
    default:
      return op(Op::Neg, {op(Op::Neg, {x})}); // simplifies away
    }
  }

  ir::Value* binary(ir::Value* x) {
    ir::Value* y = partner(x);
    switch (pick(0, 5)) {
    case 0:
      return op(Op::Add, {x, y});
    case 1:
      return op(Op::Sub, {y, x});
    case 2:
      return op(Op::Mul, {x, y});
    case 3:
      return op(Op::Maximum, {x, y});
    case 4:
      return op(Op::Minimum, {x, y});
    default:
      return op(Op::Div, {x, op(Op::Add, {op(Op::Abs, {y}), scalar(1.0)})});
    }
  }

  ir::Value* reduce(ir::Value* x) {
    if (x->shape().empty()) return nullptr;
    std::vector<int64_t> axes;
    for (int64_t a = 0; a < x->type().rank(); ++a)
      if (chance(0.5)) axes.push_back(a);
    if (axes.empty()) axes.push_back(x->type().rank() - 1);
    Op o = std::vector<Op>{Op::ReduceSum, Op::ReduceMax, Op::ReduceMin}[pick(0, 2)];
    return op(o, {x}, {{"axes", axes}, {"keepdims", chance(0.5)}});
  }

  ir::Value* matmul(ir::Value* x) {
    if (x->type().rank() < 2) x = op(Op::Reshape, {x}, {{"shape", Shape{1, x->type().numel()}}});
    int64_t k = x->shape().back();
    ir::Value* y = nullptr;
    for (ir::Value* v : pool_)
      if (v->type().rank() == 2 && v->shape()[0] == k && chance(0.5)) y = v;
    if (!y) y = param({k, dims_[pick(0, 2)]});
    ir::Value* mm = op(Op::MatMul, {x, y});
    if (chance(0.5)) return mm;
    // A bias epilogue.
    return op(Op::Relu, {op(Op::Add, {mm, param({mm->shape().back()})})});
  }

  ir::Value* reshape(ir::Value* x) {
    Shape s = chance(0.5) ? Shape{x->type().numel()} : x->shape();
    if (s == x->shape()) s.insert(s.begin(), 1);
    return op(Op::Reshape, {x}, {{"shape", s}});
  }

  ir::Value* transpose(ir::Value* x) {
    if (x->type().rank() < 2) return nullptr;
    std::vector<int64_t> perm(x->type().rank());
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng_);
    ir::Value* t = op(Op::Transpose, {x}, {{"perm", perm}});
    if (chance(0.3)) { // transpose back: simplifies away
      std::vector<int64_t> inverse(perm.size());
      for (size_t i = 0; i < perm.size(); ++i)
        inverse[perm[i]] = static_cast<int64_t>(i);
      return op(Op::Transpose, {t}, {{"perm", inverse}});
    }
    return t;
  }

  ir::Value* broadcast(ir::Value* x) {
    Shape s = x->shape();
    for (int64_t& d : s)
      if (d == 1) d = dims_[pick(0, 2)];
    if (s.size() < 3) s.insert(s.begin(), dims_[pick(0, 2)]);
    return op(Op::BroadcastTo, {x}, {{"shape", s}});
  }

  ir::Value* data_movement(ir::Value* x) {
    int64_t rank = x->type().rank();
    if (rank == 0) return nullptr;
    switch (pick(0, 2)) {
    case 0: {
      std::vector<int64_t> start(rank, 0), stop = x->shape(), step(rank, 1);
      int64_t axis = pick(0, static_cast<int>(rank) - 1);
      stop[axis] = (x->shape()[axis] + 1) / 2;
      return op(Op::Slice, {x}, {{"start", start}, {"stop", stop}, {"step", step}});
    }
    case 1: {
      std::vector<int64_t> lo(rank, 0), hi(rank, 1);
      return op(Op::Pad, {x}, {{"pads_lo", lo}, {"pads_hi", hi}, {"value", 0.5}});
    }
    default:
      return op(Op::Concat, {x, op(Op::Neg, {x})}, {{"axis", int64_t{0}}});
    }
  }

  // log(softmax(x)) along the last axis, naively (the stability pass rewrites it).
  ir::Value* softmax_log(ir::Value* x) {
    if (x->shape().empty()) return nullptr;
    int64_t axis = x->type().rank() - 1;
    ir::Value* bounded = op(Op::Mul, {op(Op::Tanh, {x}), scalar(3.0)});
    ir::Value* e = op(Op::Exp, {bounded});
    ir::Value* s =
        op(Op::ReduceSum, {e}, {{"axes", std::vector<int64_t>{axis}}, {"keepdims", true}});
    ir::Value* p = op(Op::Div, {e, op(Op::BroadcastTo, {s}, {{"shape", x->shape()}})});
    return op(Op::Log, {p});
  }

  ir::Value* select(ir::Value* x) {
    ir::Value* y = partner(x);
    return op(Op::Select, {op(Op::Gt, {x, scalar(0.0)}), x, y});
  }

  void add_outputs() {
    std::vector<ir::Value*> outs{pool_.back()};
    for (int i = 0; i < 2; ++i)
      if (chance(0.5)) outs.push_back(any());
    for (size_t i = 0; i < outs.size(); ++i)
      fn_->add_output("out" + std::to_string(i), outs[i]);
    // Parameter updates: p - 0.1 * v for a value v broadcasting to p's shape.
    for (ir::Value* p : std::vector<ir::Value*>(fn_->params())) {
      if (!chance(0.4)) continue;
      for (auto it = pool_.rbegin(); it != pool_.rend(); ++it) {
        std::optional<Shape> joined = broadcast_shapes(p->shape(), (*it)->shape());
        if (!joined || *joined != p->shape()) continue;
        ir::Value* update = op(Op::Sub, {p, op(Op::Mul, {scalar(0.1), *it})});
        std::string name = "new." + p->name();
        fn_->add_output(name, update);
        fn_->set_output_alias(name, p->name());
        break;
      }
    }
  }

  std::mt19937 rng_;
  std::unique_ptr<ir::Module> module_ = std::make_unique<ir::Module>();
  ir::Function* fn_;
  ir::Builder b_;
  std::vector<ir::Value*> pool_;
  int64_t dims_[3] = {1, 1, 1};
};

} // namespace loom::test
