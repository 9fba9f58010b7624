// The `huber` loss: squared error for small errors, absolute error for large ones.
#include <string>

#include <torch/torch.h>

#include "kiln/kiln.hpp"
#include "sine.hpp"

namespace sine {
namespace {

/// mean(0.5 e^2 if |e| < delta, else delta (|e| - delta / 2)), e = prediction - target:
///   [[losses]]
///   plugin = "huber"
///   delta = 1.0
///   prediction = "prediction"   # a model output
///   target = "y"                # a batch entry
class Huber : public kiln::Loss {
 public:
  explicit Huber(const kiln::Config& config)
      : delta_(config.get_positive<double>("delta", 1.0)),
        prediction_(config.get_or<std::string>("prediction", "prediction")),
        target_(config.get_or<std::string>("target", "y")) {}

  torch::Tensor compute(const kiln::Outputs& outputs, const kiln::Batch& batch, kiln::Step& /*step*/) override {
    const torch::Tensor& prediction = outputs.at(prediction_);
    const torch::Tensor& target = batch.at(target_);
    // [N] against [N, 1] would broadcast to [N, N] and train on the wrong differences.
    kiln::require_same_shape("model output '" + prediction_ + "'", prediction, "target '" + target_ + "'", target);
    const torch::Tensor error = (prediction - target).abs();
    return torch::where(error < delta_, 0.5 * error.square(), delta_ * (error - 0.5 * delta_)).mean();
  }

 private:
  double delta_;
  std::string prediction_, target_;
};

}  // namespace

void add_loss(kiln::Registry& registry) { registry.add_loss<Huber>("huber"); }

}  // namespace sine
