// .npy reading and writing: round trips, files written by numpy, and malformed input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

#include "ir/error.h"
#include "runtime/npy.h"
#include "tests/support/test_support.h"

namespace loom {
namespace {

using Bytes = std::vector<uint8_t>;

// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("loom-npy-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a loom::Error");
  throw std::logic_error("unreachable");
}

// A version 1.0 .npy file with the given header dict text and data bytes.
Bytes npy_file(const std::string& header_dict, const Bytes& data, uint8_t major = 1) {
  std::string header = header_dict + "\n";
  Bytes bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  size_t width = major == 1 ? 2 : 4;
  for (size_t i = 0; i < width; ++i)
    bytes.push_back((header.size() >> (8 * i)) & 0xFF);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

const std::string kF32Pair = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
const Bytes kTwoFloats = {0, 0, 0x80, 0x3F, 0, 0, 0, 0x40}; // 1.0f, 2.0f

TEST_CASE("npy round trip of every numpy dtype", "[runtime][npy]") {
  TempDir dir;
  std::vector<Tensor> tensors = {
      Tensor::from_vector<float>({2, 3}, {1, -2, 3.5f, 0, 1e-30f, NAN}),
      Tensor::from_vector<double>({3}, {0.1, -1e300, 5e-324}),
      Tensor::full(DType::F16, {2, 1, 2}, -0.25),
      Tensor::from_vector<int8_t>({2}, {-128, 127}),
      Tensor::from_vector<int32_t>({}, {-123456}),
      Tensor::from_vector<int64_t>({1, 2}, {int64_t{1} << 60, -1}),
      Tensor::from_vector<bool>({3}, {true, false, true}),
      Tensor(DType::F32, {0, 5}),
  };
  for (const Tensor& t : tensors) {
    INFO(t.str());
    CHECK(npy_from_bytes(npy_to_bytes(t)).bit_equal(t));
    write_npy(dir.file("t.npy"), t);
    CHECK(read_npy(dir.file("t.npy")).bit_equal(t));
  }
}

TEST_CASE("written npy files follow the format", "[runtime][npy]") {
  Bytes bytes = npy_to_bytes(Tensor::from_vector<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6}));
  REQUIRE(bytes.size() > 10);
  CHECK(std::string(bytes.begin() + 1, bytes.begin() + 6) == "NUMPY");
  CHECK(bytes[6] == 1);
  size_t header_length = bytes[8] | (bytes[9] << 8);
  size_t data_offset = 10 + header_length;
  CHECK(data_offset % 64 == 0); // numpy aligns the data
  std::string header(bytes.begin() + 10, bytes.begin() + data_offset);
  CHECK(header.back() == '\n');
  CHECK_THAT(header,
             Catch::StartsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"));
  CHECK(bytes.size() == data_offset + 24);
  std::string scalar(reinterpret_cast<const char*>(npy_to_bytes(Tensor(DType::F64, {})).data()),
                     72);
  CHECK_THAT(scalar, Catch::Contains("'shape': ()"));
  std::string vector(reinterpret_cast<const char*>(npy_to_bytes(Tensor(DType::Bool, {4})).data()),
                     72);
  CHECK_THAT(vector, Catch::Contains("'descr': '|b1'") && Catch::Contains("'shape': (4,)"));
}

TEST_CASE("npy files written by numpy load", "[runtime][npy]") {
  // Written by tests/data/gen_interp_refs.py with np.save.
  Tensor seeds = read_npy(test::source_path("tests/data/interp/random/seeds.npy"));
  CHECK(seeds.type().str() == "i64[4]");
  CHECK(seeds.to_vector<int64_t>() == std::vector<int64_t>{0, 42, -7, 0x123456789AB});
  Tensor mask = read_npy(test::source_path("tests/data/interp/logical_not__bool/x0.npy"));
  CHECK(mask.to_vector<bool>() == std::vector<bool>{true, false, false, true});
  Tensor halves = read_npy(test::source_path("tests/data/interp/cast__bool_to_f16/out.npy"));
  CHECK(halves.type().str() == "f16[3]");
  CHECK(halves.at(0) == 1.0);
}

TEST_CASE("npy header variants: versions 2.0 and 3.0, spacing, double quotes", "[runtime][npy]") {
  for (uint8_t major : {2, 3})
    CHECK(npy_from_bytes(npy_file(kF32Pair, kTwoFloats, major)).at(1) == 2.0);
  Tensor t = npy_from_bytes(
      npy_file("{ \"shape\" : ( 2 , ) , \"descr\":\"<f4\",'fortran_order':False}", kTwoFloats));
  CHECK(t.type().str() == "f32[2]");
  CHECK(npy_from_bytes(
            npy_file("{'descr': '|i1', 'fortran_order': False, 'shape': (2L, 1L)}", {1, 255}))
            .to_vector<int8_t>() == std::vector<int8_t>{1, -1});
}

TEST_CASE("npy bools are normalized to 0/1", "[runtime][npy]") {
  Tensor t = npy_from_bytes(
      npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", {0, 1, 7}));
  CHECK(static_cast<const uint8_t*>(t.raw_data())[2] == 1);
}

TEST_CASE("unsupported npy content is Error(Unsupported)", "[runtime][npy]") {
  auto unsupported = [](const std::string& dict, const Bytes& data, const std::string& mentions,
                        uint8_t major = 1) {
    INFO(dict);
    Error e = error_of([&] { npy_from_bytes(npy_file(dict, data, major), "case.npy"); });
    CHECK(e.code() == ErrorCode::Unsupported);
    CHECK_THAT(e.message(), Catch::Contains("case.npy") && Catch::Contains(mentions));
  };
  unsupported("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", kTwoFloats,
              "Fortran order");
  unsupported("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", kTwoFloats, "'>f4'");
  unsupported("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", kTwoFloats, "'<c8'");
  unsupported("{'descr': 'xyz', 'fortran_order': False, 'shape': (1,), }", kTwoFloats, "'xyz'");
  unsupported(kF32Pair, kTwoFloats, "version 4.0", 4);

  Error e = error_of([] { npy_to_bytes(Tensor(DType::BF16, {2})); });
  CHECK(e.code() == ErrorCode::Unsupported);
  CHECK_THAT(e.message(), Catch::Contains("bf16"));
}

TEST_CASE("malformed npy files are Error(IOError) naming the file", "[runtime][npy]") {
  Bytes good = npy_file(kF32Pair, kTwoFloats);
  std::vector<std::pair<std::string, Bytes>> cases = {
      {"empty file", {}},
      {"bad magic", Bytes{'N', 'O', 'T', 'N', 'P', 'Y', 1, 0, 0, 0}},
      {"truncated header length", Bytes(good.begin(), good.begin() + 9)},
      {"truncated header", Bytes(good.begin(), good.begin() + 30)},
      {"truncated data", Bytes(good.begin(), good.end() - 1)},
      {"excess data",
       [&] {
         Bytes b = good;
         b.push_back(0);
         return b;
       }()},
      {"shape/data mismatch",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", kTwoFloats)},
      {"missing key", npy_file("{'descr': '<f4', 'shape': (2,), }", kTwoFloats)},
      {"unknown key",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", kTwoFloats)},
      {"bad shape",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", kTwoFloats)},
      {"negative dim",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", kTwoFloats)},
      {"huge shape",
       npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }",
                {})},
      {"bad bool",
       npy_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", kTwoFloats)},
      {"unterminated string", npy_file("{'descr': '<f4", kTwoFloats)},
      {"not a dict", npy_file("['<f4', False, (2,)]", kTwoFloats)},
      {"trailing text", npy_file(kF32Pair + " junk", kTwoFloats)},
  };
  for (const auto& [what, bytes] : cases) {
    INFO(what);
    Error e = error_of([&] { npy_from_bytes(bytes, "broken.npy"); });
    CHECK(e.code() == ErrorCode::IOError);
    CHECK_THAT(e.message(), Catch::Contains("broken.npy"));
  }
}

TEST_CASE("npy file system errors are Error(IOError) naming the path", "[runtime][npy]") {
  TempDir dir;
  std::string missing = dir.file("missing.npy");
  Error e = error_of([&] { read_npy(missing); });
  CHECK(e.code() == ErrorCode::IOError);
  CHECK_THAT(e.message(), Catch::Contains(missing));

  std::string unwritable = dir.file("no/such/dir/x.npy");
  e = error_of([&] { write_npy(unwritable, Tensor(DType::F32, {1})); });
  CHECK(e.code() == ErrorCode::IOError);
  CHECK_THAT(e.message(), Catch::Contains(unwritable));

  std::string truncated = dir.file("truncated.npy");
  Bytes bytes = npy_to_bytes(Tensor(DType::F64, {4}));
  std::ofstream(truncated, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), bytes.size() - 3);
  e = error_of([&] { read_npy(truncated); });
  CHECK(e.code() == ErrorCode::IOError);
  CHECK_THAT(e.message(), Catch::Contains(truncated) && Catch::Contains("data bytes"));
}

} // namespace
} // namespace loom
