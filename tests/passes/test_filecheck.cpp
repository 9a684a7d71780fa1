// The FileCheck-like matcher (filecheck.h) and its own tests.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <stdexcept>

#include "tests/passes/filecheck.h"

namespace loom::test {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// A pattern as a regex: literal text escaped, {{...}} parts kept.
std::regex compile(const std::string& pattern) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  std::string re;
  size_t at = 0;
  while (at < pattern.size()) {
    size_t open = pattern.find("{{", at);
    size_t close = open == std::string::npos ? std::string::npos : pattern.find("}}", open + 2);
    if (close == std::string::npos) {
      re += std::regex_replace(pattern.substr(at), special, R"(\$&)");
      break;
    }
    re += std::regex_replace(pattern.substr(at, open - at), special, R"(\$&)");
    re += "(?:" + pattern.substr(open + 2, close - open - 2) + ")";
    at = close + 2;
  }
  return std::regex(re);
}

struct Matcher {
  const std::vector<std::string>& lines;
  bool matches(size_t i, const std::regex& re) const { return std::regex_search(lines[i], re); }
  // First line in [from, lines.size()) matching, or npos.
  size_t find(size_t from, const std::regex& re) const {
    for (size_t i = from; i < lines.size(); ++i)
      if (matches(i, re)) return i;
    return std::string::npos;
  }
};

std::string describe(const CheckLine& c) {
  static const char* names[] = {"CHECK", "CHECK-NEXT", "CHECK-NOT", "CHECK-COUNT"};
  return std::string(names[c.kind]) + " on line " + std::to_string(c.line) + " ('" + c.pattern +
         "')";
}

} // namespace

std::vector<CheckLine> parse_check_lines(const std::string& test_text) {
  static const std::regex directive(R"(^\s*//\s*CHECK(-[A-Z0-9-]+)?:(.*)$)");
  std::vector<CheckLine> checks;
  std::vector<std::string> lines = split_lines(test_text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, directive)) continue;
    CheckLine c{CheckLine::Check, trim(m[2]), 0, static_cast<int>(i + 1)};
    std::string suffix = m[1];
    if (suffix == "-NEXT")
      c.kind = CheckLine::Next;
    else if (suffix == "-NOT")
      c.kind = CheckLine::Not;
    else if (suffix.rfind("-COUNT-", 0) == 0) {
      c.kind = CheckLine::Count;
      c.count = std::stoi(suffix.substr(7));
    } else if (!suffix.empty())
      throw std::runtime_error("line " + std::to_string(i + 1) + ": unknown directive CHECK" +
                               suffix);
    if (c.kind == CheckLine::Next && (checks.empty() || checks.back().kind == CheckLine::Not))
      throw std::runtime_error("line " + std::to_string(i + 1) +
                               ": CHECK-NEXT needs a positive check before it");
    checks.push_back(c);
  }
  return checks;
}

std::string run_line(const std::string& test_text) {
  static const std::regex run(R"(^\s*//\s*RUN:(.*)$)");
  for (const std::string& line : split_lines(test_text)) {
    std::smatch m;
    if (std::regex_match(line, m, run)) return trim(m[1]);
  }
  return "";
}

std::string file_check(const std::string& output, const std::vector<CheckLine>& checks) {
  std::vector<std::string> lines = split_lines(output);
  Matcher matcher{lines};
  size_t pos = 0;                     // first line not yet consumed
  std::vector<const CheckLine*> nots; // CHECK-NOTs waiting for the next match
  auto nots_clear_until = [&](size_t end) -> std::string {
    for (const CheckLine* n : nots) {
      std::regex re = compile(n->pattern);
      for (size_t i = pos; i < end && i < lines.size(); ++i)
        if (matcher.matches(i, re))
          return describe(*n) + " matched output line " + std::to_string(i + 1) + ": " + lines[i];
    }
    nots.clear();
    return "";
  };
  for (const CheckLine& c : checks) {
    std::regex re = compile(c.pattern);
    size_t found = std::string::npos;
    switch (c.kind) {
    case CheckLine::Not:
      nots.push_back(&c);
      continue;
    case CheckLine::Check:
      found = matcher.find(pos, re);
      break;
    case CheckLine::Next:
      found = pos < lines.size() && matcher.matches(pos, re) ? pos : std::string::npos;
      break;
    case CheckLine::Count: {
      int seen = 0;
      for (size_t i = pos; i < lines.size(); ++i)
        if (matcher.matches(i, re) && ++seen <= c.count) found = i;
      if (seen != c.count)
        return describe(c) + ": found " + std::to_string(seen) +
               " matching lines after output line " + std::to_string(pos);
      break;
    }
    }
    if (found == std::string::npos)
      return describe(c) + " not found after output line " + std::to_string(pos) +
             (pos < lines.size() ? " ('" + lines[pos] + "')" : "");
    if (std::string e = nots_clear_until(found); !e.empty()) return e;
    pos = found + 1;
  }
  return nots_clear_until(lines.size());
}

} // namespace loom::test

using loom::test::file_check;
using loom::test::parse_check_lines;

TEST_CASE("file_check matches in order", "[filecheck]") {
  const std::string out = "a = add\nb = mul\nc = sub\n";
  CHECK(file_check(out, parse_check_lines("// CHECK: add\n// CHECK-NEXT: mul\n// CHECK: sub")) ==
        "");
  CHECK(file_check(out, parse_check_lines("// CHECK: mul\n// CHECK: add")) != "");
  CHECK(file_check(out, parse_check_lines("// CHECK: add\n// CHECK-NEXT: sub")) != "");
}

TEST_CASE("file_check CHECK-NOT covers the gap to the next match", "[filecheck]") {
  const std::string out = "x\ny\nz\n";
  CHECK(file_check(out, parse_check_lines("// CHECK: x\n// CHECK-NOT: y\n// CHECK: z")) != "");
  CHECK(file_check(out, parse_check_lines("// CHECK: y\n// CHECK-NOT: x\n// CHECK: z")) == "");
  CHECK(file_check(out, parse_check_lines("// CHECK-NOT: w")) == "");
  CHECK(file_check(out, parse_check_lines("// CHECK: y\n// CHECK-NOT: z")) != "");
}

TEST_CASE("file_check counts and regexes", "[filecheck]") {
  const std::string out = "%0 = fusion(%a)\n%1 = fusion(%0)\n%2 = matmul(%1)\n";
  CHECK(file_check(out, parse_check_lines("// CHECK-COUNT-2: fusion(")) == "");
  CHECK(file_check(out, parse_check_lines("// CHECK-COUNT-1: fusion(")) != "");
  CHECK(file_check(out, parse_check_lines("// CHECK: %{{[0-9]+}} = matmul(%1)")) == "");
  CHECK(file_check(out, parse_check_lines("// CHECK: matmul(%{{[a-z]+}})")) != "");
}

TEST_CASE("malformed check directives are rejected", "[filecheck]") {
  CHECK_THROWS(parse_check_lines("// CHECK-NEXT: first"));
  CHECK_THROWS(parse_check_lines("// CHECK-SAME: x"));
  CHECK(loom::test::run_line("// a comment\n// RUN: --passes=dce\n") == "--passes=dce");
}
