// ir::conv_geometry and ir::pool_geometry: each role's shape comes from the right
// operand or result, and the window attributes are read in their documented order.
#include <catch2/catch.hpp>

#include "ir/window.h"
#include "tests/support/op_builder.h"

using namespace loom;

namespace {

TensorType F(Shape s) { return {DType::F32, std::move(s)}; }

const ir::Node& only_node(const ir::Module& m) { return *test::main_function(m).nodes().back(); }

Attrs conv_attrs(Attrs extra = {}) {
  Attrs a = {{"strides", Shape{2, 1}},
             {"pads", Shape{1, 2, 3, 0}},
             {"dilations", Shape{1, 2}},
             {"groups", int64_t{2}}};
  for (const auto& [k, v] : extra.items())
    a.set(k, v);
  return a;
}

} // namespace

TEST_CASE("conv_geometry reads every role from the right place", "[ir][window]") {
  // x [1, 4, 9, 8], w [6, 2, 3, 2] -> y [1, 6, 6, 8]
  Shape x{1, 4, 9, 8}, w{6, 2, 3, 2}, y{1, 6, 6, 8};
  auto forward = test::single_op_module(Op::Conv2D, {F(x), F(w)}, conv_attrs());
  auto input_grad = test::single_op_module(Op::Conv2DBackpropInput, {F(y), F(w)},
                                           conv_attrs({{"input_shape", x}}));
  auto filter_grad = test::single_op_module(Op::Conv2DBackpropFilter, {F(x), F(y)},
                                            conv_attrs({{"filter_shape", w}}));
  for (const auto* m : {forward.get(), input_grad.get(), filter_grad.get()}) {
    const ir::Node& n = only_node(*m);
    INFO(n.name());
    ir::ConvGeometry g = ir::conv_geometry(n);
    CHECK(g.x == x);
    CHECK(g.w == w);
    CHECK(g.y == y);
    CHECK(g.groups == 2);
    CHECK(g.taps() == 12);
    CHECK(g.window.stride_h == 2);
    CHECK(g.window.stride_w == 1);
    CHECK(g.window.pad_top == 1);
    CHECK(g.window.pad_left == 2);
    CHECK(g.window.pad_bottom == 3);
    CHECK(g.window.pad_right == 0);
    CHECK(g.window.dilation_h == 1);
    CHECK(g.window.dilation_w == 2);
    CHECK(g.window.padded());
  }
}

TEST_CASE("pool_geometry reads every role from the right place", "[ir][window]") {
  Shape x{2, 3, 7, 6}, y{2, 3, 4, 3};
  Attrs pool = {{"kernel", Shape{3, 2}},
                {"strides", Shape{2, 2}},
                {"pads", Shape{1, 0, 1, 1}},
                {"ceil_mode", false}};
  Attrs avg = pool;
  avg.set("count_include_pad", true);
  Attrs avg_grad = avg;
  avg_grad.set("input_shape", x);
  auto max_fwd = test::single_op_module(Op::MaxPool2D, {F(x)}, pool);
  auto max_grad = test::single_op_module(Op::MaxPool2DGrad, {F(x), F(y)}, pool);
  auto avg_fwd = test::single_op_module(Op::AvgPool2D, {F(x)}, avg);
  auto avg_bwd = test::single_op_module(Op::AvgPool2DGrad, {F(y)}, avg_grad);
  for (const auto* m : {max_fwd.get(), max_grad.get(), avg_fwd.get(), avg_bwd.get()}) {
    const ir::Node& n = only_node(*m);
    INFO(n.name());
    ir::PoolGeometry g = ir::pool_geometry(n);
    CHECK(g.x == x);
    CHECK(g.y == y);
    CHECK(g.kernel_h == 3);
    CHECK(g.kernel_w == 2);
    CHECK(g.window.stride_h == 2);
    CHECK(g.window.pad_top == 1);
    CHECK(g.window.pad_right == 1);
    bool averaging = n.op() == Op::AvgPool2D || n.op() == Op::AvgPool2DGrad;
    CHECK(g.count_include_pad == averaging);
  }
}
