// Gradient check cases of convolution, pooling and their gradient ops (run by
// test_gradcheck.cpp), and the routing of max_pool2d_grad's own VJP.
#include "tests/autodiff/gradcheck.h"

namespace loom::autodiff_test {
namespace {

using Ints = std::vector<int64_t>;

struct ConvConfig {
  std::string label;
  Shape x, w;
  Ints strides, pads, dilations;
  int64_t groups;

  Attrs attrs() const {
    return {{"strides", strides}, {"pads", pads}, {"dilations", dilations}, {"groups", groups}};
  }
  // The output shape, from the shape rule.
  Shape y() const { return infer_types(Op::Conv2D, {f64(x), f64(w)}, attrs())[0].shape; }
};

// A plain convolution, and one with strides, asymmetric padding, dilation and groups
// whose stride leaves the last input row unread.
const std::vector<ConvConfig> kConvConfigs = {
    {"3x3", {2, 3, 5, 5}, {4, 3, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1},
    {"strided padded dilated grouped", {1, 4, 6, 5}, {4, 2, 2, 2}, {2, 1}, {1, 0, 0, 1}, {1, 2}, 2},
};

void add_convolutions(std::vector<GradCase>& cases) {
  for (const ConvConfig& c : kConvConfigs) {
    Attrs input_attrs = c.attrs(), filter_attrs = c.attrs();
    input_attrs.set("input_shape", c.x);
    filter_attrs.set("filter_shape", c.w);
    cases.push_back(op_case(Op::Conv2D, c.label,
                            {{f64(c.x), uniform(-1, 1)}, {f64(c.w), uniform(-1, 1)}}, c.attrs()));
    cases.push_back(op_case(Op::Conv2DBackpropInput, c.label,
                            {{f64(c.y()), uniform(-1, 1)}, {f64(c.w), uniform(-1, 1)}},
                            input_attrs));
    cases.push_back(op_case(Op::Conv2DBackpropFilter, c.label,
                            {{f64(c.x), uniform(-1, 1)}, {f64(c.y()), uniform(-1, 1)}},
                            filter_attrs));
  }
}

struct PoolConfig {
  std::string label;
  Shape x;
  Ints kernel, strides, pads;
  bool ceil_mode;

  Attrs attrs() const {
    return {{"kernel", kernel}, {"strides", strides}, {"pads", pads}, {"ceil_mode", ceil_mode}};
  }
  Shape y() const { return infer_types(Op::MaxPool2D, {f64(x)}, attrs())[0].shape; }
};

// Disjoint windows; overlapping padded windows; ceil_mode windows running past the input.
const std::vector<PoolConfig> kPoolConfigs = {
    {"2x2 stride 2", {1, 2, 4, 4}, {2, 2}, {2, 2}, {0, 0, 0, 0}, false},
    {"3x3 stride 1 padded", {2, 1, 4, 5}, {3, 3}, {1, 1}, {1, 1, 1, 1}, false},
    {"3x2 stride 2 ceil_mode", {1, 2, 6, 5}, {3, 2}, {2, 2}, {1, 0, 0, 1}, true},
};

void add_max_pooling(std::vector<GradCase>& cases) {
  for (const PoolConfig& c : kPoolConfigs) {
    cases.push_back(op_case(Op::MaxPool2D, c.label, {{f64(c.x), distinct()}}, c.attrs()));
    cases.push_back(op_case(Op::MaxPool2DGrad, c.label,
                            {{f64(c.x), distinct()}, {f64(c.y()), uniform(-1, 1)}}, c.attrs()));
  }
}

void add_avg_pooling(std::vector<GradCase>& cases) {
  for (const PoolConfig& c : kPoolConfigs)
    for (bool include_pad : {false, true}) {
      Attrs attrs = c.attrs();
      attrs.set("count_include_pad", include_pad);
      std::string label = c.label + (include_pad ? " count_include_pad" : "");
      cases.push_back(op_case(Op::AvgPool2D, label, {{f64(c.x), uniform(-1, 1)}}, attrs));
      attrs.set("input_shape", c.x);
      cases.push_back(op_case(Op::AvgPool2DGrad, label, {{f64(c.y()), uniform(-1, 1)}}, attrs));
    }
}

std::vector<GradCase> conv_cases() {
  std::vector<GradCase> cases;
  add_convolutions(cases);
  add_max_pooling(cases);
  add_avg_pooling(cases);
  return cases;
}

const CaseRegistration registration(conv_cases);

// max_pool2d_grad(x, dy) routes dy to the first maximum of each window, ignoring the
// padding; the gradient of <max_pool2d_grad(x, dy), g> with respect to dy reads g there.
TEST_CASE("max_pool2d_grad's VJP reads the cotangent at each window's first maximum",
          "[autodiff][conv]") {
  PoolConfig c{"3x3 stride 2 padded", {1, 1, 3, 3}, {3, 3}, {2, 2}, {1, 1, 1, 1}, false};
  // Window (0,0) covers rows/cols -1..1 and has a tie of 5s at (0,0) and (1,0): the
  // first wins. Window (0,1) holds only negative numbers besides its zero padding,
  // which must not win: its maximum is the -1 at (0,2).
  Tensor x = Tensor::from_vector<double>({1, 1, 3, 3}, {5, -4, -1, 5, -2, -3, -1, -1, 9});
  Tensor dy = Tensor::from_vector<double>({1, 1, 2, 2}, {0, 0, 0, 0});
  Tensor g = Tensor::from_vector<double>({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto grads = gradients_of_sum(
      {x.type(), dy.type(), g.type()},
      [&](ir::Builder& b, auto& p) {
        return b.op(Op::Mul, {b.op(Op::MaxPool2DGrad, {p[0], p[1]}, c.attrs()), p[2]});
      },
      {x, dy, g});
  // Maxima of the windows (0,0), (0,1), (1,0), (1,1): x(0,0), x(0,2), x(1,0), x(2,2).
  CHECK(values(grads[1]) == std::vector<double>{1, 3, 4, 9});
  CHECK(values(grads[0]) == std::vector<double>(9, 0.0));
}

} // namespace
} // namespace loom::autodiff_test
