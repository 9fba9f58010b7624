// Autocast scopes and the fp16 gradient scaler.
#include "train/precision.hpp"

#include <cmath>

#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <torch/torch.h>
#include "train/torch_compat.hpp"

namespace kiln::runner {
namespace {

// LibTorch 2.4 made autocast's switches take the device type; 1.13 has one set per backend.
#if KILN_TORCH_AT_LEAST(2, 4)
bool autocast_enabled(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
void set_autocast_enabled(c10::DeviceType type, bool on) { at::autocast::set_autocast_enabled(type, on); }
c10::ScalarType autocast_dtype(c10::DeviceType type) { return at::autocast::get_autocast_dtype(type); }
void set_autocast_dtype(c10::DeviceType type, c10::ScalarType dtype) { at::autocast::set_autocast_dtype(type, dtype); }
#else
bool autocast_enabled(c10::DeviceType type) {
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_enabled(c10::DeviceType type, bool on) {
  if (type == c10::DeviceType::CUDA) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
}
c10::ScalarType autocast_dtype(c10::DeviceType type) {
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType type, c10::ScalarType dtype) {
  if (type == c10::DeviceType::CUDA) at::autocast::set_autocast_gpu_dtype(dtype);
  else at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

}  // namespace

AutocastScope::AutocastScope(c10::Device device, Precision precision) {
  if (!casts(precision)) return;
  active_ = true;
  type_ = device.type();
  was_enabled_ = autocast_enabled(type_);
  was_dtype_ = autocast_dtype(type_);
  set_autocast_enabled(type_, true);
  set_autocast_dtype(type_, precision == Precision::bf16 ? c10::ScalarType::BFloat16 : c10::ScalarType::Half);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The cache holds casts of the weights, valid until they change: the update comes next.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(type_, was_enabled_);
  set_autocast_dtype(type_, was_dtype_);
}

GradScaler::GradScaler(c10::Device device, Options options)
    : device_(device),
      options_(options),
      scale_(torch::full({1}, options.init_scale, torch::dtype(torch::kFloat32).device(device))),
      clean_steps_(torch::zeros({1}, torch::dtype(torch::kInt32).device(device))) {}

at::Tensor GradScaler::scale(const at::Tensor& loss) const {
  // In float32: the initial scale, 65536, is past fp16's largest value (65504).
  return loss.to(torch::kFloat32) * scale_.reshape({});
}

bool GradScaler::unscale(const std::vector<at::Tensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& param : params)
    if (param.grad().defined()) grads.push_back(param.grad());
  if (grads.empty()) return true;
  const at::Tensor inverse = scale_.to(torch::kFloat64).reciprocal().to(torch::kFloat32);
  at::Tensor found_inf = torch::zeros({1}, torch::dtype(torch::kFloat32).device(device_));
  if (device_.is_cuda()) {
    // One multi-tensor kernel: divides and flags a non-finite value, without a sync per tensor.
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inverse);
  } else {
    for (at::Tensor& grad : grads) {
      grad.mul_(inverse.to(grad.scalar_type()));
      found_inf.add_(grad.isfinite().logical_not().any().to(torch::kFloat32));
    }
  }
  return found_inf.item<float>() == 0.0f;
}

void GradScaler::update(bool finite) {
  torch::NoGradGuard no_grad;
  if (!finite) {
    scale_.mul_(options_.backoff_factor);
    clean_steps_.zero_();
    return;
  }
  clean_steps_.add_(1);
  // Grows on the device, so a clean step reads nothing back.
  const at::Tensor due = clean_steps_.ge(options_.growth_interval);
  scale_.copy_(torch::where(due, scale_ * options_.growth_factor, scale_));
  clean_steps_.copy_(torch::where(due, torch::zeros_like(clean_steps_), clean_steps_));
}

double GradScaler::current_scale() const { return scale_.item<double>(); }
std::int64_t GradScaler::clean_steps() const { return clean_steps_.item<std::int64_t>(); }

TensorMap GradScaler::state() const {
  TensorMap state("grad scaler state");
  state.set("scale", scale_.to(torch::kCPU).clone());
  state.set("clean_steps", clean_steps_.to(torch::kCPU).to(torch::kInt64));
  return state;
}

void GradScaler::load_state(const TensorMap& state) {
  const at::Tensor& scale = state.at("scale");
  const at::Tensor& clean = state.at("clean_steps");
  if (scale.numel() != 1 || !scale.is_floating_point())
    throw Error(fmt::format("grad scaler state: 'scale' must be one float, got a {} tensor of {} elements",
                            c10::toString(scale.scalar_type()), scale.numel()));
  if (clean.numel() != 1 || clean.is_floating_point())
    throw Error(fmt::format("grad scaler state: 'clean_steps' must be one integer, got a {} tensor of {} elements",
                            c10::toString(clean.scalar_type()), clean.numel()));
  const double value = scale.item<double>();
  if (!std::isfinite(value) || value <= 0)
    throw Error(fmt::format("grad scaler state: 'scale' must be finite and positive, got {}", value));
  scale_.fill_(value);
  clean_steps_.fill_(clean.item<std::int64_t>());
}

}  // namespace kiln::runner
