// Mixed precision: autocast around a phase's forward and losses, and fp16's gradient scaler.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "kiln/tensors.hpp"
#include "train/device.hpp"

namespace kiln::runner {

/// Autocast on `device`'s type at `dtype` while it lives (nothing when `enabled` is false), as
/// `with torch.autocast(device_type, dtype)`: the state before it is put back, and the cast
/// cache cleared when the outermost scope ends. On the training thread only (autocast's state
/// is thread-local).
class AutocastScope {
 public:
  AutocastScope(c10::Device device, Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

  /// bf16/fp16 -> their dtype; fp32/tf32 autocast nothing.
  static bool casts(Precision precision) { return precision == Precision::bf16 || precision == Precision::fp16; }

 private:
  bool active_ = false;
  c10::DeviceType type_ = c10::DeviceType::CPU;
  bool was_enabled_ = false;
  c10::ScalarType was_dtype_ = c10::ScalarType::Float;
};

/// fp16's dynamic loss scale, as torch.amp.GradScaler: losses are multiplied by the scale
/// before backward; the phase's gradients are divided by it before the update, which is
/// skipped when any is inf or NaN (the scale then backs off); after `growth_interval` clean
/// steps the scale grows. One scaler per phase; its state is part of checkpoints.
class GradScaler {
 public:
  struct Options {
    double init_scale = 65536.0;
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    std::int64_t growth_interval = 2000;
  };

  GradScaler(c10::Device device, Options options);

  /// `loss` times the scale.
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides every defined gradient of `params` by the scale; true when all are finite.
  /// Reads one value from the device (the update must know whether to run).
  bool unscale(const std::vector<at::Tensor>& params);
  /// After the phase's update (or its skip): back off after an overflow, else count a clean
  /// step and grow every growth_interval of them.
  void update(bool finite);

  double current_scale() const;
  std::int64_t clean_steps() const;

  /// {"scale", "clean_steps"}, on the CPU.
  TensorMap state() const;
  /// The state back from state(); a missing or malformed entry is an Error naming it.
  void load_state(const TensorMap& state);

 private:
  c10::Device device_;
  Options options_;
  at::Tensor scale_;        // float32 [1] on the device
  at::Tensor clean_steps_;  // int32 [1] on the device: steps since the last overflow
};

}  // namespace kiln::runner
