// Layers: constructing one registers its parameters in a ParameterStore (as graph
// inputs named "<name>.weight", "<name>.bias", ...); calling it builds the layer's
// computation on an input Value. Every constructor and call takes a trailing CallSite,
// so errors and the built nodes point at the user's line.
#pragma once

#include <string>
#include <vector>

#include "frontend/nn/parameters.h"

namespace loom::nn {

// --- Dense -------------------------------------------------------------------------

struct LinearOptions {
  bool bias = true;
  Init weight_init = Init::glorot_uniform();
  Init bias_init = Init::zeros();
  DType dtype = DType::F32;
};

// y = x @ weight + bias, with weight [in_features, out_features]; x is [..., in_features].
class Linear {
public:
  Linear(ParameterStore& store, const std::string& name, int64_t in_features, int64_t out_features,
         LinearOptions options = {}, CallSite loc = CallSite::current());
  Value operator()(Value x, CallSite loc = CallSite::current()) const;

  Value weight() const { return weight_; }
  Value bias() const { return bias_; } // null without bias

private:
  std::string name_;
  Value weight_, bias_;
};

// --- Convolution and pooling (NCHW) ------------------------------------------------

struct Conv2dOptions {
  std::vector<int64_t> strides{1, 1};
  std::vector<int64_t> pads{0, 0}; // [pad_h, pad_w] or [top, left, bottom, right]
  std::vector<int64_t> dilations{1, 1};
  int64_t groups = 1;
  bool bias = true;
  Init weight_init = Init::he_uniform();
  Init bias_init = Init::zeros();
  DType dtype = DType::F32;
};

// 2-D convolution of x [N, in_channels, H, W] with a weight
// [out_channels, in_channels / groups, KH, KW], plus a per-channel bias.
class Conv2d {
public:
  Conv2d(ParameterStore& store, const std::string& name, int64_t in_channels, int64_t out_channels,
         std::vector<int64_t> kernel, Conv2dOptions options = {},
         CallSite loc = CallSite::current());
  Value operator()(Value x, CallSite loc = CallSite::current()) const;

  Value weight() const { return weight_; }
  Value bias() const { return bias_; } // null without bias

private:
  Conv2dOptions options_;
  Value weight_, bias_;
};

// Max pooling over [KH, KW] windows; empty strides mean strides equal to the kernel.
struct MaxPool2d {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides = {};
  std::vector<int64_t> pads = {0, 0};
  bool ceil_mode = false;
  Value operator()(Value x, CallSite loc = CallSite::current()) const;
};

// Average pooling; the divisor counts window positions inside the input unless
// count_include_pad.
struct AvgPool2d {
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides = {};
  std::vector<int64_t> pads = {0, 0};
  bool ceil_mode = false;
  bool count_include_pad = false;
  Value operator()(Value x, CallSite loc = CallSite::current()) const;
};

// The mean over H and W: [N, C, H, W] -> [N, C].
Value global_avg_pool2d(Value x, CallSite loc = CallSite::current());

// Merges dimensions start_axis.. into one: [N, C, H, W] -> [N, C*H*W] for start_axis 1.
Value flatten(Value x, int64_t start_axis = 1, CallSite loc = CallSite::current());

// --- Dropout -----------------------------------------------------------------------

// Inverted dropout: in training, each element is zeroed with probability `rate` (mask
// from random_uniform(seed)) and the survivors are scaled by 1 / (1 - rate), so
// inference is the identity. rate must be in [0, 1).
Value dropout(Value x, double rate, Value seed, bool training, CallSite loc = CallSite::current());

// Dropout drawing a fresh seed from the store (its rng_seed input) at each call, in the
// store's mode.
class Dropout {
public:
  Dropout(ParameterStore& store, double rate, CallSite loc = CallSite::current());
  Value operator()(Value x, CallSite loc = CallSite::current()) const;

private:
  ParameterStore* store_;
  double rate_;
};

// --- Embedding ---------------------------------------------------------------------

// A lookup table [num_embeddings, dim]: integer indices [...] -> [..., dim].
class Embedding {
public:
  Embedding(ParameterStore& store, const std::string& name, int64_t num_embeddings, int64_t dim,
            Init init = Init::normal(0.0, 1.0), DType dtype = DType::F32,
            CallSite loc = CallSite::current());
  Value operator()(Value indices, CallSite loc = CallSite::current()) const;

  Value weight() const { return weight_; }

private:
  Value weight_;
};

} // namespace loom::nn
