// The built-in optimizers (Adam, AdamW, SGD), built from an [[optimizers]] entry.
#pragma once

#include <memory>
#include <vector>

#include <torch/optim/optimizer.h>

#include "config/experiment.hpp"

namespace kiln::runner {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, std::vector<torch::Tensor> params);

}  // namespace kiln::runner
