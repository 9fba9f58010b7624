// PNG files for the report tests, through stb (Debian's libstb-dev) compiled here, privately.
#include "png_support.hpp"

#include <memory>
#include <stdexcept>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace kiln::test {

RgbImage read_png(const std::filesystem::path& file) {
  int width = 0, height = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load(file.c_str(), &width, &height, &channels, 3),
                                                   stbi_image_free);
  if (!pixels) throw std::runtime_error("cannot decode " + file.string() + ": " + stbi_failure_reason());
  RgbImage image{width, height, {}};
  image.rgb.assign(pixels.get(), pixels.get() + static_cast<std::size_t>(width) * height * 3);
  return image;
}

void write_png(const std::filesystem::path& file, const RgbImage& image) {
  if (!stbi_write_png(file.c_str(), image.width, image.height, 3, image.rgb.data(), image.width * 3))
    throw std::runtime_error("cannot write " + file.string());
}

}  // namespace kiln::test
