// A small FileCheck: checks text against `// CHECK...:` lines written beside a test's
// input (tests/data/passes/**.loom).
//
//   // CHECK: text        a later line contains text (matching resumes after it)
//   // CHECK-NEXT: text   the line right after the previous match contains text
//   // CHECK-NOT: text    no line between the previous match and the next match
//                         (or the end) contains text
//   // CHECK-COUNT-n: text  text appears on exactly n lines after the previous match
//                           (matching resumes after the last of them)
//
// A pattern is literal except for `{{regex}}` parts (ECMAScript syntax); surrounding
// whitespace is ignored. Implemented in test_filecheck.cpp.
#pragma once

#include <string>
#include <vector>

namespace loom::test {

struct CheckLine {
  enum Kind { Check, Next, Not, Count } kind;
  std::string pattern;
  int count = 0; // for Count
  int line = 0;  // line number in the test file, for messages
};

// The CHECK lines of a test file's text, in order. Throws std::runtime_error on a
// malformed directive (CHECK-NEXT first, unknown CHECK- suffix).
std::vector<CheckLine> parse_check_lines(const std::string& test_text);

// The value of the first `// RUN: ...` line ("" if none).
std::string run_line(const std::string& test_text);

// Matches `output` against the checks; returns "" on success, else a message naming the
// failing check and where matching stood.
std::string file_check(const std::string& output, const std::vector<CheckLine>& checks);

} // namespace loom::test
