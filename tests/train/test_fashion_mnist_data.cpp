// The IDX reader (plain and gzip), its errors on malformed files, the Fashion-MNIST
// loader and the batching helpers.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "frontend/data/fashion_mnist.h"
#include "tests/nn/nn_test_util.h"

using namespace loom;
using namespace loom::test;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;

// A directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("loom_idx_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  static inline int counter_ = 0;
  fs::path path_;
};

// An unsigned-byte IDX file's bytes: magic, big-endian dims, data.
std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_plain(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  gzclose(file);
}

Error io_error_reading(const std::string& path) {
  Error e = error_from([&] { data::read_idx(path); });
  CHECK(e.code() == ErrorCode::IOError);
  CHECK_THAT(e.message(), Contains(path));
  return e;
}

} // namespace

TEST_CASE("read_idx reads plain and gzip-compressed IDX files", "[data]") {
  TempDir dir;
  std::vector<uint8_t> pixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
  std::vector<uint8_t> bytes = idx_bytes({3, 2, 2}, pixels);
  write_plain(dir.file("plain-idx3-ubyte"), bytes);
  write_gzip(dir.file("packed-idx3-ubyte.gz"), bytes);
  for (const char* name : {"plain-idx3-ubyte", "packed-idx3-ubyte.gz"}) {
    data::IdxArray array = data::read_idx(dir.file(name));
    CHECK(array.shape == Shape{3, 2, 2});
    CHECK(array.data == pixels);
  }
  data::IdxArray first_two = data::read_idx(dir.file("packed-idx3-ubyte.gz"), 2);
  CHECK(first_two.shape == Shape{2, 2, 2});
  CHECK(first_two.data == std::vector<uint8_t>(pixels.begin(), pixels.begin() + 8));
}

TEST_CASE("malformed or missing IDX files are IOErrors naming the file", "[data]") {
  TempDir dir;
  Error missing = io_error_reading(dir.file("absent"));
  CHECK_THAT(missing.message(), Contains("cannot open"));

  std::vector<uint8_t> bad_magic = idx_bytes({2}, {1, 2});
  bad_magic[0] = 0x1f;
  write_plain(dir.file("bad_magic"), bad_magic);
  CHECK_THAT(io_error_reading(dir.file("bad_magic")).message(), Contains("magic"));

  std::vector<uint8_t> floats = idx_bytes({2}, {1, 2});
  floats[2] = 0x0D; // IDX float type
  write_plain(dir.file("floats"), floats);
  CHECK_THAT(io_error_reading(dir.file("floats")).message(), Contains("not supported"));

  std::vector<uint8_t> short_data = idx_bytes({10, 28, 28}, std::vector<uint8_t>(100, 7));
  write_gzip(dir.file("short.gz"), short_data);
  CHECK_THAT(io_error_reading(dir.file("short.gz")).message(), Contains("truncated"));

  write_plain(dir.file("short_header"), {0, 0, 8, 3, 0, 0});
  CHECK_THAT(io_error_reading(dir.file("short_header")).message(), Contains("truncated"));

  std::vector<uint8_t> corrupt = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
  write_plain(dir.file("corrupt.gz"), corrupt);
  io_error_reading(dir.file("corrupt.gz"));
}

TEST_CASE("load_fashion_mnist reads a directory of IDX files", "[data]") {
  TempDir dir;
  std::vector<uint8_t> pixels(2 * 28 * 28, 0);
  pixels[0] = 255;
  pixels[28 * 28] = 51;
  for (const char* split : {"train", "t10k"}) {
    write_gzip(dir.file(std::string(split) + "-images-idx3-ubyte.gz"),
               idx_bytes({2, 28, 28}, pixels));
    write_plain(dir.file(std::string(split) + "-labels-idx1-ubyte"), idx_bytes({2}, {9, 3}));
  }
  std::string root = dir.file("");
  REQUIRE(data::fashion_mnist_available(root));
  data::Dataset test = data::load_fashion_mnist(data::Split::Test, -1, root);
  CHECK(test.size() == 2);
  CHECK(test.images.type() == TensorType{DType::F32, {2, 28, 28}});
  CHECK(test.images.at(0) == 1.0);
  CHECK(test.images.at(28 * 28) == Approx(0.2));
  CHECK(to_doubles(test.labels) == std::vector<double>{9, 3});
  CHECK(data::load_fashion_mnist(data::Split::Train, 1, root).size() == 1);
  CHECK(data::fashion_mnist_class_name(9) == "Ankle boot");

  write_plain(dir.file("t10k-labels-idx1-ubyte"), idx_bytes({2}, {9, 12}));
  Error bad_label = error_from([&] { data::load_fashion_mnist(data::Split::Test, -1, root); });
  CHECK(bad_label.code() == ErrorCode::IOError);
  CHECK_THAT(bad_label.message(), Contains("label 12"));

  TempDir empty;
  CHECK_FALSE(data::fashion_mnist_available(empty.file("")));
  Error absent =
      error_from([&] { data::load_fashion_mnist(data::Split::Train, 10, empty.file("")); });
  CHECK(absent.code() == ErrorCode::IOError);
  CHECK_THAT(absent.message(), Contains("dataset-fashion-mnist"));
}

TEST_CASE("the installed Fashion-MNIST files load", "[data]") {
  if (!data::fashion_mnist_available()) {
    WARN("skipped: Fashion-MNIST is not installed in "
         << data::kFashionMnistDir << " (Debian package dataset-fashion-mnist)");
    return;
  }
  data::Dataset train = data::load_fashion_mnist(data::Split::Train, 100);
  CHECK(train.size() == 100);
  data::Dataset test = data::load_fashion_mnist(data::Split::Test);
  CHECK(test.size() == 10000);
  std::vector<int64_t> counts(10, 0);
  for (double label : to_doubles(test.labels))
    ++counts[static_cast<size_t>(label)];
  CHECK(counts == std::vector<int64_t>(10, 1000)); // the test set is balanced
}

TEST_CASE("slice_rows and gather_rows copy rows of the first dimension", "[data]") {
  Tensor t = Tensor::from_vector<int32_t>({3, 2}, {0, 1, 2, 3, 4, 5});
  CHECK(to_doubles(data::slice_rows(t, 1, 2)) == std::vector<double>{2, 3, 4, 5});
  CHECK(to_doubles(data::gather_rows(t, {2, 0})) == std::vector<double>{4, 5, 0, 1});
  Error e = error_from([&] { data::slice_rows(t, 2, 2); });
  CHECK(e.code() == ErrorCode::InvalidArgument);
}
