// The in-tree loss plugins, registered together by plugin.cpp.
#pragma once

#include "kiln/kiln.hpp"

namespace kiln::plugins {

/// The element-wise losses' check of their two tensors (kiln::require_same_shape): an Error
/// naming the model output, the batch entry and both shapes when they differ. The trainer
/// puts the loss's name and phase in front ("in loss 'mse' (phase 'adam'): model output ...").
void check_same_shape(const std::string& prediction_name, const torch::Tensor& prediction,
                      const std::string& target_name, const torch::Tensor& target);

/// Mean squared error between an output and a batch entry:
///   [[losses]]
///   plugin = "mse"
///   prediction = "prediction"   # a model output
///   target = "y"                # a batch entry, of the prediction's shape (check_same_shape)
class Mse : public Loss {
 public:
  explicit Mse(const Config& config);
  torch::Tensor compute(const Outputs& outputs, const Batch& batch, Step& step) override;

 private:
  std::string prediction_;
  std::string target_;
};

/// The adversarial loss on discriminator logits, for either network and either label:
///   [[losses]]
///   name = "d_real"
///   plugin = "gan"
///   mode = "bce"        # or "lsgan"
///   input = "d_real"    # a model output holding logits
///   target = "real"     # or "fake": the label the logits are pushed towards
/// "bce" is binary cross-entropy on the logits, as TF pix2pix wrote it: -log(sigmoid(x))
/// towards real, -log(1 - sigmoid(x)) towards fake, averaged. "lsgan" is the mean squared
/// distance of the logits to 1 (real) or 0 (fake).
class Gan : public Loss {
 public:
  explicit Gan(const Config& config);
  torch::Tensor compute(const Outputs& outputs, const Batch& batch, Step& step) override;

 private:
  bool least_squares_;
  std::string input_;
  double label_;
};

/// Mean absolute error between an output and a batch entry:
///   [[losses]]
///   plugin = "l1"
///   prediction = "fake"   # a model output
///   target = "target"     # a batch entry, of the prediction's shape (check_same_shape)
class L1 : public Loss {
 public:
  explicit L1(const Config& config);
  torch::Tensor compute(const Outputs& outputs, const Batch& batch, Step& step) override;

 private:
  std::string prediction_;
  std::string target_;
};

}  // namespace kiln::plugins
