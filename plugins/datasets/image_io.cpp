// Image files and tensors; the one translation unit that compiles stb_image and stb_image_write.
#include "image_io.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <torch/torch.h>

// stb is C written for many compilers; its warnings are not ours. STATIC keeps its symbols
// private to this library, so they never clash with another copy in the same process.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#include <stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

#include "kiln/error.hpp"

namespace kiln::image {
namespace {

namespace fs = std::filesystem;

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

torch::Tensor decode_image(const void* data, std::size_t size, const std::string& name) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(fmt::format("{}: cannot decode image: {} bytes is too large", name, size));
  int width = 0, height = 0, channels = 0;
  stbi_uc* pixels = stbi_load_from_memory(static_cast<const stbi_uc*>(data), static_cast<int>(size), &width,
                                          &height, &channels, /*desired_channels=*/3);
  if (pixels == nullptr)
    throw Error(fmt::format("{}: cannot decode image ({})", name, stbi_failure_reason()));
  return torch::from_blob(pixels, {height, width, 3}, [](void* p) { stbi_image_free(p); }, torch::kUInt8);
}

torch::Tensor read_image(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot be read ({})", file.string(), std::strerror(errno)));
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw Error(fmt::format("{}: cannot be read ({})", file.string(), std::strerror(errno)));
  return decode_image(bytes.data(), bytes.size(), file.string());
}

std::vector<std::uint8_t> encode_png(const torch::Tensor& image) {
  if (image.dim() != 3)
    throw Error(fmt::format("cannot encode a tensor of shape {} as PNG: expected H×W×C uint8 or C×H×W float",
                            fmt::join(image.sizes(), "×")));
  const torch::Tensor hwc = (image.scalar_type() == torch::kUInt8 ? image : to_bytes(image)).contiguous();
  const auto height = hwc.size(0), width = hwc.size(1), channels = hwc.size(2);
  if (channels != 1 && channels != 3 && channels != 4)
    throw Error(fmt::format("cannot encode an image with {} channels as PNG: expected 1, 3 or 4", channels));
  if (height == 0 || width == 0) throw Error("cannot encode an empty image as PNG");
  std::vector<std::uint8_t> png;
  const int ok = stbi_write_png_to_func(append_bytes, &png, static_cast<int>(width), static_cast<int>(height),
                                        static_cast<int>(channels), hwc.data_ptr<std::uint8_t>(),
                                        static_cast<int>(width * channels));
  if (!ok) throw Error(fmt::format("cannot encode a {}×{} image as PNG", width, height));
  return png;
}

void write_png(const fs::path& file, const torch::Tensor& image) {
  const std::vector<std::uint8_t> png = encode_png(image);
  fs::path partial = file;
  partial += ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    if (!out.flush()) {
      const std::string reason = std::strerror(errno);
      std::error_code ignored;
      fs::remove(partial, ignored);
      throw Error(fmt::format("{}: cannot be written ({})", file.string(), reason));
    }
  }
  std::error_code ec;
  fs::rename(partial, file, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    throw Error(fmt::format("{}: cannot be written ({})", file.string(), ec.message()));
  }
}

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
  const std::uint64_t bits = mix(seed >> 1);
  Jitter jitter;
  jitter.x = static_cast<std::int64_t>(bits % range);
  jitter.y = static_cast<std::int64_t>(mix(bits) % range);
  jitter.flip = allow_flip && (seed & 1) != 0;
  return jitter;
}

torch::Tensor Jitter::apply(const torch::Tensor& chw, std::int64_t size) const {
  torch::Tensor out = chw.narrow(1, y, size).narrow(2, x, size);
  if (flip) out = out.flip({2});
  return out.contiguous();
}

}  // namespace kiln::image
