#include "ir/text_syntax.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "ir/scalar.h"

namespace loom::ir::text {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

bool is_numeric_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_bare_name(std::string_view name) {
  if (name.empty() || is_numeric_name(name)) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

bool is_bare_identifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9') || name[0] == '.') return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

std::string quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (byte < 0x20 || byte >= 0x7f) {
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

std::string sigil_name(char sigil, std::string_view name) {
  return sigil + (is_bare_name(name) ? std::string(name) : quote(name));
}

std::string identifier_or_quoted(std::string_view name) {
  return is_bare_identifier(name) ? std::string(name) : quote(name);
}

namespace {

template <typename T> std::string format_floating(T value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string s(buf, end);
  // "3" would read back as an integer; floats always carry a '.' or an exponent.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// Full-text parse with from_chars: no leading '+', no trailing junk, no out-of-range.
template <typename T> std::optional<T> parse_whole(std::string_view text) {
  if (text.empty()) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Floats additionally accept the spellings of the special values.
template <typename T> std::optional<T> parse_floating(std::string_view text) {
  if (text == "inf") return std::numeric_limits<T>::infinity();
  if (text == "-inf") return -std::numeric_limits<T>::infinity();
  if (text == "nan") return std::numeric_limits<T>::quiet_NaN();
  // from_chars would also take "infinity" or "nan(...)"; the text format does not.
  if (text.find_first_of("aAiInN") != std::string_view::npos) return std::nullopt;
  return parse_whole<T>(text);
}

template <typename T> void store(uint8_t* element, T value) {
  std::memcpy(element, &value, sizeof(T));
}

template <typename T> T load(const uint8_t* element) {
  T value;
  std::memcpy(&value, element, sizeof(T));
  return value;
}

bool encode_integer(DType dtype, std::string_view text, uint8_t* element) {
  std::optional<int64_t> value = parse_int(text);
  if (!value) return false;
  auto in_range = [&](auto type_tag) {
    using T = decltype(type_tag);
    return *value >= std::numeric_limits<T>::min() && *value <= std::numeric_limits<T>::max();
  };
  switch (dtype) {
  case DType::I8:
    if (!in_range(int8_t{})) return false;
    store(element, static_cast<int8_t>(*value));
    return true;
  case DType::I32:
    if (!in_range(int32_t{})) return false;
    store(element, static_cast<int32_t>(*value));
    return true;
  default:
    store(element, *value);
    return true;
  }
}

} // namespace

std::string format_float(double value) { return format_floating(value); }
std::string format_float(float value) { return format_floating(value); }

std::optional<double> parse_double(std::string_view text) { return parse_floating<double>(text); }
std::optional<int64_t> parse_int(std::string_view text) { return parse_whole<int64_t>(text); }

std::string format_element(DType dtype, const uint8_t* element) {
  switch (dtype) {
  case DType::F32:
    return format_float(load<float>(element));
  case DType::F64:
    return format_float(load<double>(element));
  // f16 and bf16 print the float they stand for; parsing it as a float is exact.
  case DType::F16:
    return format_float(static_cast<float>(load<Half>(element)));
  case DType::BF16:
    return format_float(static_cast<float>(load<BFloat16>(element)));
  case DType::I8:
    return std::to_string(load<int8_t>(element));
  case DType::I32:
    return std::to_string(load<int32_t>(element));
  case DType::I64:
    return std::to_string(load<int64_t>(element));
  case DType::Bool:
    return *element != 0 ? "true" : "false";
  }
  return "?";
}

bool encode_element(DType dtype, std::string_view text, uint8_t* element) {
  if (dtype == DType::Bool) {
    if (text != "true" && text != "false") return false;
    *element = text == "true" ? 1 : 0;
    return true;
  }
  if (is_integer(dtype)) return encode_integer(dtype, text, element);
  if (dtype == DType::F64) {
    std::optional<double> value = parse_floating<double>(text);
    if (value) store(element, *value);
    return value.has_value();
  }
  std::optional<float> value = parse_floating<float>(text);
  if (!value) return false;
  if (dtype == DType::F32) {
    store(element, *value);
    return true;
  }
  float narrowed =
      dtype == DType::F16 ? static_cast<float>(Half(*value)) : static_cast<float>(BFloat16(*value));
  // Like from_chars for f32, a finite number beyond the dtype's range is an error.
  if (std::isinf(narrowed) && !std::isinf(*value)) return false;
  if (dtype == DType::F16) store(element, Half(*value));
  if (dtype == DType::BF16) store(element, BFloat16(*value));
  return true;
}

} // namespace loom::ir::text
