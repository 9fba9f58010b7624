// The element-wise losses' one check of their two tensors: a prediction and a target of
// different shapes would broadcast (or fail deep inside torch) instead of comparing element
// by element.
#include "losses.hpp"

namespace kiln::plugins {

void check_same_shape(const std::string& prediction_name, const torch::Tensor& prediction,
                      const std::string& target_name, const torch::Tensor& target) {
  require_same_shape("model output '" + prediction_name + "'", prediction, "target '" + target_name + "'", target);
}

}  // namespace kiln::plugins
