// The losses' one check of their two tensors: a prediction and a target of different shapes
// would broadcast (or fail deep inside torch) instead of comparing element by element.
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "losses.hpp"

namespace kiln::plugins {
namespace {

/// "[64, 1]", "[]" for a scalar.
std::string shape_text(c10::IntArrayRef sizes) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << ']';
  return out.str();
}

}  // namespace

std::string loss_name(const Config& config) {
  return config.get_or<std::string>("name", config.get_or<std::string>("plugin", ""));
}

void check_same_shape(const std::string& loss, const std::string& prediction_name, const torch::Tensor& prediction,
                      const std::string& target_name, const torch::Tensor& target) {
  if (prediction.sizes() == target.sizes()) return;
  std::string consequence;
  try {
    consequence = "would broadcast to " + shape_text(at::infer_size(prediction.sizes(), target.sizes()));
  } catch (const c10::Error&) {
    consequence = "do not broadcast";
  }
  throw Error("loss '" + loss + "': model output '" + prediction_name + "' has shape " +
              shape_text(prediction.sizes()) + " and target '" + target_name + "' has shape " +
              shape_text(target.sizes()) + "; they differ and " + consequence + " — reshape one of them");
}

}  // namespace kiln::plugins
