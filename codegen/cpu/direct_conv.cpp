#include "codegen/cpu/direct_conv.h"

#include "codegen/cpu/loop_kernel.h"
#include "ir/shape_rules.h"
#include "ir/window.h"

namespace loom::codegen {

void pad_direct_convolutions(ir::Function& fn) {
  std::vector<ir::Node*> convs;
  for (const auto& n : fn.nodes())
    if (is_small_conv(*n) && !is_direct_conv(*n)) convs.push_back(n.get()); // padded
  for (ir::Node* conv : convs) {
    ir::Window2D win = ir::conv_geometry(*conv).window;
    Attrs attrs = {{"pads_lo", std::vector<int64_t>{0, 0, win.pad_top, win.pad_left}},
                   {"pads_hi", std::vector<int64_t>{0, 0, win.pad_bottom, win.pad_right}},
                   {"value", 0.0}};
    ir::Value* x = conv->operand(0);
    std::vector<TensorType> padded = infer_types(Op::Pad, {x->type()}, attrs);
    ir::Node* pad = fn.insert_before(conv, Op::Pad, {x}, std::move(attrs), padded, conv->loc());
    conv->set_operand(0, pad->result());
    conv->attrs().set("pads", std::vector<int64_t>{0, 0, 0, 0});
  }
}

} // namespace loom::codegen
