#include "codegen/cpu/direct_conv.h"

#include <algorithm>

#include "codegen/cpu/loop_kernel.h"

namespace loom::codegen {

void pad_direct_convolutions(ir::Function& fn) {
  std::vector<ir::Node*> convs;
  for (const auto& n : fn.nodes())
    if (is_direct_conv(*n)) convs.push_back(n.get());
  for (ir::Node* conv : convs) {
    std::vector<int64_t> pads =
        conv->attrs().get_ints("conv2d", "pads"); // top, left, bottom, right
    if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) continue;
    ir::Value* x = conv->operand(0);
    Shape padded = x->shape();
    padded[2] += pads[0] + pads[2];
    padded[3] += pads[1] + pads[3];
    Attrs attrs = {{"pads_lo", std::vector<int64_t>{0, 0, pads[0], pads[1]}},
                   {"pads_hi", std::vector<int64_t>{0, 0, pads[2], pads[3]}},
                   {"value", 0.0}};
    ir::Node* pad = fn.insert_before(conv, Op::Pad, {x}, std::move(attrs),
                                     {TensorType{x->dtype(), padded}}, conv->loc());
    conv->set_operand(0, pad->result());
    conv->attrs().set("pads", std::vector<int64_t>{0, 0, 0, 0});
  }
}

} // namespace loom::codegen
