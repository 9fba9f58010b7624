// kiln::Step: one training step as the model, losses and hooks see it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/run_context.hpp"
#include "kiln/tensors.hpp"

namespace kiln {

/// The step being run. It names the current phase (the optimizer whose update is being
/// computed), holds a scratch map that lives for exactly one step, so that a GAN can
/// compute its fake image in the first phase and reuse it in the next:
/// \code
///   if (!step.scratch().contains("fake")) step.scratch().set("fake", generator_(input));
/// \endcode
/// and collects the loss values and outputs hooks read after each phase.
class KILN_API Step {
 public:
  Step(RunContext& run, std::int64_t global_step);

  RunContext& run() const { return *run_; }
  std::int64_t global_step() const { return global_step_; }
  /// The optimizer whose phase is running; empty outside phases (before_step, after_step).
  const std::string& phase() const { return phase_; }
  /// False when the model runs for evaluation or inference.
  bool training() const { return training_; }

  TensorMap& scratch() { return scratches_[static_cast<std::size_t>(micro_batch_)]; }
  /// Detached values of every loss computed so far in this step, by loss name.
  const TensorMap& losses() const { return losses_; }
  /// The outputs of the latest forward pass in this step.
  const Outputs& outputs() const { return outputs_; }
  /// The running phase's parameters (its optimizer's parameter group); empty outside a
  /// phase. In before_update() each has its gradient in .grad().
  const std::vector<torch::Tensor>& parameters() const;

  /// With `[experiment] accumulate = N`, each phase forwards N micro-batches before its
  /// update: which one runs (0 to N - 1) and N. scratch() is the running micro-batch's own,
  /// so a value set in one phase is found by the next phase's pass over the same micro-batch.
  int micro_batch() const { return micro_batch_; }
  int micro_batches() const { return static_cast<int>(scratches_.size()); }

  /// Records a scalar summary for this step.
  void summary(std::string_view tag, double value);
  void summary(std::string_view tag, const torch::Tensor& scalar);

  // Called by the runner as the step proceeds.
  void set_phase(std::string phase) { phase_ = std::move(phase); }
  void set_training(bool training) { training_ = training; }
  void set_loss(const std::string& name, torch::Tensor value) { losses_.set(name, std::move(value)); }
  void set_outputs(Outputs outputs) { outputs_ = std::move(outputs); }
  /// `params` must outlive the phase (the runner's own); null: none.
  void set_parameters(const std::vector<torch::Tensor>* params) { params_ = params; }
  /// Makes `count` micro-batches (each with an empty scratch) and selects the first.
  void set_micro_batches(int count);
  void set_micro_batch(int index);

 private:
  RunContext* run_;
  std::int64_t global_step_;
  std::string phase_;
  bool training_ = true;
  int micro_batch_ = 0;
  std::vector<TensorMap> scratches_{TensorMap("step scratch")};
  const std::vector<torch::Tensor>* params_ = nullptr;
  TensorMap losses_{"losses"};
  Outputs outputs_{"outputs"};
};

}  // namespace kiln
