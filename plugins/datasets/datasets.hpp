// The in-tree dataset plugins, registered together by plugin.cpp.
#pragma once

#include <filesystem>
#include <vector>

#include "kiln/kiln.hpp"

namespace kiln::plugins {

/// A regression problem made up from a seed: x ~ N(0, 1) and y = f(x) + noise, where f is
/// a fixed random two-layer tanh network, so a model has something real to learn.
///   [data]
///   plugin = "synthetic_regression"
///   size = 4096        # examples
///   inputs = 16
///   outputs = 1
///   noise = 0.01       # standard deviation of the noise on y
///   data_seed = 7
class SyntheticRegression : public Dataset {
 public:
  explicit SyntheticRegression(const Config& config);
  std::int64_t size() const override { return x_.size(0); }
  Example get(std::int64_t index, std::uint64_t seed) const override;
  Batch get_batch(const std::vector<Sample>& samples) const override;

 private:
  torch::Tensor x_;
  torch::Tensor y_;
};

/// Facade-like image pairs for pix2pix, drawn from (data_seed, split, index) at any size,
/// so an image-to-image model trains with nothing to download. Each example is
/// {"input": a label map, "target": a "photo" of it}, both float 3×S×S in [-1, 1].
/// The label map uses the 12 classes of the CMP Facades base set, coloured as that
/// dataset's label images are (MATLAB's jet, 12 steps): background (0,0,170), facade
/// (0,0,255), window (0,85,255), door (0,170,255), cornice (0,255,255), sill (85,255,170),
/// balcony (170,255,85), blind (255,255,0), deco (255,170,0), molding (255,85,0), pillar
/// (255,0,0), shop (170,0,0). The photo renders each class in a consistent way: plaster,
/// brick or stone walls, glass that reflects the sky, shadows under cornices and sills.
///   [data]
///   plugin = "synthetic_facades"
///   size = 400          # examples
///   image_size = 256    # the side of each square image
///   load_size = 256     # when larger: drawn at this size, then a random image_size crop
///   flip = true         # random horizontal flip of both images
///   data_seed = 0
///   split = "train"     # or "test": other buildings from the same data_seed
/// The buildings depend on (data_seed, split, index, load_size) only; the crop and the flip
/// on get()'s seed, as image::Jitter draws them (bit 0 of the seed is the flip).
class SyntheticFacades : public Dataset {
 public:
  explicit SyntheticFacades(const Config& config);
  std::int64_t size() const override { return size_; }
  Example get(std::int64_t index, std::uint64_t seed) const override;

 private:
  std::int64_t size_;
  std::int64_t image_size_;
  std::int64_t load_size_;
  bool flip_;
  std::uint64_t stream_;  ///< data_seed and split, hashed
};

/// A folder of pix2pix-format images: each PNG or JPEG file holds two images side by side,
/// A on the left and B on the right. Files are listed (sorted by name) when the dataset is
/// built and decoded in get(), on the loader's threads.
///   [data]
///   plugin = "paired_images"
///   path = "datasets/facades/train"   # relative to the current directory
///   direction = "AtoB"  # input A, target B; "BtoA" swaps them (pix2pix's facades: BtoA)
///   image_size = 256
///   load_size = 256     # resized to load_size × load_size, then a random image_size crop
///   flip = true
/// Examples are {"input", "target"}, float 3×S×S in [-1, 1].
class PairedImages : public Dataset {
 public:
  explicit PairedImages(const Config& config);
  std::int64_t size() const override { return static_cast<std::int64_t>(files_.size()); }
  Example get(std::int64_t index, std::uint64_t seed) const override;

  const std::vector<std::filesystem::path>& files() const { return files_; }

 private:
  std::vector<std::filesystem::path> files_;
  bool a_to_b_;
  std::int64_t image_size_;
  std::int64_t load_size_;
  bool flip_;
};

}  // namespace kiln::plugins
