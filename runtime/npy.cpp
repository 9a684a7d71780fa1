#include "runtime/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "ir/error.h"

namespace loom {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Header lengths are padded so that the data starts at a multiple of this.
constexpr size_t kHeaderAlignment = 64;

struct NpyDType {
  DType dtype;
  const char* descr;
};
constexpr NpyDType kNpyDTypes[] = {
    {DType::F32, "<f4"}, {DType::F64, "<f8"}, {DType::F16, "<f2"},  {DType::I8, "|i1"},
    {DType::I32, "<i4"}, {DType::I64, "<i8"}, {DType::Bool, "|b1"},
};

[[noreturn]] void malformed(const std::string& source, const std::string& what) {
  throw_error(ErrorCode::IOError, "malformed npy file '" + source + "': " + what);
}

std::string supported_descrs() {
  std::string s;
  for (const NpyDType& d : kNpyDTypes)
    s += (s.empty() ? "" : ", ") + std::string(d.descr);
  return s;
}

DType dtype_from_descr(const std::string& descr, const std::string& source) {
  for (const NpyDType& d : kNpyDTypes)
    if (descr == d.descr) return d.dtype;
  // numpy writes '|' for one-byte types but also accepts '<' and '='; so do we.
  if (descr == "<i1" || descr == "=i1") return DType::I8;
  if (descr == "<b1" || descr == "=b1") return DType::Bool;
  throw_error(ErrorCode::Unsupported,
              "npy file '" + source + "' has dtype '" + descr +
                  "', which loom does not support (supported: " + supported_descrs() + ")");
}

// The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// This parser accepts exactly that grammar (string keys; string, bool and int-tuple values).
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  struct Header {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<Shape> shape;
  };

  Header parse() {
    Header h;
    expect('{');
    while (!try_consume('}')) {
      std::string key = parse_string();
      expect(':');
      if (key == "descr")
        h.descr = parse_string();
      else if (key == "fortran_order")
        h.fortran_order = parse_bool();
      else if (key == "shape")
        h.shape = parse_shape();
      else
        fail("unknown header key '" + key + "'");
      if (!try_consume(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
    return h;
  }

private:
  [[noreturn]] void fail(const std::string& what) { malformed(source_, "header " + what); }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }
  bool try_consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!try_consume(c))
      fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
  }

  std::string parse_string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("expected a quoted string at offset " + std::to_string(pos_));
    char quote = text_[pos_++];
    size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("has an unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  bool parse_bool() {
    skip_space();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      size_t n = std::strlen(word);
      if (text_.substr(pos_, n) == word) {
        pos_ += n;
        return value;
      }
    }
    fail("expected True or False at offset " + std::to_string(pos_));
  }

  int64_t parse_dim() {
    skip_space();
    size_t start = pos_;
    int64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      if (value > (kMaxElements - 9) / 10) fail("has a dimension that is too large");
      value = value * 10 + (text_[pos_++] - '0');
    }
    if (pos_ == start) fail("expected a non-negative integer at offset " + std::to_string(pos_));
    // Python 2 era writers append 'L' to longs.
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
    return value;
  }

  Shape parse_shape() {
    Shape shape;
    expect('(');
    while (!try_consume(')')) {
      shape.push_back(parse_dim());
      if (!try_consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

uint32_t read_le(std::span<const uint8_t> bytes, size_t offset, size_t width) {
  uint32_t v = 0;
  for (size_t i = 0; i < width; ++i)
    v |= static_cast<uint32_t>(bytes[offset + i]) << (8 * i);
  return v;
}

int64_t checked_numel(const Shape& shape, const std::string& source) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > kMaxElements / d)
      malformed(source, "shape " + shape_str(shape) + " is too large");
    n *= d;
  }
  return n;
}

// Returns the header text and sets `data_offset` to where the array bytes start.
std::string_view split_header(std::span<const uint8_t> bytes, const std::string& source,
                              size_t& data_offset) {
  if (bytes.size() < kMagicSize + 2 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    malformed(source, "missing the \\x93NUMPY magic string");
  uint8_t major = bytes[kMagicSize];
  size_t length_width = 0;
  if (major == 1)
    length_width = 2;
  else if (major == 2 || major == 3)
    length_width = 4;
  else
    throw_error(ErrorCode::Unsupported,
                "npy file '" + source + "' has format version " + std::to_string(major) + "." +
                    std::to_string(bytes[kMagicSize + 1]) + " (supported: 1.0, 2.0, 3.0)");
  size_t length_offset = kMagicSize + 2;
  if (bytes.size() < length_offset + length_width) malformed(source, "truncated header length");
  size_t header_length = read_le(bytes, length_offset, length_width);
  size_t header_offset = length_offset + length_width;
  if (bytes.size() - header_offset < header_length)
    malformed(source, "header of " + std::to_string(header_length) + " bytes is truncated");
  data_offset = header_offset + header_length;
  return {reinterpret_cast<const char*>(bytes.data() + header_offset), header_length};
}

// bool bytes other than 0/1 would be undefined behaviour when read as C++ bool.
void normalize_bools(Tensor& t) {
  auto* p = static_cast<uint8_t*>(t.raw_data());
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = p[i] != 0;
}

std::string shape_tuple(const Shape& shape) {
  std::string s = "(";
  for (int64_t d : shape)
    s += std::to_string(d) + ", ";
  if (shape.size() > 1)
    s.resize(s.size() - 2); // (2, 3) but (3,) and ()
  else if (shape.size() == 1)
    s.pop_back();
  return s + ")";
}

const char* descr_of(DType dtype) {
  for (const NpyDType& d : kNpyDTypes)
    if (d.dtype == dtype) return d.descr;
  throw_error(ErrorCode::Unsupported,
              "cannot write a " + std::string(dtype_name(dtype)) + " tensor as npy: numpy has no " +
                  std::string(dtype_name(dtype)) + " dtype (cast it to f32 first)");
}

} // namespace

Tensor npy_from_bytes(std::span<const uint8_t> bytes, const std::string& source_name) {
  size_t data_offset = 0;
  std::string_view header_text = split_header(bytes, source_name, data_offset);
  HeaderParser::Header header = HeaderParser(header_text, source_name).parse();
  if (!header.descr || !header.fortran_order || !header.shape)
    malformed(source_name, "header lacks one of 'descr', 'fortran_order', 'shape'");
  if (*header.fortran_order)
    throw_error(ErrorCode::Unsupported,
                "npy file '" + source_name + "' is in Fortran order; loom reads C order only");
  DType dtype = dtype_from_descr(*header.descr, source_name);
  int64_t numel = checked_numel(*header.shape, source_name);
  size_t expected = static_cast<size_t>(numel) * dtype_size(dtype);
  size_t available = bytes.size() - data_offset;
  if (available != expected)
    malformed(source_name, "shape " + shape_str(*header.shape) + " of " + *header.descr +
                               " needs " + std::to_string(expected) + " data bytes, found " +
                               std::to_string(available));
  Tensor t(dtype, *header.shape);
  if (expected > 0) std::memcpy(t.raw_data(), bytes.data() + data_offset, expected);
  if (dtype == DType::Bool) normalize_bools(t);
  return t;
}

std::vector<uint8_t> npy_to_bytes(const Tensor& tensor) {
  if (!tensor.defined())
    throw_error(ErrorCode::InvalidArgument, "cannot write an undefined tensor as npy");
  std::string header = std::string("{'descr': '") + descr_of(tensor.dtype()) +
                       "', 'fortran_order': False, 'shape': " + shape_tuple(tensor.shape()) + ", }";
  // Version 1.0 has a 2-byte header length; 2.0 a 4-byte one for huge headers.
  bool version2 = header.size() + 1 + kMagicSize + 4 > 0xFFFF;
  size_t prefix = kMagicSize + 2 + (version2 ? 4 : 2);
  size_t padded =
      (prefix + header.size() + 1 + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
  header.append(padded - prefix - header.size() - 1, ' ');
  header += '\n';

  std::vector<uint8_t> bytes(kMagic, kMagic + kMagicSize);
  bytes.push_back(version2 ? 2 : 1);
  bytes.push_back(0);
  for (size_t i = 0; i < (version2 ? 4u : 2u); ++i)
    bytes.push_back((header.size() >> (8 * i)) & 0xFF);
  bytes.insert(bytes.end(), header.begin(), header.end());
  const auto* data = static_cast<const uint8_t*>(tensor.raw_data());
  bytes.insert(bytes.end(), data, data + tensor.nbytes());
  return bytes;
}

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(ErrorCode::IOError, "cannot open npy file '" + path + "' for reading");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) throw_error(ErrorCode::IOError, "error while reading npy file '" + path + "'");
  return npy_from_bytes(bytes, path);
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::vector<uint8_t> bytes = npy_to_bytes(tensor);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw_error(ErrorCode::IOError, "cannot open npy file '" + path + "' for writing");
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw_error(ErrorCode::IOError, "error while writing npy file '" + path + "'");
}

} // namespace loom
