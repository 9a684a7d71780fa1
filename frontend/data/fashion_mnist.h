// Fashion-MNIST (Xiao et al. 2017) from IDX files, as installed by Debian's
// dataset-fashion-mnist package in /usr/share/datasets/fashion-mnist/
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz), plus small batching helpers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace loom::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistClasses = 10;

// The contents of an unsigned-byte IDX file (type code 0x08): dimensions and data.
struct IdxArray {
  Shape shape;
  std::vector<uint8_t> data; // row-major, shape_numel(shape) bytes
};

// Reads an IDX file, gzip-compressed or not, keeping at most `max_items` entries of the
// first dimension (all when negative). Error(IOError) naming the file when it cannot
// be opened, is not an unsigned-byte IDX file, or is shorter than its header says.
IdxArray read_idx(const std::string& path, int64_t max_items = -1);

enum class Split { Train, Test };

struct Dataset {
  Tensor images; // f32 [N, 28, 28], pixels scaled to [0, 1]
  Tensor labels; // i32 [N], classes 0..9
  int64_t size() const { return labels.defined() ? labels.shape()[0] : 0; }
};

// Whether the four IDX files (plain or .gz) are present in `dir`.
bool fashion_mnist_available(const std::string& dir = kFashionMnistDir);
// The first `limit` examples of a split (all when negative). Error(IOError) if files are
// missing or malformed, or images and labels disagree in count or shape.
Dataset load_fashion_mnist(Split split, int64_t limit = -1,
                           const std::string& dir = kFashionMnistDir);
// "T-shirt/top", "Trouser", ... for labels 0..9.
std::string fashion_mnist_class_name(int64_t label);

// Rows begin..begin+count of a tensor (along its first dimension), copied.
Tensor slice_rows(const Tensor& tensor, int64_t begin, int64_t count);
// The given rows of a tensor (along its first dimension), copied in that order.
Tensor gather_rows(const Tensor& tensor, const std::vector<int64_t>& rows);

} // namespace loom::data
