// synthetic_facades: its errors, determinism, splits, pix2pix's jitter, and what the photos look like.
#include <algorithm>
#include <set>
#include <cstdio>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dataset_support.hpp"
#include "image/image_io.hpp"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<Dataset> facades(const std::string& toml = "image_size = 64\n") {
  return make_dataset("synthetic_facades", toml);
}

// ---- errors ----------------------------------------------------------------------------

TEST(synthetic_facades, rejects_an_unknown_split) {
  EXPECT_EQ(construction_error("synthetic_facades", "split = \"val\"\n"),
            "data.toml:1:9: split: expected \"train\" or \"test\", got \"val\"");
}

TEST(synthetic_facades, rejects_a_load_size_smaller_than_the_image) {
  EXPECT_EQ(construction_error("synthetic_facades", "image_size = 64\nload_size = 32\n"),
            "data.toml:2:13: load_size: must be between image_size (64) and 4096, got 32");
}

TEST(synthetic_facades, rejects_a_tiny_image_and_an_empty_dataset) {
  EXPECT_THAT(construction_error("synthetic_facades", "image_size = 4\n"),
              HasSubstr("image_size: must be between 16 and 4096, got 4"));
  EXPECT_THAT(construction_error("synthetic_facades", "size = 0\n"), HasSubstr("size: must be greater than 0, got 0"));
}

TEST(synthetic_facades, rejects_an_index_out_of_range) {
  const auto data = facades("size = 3\nimage_size = 32\n");
  EXPECT_EQ(error_of([&] { data->get(3, 0); }), "synthetic_facades: index 3 is out of range (size 3)");
  EXPECT_EQ(error_of([&] { data->get(-1, 0); }), "synthetic_facades: index -1 is out of range (size 3)");
}

// ---- determinism and splits --------------------------------------------------------------

TEST(synthetic_facades, same_seed_and_index_give_bit_identical_pairs) {
  const auto a = facades(), b = facades();
  EXPECT_EQ(a->size(), 400);
  for (std::int64_t index : {0, 7, 399}) {
    const Example x = a->get(index, 42), y = b->get(index, 42);
    EXPECT_TRUE(torch::equal(x.at("input"), y.at("input"))) << index;
    EXPECT_TRUE(torch::equal(x.at("target"), y.at("target"))) << index;
  }
}

TEST(synthetic_facades, different_indices_and_data_seeds_give_different_buildings) {
  const auto data = facades(), other = facades("image_size = 64\ndata_seed = 1\n");
  const Example first = data->get(0, 0);
  EXPECT_FALSE(torch::equal(first.at("input"), data->get(1, 0).at("input")));
  EXPECT_FALSE(torch::equal(first.at("target"), data->get(1, 0).at("target")));
  EXPECT_FALSE(torch::equal(first.at("target"), other->get(0, 0).at("target")));
}

TEST(synthetic_facades, train_and_test_splits_share_no_pair) {
  const auto train = facades("image_size = 32\nsize = 60\n");
  const auto test = facades("image_size = 32\nsize = 60\nsplit = \"test\"\n");
  std::vector<torch::Tensor> seen;
  for (std::int64_t i = 0; i < train->size(); ++i) seen.push_back(train->get(i, 0).at("target"));
  for (std::int64_t i = 0; i < test->size(); ++i) {
    const torch::Tensor target = test->get(i, 0).at("target");
    for (const torch::Tensor& other : seen) ASSERT_FALSE(torch::equal(target, other)) << "test index " << i;
  }
}

// ---- values, shapes, jitter ---------------------------------------------------------------

TEST(synthetic_facades, images_are_3xSxS_in_minus_one_to_one_and_labels_use_the_palette) {
  const auto data = facades("image_size = 96\n");
  const int palette[12][3] = {{0, 0, 170},    {0, 0, 255},   {0, 85, 255},  {0, 170, 255},
                              {0, 255, 255},  {85, 255, 170}, {170, 255, 85}, {255, 255, 0},
                              {255, 170, 0},  {255, 85, 0},  {255, 0, 0},   {170, 0, 0}};
  for (std::int64_t index = 0; index < 10; ++index) {
    const Example example = data->get(index, 3);
    for (const char* key : {"input", "target"}) {
      const torch::Tensor& image = example.at(key);
      EXPECT_EQ(image.sizes(), (std::vector<std::int64_t>{3, 96, 96})) << key;
      EXPECT_EQ(image.scalar_type(), torch::kFloat);
      EXPECT_GE(image.min().item<float>(), -1.0f);
      EXPECT_LE(image.max().item<float>(), 1.0f);
    }
    torch::Tensor labelled = torch::zeros({96, 96}, torch::kBool);
    for (const auto& c : palette) labelled |= pixels_of(example.at("input"), c[0], c[1], c[2]);
    EXPECT_TRUE(labelled.all().item<bool>()) << "index " << index << ": a label pixel outside the palette";
  }
}

TEST(synthetic_facades, a_larger_load_size_draws_there_and_crops_image_size) {
  const auto full = facades("image_size = 286\nflip = false\n");
  const auto cropped = facades("image_size = 256\nload_size = 286\nflip = false\n");
  std::set<std::pair<std::int64_t, std::int64_t>> corners;
  for (std::uint64_t seed : {2u, 10u, 1000u, 123456u}) {
    const auto jitter = image::Jitter::from_seed(seed, 286, 256, false);
    corners.insert({jitter.x, jitter.y});
    const Example whole = full->get(5, 0), crop = cropped->get(5, seed);
    EXPECT_EQ(crop.at("input").sizes(), (std::vector<std::int64_t>{3, 256, 256}));
    for (const char* key : {"input", "target"})
      EXPECT_TRUE(torch::equal(crop.at(key), whole.at(key).narrow(1, jitter.y, 256).narrow(2, jitter.x, 256)))
          << key << " with seed " << seed;
  }
  EXPECT_GT(corners.size(), 1u) << "every seed cropped at the same place";
}

TEST(synthetic_facades, the_flip_bit_mirrors_both_images_and_keeps_the_crop) {
  const auto data = facades("image_size = 64\nload_size = 72\n");
  for (std::uint64_t seed : {0x10u, 0x2468u, 0xfffeu}) {
    const Example plain = data->get(11, seed), flipped = data->get(11, seed | 1);
    for (const char* key : {"input", "target"})
      EXPECT_TRUE(torch::equal(flipped.at(key), plain.at(key).flip({2}))) << key << " with seed " << seed;
  }
  const auto never = facades("image_size = 64\nflip = false\n");
  EXPECT_TRUE(torch::equal(never->get(4, 1).at("target"), never->get(4, 0).at("target")));
}

// ---- the label → photo mapping -----------------------------------------------------------

/// Median of each channel of `image` (3×H×W) over the pixels of `mask` (H×W), in [-1, 1].
torch::Tensor median_colour(const torch::Tensor& image, const torch::Tensor& mask) {
  return std::get<0>(image.permute({1, 2, 0}).index({mask}).median(/*dim=*/0));
}

float luminance(const torch::Tensor& rgb) {
  return (0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2]).item<float>();
}

TEST(synthetic_facades, each_class_has_a_consistent_look_in_the_photo) {
  const auto data = facades("image_size = 128\n");
  for (std::int64_t index = 0; index < 24; ++index) {
    const Example example = data->get(index, 0);
    const torch::Tensor &input = example.at("input"), &target = example.at("target");
    const torch::Tensor wall = median_colour(target, pixels_of(input, 0, 0, 255));
    const torch::Tensor window = median_colour(target, pixels_of(input, 0, 85, 255));
    // Walls are plaster, stone or brick: warm or neutral, never blue, never dark.
    EXPECT_GT(luminance(wall), -0.3f) << "index " << index << " wall " << wall;
    EXPECT_LT(luminance(wall), 0.9f) << "index " << index << " wall " << wall;
    EXPECT_LT(wall[2].item<float>(), wall[0].item<float>() + 0.15f) << "index " << index << " wall " << wall;
    // Glass is darker than the wall around it.
    EXPECT_LT(luminance(window), luminance(wall) - 0.2f) << "index " << index << " window " << window;
    // Above the building is sky: blue over red.
    const torch::Tensor sky = pixels_of(input, 0, 0, 170);
    sky.narrow(0, 8, 120).zero_();
    if (sky.any().item<bool>()) {
      const torch::Tensor colour = median_colour(target, sky);
      EXPECT_GT(colour[2].item<float>(), colour[0].item<float>() + 0.1f) << "index " << index << " sky " << colour;
    }
  }
}

}  // namespace
}  // namespace kiln::test
