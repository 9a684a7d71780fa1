#include "ir/parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "ir/error.h"
#include "ir/text_syntax.h"
#include "ir/verifier.h"

namespace loom::ir {

namespace {

// Regions nest functions; the limit keeps hostile input from exhausting the stack.
constexpr int kMaxRegionDepth = 32;

struct Pos {
  uint32_t line = 1;
  uint32_t column = 1;
};

std::string pos_str(Pos pos) { return std::to_string(pos.line) + ":" + std::to_string(pos.column); }

// Turns positions into ParseErrors and node locations for one input file.
class Diagnostics {
public:
  explicit Diagnostics(std::string filename) : filename_(std::move(filename)) {}

  [[noreturn]] void fail(Pos pos, const std::string& message) const {
    throw_error(ErrorCode::ParseError, filename_ + ":" + pos_str(pos) + ": " + message);
  }
  SourceLoc loc(Pos pos) const { return {filename_, pos.line, pos.column}; }

private:
  std::string filename_;
};

// How a piece of source text shows up in an error message: escaped and shortened.
std::string display(std::string_view source) {
  constexpr size_t kMaxShown = 40;
  std::string quoted = text::quote(source.substr(0, kMaxShown));
  std::string shown = quoted.substr(1, quoted.size() - 2);
  return "'" + shown + (source.size() > kMaxShown ? "...'" : "'");
}

// ----------------------------------------------------------------------------- lexer

enum class TokenKind { Identifier, Number, String, ValueName, GlobalName, Punct, End };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;        // identifier, number or punctuation spelling; decoded string or name
  std::string_view source; // the raw text, for error messages
  Pos pos;
  bool starts_line = true; // no other token precedes it on its line
  bool quoted = false;     // a %name or @name written as a string
};

std::string describe(const Token& token) {
  return token.kind == TokenKind::End ? "end of input" : display(token.source);
}

class Lexer {
public:
  Lexer(std::string_view text, const Diagnostics& diag) : text_(text), diag_(diag) {}

  Token next() {
    bool starts_line = skip_space_and_comments();
    Token token;
    token.pos = pos_;
    token.starts_line = starts_line;
    size_t begin = offset_;
    if (at_end()) {
      token.kind = TokenKind::End;
    } else if (char c = peek(); c == '"') {
      token.kind = TokenKind::String;
      token.text = lex_string();
    } else if (c == '%' || c == '@') {
      token.kind = c == '%' ? TokenKind::ValueName : TokenKind::GlobalName;
      advance();
      token.quoted = peek() == '"';
      token.text = token.quoted ? lex_string() : lex_name(begin);
    } else if (is_digit(c) || (c == '-' && is_digit(peek(1)))) {
      token.kind = TokenKind::Number;
      token.text = lex_number(begin);
    } else if (is_identifier_start(c)) {
      token.kind = TokenKind::Identifier;
      while (text::is_name_char(peek()))
        advance();
      token.text = std::string(text_.substr(begin, offset_ - begin));
    } else {
      token.kind = TokenKind::Punct;
      token.text = lex_punct();
    }
    token.source = text_.substr(begin, offset_ - begin);
    return token;
  }

private:
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_identifier_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  bool at_end() const { return offset_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return offset_ + ahead < text_.size() ? text_[offset_ + ahead] : '\0';
  }
  void advance() {
    if (text_[offset_] == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else {
      ++pos_.column;
    }
    ++offset_;
  }

  // Returns whether a line break was crossed (or nothing precedes this point).
  bool skip_space_and_comments() {
    bool crossed_line = offset_ == 0;
    while (!at_end()) {
      char c = peek();
      if (c == '\n') crossed_line = true;
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (!at_end() && peek() != '\n')
          advance();
      } else {
        break;
      }
    }
    return crossed_line;
  }

  // The bare name after the sigil ('%' or '@') at `sigil_offset`.
  std::string lex_name(size_t sigil_offset) {
    size_t begin = offset_;
    while (text::is_name_char(peek()))
      advance();
    if (offset_ == begin)
      diag_.fail(pos_, "expected a name or a quoted string after '" +
                           std::string(1, text_[sigil_offset]) + "', got " + describe_here());
    return std::string(text_.substr(begin, offset_ - begin));
  }

  // -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)? and no name character right after it.
  std::string lex_number(size_t begin) {
    if (peek() == '-') advance();
    skip_digits();
    if (peek() == '.' && is_digit(peek(1))) {
      advance();
      skip_digits();
    }
    bool sign = peek(1) == '+' || peek(1) == '-';
    if ((peek() == 'e' || peek() == 'E') && is_digit(peek(sign ? 2 : 1))) {
      advance();
      if (sign) advance();
      skip_digits();
    }
    if (text::is_name_char(peek())) {
      Pos pos = pos_for(begin);
      while (text::is_name_char(peek()) || peek() == '-' || peek() == '+')
        advance();
      diag_.fail(pos, "expected a number, got " + display(text_.substr(begin, offset_ - begin)));
    }
    return std::string(text_.substr(begin, offset_ - begin));
  }

  void skip_digits() {
    while (is_digit(peek()))
      advance();
  }

  // A string literal starting at the current '"'; returns the decoded bytes.
  std::string lex_string() {
    Pos start = pos_;
    advance(); // opening quote
    std::string value;
    while (true) {
      if (at_end() || peek() == '\n')
        diag_.fail(start, "expected '\"' to close the string, got " +
                              std::string(at_end() ? "end of input" : "end of line"));
      char c = peek();
      if (c == '"') break;
      if (c == '\\') {
        value += lex_escape();
      } else {
        value += c;
        advance();
      }
    }
    advance(); // closing quote
    return value;
  }

  char lex_escape() {
    Pos start = pos_;
    size_t begin = offset_;
    advance(); // backslash
    char c = peek();
    if (!at_end()) advance();
    switch (c) {
    case '\\':
      return '\\';
    case '"':
      return '"';
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case 'x': {
      int high = hex_value(peek()), low = hex_value(peek(1));
      if (high >= 0 && low >= 0) {
        advance();
        advance();
        return static_cast<char>(high * 16 + low);
      }
      if (high >= 0) advance(); // show the lone digit in the message
      break;
    }
    default:
      break;
    }
    diag_.fail(start, "expected an escape sequence (\\\\, \\\", \\n, \\t, \\r or \\xHH), got " +
                          display(text_.substr(begin, offset_ - begin)));
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  std::string lex_punct() {
    if (peek() == '-' && peek(1) == '>') {
      advance();
      advance();
      return "->";
    }
    char c = peek();
    if (std::string_view("(){}[]<>,:=-").find(c) == std::string_view::npos)
      diag_.fail(pos_, "expected a token, got " + describe_here());
    advance();
    return std::string(1, c);
  }

  std::string describe_here() const {
    if (at_end()) return "end of input";
    return display(text_.substr(offset_, 1));
  }

  // Position of an earlier offset on the current line (numbers never span lines).
  Pos pos_for(size_t earlier_offset) const {
    return {pos_.line, pos_.column - static_cast<uint32_t>(offset_ - earlier_offset)};
  }

  std::string_view text_;
  const Diagnostics& diag_;
  size_t offset_ = 0;
  Pos pos_;
};

// ------------------------------------------------------------------------ syntax tree
// A function is parsed completely before it is built, so that a reference to a value
// defined further down can be reported as "used before its definition".

struct ValueRef {
  std::string name;     // empty for numbered (unnamed) values
  std::string spelling; // as written, without the '%': `x`, `3`, `"a b"`
  bool numbered = false;
  Pos pos;
  std::pair<bool, std::string> key() const { return {numbered, numbered ? spelling : name}; }
  std::string str() const { return "%" + spelling; }
};

struct ParamSyntax {
  ValueRef value;
  TensorType type;
  std::optional<SourceLoc> loc;
};

struct OutputSyntax {
  std::string name;
  TensorType type;
  std::optional<ValueRef> alias;
};

struct FunctionSyntax;

struct NodeSyntax {
  Pos pos;
  std::vector<ValueRef> results;
  Op op = Op::Constant;
  std::vector<ValueRef> operands;
  Attrs attrs;
  std::vector<TensorType> types;
  std::optional<SourceLoc> loc;
  std::unique_ptr<FunctionSyntax> body;
};

struct FunctionSyntax {
  Pos pos;
  std::string name;
  std::vector<ParamSyntax> params;
  std::vector<OutputSyntax> outputs;
  std::vector<NodeSyntax> nodes;
  Pos return_pos;
  std::vector<ValueRef> returns;
};

// Literal data as written, converted to bytes once its type is known.
struct PayloadSyntax {
  Pos pos;
  std::vector<Token> elements;
  std::optional<Token> hex;
};

// ------------------------------------------------------------------------------ parser

class Parser {
public:
  Parser(std::string_view text, const Diagnostics& diag, Module& module)
      : lexer_(text, diag), diag_(diag), module_(module) {
    current_ = lexer_.next();
  }

  // Top level: constants are added to the module at once, functions are parsed and
  // handed to `build` one at a time.
  template <typename BuildFn> void parse_top_level(BuildFn&& build) {
    while (current_.kind != TokenKind::End) {
      if (at_keyword("const")) {
        parse_constant();
      } else if (at_keyword("func")) {
        build(parse_function(0));
      } else {
        fail_expected("'const' or 'func'");
      }
    }
  }

private:
  // ---- token helpers
  Token take() {
    Token token = std::move(current_);
    current_ = lexer_.next();
    return token;
  }
  bool at_punct(std::string_view p) const {
    return current_.kind == TokenKind::Punct && current_.text == p;
  }
  bool at_keyword(std::string_view k) const {
    return current_.kind == TokenKind::Identifier && current_.text == k;
  }
  [[noreturn]] void fail_expected(const std::string& what) const {
    diag_.fail(current_.pos, "expected " + what + ", got " + describe(current_));
  }
  Token expect_punct(std::string_view p) {
    if (!at_punct(p)) fail_expected("'" + std::string(p) + "'");
    return take();
  }
  Token expect_keyword(std::string_view k) {
    if (!at_keyword(k)) fail_expected("'" + std::string(k) + "'");
    return take();
  }
  Token expect_kind(TokenKind kind, const std::string& what) {
    if (current_.kind != kind) fail_expected(what);
    return take();
  }
  // Statements end their line; anything after them on the same line is junk.
  void expect_line_end() {
    if (!current_.starts_line) fail_expected("end of line");
  }
  // A comma-separated list up to (not including) `close`.
  template <typename ItemFn> void parse_list(std::string_view close, ItemFn&& item) {
    if (at_punct(close)) return;
    item();
    while (at_punct(",")) {
      take();
      item();
    }
  }

  // ---- top level
  void parse_constant() {
    take(); // const
    Token name = expect_kind(TokenKind::GlobalName, "constant name '@name'");
    if (module_.find_constant(name.text)) diag_.fail(name.pos, "duplicate constant @" + name.text);
    expect_punct(":");
    TensorType type = parse_type();
    expect_punct("=");
    PayloadSyntax payload = parse_payload();
    module_.add_constant(name.text, make_literal(payload, type));
    expect_line_end();
  }

  std::unique_ptr<FunctionSyntax> parse_function(int depth) {
    if (depth > kMaxRegionDepth)
      diag_.fail(current_.pos, "regions nested deeper than " + std::to_string(kMaxRegionDepth));
    auto fn = std::make_unique<FunctionSyntax>();
    fn->pos = expect_keyword("func").pos;
    fn->name = expect_kind(TokenKind::GlobalName, "function name '@name'").text;
    expect_punct("(");
    parse_list(")", [&] { fn->params.push_back(parse_param()); });
    expect_punct(")");
    expect_punct("->");
    expect_punct("(");
    parse_list(")", [&] { fn->outputs.push_back(parse_output()); });
    expect_punct(")");
    expect_punct("{");
    expect_line_end();
    while (!at_keyword("return")) {
      if (at_punct("}")) fail_expected("'return'");
      fn->nodes.push_back(parse_node(depth));
    }
    fn->return_pos = take().pos;
    if (current_.kind == TokenKind::ValueName && !current_.starts_line)
      parse_list("}", [&] { fn->returns.push_back(parse_value_ref()); });
    expect_line_end();
    expect_punct("}");
    expect_line_end();
    return fn;
  }

  ParamSyntax parse_param() {
    ParamSyntax param;
    param.value = parse_value_ref();
    expect_punct(":");
    param.type = parse_type();
    param.loc = parse_optional_loc();
    return param;
  }

  OutputSyntax parse_output() {
    OutputSyntax output;
    output.name = parse_identifier("output name");
    expect_punct(":");
    output.type = parse_type();
    if (at_keyword("aliases")) {
      take();
      output.alias = parse_value_ref();
    }
    return output;
  }

  NodeSyntax parse_node(int depth) {
    NodeSyntax node;
    node.pos = current_.pos;
    if (current_.kind == TokenKind::ValueName) {
      parse_list("=", [&] { node.results.push_back(parse_value_ref()); });
      expect_punct("=");
    }
    if (current_.kind != TokenKind::Identifier || !parse_op(current_.text))
      fail_expected(node.results.empty() ? "a node ('%name = op(...)') or 'return'"
                                         : "op mnemonic");
    node.op = *parse_op(take().text);
    expect_punct("(");
    parse_list(")", [&] { node.operands.push_back(parse_value_ref()); });
    expect_punct(")");
    if (at_punct("{")) node.attrs = parse_attrs();
    expect_punct(":");
    parse_result_types(node);
    node.loc = parse_optional_loc();
    if (at_punct("{") && !current_.starts_line) {
      take();
      expect_line_end();
      node.body = parse_function(depth + 1);
      expect_punct("}");
    }
    expect_line_end();
    return node;
  }

  void parse_result_types(NodeSyntax& node) {
    Pos pos = current_.pos;
    if (at_punct("(")) {
      take();
      parse_list(")", [&] { node.types.push_back(parse_type()); });
      expect_punct(")");
    } else {
      node.types.push_back(parse_type());
    }
    if (node.types.size() != node.results.size())
      diag_.fail(pos, "expected " + std::to_string(node.results.size()) +
                          " result type(s), one per result name, got " +
                          std::to_string(node.types.size()));
  }

  ValueRef parse_value_ref() {
    Token token = expect_kind(TokenKind::ValueName, "value name '%name'");
    ValueRef ref;
    ref.pos = token.pos;
    ref.numbered = !token.quoted && text::is_numeric_name(token.text);
    ref.name = ref.numbered ? "" : token.text;
    ref.spelling = token.quoted ? text::quote(token.text) : token.text;
    return ref;
  }

  std::string parse_identifier(const std::string& what) {
    if (current_.kind != TokenKind::Identifier && current_.kind != TokenKind::String)
      fail_expected(what);
    return take().text;
  }

  std::optional<SourceLoc> parse_optional_loc() {
    if (!at_keyword("loc") || current_.starts_line) return std::nullopt;
    take();
    expect_punct("(");
    SourceLoc loc;
    if (at_keyword("unknown")) {
      take();
    } else {
      loc.file = expect_kind(TokenKind::String, "file name string or 'unknown'").text;
      expect_punct(":");
      loc.line = parse_u32("line number");
      expect_punct(":");
      loc.column = parse_u32("column number");
    }
    expect_punct(")");
    return loc;
  }

  uint32_t parse_u32(const std::string& what) {
    std::optional<int64_t> value;
    if (current_.kind == TokenKind::Number) value = text::parse_int(current_.text);
    if (!value || *value < 1 || *value > UINT32_MAX) fail_expected(what + " (a positive integer)");
    take();
    return static_cast<uint32_t>(*value);
  }

  // ---- types
  TensorType parse_type() {
    Pos pos = current_.pos;
    std::optional<DType> dtype;
    if (current_.kind == TokenKind::Identifier) dtype = parse_dtype(current_.text);
    if (!dtype) fail_expected("type (f32, f64, f16, bf16, i8, i32, i64 or bool, then '[dims]')");
    take();
    TensorType type{*dtype, {}};
    expect_punct("[");
    parse_list("]", [&] { type.shape.push_back(parse_dimension()); });
    expect_punct("]");
    try {
      shape_numel(type.shape);
    } catch (const Error& e) {
      diag_.fail(pos, "type " + type.str() + " is too large: " + e.message());
    }
    return type;
  }

  int64_t parse_dimension() {
    std::optional<int64_t> value;
    if (current_.kind == TokenKind::Number) value = text::parse_int(current_.text);
    if (!value || *value < 0) fail_expected("dimension (a non-negative integer)");
    take();
    return *value;
  }

  // ---- attributes
  Attrs parse_attrs() {
    expect_punct("{");
    Attrs attrs;
    parse_list("}", [&] {
      Pos pos = current_.pos;
      std::string name = parse_identifier("attribute name");
      if (attrs.has(name)) diag_.fail(pos, "duplicate attribute '" + name + "'");
      expect_punct("=");
      attrs.set(name, parse_attr_value());
    });
    expect_punct("}");
    return attrs;
  }

  AttrValue parse_attr_value() {
    switch (current_.kind) {
    case TokenKind::Number:
      return parse_number_attr();
    case TokenKind::String:
      return take().text;
    case TokenKind::GlobalName:
      return parse_constant_ref();
    case TokenKind::Identifier:
      return parse_word_attr();
    case TokenKind::Punct:
      if (at_punct("[")) return parse_ints();
      if (at_punct("-")) return parse_negative_infinity();
      break;
    default:
      break;
    }
    fail_expected("attribute value");
  }

  AttrValue parse_number_attr() {
    bool is_float_text = current_.text.find_first_of(".eE") != std::string::npos;
    if (is_float_text) {
      std::optional<double> value = text::parse_double(current_.text);
      if (!value) fail_expected("float in the range of f64");
      take();
      return *value;
    }
    std::optional<int64_t> value = text::parse_int(current_.text);
    if (!value) fail_expected("integer in the range of i64");
    take();
    return *value;
  }

  // `-inf` is written as '-' followed by the word `inf` (`-1.5` is a single token).
  double parse_negative_infinity() {
    take(); // '-'
    if (!at_keyword("inf")) fail_expected("'inf' after '-'");
    take();
    return -std::numeric_limits<double>::infinity();
  }

  AttrValue parse_word_attr() {
    const std::string& word = current_.text;
    if (word == "true" || word == "false") return take().text == "true";
    if (word == "inf" || word == "nan") return *text::parse_double(take().text);
    if (word == "dense" || word == "dense_hex") {
      PayloadSyntax payload = parse_payload();
      expect_punct(":");
      return make_literal(payload, parse_type());
    }
    if (std::optional<DType> dtype = parse_dtype(word)) {
      take();
      return *dtype;
    }
    fail_expected("attribute value");
  }

  AttrValue parse_ints() {
    take(); // '['
    std::vector<int64_t> values;
    parse_list("]", [&] {
      std::optional<int64_t> value;
      if (current_.kind == TokenKind::Number) value = text::parse_int(current_.text);
      if (!value) fail_expected("integer");
      take();
      values.push_back(*value);
    });
    expect_punct("]");
    return values;
  }

  AttrValue parse_constant_ref() {
    const Literal* literal = module_.find_constant(current_.text);
    if (!literal) fail_expected("a constant declared earlier with 'const'");
    take();
    return *literal; // a copy shares the constant's buffer
  }

  // ---- literals
  PayloadSyntax parse_payload() {
    PayloadSyntax payload;
    payload.pos = current_.pos;
    if (at_keyword("dense_hex")) {
      take();
      expect_punct("<");
      payload.hex = expect_kind(TokenKind::String, "hex string");
      expect_punct(">");
      return payload;
    }
    expect_keyword("dense");
    expect_punct("<");
    expect_punct("[");
    parse_list("]", [&] { payload.elements.push_back(parse_element()); });
    expect_punct("]");
    expect_punct(">");
    return payload;
  }

  // A number, `true`, `false`, `inf`, `nan` or `-inf` (merged into one token).
  Token parse_element() {
    if (current_.kind == TokenKind::Number) return take();
    if (current_.kind == TokenKind::Identifier &&
        (at_keyword("true") || at_keyword("false") || at_keyword("inf") || at_keyword("nan")))
      return take();
    if (at_punct("-")) {
      Token minus = take();
      if (!at_keyword("inf")) fail_expected("'inf' after '-'");
      take();
      minus.text = "-inf";
      return minus;
    }
    fail_expected("literal element (number, true, false, inf, -inf or nan)");
  }

  Literal make_literal(const PayloadSyntax& payload, const TensorType& type) {
    if (payload.hex) return literal_from_hex(*payload.hex, type);
    int64_t count = static_cast<int64_t>(payload.elements.size());
    if (count != type.numel())
      diag_.fail(payload.pos, "expected " + std::to_string(type.numel()) + " elements for " +
                                  type.str() + ", got " + std::to_string(count));
    size_t element_size = dtype_size(type.dtype);
    std::vector<uint8_t> bytes(type.nbytes());
    for (int64_t i = 0; i < count; ++i) {
      const Token& element = payload.elements[i];
      if (!text::encode_element(type.dtype, element.text, bytes.data() + i * element_size))
        diag_.fail(element.pos, "expected " + std::string(dtype_name(type.dtype)) + " value, got " +
                                    display(element.text));
    }
    return Literal(type, std::move(bytes));
  }

  Literal literal_from_hex(const Token& hex, const TensorType& type) {
    // Sizes are compared before anything is allocated: the type may be huge.
    if (static_cast<int64_t>(hex.text.size()) != 2 * type.nbytes())
      diag_.fail(hex.pos, "expected " + std::to_string(2 * type.nbytes()) + " hex digits for " +
                              type.str() + ", got " + std::to_string(hex.text.size()));
    std::vector<uint8_t> bytes(type.nbytes());
    for (size_t i = 0; i < bytes.size(); ++i) {
      int high = hex_digit(hex.text[2 * i]), low = hex_digit(hex.text[2 * i + 1]);
      if (high < 0 || low < 0)
        diag_.fail(hex.pos, "expected hex digits, got " + display(hex.text.substr(2 * i, 2)));
      bytes[i] = static_cast<uint8_t>(high * 16 + low);
    }
    return Literal(type, std::move(bytes));
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  Lexer lexer_;
  const Diagnostics& diag_;
  Module& module_;
  Token current_;
};

// ----------------------------------------------------------------------------- builder

// Turns a parsed function into IR: resolves value names, checks operand counts and
// output types, and records locations.
class FunctionBuilder {
public:
  FunctionBuilder(const FunctionSyntax& syntax, Function& fn, Module& module,
                  const Diagnostics& diag)
      : syntax_(syntax), fn_(fn), module_(module), diag_(diag) {}

  void build() {
    index_definitions();
    for (const ParamSyntax& param : syntax_.params)
      define(param.value,
             fn_.add_param(param.value.name, param.type, location(param.loc, param.value.pos)));
    for (const NodeSyntax& node : syntax_.nodes)
      build_node(node);
    build_outputs();
  }

private:
  // Every definition's position, so that forward references get a precise message.
  void index_definitions() {
    auto index = [&](const ValueRef& ref) {
      auto [it, inserted] = definitions_.emplace(ref.key(), ref.pos);
      if (!inserted)
        diag_.fail(ref.pos, "duplicate definition of " + ref.str() + " (first defined at " +
                                pos_str(it->second) + ")");
    };
    for (const ParamSyntax& param : syntax_.params)
      index(param.value);
    for (const NodeSyntax& node : syntax_.nodes)
      for (const ValueRef& result : node.results)
        index(result);
  }

  void define(const ValueRef& ref, Value* value) { values_.emplace(ref.key(), value); }

  Value* resolve(const ValueRef& ref) const {
    auto it = values_.find(ref.key());
    if (it != values_.end()) return it->second;
    auto later = definitions_.find(ref.key());
    if (later != definitions_.end())
      diag_.fail(ref.pos, "value " + ref.str() + " is used before its definition at " +
                              pos_str(later->second));
    diag_.fail(ref.pos, "undefined value " + ref.str());
  }

  SourceLoc location(const std::optional<SourceLoc>& written, Pos pos) const {
    return written ? *written : diag_.loc(pos);
  }

  void build_node(const NodeSyntax& syntax) {
    check_operand_count(syntax);
    std::vector<Value*> operands;
    for (const ValueRef& ref : syntax.operands)
      operands.push_back(resolve(ref));
    Node* node = fn_.append(syntax.op, operands, syntax.attrs, syntax.types,
                            location(syntax.loc, syntax.pos));
    for (size_t i = 0; i < syntax.results.size(); ++i) {
      Value* result = node->result(static_cast<int>(i));
      result->set_name(syntax.results[i].name);
      define(syntax.results[i], result);
    }
    if (syntax.body) {
      auto body = std::make_unique<Function>(syntax.body->name, &module_);
      FunctionBuilder(*syntax.body, *body, module_, diag_).build();
      node->set_body(std::move(body));
    }
  }

  void check_operand_count(const NodeSyntax& syntax) const {
    const OpInfo& info = op_info(syntax.op);
    int count = static_cast<int>(syntax.operands.size());
    if (!operand_count_ok(info, count))
      diag_.fail(syntax.pos, "expected " + operand_count_str(info) + " operand(s) for " +
                                 std::string(op_name(syntax.op)) + ", got " +
                                 std::to_string(count));
  }

  void build_outputs() {
    if (syntax_.returns.size() != syntax_.outputs.size())
      diag_.fail(syntax_.return_pos, "expected " + std::to_string(syntax_.outputs.size()) +
                                         " returned value(s), one per output of @" + fn_.name() +
                                         ", got " + std::to_string(syntax_.returns.size()));
    for (size_t i = 0; i < syntax_.outputs.size(); ++i) {
      const OutputSyntax& output = syntax_.outputs[i];
      const ValueRef& ref = syntax_.returns[i];
      Value* value = resolve(ref);
      if (value->type() != output.type)
        diag_.fail(ref.pos, "expected a value of type " + output.type.str() + " for output " +
                                output.name + ", got " + ref.str() + " of type " +
                                value->type().str());
      fn_.add_output(output.name, value);
      if (output.alias) fn_.set_output_alias(output.name, aliased_param(*output.alias)->name());
    }
  }

  Value* aliased_param(const ValueRef& ref) const {
    Value* value = resolve(ref);
    const auto& params = fn_.params();
    if (std::find(params.begin(), params.end(), value) == params.end() || value->name().empty())
      diag_.fail(ref.pos, "expected a named parameter after 'aliases', got " + ref.str());
    return value;
  }

  const FunctionSyntax& syntax_;
  Function& fn_;
  Module& module_;
  const Diagnostics& diag_;
  std::map<std::pair<bool, std::string>, Pos> definitions_;
  std::map<std::pair<bool, std::string>, Value*> values_;
};

} // namespace

std::unique_ptr<Module> parse_module(std::string_view text, const std::string& filename,
                                     const ParseOptions& opts) {
  Diagnostics diag(filename);
  auto module = std::make_unique<Module>();
  Parser parser(text, diag, *module);
  parser.parse_top_level([&](std::unique_ptr<FunctionSyntax> syntax) {
    if (module->find_function(syntax->name))
      diag.fail(syntax->pos, "duplicate function @" + syntax->name);
    Function* fn = module->add_function(syntax->name);
    FunctionBuilder(*syntax, *fn, *module, diag).build();
  });
  if (opts.verify) verify(*module);
  return module;
}

} // namespace loom::ir
