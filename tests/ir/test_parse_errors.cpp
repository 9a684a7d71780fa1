// .loom parse errors: each names file:line:column and what was expected, and no input,
// however broken, crashes the parser.
#include <catch2/catch.hpp>

#include <random>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"

using namespace loom;
using namespace loom::ir;

namespace {

// The message of the ParseError that parsing `text` (as "bad.loom") throws.
std::string parse_error(const std::string& text) {
  try {
    parse_module(text, "bad.loom");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == ErrorCode::ParseError);
    return e.message();
  }
  FAIL("no error for:\n" << text);
  return "";
}

// A valid function whose line `line` (1-based) is replaced by `replacement`.
std::string with_line(int line, const std::string& replacement) {
  std::vector<std::string> lines = {
      "func @f(%a: f32[2], %b: f32[2]) -> (out: f32[2]) {",
      "  %c = add(%a, %b) : f32[2]",
      "  %d = mul(%c, %a) : f32[2]",
      "  return %d",
      "}",
  };
  lines.at(line - 1) = replacement;
  std::string text;
  for (const std::string& l : lines)
    text += l + "\n";
  return text;
}

// Parsing must either succeed or throw loom::Error; anything else fails the test (and a
// crash takes the whole test binary down).
void parse_or_error(const std::string& text) {
  try {
    parse_module(text, "fuzz.loom");
  } catch (const Error&) {
  }
}

// Covers constants, every attribute kind, aliases, locations, quoting and a region.
const std::string kRichModule = R"(// leading comment
const @w : f32[2] = dense<[0.5, -inf]>
const @"big w" : i8[2] = dense_hex<"ff01">

func @main(%x: f32[2] loc("a.py":1:2), %"odd name": f32[2]) -> (y: f32[2] aliases %x, "z z": f32[]) {
  %0 = constant() {value = @w} : f32[2]
  %1 = add(%x, %0) : f32[2] loc("a.py":3:4)
  %s = neg(%1) {f = 1.5e-3, i = -2, l = [1, 2], s = "q\"\n", t = true, ty = bf16} : f32[2] {
    func @body(%p: f32[2]) -> (r: f32[2]) {
      %0 = relu(%p) : f32[2]
      return %0
    }
  }
  %2 = reduce_sum(%s) {axes = [0], keepdims = false} : f32[]
  %3 = pad(%"odd name") {pads_hi = [0], pads_lo = [0], value = nan} : f32[2]
  return %s, %2
}
)";

} // namespace

TEST_CASE("the rich fuzzing seed is valid", "[text][errors]") {
  auto module = parse_module(kRichModule, "rich.loom");
  CHECK(print_module(*parse_module(print_module(*module))) == print_module(*module));
}

TEST_CASE("errors point at the offending token and say what was expected", "[text][errors]") {
  CHECK(parse_error(with_line(3, "  %d = mull(%c, %a) : f32[2]")) ==
        "bad.loom:3:8: expected op mnemonic, got 'mull'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) : f33[2]")) ==
        "bad.loom:2:22: expected type (f32, f64, f16, bf16, i8, i32, i64 or bool, then '[dims]'), "
        "got 'f33'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) : f32[2] junk")) ==
        "bad.loom:2:29: expected end of line, got 'junk'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) : f32[2x]")) ==
        "bad.loom:2:26: expected a number, got '2x'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) : f32[-2]")) ==
        "bad.loom:2:26: expected dimension (a non-negative integer), got '-2'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {x = 1.5.2} : f32[2]")) ==
        "bad.loom:2:25: expected a number, got '1.5.2'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) $ : f32[2]")) ==
        "bad.loom:2:20: expected a token, got '$'");
  CHECK(parse_error(with_line(2, "  %c add(%a, %b) : f32[2]")) ==
        "bad.loom:2:6: expected '=', got 'add'");
  CHECK(parse_error(with_line(1, "func @f(%a: f32[2], %b: f32[2]) -> (out: f32[2])")) ==
        "bad.loom:2:3: expected '{', got '%c'");
  CHECK(parse_error("hello") == "bad.loom:1:1: expected 'const' or 'func', got 'hello'");
  CHECK(parse_error("func @f(%a: f32[2]) -> (out: f32[2]) {\n  %b = neg(%a) : f32[2]\n") ==
        "bad.loom:3:1: expected a node ('%name = op(...)') or 'return', got end of input");
}

TEST_CASE("strings and escapes", "[text][errors]") {
  CHECK(parse_error("const @c : i8[1] = dense_hex<\"00\n") ==
        "bad.loom:1:30: expected '\"' to close the string, got end of line");
  CHECK(parse_error("const @c : i8[1] = dense_hex<\"00") ==
        "bad.loom:1:30: expected '\"' to close the string, got end of input");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {s = \"a\\qb\"} : f32[2]")) ==
        "bad.loom:2:27: expected an escape sequence (\\\\, \\\", \\n, \\t, \\r or \\xHH), got "
        "'\\\\q'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {s = \"\\x4\"} : f32[2]")) ==
        "bad.loom:2:26: expected an escape sequence (\\\\, \\\", \\n, \\t, \\r or \\xHH), got "
        "'\\\\x4'");
  CHECK(parse_error(with_line(2, "  % = add(%a, %b) : f32[2]")) ==
        "bad.loom:2:4: expected a name or a quoted string after '%', got ' '");
}

TEST_CASE("name resolution errors", "[text][errors]") {
  CHECK(parse_error(with_line(2, "  %c = add(%a, %zz) : f32[2]")) ==
        "bad.loom:2:16: undefined value %zz");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %d) : f32[2]")) ==
        "bad.loom:2:16: value %d is used before its definition at 3:3");
  CHECK(parse_error(with_line(3, "  %a = mul(%c, %a) : f32[2]")) ==
        "bad.loom:3:3: duplicate definition of %a (first defined at 1:9)");
  CHECK(parse_error(with_line(4, "  return %0")) == "bad.loom:4:10: undefined value %0");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {value = @nope} : f32[2]")) ==
        "bad.loom:2:29: expected a constant declared earlier with 'const', got '@nope'");
  CHECK(parse_error("const @w : f32[] = dense<[1.0]>\nconst @w : f32[] = dense<[2.0]>\n") ==
        "bad.loom:2:7: duplicate constant @w");
  std::string fn = with_line(1, "func @f(%a: f32[2], %b: f32[2]) -> (out: f32[2]) {");
  CHECK(parse_error(fn + fn) == "bad.loom:6:1: duplicate function @f");
  CHECK(
      parse_error(with_line(1, "func @f(%a: f32[2], %b: f32[2]) -> (out: f32[2] aliases %c) {")) ==
      "bad.loom:1:57: expected a named parameter after 'aliases', got %c");
}

TEST_CASE("structural errors", "[text][errors]") {
  CHECK(parse_error(with_line(2, "  %c = add(%a) : f32[2]")) ==
        "bad.loom:2:3: expected 2 operand(s) for add, got 1");
  CHECK(parse_error(with_line(2, "  %c = concat() {axis = 0} : f32[2]")) ==
        "bad.loom:2:3: expected at least 1 operand(s) for concat, got 0");
  CHECK(parse_error(with_line(2, "  %c, %e = add(%a, %b) : f32[2]")) ==
        "bad.loom:2:26: expected 2 result type(s), one per result name, got 1");
  CHECK(parse_error(with_line(4, "  return")) ==
        "bad.loom:4:3: expected 1 returned value(s), one per output of @f, got 0");
  CHECK(parse_error(with_line(4, "  return %d, %c")) ==
        "bad.loom:4:3: expected 1 returned value(s), one per output of @f, got 2");
  CHECK(parse_error(with_line(1, "func @f(%a: f32[2], %b: f32[2]) -> (out: f32[3]) {")) ==
        "bad.loom:4:10: expected a value of type f32[3] for output out, got %d of type f32[2]");
  CHECK(parse_error(with_line(4, "  %e = neg(%d) : f32[2]")) ==
        "bad.loom:5:1: expected 'return', got '}'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {axis = 1, axis = 2} : f32[2]")) ==
        "bad.loom:2:31: duplicate attribute 'axis'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) : f32[2] loc(\"x\":0:1)")) ==
        "bad.loom:2:37: expected line number (a positive integer), got '0'");
  CHECK(
      parse_error(with_line(2, "  %c = add(%a, %b) : f32[1099511627776,2]")) ==
      "bad.loom:2:22: type f32[1099511627776,2] is too large: shape [1099511627776,2] has too many "
      "elements");
}

TEST_CASE("attribute and literal value errors", "[text][errors]") {
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {n = 99999999999999999999} : f32[2]")) ==
        "bad.loom:2:25: expected integer in the range of i64, got '99999999999999999999'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {x = 1e999} : f32[2]")) ==
        "bad.loom:2:25: expected float in the range of f64, got '1e999'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {x = -nan} : f32[2]")) ==
        "bad.loom:2:26: expected 'inf' after '-', got 'nan'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {x = maybe} : f32[2]")) ==
        "bad.loom:2:25: expected attribute value, got 'maybe'");
  CHECK(parse_error(with_line(2, "  %c = add(%a, %b) {x = [1, 2.5]} : f32[2]")) ==
        "bad.loom:2:29: expected integer, got '2.5'");
  CHECK(parse_error("const @w : f32[3] = dense<[1.0, 2.0]>\n") ==
        "bad.loom:1:21: expected 3 elements for f32[3], got 2");
  CHECK(parse_error("const @w : i8[2] = dense<[1, 300]>\n") ==
        "bad.loom:1:30: expected i8 value, got '300'");
  CHECK(parse_error("const @w : i32[1] = dense<[1.5]>\n") ==
        "bad.loom:1:28: expected i32 value, got '1.5'");
  CHECK(parse_error("const @w : f16[1] = dense<[1e6]>\n") ==
        "bad.loom:1:28: expected f16 value, got '1e6'");
  CHECK(parse_error("const @w : bool[1] = dense<[1]>\n") ==
        "bad.loom:1:29: expected bool value, got '1'");
  CHECK(parse_error("const @w : f32[1] = dense_hex<\"0000\">\n") ==
        "bad.loom:1:31: expected 8 hex digits for f32[1], got 4");
  CHECK(parse_error("const @w : i8[2] = dense_hex<\"00zz\">\n") ==
        "bad.loom:1:30: expected hex digits, got 'zz'");
  CHECK(
      parse_error("const @w : f32[1] = dense<[yes]>\n") ==
      "bad.loom:1:28: expected literal element (number, true, false, inf, -inf or nan), got 'yes'");
  CHECK(parse_error("const @w : f32[1] = sparse<[1.0]>\n") ==
        "bad.loom:1:21: expected 'dense', got 'sparse'");
}

TEST_CASE("well-formed but invalid IR fails verification", "[text][errors]") {
  try {
    parse_module(with_line(2, "  %c = add(%a, %b) : f32[3]"), "bad.loom");
    FAIL("no error");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == ErrorCode::VerifyError);
    CHECK(e.message().find("bad.loom:2") != std::string::npos);
  }
}

TEST_CASE("deeply nested regions are rejected, not a stack overflow", "[text][errors]") {
  std::string text;
  const int depth = 10000;
  for (int i = 0; i < depth; ++i)
    text += "func @f(%x: f32[]) -> () {\n%y = neg(%x) : f32[] {\n";
  std::string message = parse_error(text);
  CHECK(message.find("regions nested deeper than") != std::string::npos);
}

TEST_CASE("every prefix of a valid file parses or throws Error", "[text][errors][fuzz]") {
  for (size_t length = 0; length <= kRichModule.size(); ++length)
    parse_or_error(kRichModule.substr(0, length));
}

TEST_CASE("single-character mutations parse or throw Error", "[text][errors][fuzz]") {
  const std::string replacements = "\"%@{(<-\n\\";
  for (size_t i = 0; i < kRichModule.size(); ++i) {
    for (char c : replacements) {
      std::string mutated = kRichModule;
      mutated[i] = c;
      parse_or_error(mutated);
    }
    parse_or_error(kRichModule.substr(0, i) + kRichModule.substr(i + 1));
  }
}

TEST_CASE("random token soup and random bytes parse or throw Error", "[text][errors][fuzz]") {
  const std::vector<std::string> pieces = {"func",
                                           "@f",
                                           "(",
                                           ")",
                                           "%a",
                                           "%0",
                                           ":",
                                           "f32[2]",
                                           "i8[]",
                                           "->",
                                           "{",
                                           "}",
                                           "return",
                                           "=",
                                           "add",
                                           "neg",
                                           "constant",
                                           "dense<[",
                                           "dense_hex<\"00\">",
                                           "]>",
                                           "\"",
                                           "1.5",
                                           "-",
                                           "inf",
                                           "\n",
                                           ",",
                                           "loc(",
                                           "const",
                                           "aliases",
                                           "[",
                                           "]",
                                           "<",
                                           ">",
                                           "//",
                                           "true",
                                           " "};
  std::mt19937 rng(12345);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    int count = std::uniform_int_distribution<int>(0, 60)(rng);
    for (int i = 0; i < count; ++i)
      text += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    parse_or_error(text);
  }
  for (int round = 0; round < 1000; ++round) {
    std::string bytes(std::uniform_int_distribution<size_t>(0, 200)(rng), '\0');
    for (char& c : bytes)
      c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    parse_or_error(bytes);
  }
}
