// The in-tree loss plugins, registered together by plugin.cpp.
#pragma once

#include "kiln/kiln.hpp"

namespace kiln::plugins {

/// The loss's name in the experiment: its [[losses]] table's `name`, else its `plugin`.
std::string loss_name(const Config& config);

/// Nothing when `prediction` and `target` have the same shape; else an Error naming the loss,
/// the model output, the batch entry and both shapes, and what torch would have made of them:
/// "loss 'mse': model output 'prediction' has shape [64] and target 'y' has shape [64, 1];
/// they differ and would broadcast to [64, 64] — reshape one of them". An element-wise loss
/// of shapes that broadcast trains on the wrong differences, with only a warning from torch.
void check_same_shape(const std::string& loss, const std::string& prediction_name, const torch::Tensor& prediction,
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
  std::string name_;
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
  std::string name_;
  std::string prediction_;
  std::string target_;
};

}  // namespace kiln::plugins
