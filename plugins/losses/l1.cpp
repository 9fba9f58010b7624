// The `l1` loss: mean absolute error between a model output and a batch entry.
#include <torch/torch.h>

#include "losses.hpp"

namespace kiln::plugins {

L1::L1(const Config& config)
    : prediction_(config.get_or<std::string>("prediction", "fake")),
      target_(config.get_or<std::string>("target", "target")) {}

torch::Tensor L1::compute(const Outputs& outputs, const Batch& batch, Step&) {
  const torch::Tensor& prediction = outputs.at(prediction_);
  const torch::Tensor& target = batch.at(target_);
  check_same_shape(prediction_, prediction, target_, target);
  return torch::l1_loss(prediction, target);
}

}  // namespace kiln::plugins
