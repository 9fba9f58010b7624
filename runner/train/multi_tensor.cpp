// adam, adamw and sgd over lists of tensors: the same arithmetic as LibTorch's
// torch/csrc/api/src/optim/{adam,adamw,sgd}.cpp, op for op, one _foreach_ kernel per op for
// all of a group's parameters (per device and dtype), or one fused kernel.
#include "train/multi_tensor.hpp"

#include <cmath>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/utils.h>

#include "kiln/error.hpp"
#include "train/torch_compat.hpp"

// The fused kernels kiln calls: at::_fused_adam_ and at::_fused_adamw_ of LibTorch 2.x, CUDA
// only. (1.13 has a CUDA _fused_adam_ too; kiln uses the 2.x ones, whose step counts are
// float tensors on the device that the caller counts up.)
#if defined(KILN_WITH_CUDA) && KILN_WITH_CUDA && KILN_TORCH_AT_LEAST(2, 0)
#define KILN_FUSED_ADAM 1
#if __has_include(<ATen/ops/_fused_adamw.h>)
#define KILN_FUSED_ADAMW 1
#else
#define KILN_FUSED_ADAMW 0
#endif
#else
#define KILN_FUSED_ADAM 0
#define KILN_FUSED_ADAMW 0
#endif
// The fused kernels' overloads that read the rate from a float32 tensor on the device (what
// a step captured in a CUDA graph needs): 2.2 and later.
#if KILN_FUSED_ADAM && KILN_TORCH_AT_LEAST(2, 2)
#define KILN_FUSED_ADAM_TENSOR_LR 1
#else
#define KILN_FUSED_ADAM_TENSOR_LR 0
#endif

namespace kiln::runner {
namespace {

namespace optim = torch::optim;

using Tensors = std::vector<at::Tensor>;
using Scalars = std::vector<at::Scalar>;

/// The parameters of a group that share a device and a dtype, with their gradients and state:
/// what one _foreach_ or fused kernel takes (their fast paths need one device and one dtype).
struct Bucket {
  c10::Device device;
  c10::ScalarType dtype;
  Tensors params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps;
  Scalars step_sizes;              ///< adam: -lr / bias_correction1, per parameter
  Scalars bias_correction2_sqrts;  ///< adam: sqrt(bias_correction2), per parameter
};

Bucket& bucket_of(std::vector<Bucket>& buckets, const at::Tensor& param) {
  for (Bucket& bucket : buckets)
    if (bucket.device == param.device() && bucket.dtype == param.scalar_type()) return bucket;
  buckets.push_back(Bucket{param.device(), param.scalar_type(), {}, {}, {}, {}, {}, {}, {}, {}});
  return buckets.back();
}

/// `param`'s gradient, laid out as `param` is: the multi-tensor kernels' fast paths (and the
/// fused kernels' checks) want each list's tensors alike. torch::autograd::grad, unlike
/// backward(), makes no promise about a gradient's strides. The values are the gradient's.
at::Tensor gradient_of(const at::Tensor& param, const char* type) {
  const at::Tensor& grad = param.grad();
  if (grad.is_sparse()) throw Error(fmt::format("optimizer type '{}' does not take sparse gradients", type));
  if (grad.strides() == param.strides() && grad.scalar_type() == param.scalar_type()) return grad;
  return at::empty_like(param).copy_(grad);
}

/// `param`'s state in `optimizer`, or null when it has none yet.
template <class State>
State* state_of(optim::Optimizer& optimizer, const at::Tensor& param, const char* type) {
  auto& states = optimizer.state();
  auto it = states.find(compat::optimizer_state_key(param));
  if (it == states.end()) return nullptr;
  auto* own = dynamic_cast<State*>(it->second.get());
  if (!own) throw Error(fmt::format("optimizer type '{}' holds state of another optimizer type", type));
  return own;
}

/// The device of the first parameter with a gradient: where the step runs.
std::optional<c10::Device> step_device(const optim::Optimizer& optimizer) {
  for (const optim::OptimizerParamGroup& group : optimizer.param_groups())
    for (const at::Tensor& param : group.params())
      if (param.grad().defined()) return param.device();
  return std::nullopt;
}

/// What this step runs as; an Error when it cannot run fused as asked.
StepImplementation choose(const optim::Optimizer& optimizer, StepImplementation requested, const char* type) {
  const std::optional<c10::Device> device = step_device(optimizer);
  const StepImplementation chosen =
      resolve_step(requested, device.value_or(c10::Device(c10::kCPU)), has_fused_step(type));
  if (chosen == StepImplementation::fused) {
    if (!has_fused_step(type)) throw Error(fmt::format("optimizer type '{}': {}", type, fused_step_refusal(type)));
    if (device && !device->is_cuda())
      throw Error(fmt::format("optimizer type '{}': \"fused\" runs on CUDA only; the parameters are on {}", type,
                              device->str()));
  }
  return chosen;
}

/// torch::optim's step protocol around `update`: the closure's loss with gradients on, the
/// update without.
template <class Update>
torch::Tensor with_closure(const optim::Optimizer::LossClosure& closure, Update&& update) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  update();
  return loss;
}

/// Adam's and AdamW's update of one bucket with _foreach_ kernels, as LibTorch's loop does it
/// for each parameter: AdamW decays the weights first (decoupled), Adam adds weight_decay *
/// param to the gradient (L2); the moments; amsgrad's running maximum; then
/// param += -(lr / bc1) * exp_avg / (sqrt(v) / sqrt(bc2) + eps).
void foreach_adam(Bucket& bucket, bool decoupled, double lr, double beta1, double beta2, double eps,
                  double weight_decay, bool amsgrad) {
  if (decoupled && weight_decay != 0) at::_foreach_mul_(bucket.params, 1 - lr * weight_decay);
  const Tensors grads =
      !decoupled && weight_decay != 0 ? at::_foreach_add(bucket.grads, bucket.params, weight_decay) : bucket.grads;
  at::_foreach_mul_(bucket.exp_avgs, beta1);
  at::_foreach_add_(bucket.exp_avgs, grads, 1 - beta1);
  at::_foreach_mul_(bucket.exp_avg_sqs, beta2);
  at::_foreach_addcmul_(bucket.exp_avg_sqs, grads, grads, 1 - beta2);
  if (amsgrad) at::_foreach_maximum_(bucket.max_exp_avg_sqs, bucket.exp_avg_sqs);
  Tensors denominators = at::_foreach_sqrt(amsgrad ? bucket.max_exp_avg_sqs : bucket.exp_avg_sqs);
  at::_foreach_div_(denominators, bucket.bias_correction2_sqrts);
  at::_foreach_add_(denominators, eps);
  at::_foreach_addcdiv_(bucket.params, bucket.exp_avgs, denominators, bucket.step_sizes);
}

/// The same with one fused kernel; the step counts on the device count up first, as
/// torch.optim's _fused_adam does.
/// With `lr_on_device` (graph mode) the kernel reads the rate from that tensor.
void fused_adam(Bucket& bucket, bool decoupled, double lr, const at::Tensor* lr_on_device, double beta1, double beta2,
                double eps, double weight_decay, bool amsgrad, DeviceStepCounts& device_steps) {
#if KILN_FUSED_ADAM
  at::_foreach_add_(bucket.steps, 1);
  const at::TensorList max_exp_avg_sqs = amsgrad ? at::TensorList(bucket.max_exp_avg_sqs) : at::TensorList();
  const auto run = [&](const auto& rate) {
    if (decoupled) {
#if KILN_FUSED_ADAMW
      at::_fused_adamw_(bucket.params, bucket.grads, bucket.exp_avgs, bucket.exp_avg_sqs, max_exp_avg_sqs,
                        bucket.steps, rate, beta1, beta2, weight_decay, eps, amsgrad, /*maximize=*/false);
#else
      throw Error("this LibTorch has no at::_fused_adamw_");  // fused_step_refusal("adamw") says so first
#endif
    } else {
      at::_fused_adam_(bucket.params, bucket.grads, bucket.exp_avgs, bucket.exp_avg_sqs, max_exp_avg_sqs,
                       bucket.steps, rate, beta1, beta2, weight_decay, eps, amsgrad, /*maximize=*/false);
    }
  };
  if (lr_on_device) {
#if KILN_FUSED_ADAM_TENSOR_LR
    run(*lr_on_device);
#else
    throw Error("this LibTorch's fused Adam cannot read its rate from the device");  // capturable() says so first
#endif
  } else {
    run(lr);
  }
  device_steps.advanced(bucket.params);
#else
  (void)bucket, (void)decoupled, (void)lr, (void)lr_on_device, (void)beta1, (void)beta2, (void)eps,
      (void)weight_decay, (void)amsgrad, (void)device_steps;
  throw Error("this LibTorch has no fused Adam kernel");  // choose() refuses first
#endif
}

/// One step of Adam (decoupled = false) or AdamW (true) as `how` (foreach or fused) over every
/// group of `optimizer`, its state created as LibTorch creates it: step 0, zero moments like
/// the parameter (and a zero max_exp_avg_sq with amsgrad).
/// In graph mode (`rates.on`) each group's rate comes from rates.lrs, and rates.stepped
/// lists the parameters the step updated.
template <class Options, class State>
void adam_step(optim::Optimizer& optimizer, bool decoupled, StepImplementation how, DeviceStepCounts& device_steps,
               DeviceRates& rates, const char* type) {
  const bool graph = rates.on && how == StepImplementation::fused;
  if (graph && rates.lrs.size() != optimizer.param_groups().size())
    throw Error(fmt::format("optimizer type '{}': a step in graph mode before load_rates()", type));
  rates.stepped.clear();
  std::size_t group_index = 0;
  for (optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    const at::Tensor* lr_on_device = graph ? &rates.lrs[group_index] : nullptr;
    ++group_index;
    const auto& options = static_cast<const Options&>(group.options());
    const double lr = options.lr(), eps = options.eps(), weight_decay = options.weight_decay();
    const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
    const bool amsgrad = options.amsgrad();
    std::vector<Bucket> buckets;
    for (const at::Tensor& param : group.params()) {
      if (!param.grad().defined()) continue;
      at::Tensor grad = gradient_of(param, type);
      State* state = state_of<State>(optimizer, param, type);
      if (!state) {
        auto made = std::make_unique<State>();
        made->step(0);
        made->exp_avg(at::zeros_like(param, at::MemoryFormat::Preserve));
        made->exp_avg_sq(at::zeros_like(param, at::MemoryFormat::Preserve));
        if (amsgrad) made->max_exp_avg_sq(at::zeros_like(param, at::MemoryFormat::Preserve));
        state = made.get();
        optimizer.state()[compat::optimizer_state_key(param)] = std::move(made);
      }
      // A state made without amsgrad (a checkpoint of a run without it) starts its maximum at 0.
      if (amsgrad && !state->max_exp_avg_sq().defined())
        state->max_exp_avg_sq(at::zeros_like(param, at::MemoryFormat::Preserve));

      Bucket& bucket = bucket_of(buckets, param);
      if (how == StepImplementation::fused) bucket.steps.push_back(device_steps.at_step(param, state->step()));
      if (rates.on) rates.stepped.push_back(param);
      state->step(state->step() + 1);
      bucket.params.push_back(param);
      bucket.grads.push_back(std::move(grad));
      bucket.exp_avgs.push_back(state->exp_avg());
      bucket.exp_avg_sqs.push_back(state->exp_avg_sq());
      if (amsgrad) bucket.max_exp_avg_sqs.push_back(state->max_exp_avg_sq());
      // Each parameter's own step count: one that got no gradient on some steps has its own
      // bias corrections, as in LibTorch's loop.
      const double bias_correction1 = 1 - std::pow(beta1, state->step());
      const double bias_correction2 = 1 - std::pow(beta2, state->step());
      bucket.step_sizes.emplace_back(-(lr / bias_correction1));
      bucket.bias_correction2_sqrts.emplace_back(std::sqrt(bias_correction2));
    }
    for (Bucket& bucket : buckets) {
      if (how == StepImplementation::fused)
        fused_adam(bucket, decoupled, lr, lr_on_device, beta1, beta2, eps, weight_decay, amsgrad, device_steps);
      else
        foreach_adam(bucket, decoupled, lr, beta1, beta2, eps, weight_decay, amsgrad);
    }
  }
}

/// One step of SGD with _foreach_ kernels, as LibTorch's loop: d_p = grad (+ weight_decay *
/// param); with momentum, a new buffer is a copy of d_p, an old one buf = momentum * buf +
/// (1 - dampening) * d_p, and d_p becomes d_p + momentum * buf (nesterov) or buf; then
/// param -= lr * d_p.
void sgd_step(optim::Optimizer& optimizer) {
  for (optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    const auto& options = static_cast<const optim::SGDOptions&>(group.options());
    const double lr = options.lr(), weight_decay = options.weight_decay(), momentum = options.momentum();
    const double dampening = options.dampening();
    const bool nesterov = options.nesterov();
    std::vector<Bucket> buckets;
    for (const at::Tensor& param : group.params()) {
      if (!param.grad().defined()) continue;
      Bucket& bucket = bucket_of(buckets, param);
      bucket.params.push_back(param);
      bucket.grads.push_back(gradient_of(param, "sgd"));
    }
    for (Bucket& bucket : buckets) {
      Tensors d_p = weight_decay != 0 ? at::_foreach_add(bucket.grads, bucket.params, weight_decay) : bucket.grads;
      if (momentum != 0) {
        Tensors buffers, old_buffers, old_d_p;
        for (std::size_t i = 0; i < bucket.params.size(); ++i) {
          if (auto* state = state_of<optim::SGDParamState>(optimizer, bucket.params[i], "sgd")) {
            buffers.push_back(state->momentum_buffer());
            old_buffers.push_back(state->momentum_buffer());
            old_d_p.push_back(d_p[i]);
          } else {
            auto made = std::make_unique<optim::SGDParamState>();
            made->momentum_buffer(d_p[i].detach().clone());
            buffers.push_back(made->momentum_buffer());
            optimizer.state()[compat::optimizer_state_key(bucket.params[i])] = std::move(made);
          }
        }
        if (!old_buffers.empty()) {
          at::_foreach_mul_(old_buffers, momentum);
          at::_foreach_add_(old_buffers, old_d_p, 1 - dampening);
        }
        d_p = nesterov ? at::_foreach_add(d_p, buffers, momentum) : std::move(buffers);
      }
      at::_foreach_add_(bucket.params, d_p, -1 * lr);
    }
  }
}

}  // namespace

const std::vector<std::string>& step_implementation_names() {
  static const std::vector<std::string> names = {"auto", "loop", "foreach", "fused"};
  return names;
}

std::string_view step_implementation_name(StepImplementation implementation) {
  return step_implementation_names().at(static_cast<std::size_t>(implementation));
}

StepImplementation step_implementation(std::string_view name) {
  const auto& names = step_implementation_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<StepImplementation>(i);
  throw Error(fmt::format("no step implementation '{}' (implementations: {})", name, fmt::join(names, ", ")));
}

std::string fused_step_refusal(std::string_view type) {
  if (type != "adam" && type != "adamw")
    return fmt::format("\"fused\" is a step of adam and adamw; {} has \"loop\" and \"foreach\"", type);
  if (!KILN_FUSED_ADAM)
    return fmt::format("\"fused\" needs a LibTorch 2.0 or later with CUDA; this kiln's LibTorch is {}, {}",
                       TORCH_VERSION, compat::kWithCuda ? "with CUDA" : "without CUDA");
  if (type == "adamw" && !KILN_FUSED_ADAMW)
    return fmt::format("\"fused\" needs at::_fused_adamw_, which this kiln's LibTorch ({}) lacks", TORCH_VERSION);
  return "";
}

bool has_fused_step(std::string_view type) {
  return (type == "adam" && KILN_FUSED_ADAM) || (type == "adamw" && KILN_FUSED_ADAMW);
}

StepImplementation resolve_step(StepImplementation requested, const c10::Device& device, bool fused_available) {
  if (requested != StepImplementation::automatic) return requested;
  return device.is_cuda() && fused_available ? StepImplementation::fused : StepImplementation::foreach;
}

const at::Tensor& DeviceStepCounts::at_step(const at::Tensor& param, std::int64_t step) {
  Count& count = counts_[param.unsafeGetTensorImpl()];
  if (!count.on_device.defined() || count.step != step || count.on_device.device() != param.device()) {
    count.on_device = at::full({}, static_cast<double>(step), param.options().dtype(at::kFloat));
    count.step = step;
  }
  return count.on_device;
}

void DeviceStepCounts::advanced(const std::vector<at::Tensor>& params) {
  for (const at::Tensor& param : params) ++counts_.at(param.unsafeGetTensorImpl()).step;
}

namespace {

/// Graph mode: every group's rate into its tensor on the device (made on first use, on the
/// device of the group's first parameter).
void load_group_rates(optim::Optimizer& optimizer, DeviceRates& rates) {
  auto& groups = optimizer.param_groups();
  rates.lrs.resize(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    at::Tensor& rate = rates.lrs[g];
    if (!rate.defined()) {
      const auto& params = groups[g].params();
      const c10::Device device = params.empty() ? c10::Device(c10::kCPU) : params.front().device();
      rate = at::empty({}, at::TensorOptions().dtype(at::kFloat).device(device));
    }
    rate.fill_(groups[g].options().get_lr());
  }
}

/// Graph mode, after a replay: the captured step's host side again.
template <class State>
void count_replayed(optim::Optimizer& optimizer, DeviceRates& rates, DeviceStepCounts& device_steps,
                    const char* type) {
  for (const at::Tensor& param : rates.stepped) {
    State* state = state_of<State>(optimizer, param, type);
    if (!state) throw Error(fmt::format("optimizer type '{}': a replayed step of a parameter without state", type));
    state->step(state->step() + 1);
  }
  device_steps.advanced(rates.stepped);
}

}  // namespace

MultiTensorAdam::MultiTensorAdam(std::vector<torch::Tensor> params, const optim::AdamOptions& options,
                                 StepImplementation implementation)
    : optim::Adam(std::move(params), options), MultiTensorStep(implementation) {}

torch::Tensor MultiTensorAdam::step(LossClosure closure) {
  last_ = choose(*this, requested_, "adam");
  if (last_ == StepImplementation::loop) return optim::Adam::step(std::move(closure));
  return with_closure(closure, [&] {
    adam_step<optim::AdamOptions, optim::AdamParamState>(*this, /*decoupled=*/false, last_, device_steps_, rates_,
                                                         "adam");
  });
}

MultiTensorAdamW::MultiTensorAdamW(std::vector<torch::Tensor> params, const optim::AdamWOptions& options,
                                   StepImplementation implementation)
    : optim::AdamW(std::move(params), options), MultiTensorStep(implementation) {}

torch::Tensor MultiTensorAdamW::step(LossClosure closure) {
  last_ = choose(*this, requested_, "adamw");
  if (last_ == StepImplementation::loop) return optim::AdamW::step(std::move(closure));
  return with_closure(closure, [&] {
    adam_step<optim::AdamWOptions, optim::AdamWParamState>(*this, /*decoupled=*/true, last_, device_steps_, rates_,
                                                           "adamw");
  });
}

bool MultiTensorAdam::capturable() const { return KILN_FUSED_ADAM_TENSOR_LR && last_ == StepImplementation::fused; }
void MultiTensorAdam::load_rates() { load_group_rates(*this, rates_); }
void MultiTensorAdam::replayed() { count_replayed<optim::AdamParamState>(*this, rates_, device_steps_, "adam"); }

bool MultiTensorAdamW::capturable() const { return KILN_FUSED_ADAM_TENSOR_LR && last_ == StepImplementation::fused; }
void MultiTensorAdamW::load_rates() { load_group_rates(*this, rates_); }
void MultiTensorAdamW::replayed() { count_replayed<optim::AdamWParamState>(*this, rates_, device_steps_, "adamw"); }

MultiTensorSGD::MultiTensorSGD(std::vector<torch::Tensor> params, const optim::SGDOptions& options,
                               StepImplementation implementation)
    : optim::SGD(std::move(params), options), MultiTensorStep(implementation) {}

torch::Tensor MultiTensorSGD::step(LossClosure closure) {
  last_ = choose(*this, requested_, "sgd");
  if (last_ == StepImplementation::loop) return optim::SGD::step(std::move(closure));
  return with_closure(closure, [&] { sgd_step(*this); });
}

}  // namespace kiln::runner
