// The size and colour layout of a PNG or JPEG file, read from its header.
#include "tensorboard/image_header.hpp"

#include <cstdint>

namespace kiln::runner::tensorboard {
namespace {

std::uint32_t big_endian(std::string_view bytes, std::size_t at, int count) {
  std::uint32_t value = 0;
  for (int i = 0; i < count; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

std::optional<ImageHeader> png_header(std::string_view bytes) {
  // Signature (8), then the IHDR chunk: length (4), "IHDR", width, height (4 each), bit
  // depth, colour type.
  if (bytes.size() < 26 || bytes.substr(12, 4) != "IHDR") return std::nullopt;
  ImageHeader header;
  header.width = static_cast<int>(big_endian(bytes, 16, 4));
  header.height = static_cast<int>(big_endian(bytes, 20, 4));
  switch (static_cast<unsigned char>(bytes[25])) {
    case 0: header.colorspace = 1; break;  // grayscale
    case 4: header.colorspace = 2; break;  // grayscale and alpha
    case 2:                                // RGB
    case 3: header.colorspace = 3; break;  // palette
    case 6: header.colorspace = 4; break;  // RGBA
    default: return std::nullopt;
  }
  if (header.width <= 0 || header.height <= 0) return std::nullopt;
  return header;
}

/// Whether `marker` starts a frame (SOF0 to SOF15), whose header holds the image's size;
/// DHT (C4), JPG (C8) and DAC (CC) share the range and do not.
bool is_start_of_frame(unsigned char marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

std::optional<ImageHeader> jpeg_header(std::string_view bytes) {
  // Segments after SOI: 0xFF, a marker, a big-endian length that counts itself, the payload.
  std::size_t at = 2;
  while (at + 4 <= bytes.size()) {
    if (static_cast<unsigned char>(bytes[at]) != 0xFF) return std::nullopt;
    const auto marker = static_cast<unsigned char>(bytes[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // no payload
      at += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end of image or scan before any frame
    const std::size_t length = big_endian(bytes, at + 2, 2);
    if (is_start_of_frame(marker)) {
      // Precision (1), height (2), width (2), components (1).
      if (at + 10 > bytes.size()) return std::nullopt;
      ImageHeader header;
      header.height = static_cast<int>(big_endian(bytes, at + 5, 2));
      header.width = static_cast<int>(big_endian(bytes, at + 7, 2));
      const int components = static_cast<unsigned char>(bytes[at + 9]);
      if (components == 1) header.colorspace = 1;
      else if (components == 3) header.colorspace = 3;
      else if (components == 4) header.colorspace = 4;
      else return std::nullopt;
      if (header.width <= 0 || header.height <= 0) return std::nullopt;
      return header;
    }
    if (length < 2) return std::nullopt;
    at += 2 + length;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageHeader> read_image_header(std::string_view bytes) {
  if (bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return png_header(bytes);
  if (bytes.size() >= 3 && bytes.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3)) return jpeg_header(bytes);
  return std::nullopt;
}

}  // namespace kiln::runner::tensorboard
