// Lexical rules of the .loom text format that the printer (ir/printer.cpp) and the
// parser (ir/parser.cpp) must agree on: which names print bare and which are quoted,
// how strings are escaped, and how numbers and literal elements are spelled. Keeping
// them in one place is what makes print -> parse -> print exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ir/dtype.h"

namespace loom::ir::text {

// Characters of a bare `%name` or `@name`: [A-Za-z0-9_.].
bool is_name_char(char c);
// A non-empty run of digits. `%3` denotes an unnamed value, so a value really named
// "3" prints quoted as `%"3"`.
bool is_numeric_name(std::string_view name);
// Whether `%name` / `@name` can print without quotes.
bool is_bare_name(std::string_view name);
// [A-Za-z_][A-Za-z0-9_.]*: output names and attribute keys print bare when this holds.
bool is_bare_identifier(std::string_view name);

// `"..."` with `\\`, `\"`, `\n`, `\t`, `\r` and `\xHH` for every other byte outside
// printable ASCII, so any byte string survives the round trip.
std::string quote(std::string_view s);
// `%x`, `@fc1.weight`, `%"weird name"`.
std::string sigil_name(char sigil, std::string_view name);
// Bare identifier or quoted string.
std::string identifier_or_quoted(std::string_view name);

// Shortest text that parses back to exactly `value`, always with a '.' or an exponent
// so that it reads as a float; `inf`, `-inf` and `nan` for the special values.
std::string format_float(double value);
std::string format_float(float value);

// Parses the full text of a decimal number (as written by the formatters above, or an
// integer); nullopt if malformed or out of range.
std::optional<double> parse_double(std::string_view text);
std::optional<int64_t> parse_int(std::string_view text);

// One literal element: its text (`1.5`, `-3`, `true`, `nan`) from its bytes, and the
// bytes from a text. encode_element returns false when the text is not a value of the
// dtype (a float for an integer dtype, out of range, `true` for a number).
std::string format_element(DType dtype, const uint8_t* element);
bool encode_element(DType dtype, std::string_view text, uint8_t* element);

} // namespace loom::ir::text
