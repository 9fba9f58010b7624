// Image files and tensors: decode PNG/JPEG, encode PNG, resize, crop-and-flip jitter (the
// torch side of image/pixels.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

namespace kiln::image {

/// Decodes a PNG or JPEG file into a uint8 tensor H×W×3 (RGB; grey and alpha are
/// converted). A kiln::Error names the file and says why when it cannot be read or decoded:
/// \code
///   torch::Tensor rgb = kiln::image::read_image("facades/0001.png");  // uint8 [256, 512, 3]
/// \endcode
torch::Tensor read_image(const std::filesystem::path& file);

/// The same from bytes in memory; `name` says where they came from, for errors.
torch::Tensor decode_image(const void* data, std::size_t size, const std::string& name);

/// Encodes an image as PNG: either uint8 H×W×C or float C×H×W in [-1, 1] (values outside
/// are clamped), with C = 1 (grey), 3 (RGB) or 4 (RGBA).
std::vector<std::uint8_t> encode_png(const torch::Tensor& image);

/// Writes encode_png(image) to `file` atomically and durably (see write_file in
/// image/pixels.hpp): a failed write never leaves a half-written image.
void write_png(const std::filesystem::path& file, const torch::Tensor& image);

/// One 8-bit level in [-1, 1]: the single formula every conversion uses, so a value that
/// went through a PNG compares bit-identical with one a dataset computed directly.
inline float to_signed(std::uint8_t level) { return static_cast<float>(level) / 127.5f - 1.0f; }

/// uint8 H×W×C in [0, 255] → float C×H×W in [-1, 1], level by level as above.
torch::Tensor to_signed(const torch::Tensor& hwc);

/// float C×H×W in [-1, 1] → uint8 H×W×C, clamped and rounded to the nearest level, so
/// to_bytes(to_signed(x)) == x.
torch::Tensor to_bytes(const torch::Tensor& chw);

/// Bilinear resize of a float C×H×W or N×C×H×W tensor, antialiased when shrinking.
torch::Tensor resize(const torch::Tensor& image, std::int64_t height, std::int64_t width);

/// pix2pix's jitter: a random `size`×`size` crop of a `load_size` square, then a random
/// horizontal flip. Bit 0 of the seed is the flip; the other bits choose the crop, so two
/// seeds that differ only in bit 0 give the same crop, one flipped and one not.
struct Jitter {
  std::int64_t x = 0;  ///< left column of the crop
  std::int64_t y = 0;  ///< top row of the crop
  bool flip = false;

  static Jitter from_seed(std::uint64_t seed, std::int64_t load_size, std::int64_t size, bool allow_flip);

  /// Crops and flips a C×H×W tensor (H and W at least y + size and x + size).
  torch::Tensor apply(const torch::Tensor& chw, std::int64_t size) const;
};

}  // namespace kiln::image
