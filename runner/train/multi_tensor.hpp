// Multi-tensor optimizer steps: adam, adamw and sgd update every parameter of a phase with a
// few _foreach_ kernels (or, for adam and adamw on CUDA with LibTorch 2.x, one fused kernel)
// instead of LibTorch's loop of ~5 small kernels per parameter. The numbers are torch::optim's
// (up to floating-point reassociation) and so is the state: each parameter's AdamParamState,
// AdamWParamState or SGDParamState in the optimizer's own state(), created as torch::optim
// creates it on a parameter's first step, so that checkpoints, the learning rate's getter and
// setter and a switch between implementations see one optimizer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <c10/core/Device.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

namespace kiln::runner {

/// How an optimizer's step runs: `implementation` of an [[optimizers]] table.
enum class StepImplementation {
  automatic,  ///< "auto": fused on CUDA where the type has a fused kernel, else foreach
  loop,       ///< torch::optim's own step, parameter by parameter
  foreach,    ///< _foreach_ kernels over every parameter at once
  fused,      ///< one fused kernel (adam, adamw; CUDA and LibTorch 2.0 or later)
};

/// "auto", "loop", "foreach", "fused": what `implementation` may be, in this order.
const std::vector<std::string>& step_implementation_names();
std::string_view step_implementation_name(StepImplementation implementation);
/// The implementation a name of step_implementation_names() stands for.
StepImplementation step_implementation(std::string_view name);

/// Whether this LibTorch has a fused step for `type` ("adam", "adamw"; never "sgd"): built
/// with CUDA, 2.0 or later (adamw: where at::_fused_adamw_ exists).
bool has_fused_step(std::string_view type);
/// Why `type` has no fused step here, a message starting "\"fused\" ..."; empty when it has one.
std::string fused_step_refusal(std::string_view type);

/// What a step asked to run as `requested` runs as over parameters on `device`: auto is fused
/// on CUDA when `fused_available`, else foreach, on the CPU too, where it measured faster than
/// LibTorch's loop and gives the same numbers (bench/README.md, "kiln_bench_optim").
StepImplementation resolve_step(StepImplementation requested, const c10::Device& device, bool fused_available);

/// The implementation an optimizer was asked for and the one its last step ran.
class MultiTensorStep {
 public:
  explicit MultiTensorStep(StepImplementation requested) : requested_(requested) {}
  virtual ~MultiTensorStep() = default;
  StepImplementation requested() const { return requested_; }
  /// What the last step ran as (never automatic after one); automatic before the first.
  StepImplementation last() const { return last_; }

  // CUDA graphs ([experiment] cuda_graphs, train/step_graph.hpp). A captured step replays the
  // kernels it queued, with the values they were queued with: only a step that keeps all it
  // counts on the device can be replayed, and that is adam's and adamw's fused one.
  /// Whether the last step can be captured and replayed: it ran fused, and this LibTorch's
  /// fused step can read its rate from the device.
  virtual bool capturable() const { return false; }
  /// Graph mode: the fused step reads each parameter group's rate from a float32 tensor on
  /// the device (set by load_rates()) instead of passing the number to the kernel.
  virtual void set_graph_mode(bool on) { (void)on; }
  /// Graph mode, before each step or replay, outside the graph: the groups' rates (as a
  /// schedule or a hook set them) into the tensors the step reads.
  virtual void load_rates() {}
  /// Graph mode, after each replay: what the captured step does on the host, done again: every
  /// parameter it updated counts one more step (the step of record that checkpoints hold).
  virtual void replayed() {}

 protected:
  StepImplementation requested_;
  StepImplementation last_ = StepImplementation::automatic;
};

/// The fused kernels read each parameter's step count from a float tensor on its device. The
/// integer in torch::optim's state stays the step of record (checkpoints hold it); this keeps
/// a device copy of it per parameter, made from the integer whenever the two could differ
/// (a first fused step, a restore, a step by another implementation between) and counted up
/// on the device with it otherwise, so that the host never reads the device.
class DeviceStepCounts {
 public:
  /// The device copy of `step` for `param`: the one kept if it still holds `step`, else a new one.
  const at::Tensor& at_step(const at::Tensor& param, std::int64_t step);
  /// Records that the copies of `params` were counted up by one on the device.
  void advanced(const std::vector<at::Tensor>& params);

 private:
  struct Count {
    at::Tensor on_device;  ///< float32, 0-d, on the parameter's device
    std::int64_t step;     ///< the value it holds
  };
  std::unordered_map<const void*, Count> counts_;
};

/// Graph mode's state of a fused step (MultiTensorStep::set_graph_mode).
struct DeviceRates {
  bool on = false;
  std::vector<at::Tensor> lrs;      ///< each parameter group's rate: float32, 0-d, on its device
  std::vector<at::Tensor> stepped;  ///< the parameters the last step updated
};

/// torch::optim::Adam whose step runs as its implementation says.
class MultiTensorAdam : public torch::optim::Adam, public MultiTensorStep {
 public:
  MultiTensorAdam(std::vector<torch::Tensor> params, const torch::optim::AdamOptions& options,
                  StepImplementation implementation);
  torch::Tensor step(LossClosure closure = nullptr) override;
  bool capturable() const override;
  void set_graph_mode(bool on) override { rates_.on = on; }
  void load_rates() override;
  void replayed() override;

 private:
  DeviceStepCounts device_steps_;
  DeviceRates rates_;
};

/// torch::optim::AdamW whose step runs as its implementation says.
class MultiTensorAdamW : public torch::optim::AdamW, public MultiTensorStep {
 public:
  MultiTensorAdamW(std::vector<torch::Tensor> params, const torch::optim::AdamWOptions& options,
                   StepImplementation implementation);
  torch::Tensor step(LossClosure closure = nullptr) override;
  bool capturable() const override;
  void set_graph_mode(bool on) override { rates_.on = on; }
  void load_rates() override;
  void replayed() override;

 private:
  DeviceStepCounts device_steps_;
  DeviceRates rates_;
};

/// torch::optim::SGD whose step runs as its implementation says (loop or foreach).
class MultiTensorSGD : public torch::optim::SGD, public MultiTensorStep {
 public:
  MultiTensorSGD(std::vector<torch::Tensor> params, const torch::optim::SGDOptions& options,
                 StepImplementation implementation);
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace kiln::runner
