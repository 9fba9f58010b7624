// The `paired_images` dataset: a folder of pix2pix-format files, A and B side by side.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <torch/torch.h>

#include "datasets.hpp"
#include "image/image_io.hpp"

namespace kiln::plugins {
namespace {

namespace fs = std::filesystem;

bool is_image(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

/// Names of a few of `names`, for an error message: "a.txt, b.gif and 7 more".
std::string some_of(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  constexpr std::size_t kShown = 5;
  if (names.size() <= kShown) return fmt::format("{}", fmt::join(names, ", "));
  return fmt::format("{} and {} more", fmt::join(names.begin(), names.begin() + kShown, ", "), names.size() - kShown);
}

std::vector<fs::path> list_images(const Config& config) {
  const fs::path folder = fs::absolute(config.get<std::string>("path")).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    config.fail("path", fmt::format("{} is not a folder{}", folder.string(),
                                    fs::exists(folder, ec) ? "" : " (no such path)"));
  std::vector<fs::path> files;
  std::vector<std::string> others;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, ec)) {
    if (entry.is_regular_file(ec) && is_image(entry.path())) files.push_back(entry.path());
    else others.push_back(entry.path().filename().string() + (entry.is_directory(ec) ? "/" : ""));
  }
  if (ec) config.fail("path", fmt::format("{} cannot be listed ({})", folder.string(), ec.message()));
  if (files.empty())
    config.fail("path", fmt::format("no .png or .jpg images in {} ({})", folder.string(),
                                    others.empty() ? "the folder is empty" : "found " + some_of(others)));
  std::sort(files.begin(), files.end());
  return files;
}

bool read_direction(const Config& config) {
  return config.get_choice("direction", "AtoB", {"AtoB", "BtoA"}) == "AtoB";
}

}  // namespace

PairedImages::PairedImages(const Config& config)
    : files_(list_images(config)),
      a_to_b_(read_direction(config)),
      image_size_(config.get_positive<std::int64_t>("image_size", 256)),
      load_size_(config.get_or<std::int64_t>("load_size", image_size_)),
      flip_(config.get_or<bool>("flip", true)) {
  if (load_size_ < image_size_)
    config.fail("load_size", fmt::format("must be at least image_size ({}), got {}", image_size_, load_size_));
}

Example PairedImages::get(std::int64_t index, std::uint64_t seed) const {
  if (index < 0 || index >= size())
    throw Error(fmt::format("paired_images: index {} is out of range (size {})", index, size()));
  const fs::path& file = files_[static_cast<std::size_t>(index)];
  const torch::Tensor pair = image::read_image(file);
  const std::int64_t width = pair.size(1);
  if (width % 2 != 0)
    throw Error(fmt::format("{}: width {} is odd; a pix2pix image holds A and B side by side in equal halves",
                            file.string(), width));
  const auto jitter = image::Jitter::from_seed(seed, load_size_, image_size_, flip_);
  auto half = [&](std::int64_t left) {
    const torch::Tensor chw = image::to_signed(pair.narrow(1, left, width / 2));
    return jitter.apply(image::resize(chw, load_size_, load_size_), image_size_);
  };
  Example example("example");
  example.set(a_to_b_ ? "input" : "target", half(0));
  example.set(a_to_b_ ? "target" : "input", half(width / 2));
  return example;
}

}  // namespace kiln::plugins
