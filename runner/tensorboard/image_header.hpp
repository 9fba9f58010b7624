// The size and colour layout of a PNG or JPEG file, read from its header: what a TensorBoard
// image summary states beside the encoded bytes, without decoding the pixels.
#pragma once

#include <optional>
#include <string_view>

namespace kiln::runner::tensorboard {

struct ImageHeader {
  int width = 0;
  int height = 0;
  /// Summary.Image's colorspace: 1 grayscale, 2 grayscale and alpha, 3 RGB, 4 RGBA.
  int colorspace = 0;
};

/// The header of the PNG or JPEG file `bytes`, or nothing when it is neither or its header
/// is cut short. A PNG's palette counts as RGB; a JPEG's four components (CMYK) as RGBA.
std::optional<ImageHeader> read_image_header(std::string_view bytes);

}  // namespace kiln::runner::tensorboard
