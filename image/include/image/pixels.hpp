// Image files as 8-bit pixels, without torch: decode PNG/JPEG, encode and write PNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::image {

/// An 8-bit image: rows top to bottom, each pixel's channels together (RGB, RGBA, grey).
struct Pixels {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> bytes;  ///< width * height * channels
};

/// Decodes PNG or JPEG bytes into RGB pixels (grey and alpha are converted); `name` says where
/// they came from. A kiln::Error names it and gives stb's reason when they cannot be decoded.
Pixels decode_pixels(const void* data, std::size_t size, const std::string& name);

/// The same from a file; a kiln::Error names the file and says why it cannot be read.
///   Pixels shot = kiln::image::read_pixels("page.png");  // shot.channels == 3
Pixels read_pixels(const std::filesystem::path& file);

/// PNG bytes of `height` rows of `width` pixels of `channels` (1, 3 or 4) bytes each.
std::vector<std::uint8_t> encode_png(const std::uint8_t* pixels, int width, int height, int channels);

/// Writes PNG bytes to `file` atomically and durably (common::AtomicFile): a failed write
/// never leaves a half-written image. The kiln::Error says "cannot write FILE: why".
void write_file(const std::filesystem::path& file, const std::vector<std::uint8_t>& png);

/// Encodes `image` as PNG and writes it as write_file() does.
void write_png(const std::filesystem::path& file, const Pixels& image);

}  // namespace kiln::image
