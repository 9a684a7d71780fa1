// The optimizers' update rules. Each follows its published algorithm in the form
// PyTorch's torch.optim documents it (the tests check the first updates against these
// formulas computed by hand). g is the gradient, theta the parameter, t the 1-based step.
#include "frontend/optim.h"

#include <cmath>
#include <numbers>

namespace loom::optim {

namespace {

void check_hyperparameter(bool ok, const std::string& optimizer, const std::string& what,
                          double value, const CallSite& loc) {
  if (!ok)
    throw_at(ErrorCode::InvalidArgument,
             optimizer + ": invalid " + what + " " + std::to_string(value), loc);
}

void check_update_inputs(const std::string& optimizer, const Value& param, const Value& grad,
                         const std::vector<Value>& slots, size_t slot_count, const CallSite& loc) {
  if (!param.defined() || !grad.defined() || grad.type() != param.type())
    throw_at(ErrorCode::InvalidArgument,
             optimizer + ": the gradient must be a Value with the parameter's type", loc);
  if (slots.size() != slot_count)
    throw_at(ErrorCode::InvalidArgument,
             optimizer + ": expected " + std::to_string(slot_count) + " slots, got " +
                 std::to_string(slots.size()),
             loc);
  for (const Value& slot : slots)
    if (!slot.defined() || slot.type() != param.type())
      throw_at(ErrorCode::InvalidArgument,
               optimizer + ": every slot must be a Value with the parameter's type " +
                   param.type().str(),
               loc);
}

// g + weight_decay * theta (the classic L2 penalty folded into the gradient).
Value with_l2(const Value& grad, const Value& param, double weight_decay, const CallSite& loc) {
  if (weight_decay == 0.0) return grad;
  return add(grad, mul(param, weight_decay, loc), loc);
}

// beta * avg + (1 - beta) * x: an exponential moving average.
Value moving_average(const Value& avg, const Value& x, double beta, const CallSite& loc) {
  return add(mul(avg, beta, loc), mul(x, 1.0 - beta, loc), loc);
}

// The step counter t as a scalar of the parameter's dtype.
Value step_as(const Value& step, const Value& param, const CallSite& loc) {
  return cast(step, param.dtype(), loc);
}

// x * lr * factor, or x * lr without a schedule (factor undefined).
Value times_lr(const Value& x, double lr, const Value& factor, const CallSite& loc) {
  Value scaled = mul(x, lr, loc);
  return factor.defined() ? mul(scaled, factor, loc) : scaled;
}

void check_adam(const AdamOptions& o, const std::string& name, const CallSite& loc) {
  check_hyperparameter(o.lr >= 0.0, name, "learning rate", o.lr, loc);
  check_hyperparameter(o.beta1 >= 0.0 && o.beta1 < 1.0, name, "beta1", o.beta1, loc);
  check_hyperparameter(o.beta2 >= 0.0 && o.beta2 < 1.0, name, "beta2", o.beta2, loc);
  check_hyperparameter(o.eps >= 0.0, name, "eps", o.eps, loc);
  check_hyperparameter(o.weight_decay >= 0.0, name, "weight_decay", o.weight_decay, loc);
}

// Kingma & Ba 2015, Algorithm 1:
//   m_t = beta1 m + (1 - beta1) g;  v_t = beta2 v + (1 - beta2) g^2
//   m^ = m_t / (1 - beta1^t);  v^ = v_t / (1 - beta2^t)
//   theta_t = decayed_theta - lr * m^ / (sqrt(v^) + eps)
ParamUpdate adam_update(const AdamOptions& o, const Value& decayed_param, const Value& grad,
                        const std::vector<Value>& slots, const Value& step, const Value& lr_factor,
                        const CallSite& loc) {
  Value m = moving_average(slots[0], grad, o.beta1, loc);
  Value v = moving_average(slots[1], mul(grad, grad, loc), o.beta2, loc);
  Value t = step_as(step, decayed_param, loc);
  Value m_hat = div(m, sub(1.0, pow(o.beta1, t, loc), loc), loc);
  Value v_hat = div(v, sub(1.0, pow(o.beta2, t, loc), loc), loc);
  Value delta = div(times_lr(m_hat, o.lr, lr_factor, loc), add(sqrt(v_hat, loc), o.eps, loc), loc);
  return {sub(decayed_param, delta, loc), {m, v}};
}

} // namespace

// --- Learning-rate schedules ---------------------------------------------------------

LrSchedule LrSchedule::cosine(int64_t steps, double final_fraction, CallSite loc) {
  if (steps < 1)
    throw_at(ErrorCode::InvalidArgument,
             "LrSchedule::cosine: steps must be at least 1, got " + std::to_string(steps), loc);
  check_hyperparameter(final_fraction >= 0.0 && final_fraction <= 1.0, "LrSchedule::cosine",
                       "final_fraction", final_fraction, loc);
  return {.cosine_steps = steps, .final_fraction = final_fraction};
}

// factor(t) = f + (1 - f) (1 + cos(pi min(t - 1, T) / T)) / 2 with f = final_fraction:
// 1 on the first update, f from update T + 1 on.
Value Optimizer::lr_factor(const Value& param, const Value& step, const CallSite& loc) const {
  if (schedule_.constant()) return Value();
  double steps = static_cast<double>(schedule_.cosine_steps), f = schedule_.final_fraction;
  Value done = minimum(sub(step_as(step, param, loc), 1.0, loc), steps, loc);
  Value cosine = cos(mul(done, std::numbers::pi / steps, loc), loc);
  return add(mul(add(cosine, 1.0, loc), 0.5 * (1.0 - f), loc), f, loc);
}

// --- SGD ---------------------------------------------------------------------------
// PyTorch SGD (momentum without dampening; the buffer starts at 0, so b_1 = g_1):
//   g = g + wd * theta;  b = mu * b + g
//   nesterov: g = g + mu * b, else g = b (with momentum);  theta = theta - lr * g

SGD::SGD(SGDOptions options, CallSite loc) : options_(options) {
  check_hyperparameter(options.lr >= 0.0, "SGD", "learning rate", options.lr, loc);
  check_hyperparameter(options.momentum >= 0.0, "SGD", "momentum", options.momentum, loc);
  check_hyperparameter(options.weight_decay >= 0.0, "SGD", "weight_decay", options.weight_decay,
                       loc);
  if (options.nesterov && options.momentum <= 0.0)
    throw_at(ErrorCode::InvalidArgument, "SGD: Nesterov momentum needs momentum > 0", loc);
}

std::string SGD::name() const {
  if (options_.momentum == 0.0) return "sgd";
  return options_.nesterov ? "nesterov" : "momentum";
}

std::vector<Slot> SGD::slots() const {
  if (options_.momentum == 0.0) return {};
  return {{"momentum_buffer", 0.0}};
}

ParamUpdate SGD::update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                        CallSite loc) const {
  check_update_inputs("SGD", param, grad, slots, this->slots().size(), loc);
  Value g = with_l2(grad, param, options_.weight_decay, loc);
  Value factor = lr_factor(param, step, loc);
  if (options_.momentum == 0.0) return {sub(param, times_lr(g, options_.lr, factor, loc), loc), {}};
  Value buffer = add(mul(slots[0], options_.momentum, loc), g, loc);
  Value direction = options_.nesterov ? add(g, mul(buffer, options_.momentum, loc), loc) : buffer;
  return {sub(param, times_lr(direction, options_.lr, factor, loc), loc), {buffer}};
}

// --- AdaGrad -----------------------------------------------------------------------
// PyTorch Adagrad (Duchi et al. 2011):
//   g = g + wd * theta;  clr = lr / (1 + (t - 1) * lr_decay)
//   sum = sum + g^2;  theta = theta - clr * g / (sqrt(sum) + eps)

AdaGrad::AdaGrad(AdaGradOptions options, CallSite loc) : options_(options) {
  check_hyperparameter(options.lr >= 0.0, "AdaGrad", "learning rate", options.lr, loc);
  check_hyperparameter(options.lr_decay >= 0.0, "AdaGrad", "lr_decay", options.lr_decay, loc);
  check_hyperparameter(options.weight_decay >= 0.0, "AdaGrad", "weight_decay", options.weight_decay,
                       loc);
  check_hyperparameter(options.initial_accumulator_value >= 0.0, "AdaGrad",
                       "initial_accumulator_value", options.initial_accumulator_value, loc);
  check_hyperparameter(options.eps >= 0.0, "AdaGrad", "eps", options.eps, loc);
}

std::vector<Slot> AdaGrad::slots() const { return {{"sum", options_.initial_accumulator_value}}; }

ParamUpdate AdaGrad::update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                            CallSite loc) const {
  check_update_inputs("AdaGrad", param, grad, slots, 1, loc);
  Value g = with_l2(grad, param, options_.weight_decay, loc);
  Value lr = param.graph()->scalar(options_.lr, param.dtype(), loc);
  if (Value factor = lr_factor(param, step, loc); factor.defined()) lr = mul(lr, factor, loc);
  if (options_.lr_decay != 0.0) {
    Value decay_steps = sub(step_as(step, param, loc), 1.0, loc);
    lr = div(lr, add(mul(decay_steps, options_.lr_decay, loc), 1.0, loc), loc);
  }
  Value sum = add(slots[0], mul(g, g, loc), loc);
  Value delta = div(mul(g, lr, loc), add(sqrt(sum, loc), options_.eps, loc), loc);
  return {sub(param, delta, loc), {sum}};
}

// --- RMSProp -----------------------------------------------------------------------
// PyTorch RMSprop (Hinton's lecture 6e; centered as in Graves 2013):
//   g = g + wd * theta;  v = alpha * v + (1 - alpha) * g^2
//   centered: g_avg = alpha * g_avg + (1 - alpha) * g;  denom = sqrt(v - g_avg^2) + eps
//   otherwise denom = sqrt(v) + eps
//   momentum: b = mu * b + g / denom;  theta = theta - lr * b
//   otherwise theta = theta - lr * g / denom

RMSProp::RMSProp(RMSPropOptions options, CallSite loc) : options_(options) {
  check_hyperparameter(options.lr >= 0.0, "RMSProp", "learning rate", options.lr, loc);
  check_hyperparameter(options.alpha >= 0.0 && options.alpha <= 1.0, "RMSProp", "alpha",
                       options.alpha, loc);
  check_hyperparameter(options.eps >= 0.0, "RMSProp", "eps", options.eps, loc);
  check_hyperparameter(options.weight_decay >= 0.0, "RMSProp", "weight_decay", options.weight_decay,
                       loc);
  check_hyperparameter(options.momentum >= 0.0, "RMSProp", "momentum", options.momentum, loc);
}

std::vector<Slot> RMSProp::slots() const {
  std::vector<Slot> slots{{"square_avg", 0.0}};
  if (options_.centered) slots.push_back({"grad_avg", 0.0});
  if (options_.momentum > 0.0) slots.push_back({"momentum_buffer", 0.0});
  return slots;
}

ParamUpdate RMSProp::update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                            CallSite loc) const {
  check_update_inputs("RMSProp", param, grad, slots, this->slots().size(), loc);
  Value g = with_l2(grad, param, options_.weight_decay, loc);
  ParamUpdate result;
  Value square_avg = moving_average(slots[0], mul(g, g, loc), options_.alpha, loc);
  result.slots.push_back(square_avg);
  Value variance = square_avg;
  size_t next_slot = 1;
  if (options_.centered) {
    Value grad_avg = moving_average(slots[next_slot++], g, options_.alpha, loc);
    result.slots.push_back(grad_avg);
    variance = sub(square_avg, mul(grad_avg, grad_avg, loc), loc);
  }
  Value scaled = div(g, add(sqrt(variance, loc), options_.eps, loc), loc);
  if (options_.momentum > 0.0) {
    scaled = add(mul(slots[next_slot], options_.momentum, loc), scaled, loc);
    result.slots.push_back(scaled);
  }
  result.param = sub(param, times_lr(scaled, options_.lr, lr_factor(param, step, loc), loc), loc);
  return result;
}

// --- Adam and AdamW ----------------------------------------------------------------

Adam::Adam(AdamOptions options, CallSite loc) : options_(options) {
  check_adam(options, "Adam", loc);
}

std::vector<Slot> Adam::slots() const { return {{"m", 0.0}, {"v", 0.0}}; }

// Adam with PyTorch's (coupled) weight decay: g = g + wd * theta, then Algorithm 1.
ParamUpdate Adam::update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                         CallSite loc) const {
  check_update_inputs("Adam", param, grad, slots, 2, loc);
  return adam_update(options_, param, with_l2(grad, param, options_.weight_decay, loc), slots, step,
                     lr_factor(param, step, loc), loc);
}

AdamW::AdamW(AdamOptions options, CallSite loc) : options_(options) {
  check_adam(options, "AdamW", loc);
}

std::vector<Slot> AdamW::slots() const { return {{"m", 0.0}, {"v", 0.0}}; }

// Loshchilov & Hutter 2019, Algorithm 2 (decoupled weight decay), in PyTorch's form
// with the decay scaled by the learning rate: theta = theta * (1 - lr * wd), then the
// Adam step computed from the undecayed gradient.
ParamUpdate AdamW::update(Value param, Value grad, const std::vector<Value>& slots, Value step,
                          CallSite loc) const {
  check_update_inputs("AdamW", param, grad, slots, 2, loc);
  Value factor = lr_factor(param, step, loc);
  Value decayed = param;
  if (options_.weight_decay != 0.0)
    decayed =
        factor.defined()
            ? sub(param, times_lr(param, options_.lr * options_.weight_decay, factor, loc), loc)
            : mul(param, 1.0 - options_.lr * options_.weight_decay, loc);
  return adam_update(options_, decayed, grad, slots, step, factor, loc);
}

// --- By name -----------------------------------------------------------------------

std::vector<std::string> optimizer_names() {
  return {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"};
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, double lr) {
  if (name == "sgd") return std::make_unique<SGD>(SGDOptions{.lr = lr});
  if (name == "momentum") return std::make_unique<SGD>(SGDOptions{.lr = lr, .momentum = 0.9});
  if (name == "nesterov")
    return std::make_unique<SGD>(SGDOptions{.lr = lr, .momentum = 0.9, .nesterov = true});
  if (name == "adagrad") return std::make_unique<AdaGrad>(AdaGradOptions{.lr = lr});
  if (name == "rmsprop") return std::make_unique<RMSProp>(RMSPropOptions{.lr = lr});
  if (name == "adam") return std::make_unique<Adam>(AdamOptions{.lr = lr});
  if (name == "adamw") return std::make_unique<AdamW>(AdamOptions{.lr = lr, .weight_decay = 0.01});
  std::string known;
  for (const std::string& n : optimizer_names())
    known += (known.empty() ? "" : ", ") + n;
  throw_error(ErrorCode::InvalidArgument,
              "unknown optimizer '" + std::string(name) + "' (known: " + known + ")");
}

} // namespace loom::optim
