// The authors' weight initialisation for both pix2pix networks.
#include "networks.hpp"

#include <torch/torch.h>

namespace kiln::plugins::pix2pix {

namespace nn = torch::nn;

void init_weights(torch::nn::Module& module, double gain) {
  torch::NoGradGuard no_grad;
  auto init_conv = [gain](torch::Tensor& weight, torch::Tensor& bias) {
    weight.normal_(/*mean=*/0.0, /*std=*/gain);
    if (bias.defined()) bias.zero_();
  };
  // Not include_self: a module under construction is not yet in its shared_ptr.
  for (const auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<nn::Conv2d>()) {
      init_conv(conv->weight, conv->bias);
    } else if (auto* deconv = child->as<nn::ConvTranspose2d>()) {
      init_conv(deconv->weight, deconv->bias);
    } else if (auto* norm = child->as<nn::BatchNorm2d>()) {
      norm->weight.normal_(/*mean=*/1.0, /*std=*/gain);
      norm->bias.zero_();
    }
  }
}

}  // namespace kiln::plugins::pix2pix
