// Symbolic reverse-mode differentiation: an IR-to-IR transformation.
//
// Gradients are ordinary IR nodes appended to a function, so everything downstream
// (passes, codegen, the interpreter) treats them like any other computation, and
// differentiating a function that already contains gradients gives second- and
// higher-order derivatives.
//
// Every op is declared in one VJP table (autodiff/vjp_table.cpp) as one of:
//  - differentiable, with a rule that builds the cotangents of its floating-point
//    operands from the cotangent of its result using differentiable ops only (so the
//    rule can itself be differentiated);
//  - non-differentiable. Gradients do not flow through these ops: they contribute a
//    zero cotangent to their operands, and a wrt value reached only through them gets
//    a zero gradient. They are
//      * leaves without data operands: constant, parameter, iota;
//      * ops whose result is piecewise constant in their operands (derivative zero
//        almost everywhere): comparisons (eq ne lt le gt ge), logical ops, sign, floor,
//        ceil, argmax, argmin, one_hot;
//      * random_uniform, random_normal (their only operand is an integer seed);
//  - unsupported: a path from wrt to ys through them is an Error(Unsupported). This is
//    `fusion`, made by the fusion pass, which runs after autodiff.
// Within differentiable ops, integer and bool operands and results never carry
// gradients: casts to or from integer/bool types, gather/scatter_add indices and
// select's condition get none, and integer arithmetic is not differentiated.
//
// Conventions at non-differentiable points (documented choices, not bugs):
//  - abs and relu use derivative 0 at x = 0; maximum/minimum give a tie entirely to
//    the first operand (pick-first).
//  - reduce_max/reduce_min split the cotangent evenly among tied extreme elements.
//  - max_pool2d routes to the first maximum of each window (row-major), like its
//    gradient op max_pool2d_grad, whose own VJP with respect to dy gathers the
//    cotangent at those same positions (built from slice/concat/argmax/one_hot).
//  - reduce_prod is zero-safe: with one zero in a reduced group, only that element gets
//    a gradient (the product of the others); with two or more, all get zero.
//  - pow(a, b): d/db = a^b * log(a) for a > 0 and 0 for a <= 0; the logarithm is
//    guarded so that neither this gradient nor its own derivatives produce NaN there.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"

namespace loom::autodiff {

// Appends to `fn` the nodes computing d(sum_i <ys[i], cotangents[i]>)/d(wrt[j]) and
// returns one Value* per wrt value (zeros, a scalar constant broadcast to wrt[j]'s shape,
// if wrt[j] does not influence ys).
// ys and cotangents pair up and have equal types; all values belong to `fn`. Throws
// Error(InvalidArgument) if a wrt value is not floating point or the lists disagree,
// and Error(Unsupported) if a path from wrt to ys crosses an op without a VJP rule.
std::vector<ir::Value*> gradients(ir::Function& fn, const std::vector<ir::Value*>& ys,
                                  const std::vector<ir::Value*>& cotangents,
                                  const std::vector<ir::Value*>& wrt);

// A new function `<fn.name()>_grad` in fn's module: the same parameters as fn; outputs
// are fn's outputs followed by "grad_<param>" for each parameter in wrt_params (in that
// order). `loss_output` names an output of fn that must be a floating-point scalar.
// Throws Error(InvalidArgument) if the loss or a parameter is missing or unsuitable or
// the module already has a function of the new name.
//
// Names already taken in fn (as when fn is itself a grad or vjp function) get a
// numeric suffix in the new function: "grad_x_2", "out_cotangent_2", ...
ir::Function* grad(const ir::Function& fn, const std::string& loss_output,
                   const std::vector<std::string>& wrt_params);

// A new function `<fn.name()>_vjp` in fn's module: fn's parameters followed by one
// cotangent parameter "<output>_cotangent" (the output's type) per output of fn;
// outputs are fn's outputs followed by "grad_<param>" for each parameter in wrt_params.
// Cotangents of non-floating-point outputs are accepted and ignored.
ir::Function* vjp(const ir::Function& fn, const std::vector<std::string>& wrt_params);

// Whether the VJP table has a rule for `op` (the `vjp` column of loom-opt --list-ops).
bool has_vjp(Op op);
// False for ops declared non-differentiable or unsupported (see above); true for all
// others (each of which has a VJP rule: the gradient-check test enforces it).
bool is_differentiable(Op op);

} // namespace loom::autodiff
