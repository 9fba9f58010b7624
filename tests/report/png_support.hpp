// PNG files for the report tests: decode a screenshot, write a small image summary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace kiln::test {

/// An 8-bit RGB image, rows top to bottom.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;  ///< width * height * 3 bytes
};

/// Decodes a PNG file; throws std::runtime_error naming the file when it cannot.
RgbImage read_png(const std::filesystem::path& file);

/// Writes `image` as a PNG file; throws std::runtime_error when it cannot.
void write_png(const std::filesystem::path& file, const RgbImage& image);

}  // namespace kiln::test
