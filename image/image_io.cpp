// Image files and tensors, over the torch-free pixel I/O of image/pixels.cpp.
#include "image/image_io.hpp"

#include <memory>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/splitmix.hpp"
#include "image/pixels.hpp"
#include "kiln/error.hpp"

namespace kiln::image {
namespace {

namespace fs = std::filesystem;

/// A uint8 H×W×C tensor that owns the pixels' bytes (no copy).
torch::Tensor from_pixels(Pixels&& image) {
  auto owned = std::make_unique<std::vector<std::uint8_t>>(std::move(image.bytes));
  std::vector<std::uint8_t>* bytes = owned.get();
  torch::Tensor tensor = torch::from_blob(
      bytes->data(), {image.height, image.width, image.channels}, [bytes](void*) { delete bytes; }, torch::kUInt8);
  owned.release();  // the tensor's deleter owns it now
  return tensor;
}

}  // namespace

torch::Tensor decode_image(const void* data, std::size_t size, const std::string& name) {
  return from_pixels(decode_pixels(data, size, name));
}

torch::Tensor read_image(const fs::path& file) { return from_pixels(read_pixels(file)); }

std::vector<std::uint8_t> encode_png(const torch::Tensor& image) {
  if (image.dim() != 3)
    throw Error(fmt::format("cannot encode a tensor of shape {} as PNG: expected H×W×C uint8 or C×H×W float",
                            fmt::join(image.sizes(), "×")));
  const torch::Tensor on_cpu = image.to(torch::kCPU);
  const torch::Tensor hwc = (on_cpu.scalar_type() == torch::kUInt8 ? on_cpu : to_bytes(on_cpu)).contiguous();
  const auto height = hwc.size(0), width = hwc.size(1), channels = hwc.size(2);
  return encode_png(hwc.data_ptr<std::uint8_t>(), static_cast<int>(width), static_cast<int>(height),
                    static_cast<int>(channels));
}

void write_png(const fs::path& file, const torch::Tensor& image) { write_file(file, encode_png(image)); }

torch::Tensor to_signed(const torch::Tensor& hwc) {
  if (hwc.dim() != 3 || hwc.scalar_type() != torch::kUInt8)
    throw Error(fmt::format("to_signed expects a uint8 H×W×C image, got {} of shape {}",
                            c10::toString(hwc.scalar_type()), fmt::join(hwc.sizes(), "×")));
  const torch::Tensor in = hwc.contiguous();
  const auto height = in.size(0), width = in.size(1), channels = in.size(2);
  torch::Tensor out = torch::empty({channels, height, width}, torch::kFloat);
  const std::uint8_t* src = in.data_ptr<std::uint8_t>();
  float* dst = out.data_ptr<float>();
  const std::int64_t plane = height * width;
  for (std::int64_t i = 0; i < plane; ++i)
    for (std::int64_t c = 0; c < channels; ++c) dst[c * plane + i] = to_signed(src[i * channels + c]);
  return out;
}

torch::Tensor to_bytes(const torch::Tensor& chw) {
  return chw.detach().to(torch::kFloat).add(1.0).mul(127.5).round().clamp(0, 255)
      .to(torch::kUInt8).permute({1, 2, 0}).contiguous();
}

torch::Tensor resize(const torch::Tensor& image, std::int64_t height, std::int64_t width) {
  const bool single = image.dim() == 3;
  const auto in_height = image.size(-2), in_width = image.size(-1);
  if (in_height == height && in_width == width) return image;
  namespace F = torch::nn::functional;
  const torch::Tensor resized = F::interpolate(
      single ? image.unsqueeze(0) : image,
      F::InterpolateFuncOptions()
          .size(std::vector<std::int64_t>{height, width})
          .mode(torch::kBilinear)
          .align_corners(false)
          .antialias(height < in_height || width < in_width));
  return single ? resized.squeeze(0) : resized;
}

Jitter Jitter::from_seed(std::uint64_t seed, std::int64_t load_size, std::int64_t size, bool allow_flip) {
  if (size <= 0 || load_size < size)
    throw Error(fmt::format("cannot crop {} pixels out of {}: load_size must be at least image_size", size, load_size));
  const auto range = static_cast<std::uint64_t>(load_size - size + 1);
  const std::uint64_t bits = common::splitmix_finalize(seed >> 1);
  Jitter jitter;
  jitter.x = static_cast<std::int64_t>(bits % range);
  jitter.y = static_cast<std::int64_t>(common::splitmix_finalize(bits) % range);
  jitter.flip = allow_flip && (seed & 1) != 0;
  return jitter;
}

torch::Tensor Jitter::apply(const torch::Tensor& chw, std::int64_t size) const {
  torch::Tensor out = chw.narrow(1, y, size).narrow(2, x, size);
  if (flip) out = out.flip({2});
  return out.contiguous();
}

}  // namespace kiln::image
