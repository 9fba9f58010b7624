// PNG files for the report tests: decode a screenshot, write a small image summary, through
// kiln::pixels (the same stb that kiln itself uses).
#pragma once

#include "image/pixels.hpp"

namespace kiln::test {

/// An 8-bit RGB image, rows top to bottom (`rgb` holds width * height * 3 bytes).
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;
};

/// Decodes a PNG file; throws a kiln::Error naming the file when it cannot.
RgbImage read_png(const std::filesystem::path& file);

/// Writes `image` as a PNG file; throws a kiln::Error naming the file when it cannot.
void write_png(const std::filesystem::path& file, const RgbImage& image);

}  // namespace kiln::test
