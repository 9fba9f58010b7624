// The pix2pix PatchGAN discriminator, as the authors' `basic` NLayerDiscriminator builds it.
#include "networks.hpp"

#include <algorithm>

#include <torch/torch.h>

namespace kiln::plugins::pix2pix {
namespace {

namespace nn = torch::nn;

constexpr std::int64_t kKernel = 4;
constexpr std::int64_t kPadding = 1;

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t stride, bool bias) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kKernel).stride(stride).padding(kPadding).bias(bias));
}

nn::LeakyReLU leaky_relu() {
  // In place: every input is a fresh convolution or BatchNorm output that nothing else reads.
  return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true));
}

/// The multiplier of ndf after layer n: 1, 2, 4, then 8 for the rest.
std::int64_t multiplier(std::int64_t n) { return std::int64_t{1} << std::min<std::int64_t>(n, 3); }

}  // namespace

PatchDiscriminatorImpl::PatchDiscriminatorImpl(const PatchDiscriminatorOptions& options) {
  const std::int64_t ndf = options.ndf;
  TORCH_CHECK(options.n_layers >= 1, "a PatchGAN needs at least 1 layer, got ", options.n_layers);
  // No BatchNorm on the first layer, so it keeps its bias; the others are followed by one.
  net_->push_back(conv(options.input_channels, ndf, /*stride=*/2, /*bias=*/true));
  net_->push_back(leaky_relu());
  for (std::int64_t n = 1; n < options.n_layers; ++n) {
    net_->push_back(conv(ndf * multiplier(n - 1), ndf * multiplier(n), /*stride=*/2, /*bias=*/false));
    net_->push_back(nn::BatchNorm2d(ndf * multiplier(n)));
    net_->push_back(leaky_relu());
  }
  const std::int64_t last = ndf * multiplier(options.n_layers);
  net_->push_back(conv(ndf * multiplier(options.n_layers - 1), last, /*stride=*/1, /*bias=*/false));
  net_->push_back(nn::BatchNorm2d(last));
  net_->push_back(leaky_relu());
  net_->push_back(conv(last, 1, /*stride=*/1, /*bias=*/true));
  register_module("net", net_);
}

torch::Tensor PatchDiscriminatorImpl::forward(const torch::Tensor& condition, const torch::Tensor& image) {
  return net_->forward(torch::cat({condition, image}, /*dim=*/1));
}

std::int64_t PatchDiscriminatorImpl::patches(std::int64_t image_size, std::int64_t n_layers) {
  auto out = [](std::int64_t side, std::int64_t stride) {
    const std::int64_t span = side + 2 * kPadding - kKernel;
    return span < 0 ? 0 : span / stride + 1;
  };
  std::int64_t side = image_size;
  for (std::int64_t n = 0; n < n_layers; ++n) side = out(side, 2);
  return out(out(side, 1), 1);
}

}  // namespace kiln::plugins::pix2pix
