// The built-in optimizers (Adam, AdamW, SGD), built from an [[optimizers]] entry.
#include "train/optimizers.hpp"

#include <torch/optim.h>

namespace kiln::runner {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, std::vector<torch::Tensor> params) {
  namespace optim = torch::optim;
  if (spec.type == "adam")
    return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions(spec.lr)
                                                                .betas({spec.beta1, spec.beta2})
                                                                .eps(spec.eps)
                                                                .weight_decay(spec.weight_decay));
  if (spec.type == "adamw")
    return std::make_unique<optim::AdamW>(std::move(params), optim::AdamWOptions(spec.lr)
                                                                 .betas({spec.beta1, spec.beta2})
                                                                 .eps(spec.eps)
                                                                 .weight_decay(spec.weight_decay));
  // load_experiment only lets adam, adamw and sgd through.
  return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions(spec.lr)
                                                             .momentum(spec.momentum)
                                                             .weight_decay(spec.weight_decay)
                                                             .nesterov(spec.nesterov));
}

}  // namespace kiln::runner
