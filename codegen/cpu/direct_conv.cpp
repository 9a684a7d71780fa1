#include "codegen/cpu/direct_conv.h"

#include "codegen/cpu/loop_kernel.h"
#include "ir/shape_rules.h"

namespace loom::codegen {

void pad_direct_convolutions(ir::Function& fn) {
  std::vector<ir::Node*> convs;
  for (const auto& n : fn.nodes())
    if (is_small_conv(*n) && !is_direct_conv(*n)) convs.push_back(n.get()); // padded
  for (ir::Node* conv : convs) {
    const auto& pads = conv->attrs().get_ints("conv2d", "pads"); // top, left, bottom, right
    Attrs attrs = {{"pads_lo", std::vector<int64_t>{0, 0, pads[0], pads[1]}},
                   {"pads_hi", std::vector<int64_t>{0, 0, pads[2], pads[3]}},
                   {"value", 0.0}};
    ir::Value* x = conv->operand(0);
    std::vector<TensorType> padded = infer_types(Op::Pad, {x->type()}, attrs);
    ir::Node* pad = fn.insert_before(conv, Op::Pad, {x}, std::move(attrs), padded, conv->loc());
    conv->set_operand(0, pad->result());
    conv->attrs().set("pads", std::vector<int64_t>{0, 0, 0, 0});
  }
}

} // namespace loom::codegen
