#include "ir/op.h"

#include <string>

namespace loom {

namespace {
constexpr OpInfo kOpTable[] = {
#define OP(id, name, operands, traits) {Op::id, #name, operands, traits},
#include "ir/ops.def"
};
static_assert(sizeof(kOpTable) / sizeof(kOpTable[0]) == kNumOps);

constexpr std::pair<OpTrait, std::string_view> kTraitNames[] = {
    {kSource, "source"},           {kElementwise, "elementwise"}, {kUnary, "unary"},
    {kBinary, "binary"},           {kCommutative, "commutative"}, {kComparison, "comparison"},
    {kLogical, "logical"},         {kFloatOnly, "float_only"},    {kReduction, "reduction"},
    {kContraction, "contraction"}, {kLayout, "layout"},           {kInternal, "internal"},
    {kRandom, "random"},
};
} // namespace

const OpInfo& op_info(Op op) { return kOpTable[static_cast<int>(op)]; }

bool operand_count_ok(const OpInfo& info, int n) {
  if (info.operand_count == kAnyCount) return n >= 0;
  if (info.operand_count == kVariadic) return n >= 1;
  return n == info.operand_count;
}

std::string operand_count_str(const OpInfo& info) {
  if (info.operand_count == kAnyCount) return "any number of";
  if (info.operand_count == kVariadic) return "at least 1";
  return std::to_string(info.operand_count);
}

std::optional<Op> parse_op(std::string_view mnemonic) {
  for (const OpInfo& info : kOpTable)
    if (info.mnemonic == mnemonic) return info.op;
  return std::nullopt;
}

std::string trait_list(uint32_t traits) {
  std::string s;
  for (auto [trait, name] : kTraitNames) {
    if (!(traits & trait)) continue;
    if (!s.empty()) s += ",";
    s += name;
  }
  return s.empty() ? "-" : s;
}

} // namespace loom
