// Image summaries in the report: which of a tag's images to embed, and reading one to embed it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::runner::report {

/// Which of `available` images (oldest first) to embed, at most `count`: the first and the
/// latest, and evenly spaced ones between, in order. All of them when there are no more.
std::vector<std::size_t> pick_images(std::size_t available, std::size_t count);

/// One image file as a data: URI, or why it is not one.
struct EmbeddedImage {
  std::string uri;      ///< empty when `problem` says why
  int width = 0;        ///< 0 when unknown (a JPEG)
  int height = 0;
  std::int64_t bytes = 0;
  std::string problem;  ///< "file missing", "not a PNG or JPEG", "too large to embed (3.1 MB)", ...
};

/// Reads `path` when it is a PNG or JPEG of at most `max_bytes`.
EmbeddedImage load_image(const std::filesystem::path& path, std::int64_t max_bytes);

}  // namespace kiln::runner::report
