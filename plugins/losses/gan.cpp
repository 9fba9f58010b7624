// The `gan` loss: the adversarial objective on discriminator logits, BCE or least squares.
#include <torch/torch.h>

#include "losses.hpp"

namespace kiln::plugins {
namespace {

bool read_least_squares(const Config& config) {
  return config.get_choice("mode", "bce", {"bce", "lsgan"}) == "lsgan";
}

double read_label(const Config& config) { return config.get_choice("target", {"real", "fake"}) == "real" ? 1.0 : 0.0; }

}  // namespace

Gan::Gan(const Config& config)
    : least_squares_(read_least_squares(config)),
      input_(config.get<std::string>("input")),
      label_(read_label(config)) {}

torch::Tensor Gan::compute(const Outputs& outputs, const Batch&, Step&) {
  const torch::Tensor& logits = outputs.at(input_);
  const torch::Tensor labels = torch::full_like(logits, label_);
  if (least_squares_) return torch::mse_loss(logits, labels);
  // -log(sigmoid(x)) or -log(1 - sigmoid(x)), computed stably from the logits.
  return torch::binary_cross_entropy_with_logits(logits, labels);
}

}  // namespace kiln::plugins
