// The .loom text parser. ir/printer.h writes the same format; print -> parse -> print
// is the identity.
//
// Example:
//
//   // comments start with //
//   const @fc1.weight : f32[2,2] = dense<[1.0, 2.0, 3.0, 4.0]>
//
//   func @main(%A: f32[10], %B: f32[10]) -> (D: f32[10], A_new: f32[10] aliases %A) {
//     %C = mul(%B, %A) : f32[10]
//     %0 = constant() {value = dense<[1.0]> : f32[]} : f32[]
//     %1 = constant() {value = @fc1.weight} : f32[2,2]
//     %D = add(%C, %0) : f32[10]
//     %2 = reduce_sum(%D) {axes = [0], keepdims = false} : f32[]
//     return %D, %C
//   }
//
// Grammar (whitespace and `//` comments separate tokens; every statement, constant and
// function header/closing brace ends its line):
//
//   module       := (constant | function)*
//   constant     := 'const' global ':' type '=' payload
//   function     := 'func' global '(' [param (',' param)*] ')'
//                   '->' '(' [output (',' output)*] ')' '{' node* return '}'
//   param        := value ':' type [loc]
//   output       := identifier ':' type ['aliases' value]     // value names a parameter
//   node         := [value (',' value)* '='] mnemonic '(' [value (',' value)*] ')'
//                   [attributes] ':' result-types [loc] [region]
//   result-types := type | '(' [type (',' type)*] ')'         // parenthesized unless 1 result
//   region       := '{' function '}'                          // Node::body()
//   return       := 'return' [value (',' value)*]             // one value per output
//   attributes   := '{' [identifier '=' attr-value (',' identifier '=' attr-value)*] '}'
//   attr-value   := integer | float | 'true' | 'false' | string | '[' [integer (',' integer)*] ']'
//                 | dtype | global | payload ':' type        // a global names a module constant
//   payload      := 'dense' '<' '[' [element (',' element)*] ']' '>'   // row-major, flat
//                 | 'dense_hex' '<' string '>'                // raw little-endian bytes in hex
//   element      := integer | float | 'true' | 'false'       // float dtypes also take integers
//   type         := dtype '[' [integer (',' integer)*] ']'    // f32[2,3]; scalar f32[]
//   loc          := 'loc' '(' string ':' integer ':' integer ')' | 'loc' '(' 'unknown' ')'
//   value        := '%' name | '%' string      // `%3` (digits only) is an unnamed value
//   global       := '@' name | '@' string
//   identifier   := [A-Za-z_][A-Za-z0-9_.]* | string
//   name         := [A-Za-z0-9_.]+
//   integer      := '-'? [0-9]+
//   float        := '-'? [0-9]+ ('.' [0-9]+)? ([eE] [+-]? [0-9]+)? | 'inf' | '-inf' | 'nan'
//                   // a float attribute needs a '.' or an exponent (or inf/nan)
//   string       := '"' (char | '\\' | '\"' | '\n' | '\t' | '\r' | '\x' hex hex)* '"'
//
// Value names are scoped to their function (a region's function has its own scope) and
// may be used only after their definition. Constants must be declared before they are
// referenced. Without a `loc`, a node's location is (filename, line, column) of its
// first token; `loc(unknown)` leaves it unknown.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ir/ir.h"

namespace loom::ir {

struct ParseOptions {
  // Run ir::verify on the result. Only tools that inspect broken IR, and tests of IR
  // shapes no op produces yet (multi-result nodes), turn this off.
  bool verify = true;
};

// Parses a whole module and verifies it (ir/verifier.h). Malformed text throws
// Error(ParseError) "<filename>:<line>:<col>: expected <what>, got '<token>'"; a
// well-formed but invalid module throws the verifier's Error(VerifyError).
// `filename` is used in error messages and in the locations of parsed nodes.
std::unique_ptr<Module> parse_module(std::string_view text, const std::string& filename = "<input>",
                                     const ParseOptions& opts = {});

} // namespace loom::ir
