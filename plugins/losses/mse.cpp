// The `mse` loss: mean squared error between a model output and a batch entry.
#include <torch/torch.h>

#include "losses.hpp"

namespace kiln::plugins {

Mse::Mse(const Config& config)
    : prediction_(config.get_or<std::string>("prediction", "prediction")),
      target_(config.get_or<std::string>("target", "y")) {}

torch::Tensor Mse::compute(const Outputs& outputs, const Batch& batch, Step&) {
  return torch::mse_loss(outputs.at(prediction_), batch.at(target_));
}

}  // namespace kiln::plugins
