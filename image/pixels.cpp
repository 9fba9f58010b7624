// Image files as 8-bit pixels; the one translation unit that compiles stb_image and
// stb_image_write (the runner, the plugins and the tests all decode and encode through it).
#include "image/pixels.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include <fmt/format.h>

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

#include "common/atomic_file.hpp"
#include "kiln/error.hpp"

namespace kiln::image {
namespace {

namespace fs = std::filesystem;

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

Pixels decode_pixels(const void* data, std::size_t size, const std::string& name) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(fmt::format("{}: cannot decode image: {} bytes is too large", name, size));
  Pixels image;
  int channels_in_file = 0;
  const std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(static_cast<const stbi_uc*>(data), static_cast<int>(size), &image.width, &image.height,
                            &channels_in_file, /*desired_channels=*/3),
      stbi_image_free);
  if (!pixels) throw Error(fmt::format("{}: cannot decode image ({})", name, stbi_failure_reason()));
  image.channels = 3;
  image.bytes.assign(pixels.get(), pixels.get() + static_cast<std::size_t>(image.width) * image.height * 3);
  return image;
}

Pixels read_pixels(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot be read ({})", file.string(), std::strerror(errno)));
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw Error(fmt::format("{}: cannot be read ({})", file.string(), std::strerror(errno)));
  return decode_pixels(bytes.data(), bytes.size(), file.string());
}

std::vector<std::uint8_t> encode_png(const std::uint8_t* pixels, int width, int height, int channels) {
  if (channels != 1 && channels != 3 && channels != 4)
    throw Error(fmt::format("cannot encode an image with {} channels as PNG: expected 1, 3 or 4", channels));
  if (height <= 0 || width <= 0) throw Error("cannot encode an empty image as PNG");
  std::vector<std::uint8_t> png;
  if (!stbi_write_png_to_func(append_bytes, &png, width, height, channels, pixels, width * channels))
    throw Error(fmt::format("cannot encode a {}×{} image as PNG", width, height));
  return png;
}

void write_file(const fs::path& file, const std::vector<std::uint8_t>& png) {
  common::write_file_atomically(file, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

void write_png(const fs::path& file, const Pixels& image) {
  write_file(file, encode_png(image.bytes.data(), image.width, image.height, image.channels));
}

}  // namespace kiln::image
