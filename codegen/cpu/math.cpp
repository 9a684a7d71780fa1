// Transcendental functions emitted as LLVM IR so that the loop vectorizer can widen
// them (a libm call is not vectorized, and llvm.exp is scalarized back into libm
// calls). f32 uses the Cephes/Eigen polynomials below; f64 calls libm.
//
// Accuracy against libm (float) is measured by tests/cpu/test_math.cpp over dense
// samples; the bounds asserted there are documented in docs/cpu.md:
//   exp: |rel err| < 2e-7 on [-87, 88]; flushes to 0 below -87.3 (denormal results)
//   log: |rel err| < 2e-7 on normal and subnormal positives
//   tanh, erf: |abs err| < 5e-7 (about 8 ulp near +-1); sigmoid: < 3e-7
#include <llvm/IR/Intrinsics.h>

#include <cmath>
#include <limits>

#include "codegen/cpu/llvm_util.h"

namespace loom::codegen {

namespace {

llvm::Value* cf(llvm::IRBuilder<>&, llvm::Type* t, double v) { return llvm::ConstantFP::get(t, v); }

// Each Horner step is an llvm.fmuladd: one FMA where the target has one (both the
// vector body and the scalar tail then round the same way), mul + add otherwise.
llvm::Value* horner(llvm::IRBuilder<>& b, llvm::Value* x, std::initializer_list<double> coeffs) {
  llvm::Type* t = x->getType();
  llvm::Value* acc = nullptr;
  for (double c : coeffs)
    acc =
        acc ? b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {t}, {acc, x, cf(b, t, c)}) : cf(b, t, c);
  return acc;
}

llvm::Value* is_nan(llvm::IRBuilder<>& b, llvm::Value* x) { return b.CreateFCmpUNO(x, x); }

llvm::Value* clamp(llvm::IRBuilder<>& b, llvm::Value* x, double lo, double hi) {
  llvm::Type* t = x->getType();
  return b.CreateMinNum(b.CreateMaxNum(x, cf(b, t, lo)), cf(b, t, hi));
}

bool is_f64(llvm::Value* x) { return x->getType()->isDoubleTy(); }

llvm::Value* exp_f32(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Type* f = x->getType();
  llvm::Type* i32 = b.getInt32Ty();
  llvm::Value* xc = clamp(b, x, -87.33654, 88.37626);
  llvm::Value* n = b.CreateUnaryIntrinsic(
      llvm::Intrinsic::floor,
      b.CreateFAdd(b.CreateFMul(xc, cf(b, f, 1.44269504088896341)), cf(b, f, 0.5)));
  llvm::Value* r = b.CreateFSub(xc, b.CreateFMul(n, cf(b, f, 0.693359375)));
  r = b.CreateFSub(r, b.CreateFMul(n, cf(b, f, -2.12194440e-4)));
  llvm::Value* z = b.CreateFMul(r, r);
  llvm::Value* p = horner(b, r,
                          {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2,
                           1.6666665459E-1, 5.0000001201E-1});
  p = b.CreateFAdd(b.CreateFAdd(b.CreateFMul(p, z), r), cf(b, f, 1.0));
  // 2^n from the exponent bits; n is in [-126, 127] after clamping.
  llvm::Value* ni = b.CreateFPToSI(n, i32);
  llvm::Value* pow2 = b.CreateBitCast(b.CreateShl(b.CreateAdd(ni, b.getInt32(127)), 23), f);
  llvm::Value* result = b.CreateFMul(p, pow2);
  result = b.CreateSelect(b.CreateFCmpOGT(x, cf(b, f, 88.72283935546875)),
                          cf(b, f, std::numeric_limits<float>::infinity()), result);
  result = b.CreateSelect(b.CreateFCmpOLT(x, cf(b, f, -87.33654)), cf(b, f, 0.0), result);
  return b.CreateSelect(is_nan(b, x), x, result);
}

llvm::Value* log_f32(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Type* f = x->getType();
  llvm::Type* i32 = b.getInt32Ty();
  // Scale subnormals into the normal range first.
  llvm::Value* subnormal = b.CreateFCmpOLT(x, cf(b, f, 1.17549435e-38));
  llvm::Value* xs = b.CreateSelect(subnormal, b.CreateFMul(x, cf(b, f, 8388608.0)), x);
  llvm::Value* bits = b.CreateBitCast(xs, i32);
  llvm::Value* e =
      b.CreateSub(b.CreateAnd(b.CreateLShr(bits, 23), b.getInt32(0xff)), b.getInt32(126));
  e = b.CreateSelect(subnormal, b.CreateSub(e, b.getInt32(23)), e);
  llvm::Value* m = b.CreateBitCast(
      b.CreateOr(b.CreateAnd(bits, b.getInt32(0x807fffff)), b.getInt32(0x3f000000)), f);
  llvm::Value* small = b.CreateFCmpOLT(m, cf(b, f, 0.707106781186547524));
  llvm::Value* ef = b.CreateSIToFP(b.CreateSelect(small, b.CreateSub(e, b.getInt32(1)), e), f);
  llvm::Value* xm = b.CreateFSub(b.CreateSelect(small, b.CreateFAdd(m, m), m), cf(b, f, 1.0));
  llvm::Value* z = b.CreateFMul(xm, xm);
  llvm::Value* y =
      horner(b, xm,
             {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
              -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1});
  y = b.CreateFMul(b.CreateFMul(y, xm), z);
  y = b.CreateFAdd(y, b.CreateFMul(ef, cf(b, f, -2.12194440e-4)));
  y = b.CreateFAdd(y, b.CreateFMul(z, cf(b, f, -0.5)));
  llvm::Value* r = b.CreateFAdd(b.CreateFAdd(xm, y), b.CreateFMul(ef, cf(b, f, 0.693359375)));
  // Special values: log(0) = -inf, log(inf) = inf, log(x < 0) = NaN, NaN stays NaN.
  r = b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, f, std::numeric_limits<float>::infinity())), x, r);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, f, 0.0)),
                     cf(b, f, -std::numeric_limits<float>::infinity()), r);
  r = b.CreateSelect(b.CreateFCmpOLT(x, cf(b, f, 0.0)),
                     cf(b, f, std::numeric_limits<float>::quiet_NaN()), r);
  return b.CreateSelect(is_nan(b, x), x, r);
}

// Rational approximation from Eigen (generic_fast_tanh_float).
constexpr double kTanhSaturation = 7.90531110763549805;
llvm::Value* tanh_f32(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Type* f = x->getType();
  llvm::Value* xc = clamp(b, x, -kTanhSaturation, kTanhSaturation);
  llvm::Value* x2 = b.CreateFMul(xc, xc);
  llvm::Value* p = horner(b, x2,
                          {-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                           5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                           4.89352455891786e-03});
  p = b.CreateFMul(p, xc);
  llvm::Value* q = horner(
      b, x2,
      {1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03});
  llvm::Value* r = b.CreateFDiv(p, q);
  // Below 4e-4 tanh(x) rounds to x. At the clamp the fused Horner steps land one ulp
  // short of 1, so saturated inputs get +-1 exactly.
  llvm::Value* ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  r = b.CreateSelect(b.CreateFCmpOLT(ax, cf(b, f, 0.0004)), x, r);
  llvm::Value* one = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, cf(b, f, 1.0), x);
  r = b.CreateSelect(b.CreateFCmpOGE(ax, cf(b, f, kTanhSaturation)), one, r);
  return b.CreateSelect(is_nan(b, x), x, r);
}

// Rational approximation from Eigen (generic_fast_erf_float).
llvm::Value* erf_f32(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Value* xc = clamp(b, x, -4.0, 4.0);
  llvm::Value* x2 = b.CreateFMul(xc, xc);
  llvm::Value* p = horner(b, x2,
                          {-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                           -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                           -1.60960333262415e-02});
  p = b.CreateFMul(p, xc);
  llvm::Value* q = horner(b, x2,
                          {-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                           -7.37332916720468e-03, -1.42647390514189e-02});
  return b.CreateSelect(is_nan(b, x), x, b.CreateFDiv(p, q));
}

} // namespace

llvm::Value* emit_libm_call(llvm::IRBuilder<>& b, const char* f32_name, const char* f64_name,
                            std::initializer_list<llvm::Value*> args) {
  llvm::Type* t = (*args.begin())->getType();
  std::vector<llvm::Type*> params(args.size(), t);
  llvm::Module* m = b.GetInsertBlock()->getModule();
  llvm::FunctionCallee callee = m->getOrInsertFunction(t->isDoubleTy() ? f64_name : f32_name,
                                                       llvm::FunctionType::get(t, params, false));
  if (auto* fn = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    fn->setDoesNotThrow();
    fn->setOnlyAccessesInaccessibleMemory();
  }
  return b.CreateCall(callee, std::vector<llvm::Value*>(args));
}

llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x) {
  return is_f64(x) ? emit_libm_call(b, "expf", "exp", {x}) : exp_f32(b, x);
}
llvm::Value* emit_log(llvm::IRBuilder<>& b, llvm::Value* x) {
  return is_f64(x) ? emit_libm_call(b, "logf", "log", {x}) : log_f32(b, x);
}
llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x) {
  return is_f64(x) ? emit_libm_call(b, "tanhf", "tanh", {x}) : tanh_f32(b, x);
}
llvm::Value* emit_erf(llvm::IRBuilder<>& b, llvm::Value* x) {
  return is_f64(x) ? emit_libm_call(b, "erff", "erf", {x}) : erf_f32(b, x);
}
llvm::Value* emit_sigmoid(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Type* t = x->getType();
  llvm::Value* e = emit_exp(b, b.CreateFNeg(x));
  return b.CreateFDiv(cf(b, t, 1.0), b.CreateFAdd(cf(b, t, 1.0), e));
}

} // namespace loom::codegen
