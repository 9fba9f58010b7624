// The pix2pix U-Net generator, level by level as the authors' `unet_256` nests its skip blocks.
#include "networks.hpp"

#include <algorithm>

#include <torch/torch.h>

namespace kiln::plugins::pix2pix {
namespace {

namespace nn = torch::nn;

/// Channels after level i's down-convolution: ngf, 2ngf, 4ngf, then 8ngf for the rest.
std::int64_t level_channels(std::int64_t ngf, std::int64_t level) {
  return ngf * std::min<std::int64_t>(std::int64_t{1} << std::min<std::int64_t>(level, 3), 8);
}

}  // namespace

UnetGeneratorImpl::UnetGeneratorImpl(const UnetGeneratorOptions& options) : options_(options) {
  const std::int64_t levels = options.num_downs;
  TORCH_CHECK(levels >= 2, "a U-Net needs at least 2 levels, got ", levels);
  for (std::int64_t i = 0; i < levels; ++i) {
    const bool outermost = i == 0;
    const bool innermost = i == levels - 1;
    const std::int64_t outer = outermost ? options.input_channels : level_channels(options.ngf, i - 1);
    const std::int64_t inner = level_channels(options.ngf, i);

    // No convolution of the down path has a bias in the reference, not even the outermost
    // (which no BatchNorm follows) or the innermost.
    nn::Sequential down;
    if (!outermost) down->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
    down->push_back(nn::Conv2d(nn::Conv2dOptions(outer, inner, 4).stride(2).padding(1).bias(false)));
    if (!outermost && !innermost) down->push_back(nn::BatchNorm2d(inner));
    down_->push_back(down);

    // The up side sees the level below's output concatenated with its skip (2·inner
    // channels), except at the bottleneck. ReLU in place: its input is a fresh tensor.
    const std::int64_t up_in = innermost ? inner : 2 * inner;
    const std::int64_t up_out = outermost ? options.output_channels : outer;
    nn::Sequential up;
    up->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
    up->push_back(nn::ConvTranspose2d(
        nn::ConvTranspose2dOptions(up_in, up_out, 4).stride(2).padding(1).bias(outermost)));
    if (outermost) {
      up->push_back(nn::Tanh());
    } else {
      up->push_back(nn::BatchNorm2d(up_out));
    }
    // The ngf*8 blocks between the bottleneck and the 4ngf level: the paper's "first three
    // decoder layers" at 256×256 (num_downs - 5 of them in general).
    const bool middle = i >= 4 && !innermost;
    if (middle && options.dropout > 0) up->push_back(nn::Dropout(options.dropout));
    up_->push_back(up);
  }
  register_module("down", down_);
  register_module("up", up_);
}

torch::Tensor UnetGeneratorImpl::forward(const torch::Tensor& input) {
  const std::size_t levels = down_->size();
  std::vector<torch::Tensor> skips;
  skips.reserve(levels);
  torch::Tensor h = input;
  for (std::size_t i = 0; i < levels; ++i) {
    skips.push_back(h);
    h = down_->at<nn::SequentialImpl>(i).forward(h);
  }
  for (std::size_t i = levels; i-- > 0;) {
    h = up_->at<nn::SequentialImpl>(i).forward(h);
    if (i > 0) h = torch::cat({skips[i], h}, /*dim=*/1);
  }
  return h;
}

}  // namespace kiln::plugins::pix2pix
