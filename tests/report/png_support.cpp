// PNG files for the report tests, through kiln::pixels.
#include "png_support.hpp"

namespace kiln::test {

RgbImage read_png(const std::filesystem::path& file) {
  image::Pixels pixels = image::read_pixels(file);
  return RgbImage{pixels.width, pixels.height, std::move(pixels.bytes)};
}

void write_png(const std::filesystem::path& file, const RgbImage& image) {
  image::write_png(file, image::Pixels{image.width, image.height, 3, image.rgb});
}

}  // namespace kiln::test
