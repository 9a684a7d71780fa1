// Op identifiers and static op properties, generated from ir/ops.def.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loom {

enum OpTrait : uint32_t {
  kNone = 0,
  kSource = 1u << 0,      // no data operands; result type comes from attributes
  kElementwise = 1u << 1, // out[i] depends only on operands at (broadcast) index i
  kUnary = 1u << 2,
  kBinary = 1u << 3,
  kCommutative = 1u << 4,
  kComparison = 1u << 5, // result dtype is bool
  kLogical = 1u << 6,    // operands and result are bool
  kFloatOnly = 1u << 7,  // operands must be floating point
  kReduction = 1u << 8,
  kContraction = 1u << 9, // matmul and convolutions
  kLayout = 1u << 10,     // pure data movement
  kRandom = 1u << 11,     // counter-based random numbers from a seed operand
  kInternal = 1u << 12,   // made by passes, not by users (no builder function)
};

enum class Op : uint16_t {
#define OP(id, name, operands, traits) id,
#include "ir/ops.def"
};

inline constexpr int kNumOps = 0
#define OP(id, name, operands, traits) +1
#include "ir/ops.def"
    ;

struct OpInfo {
  Op op;
  std::string_view mnemonic;
  int operand_count; // >= 0 exact; kVariadic: at least one; kAnyCount: zero or more
  uint32_t traits;
};

inline constexpr int kVariadic = -1;
inline constexpr int kAnyCount = -2;
// Whether a node of this op may have n operands.
bool operand_count_ok(const OpInfo& info, int n);
// "2", "at least 1", "any number of" — for messages and listings.
std::string operand_count_str(const OpInfo& info);

const OpInfo& op_info(Op op);
inline std::string_view op_name(Op op) { return op_info(op).mnemonic; }
inline bool has_trait(Op op, OpTrait t) { return (op_info(op).traits & t) != 0; }
std::optional<Op> parse_op(std::string_view mnemonic);

// Trait names for listings, e.g. "elementwise,unary,float_only".
std::string trait_list(uint32_t traits);

} // namespace loom
