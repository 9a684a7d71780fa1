#include "frontend/data/fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ir/error.h"

namespace loom::data {

namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr int kMaxIdxRank = 4;

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  throw_error(ErrorCode::IOError, "IDX file '" + path + "': " + what);
}

// A gzip stream; zlib also reads uncompressed files through the same calls.
class GzFile {
public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) io_error(path, std::string("cannot open: ") + std::strerror(errno));
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads exactly `size` bytes; IOError naming `what` on a short or corrupt file.
  void read(void* buffer, size_t size, const std::string& what) {
    auto* bytes = static_cast<uint8_t*>(buffer);
    while (size > 0) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(size, 1u << 30));
      int got = gzread(file_, bytes, chunk);
      if (got < 0) {
        int code = 0;
        io_error(path_, "corrupt data while reading " + what + ": " + gzerror(file_, &code));
      }
      if (got == 0) io_error(path_, "file is truncated while reading " + what);
      bytes += got;
      size -= static_cast<size_t>(got);
    }
  }

private:
  std::string path_;
  gzFile file_;
};

uint32_t big_endian_u32(const std::array<uint8_t, 4>& b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// `dir`/`name`, or `dir`/`name`.gz if only that exists ("" if neither does).
std::string find_file(const std::string& dir, const std::string& name) {
  std::filesystem::path plain = std::filesystem::path(dir) / name;
  if (std::filesystem::exists(plain)) return plain.string();
  std::filesystem::path gz = plain.string() + ".gz";
  if (std::filesystem::exists(gz)) return gz.string();
  return "";
}

std::string images_file(Split split) {
  return split == Split::Train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
}
std::string labels_file(Split split) {
  return split == Split::Train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte";
}

std::string require_file(const std::string& dir, const std::string& name) {
  std::string path = find_file(dir, name);
  if (path.empty())
    throw_error(ErrorCode::IOError, "Fashion-MNIST: neither " + name + " nor " + name +
                                        ".gz exists in '" + dir +
                                        "' (Debian package dataset-fashion-mnist installs them)");
  return path;
}

// The given rows (along the first dimension) of `tensor`, copied; `what` names the caller.
Tensor copy_rows(const Tensor& tensor, const std::vector<int64_t>& rows, const char* what) {
  if (!tensor.defined() || tensor.rank() < 1)
    throw_error(ErrorCode::InvalidArgument, std::string(what) + ": needs a tensor of rank >= 1");
  Shape shape = tensor.shape();
  int64_t extent = shape[0];
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor result(tensor.dtype(), shape);
  int64_t row_bytes = extent == 0 ? 0 : tensor.nbytes() / extent;
  const auto* src = static_cast<const uint8_t*>(tensor.raw_data());
  auto* dst = static_cast<uint8_t*>(result.raw_data());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= extent)
      throw_error(ErrorCode::InvalidArgument, std::string(what) + ": row " +
                                                  std::to_string(rows[i]) +
                                                  " is out of range for " + tensor.type().str());
    std::memcpy(dst + static_cast<int64_t>(i) * row_bytes, src + rows[i] * row_bytes,
                static_cast<size_t>(row_bytes));
  }
  return result;
}

} // namespace

IdxArray read_idx(const std::string& path, int64_t max_items) {
  GzFile file(path);
  std::array<uint8_t, 4> magic{};
  file.read(magic.data(), magic.size(), "the header");
  if (magic[0] != 0 || magic[1] != 0) io_error(path, "not an IDX file (bad magic number)");
  if (magic[2] != kUnsignedByteType)
    io_error(path, "element type code " + std::to_string(magic[2]) +
                       " is not supported (only unsigned bytes, 0x08)");
  int rank = magic[3];
  if (rank < 1 || rank > kMaxIdxRank)
    io_error(path, "unsupported number of dimensions " + std::to_string(rank));
  IdxArray array;
  for (int i = 0; i < rank; ++i) {
    std::array<uint8_t, 4> dim{};
    file.read(dim.data(), dim.size(), "the dimensions");
    array.shape.push_back(big_endian_u32(dim));
  }
  if (max_items >= 0 && max_items < array.shape[0]) array.shape[0] = max_items;
  int64_t count;
  try {
    count = shape_numel(array.shape);
  } catch (const Error&) {
    io_error(path, "implausible dimensions " + shape_str(array.shape));
  }
  array.data.resize(static_cast<size_t>(count));
  file.read(array.data.data(), array.data.size(), "the data");
  return array;
}

bool fashion_mnist_available(const std::string& dir) {
  for (Split split : {Split::Train, Split::Test})
    if (find_file(dir, images_file(split)).empty() || find_file(dir, labels_file(split)).empty())
      return false;
  return true;
}

Dataset load_fashion_mnist(Split split, int64_t limit, const std::string& dir) {
  std::string images_path = require_file(dir, images_file(split));
  std::string labels_path = require_file(dir, labels_file(split));
  IdxArray images = read_idx(images_path, limit);
  IdxArray labels = read_idx(labels_path, limit);
  if (images.shape.size() != 3 || images.shape[1] != 28 || images.shape[2] != 28)
    io_error(images_path, "expected images [N, 28, 28], found " + shape_str(images.shape));
  if (labels.shape.size() != 1 || labels.shape[0] != images.shape[0])
    io_error(labels_path, "expected " + std::to_string(images.shape[0]) + " labels, found shape " +
                              shape_str(labels.shape));
  Dataset dataset{Tensor(DType::F32, images.shape), Tensor(DType::I32, labels.shape)};
  float* pixels = dataset.images.data<float>();
  for (size_t i = 0; i < images.data.size(); ++i)
    pixels[i] = images.data[i] / 255.0f;
  int32_t* classes = dataset.labels.data<int32_t>();
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kFashionMnistClasses)
      io_error(labels_path, "label " + std::to_string(labels.data[i]) + " at index " +
                                std::to_string(i) + " is not a class 0..9");
    classes[i] = labels.data[i];
  }
  return dataset;
}

std::string fashion_mnist_class_name(int64_t label) {
  static const char* const kNames[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  if (label < 0 || label >= kFashionMnistClasses)
    throw_error(ErrorCode::InvalidArgument,
                "fashion_mnist_class_name: no class " + std::to_string(label));
  return kNames[label];
}

Tensor slice_rows(const Tensor& tensor, int64_t begin, int64_t count) {
  if (count < 0)
    throw_error(ErrorCode::InvalidArgument, "slice_rows: negative count " + std::to_string(count));
  std::vector<int64_t> rows(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    rows[static_cast<size_t>(i)] = begin + i;
  return copy_rows(tensor, rows, "slice_rows");
}

Tensor gather_rows(const Tensor& tensor, const std::vector<int64_t>& rows) {
  return copy_rows(tensor, rows, "gather_rows");
}

} // namespace loom::data
