// The pix2pix networks: the U-Net generator and the PatchGAN discriminator of Isola et al.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace kiln::plugins::pix2pix {

/// The U-Net's shape, as the authors' `unet_256` builds it (norm = batch).
struct UnetGeneratorOptions {
  /// Down-sampling levels: log2 of the image size makes the bottleneck 1×1 (256 → 8).
  std::int64_t num_downs = 8;
  std::int64_t input_channels = 3;
  std::int64_t output_channels = 3;
  std::int64_t ngf = 64;     ///< channels after the first down-convolution
  double dropout = 0.5;      ///< in the ngf*8 blocks between the innermost and the ngf*4 one
};

/// Level i (0 = outermost) halves the image with a 4×4 stride-2 convolution to
/// ngf·min(2^i, 8) channels; its up side doubles it back with a transposed convolution and
/// concatenates the level's input (the skip), except at level 0, which ends in tanh:
/// \code
///   UnetGenerator g(UnetGeneratorOptions{/*num_downs=*/5});
///   auto fake = g(torch::randn({2, 3, 32, 32}));  // [2, 3, 32, 32] in (-1, 1)
/// \endcode
class UnetGeneratorImpl : public torch::nn::Module {
 public:
  explicit UnetGeneratorImpl(const UnetGeneratorOptions& options);
  torch::Tensor forward(const torch::Tensor& input);

  const UnetGeneratorOptions& options() const { return options_; }

 private:
  UnetGeneratorOptions options_;
  torch::nn::ModuleList down_;  ///< down_[i]: [LeakyReLU,] conv [, BatchNorm]
  torch::nn::ModuleList up_;    ///< up_[i]: ReLU, transposed conv, BatchNorm [, Dropout] | tanh
};
TORCH_MODULE(UnetGenerator);

/// The discriminator's shape, as the authors' `basic` (n_layers = 3) builds it.
struct PatchDiscriminatorOptions {
  std::int64_t input_channels = 6;  ///< the generator's input and output, concatenated
  std::int64_t ndf = 64;
  std::int64_t n_layers = 3;        ///< stride-2 convolutions; 3 gives 70×70 receptive fields
};

/// A fully convolutional classifier of overlapping patches: one logit per patch.
/// \code
///   PatchDiscriminator d(PatchDiscriminatorOptions{});
///   auto logits = d(input, target);  // 256×256 images → [N, 1, 30, 30]
/// \endcode
class PatchDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit PatchDiscriminatorImpl(const PatchDiscriminatorOptions& options);
  /// Logits for the pair (condition, image), concatenated along the channels.
  torch::Tensor forward(const torch::Tensor& condition, const torch::Tensor& image);

  /// The side of the logit map for square images of side `image_size` (≤ 0: too small).
  static std::int64_t patches(std::int64_t image_size, std::int64_t n_layers);

 private:
  torch::nn::Sequential net_;
};
TORCH_MODULE(PatchDiscriminator);

/// The authors' `init_weights(..., 'normal', 0.02)`: every (transposed) convolution's weight
/// from N(0, 0.02) and its bias 0; every BatchNorm's weight from N(1, 0.02) and its bias 0.
void init_weights(torch::nn::Module& module, double gain = 0.02);

}  // namespace kiln::plugins::pix2pix
