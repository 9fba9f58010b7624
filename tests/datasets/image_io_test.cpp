// image_io: decoding errors, PNG round trips, the [-1, 1] conversions, resize and the jitter.
#include "image/image_io.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/temp_dir.hpp"
#include "dataset_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(image_io, a_missing_file_is_named_with_the_reason) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { image::read_image(dir / "none.png"); }),
            (dir / "none.png").string() + ": cannot be read (No such file or directory)");
}

TEST(image_io, bytes_that_are_no_image_give_stbs_reason) {
  const std::string bytes = "\x89PNG\r\n\x1a\n garbage after a PNG signature";
  EXPECT_THAT(error_of([&] { image::decode_image(bytes.data(), bytes.size(), "memory"); }),
              HasSubstr("memory: cannot decode image ("));
  EXPECT_EQ(error_of([&] { image::decode_image("GIF89a", 6, "x.gif"); }),
            "x.gif: cannot decode image (unknown image type)");
}

TEST(image_io, encode_refuses_what_is_not_an_image) {
  EXPECT_THAT(error_of([&] { image::encode_png(torch::zeros({4, 4}, torch::kUInt8)); }),
              HasSubstr("cannot encode a tensor of shape 4×4 as PNG"));
  EXPECT_EQ(error_of([&] { image::encode_png(torch::zeros({4, 4, 2}, torch::kUInt8)); }),
            "cannot encode an image with 2 channels as PNG: expected 1, 3 or 4");
}

TEST(image_io, a_failed_write_leaves_no_file) {
  TempDir dir;
  const fs::path file = dir / "missing-folder" / "x.png";
  EXPECT_THAT(error_of([&] { image::write_png(file, torch::zeros({2, 2, 3}, torch::kUInt8)); }),
              HasSubstr("cannot write " + file.string() + ": "));
  EXPECT_FALSE(fs::exists(dir / "missing-folder"));
}

TEST(image_io, png_round_trips_bytes_exactly) {
  TempDir dir;
  const torch::Tensor rgb = torch::randint(0, 256, {13, 21, 3}, torch::kLong).to(torch::kUInt8);
  image::write_png(dir / "rgb.png", rgb);
  EXPECT_TRUE(torch::equal(image::read_image(dir / "rgb.png"), rgb));
  EXPECT_FALSE(fs::exists(dir / "rgb.png.partial"));

  // Grey is read back as RGB, every channel the same.
  const torch::Tensor grey = torch::randint(0, 256, {5, 6, 1}, torch::kLong).to(torch::kUInt8);
  const std::vector<std::uint8_t> png = image::encode_png(grey);
  EXPECT_TRUE(torch::equal(image::decode_image(png.data(), png.size(), "grey"), grey.expand({5, 6, 3})));
}

TEST(image_io, a_float_image_is_written_as_its_nearest_levels) {
  TempDir dir;
  const torch::Tensor chw = torch::rand({3, 9, 7}) * 2.4 - 1.2;  // some values outside [-1, 1]: clamped
  image::write_png(dir / "f.png", chw);
  const torch::Tensor back = image::read_image(dir / "f.png");
  EXPECT_TRUE(torch::equal(back, image::to_bytes(chw)));
  EXPECT_LE((image::to_signed(back) - chw.clamp(-1, 1)).abs().max().item<float>(), 1.0f / 255.0f + 1e-6f);
}

TEST(image_io, every_level_survives_to_signed_and_back) {
  const torch::Tensor levels = torch::arange(256, torch::kLong).to(torch::kUInt8).view({1, 256, 1}).expand({2, 256, 3});
  const torch::Tensor signed_levels = image::to_signed(levels);
  EXPECT_EQ(signed_levels.sizes(), (std::vector<std::int64_t>{3, 2, 256}));
  EXPECT_EQ(signed_levels.min().item<float>(), -1.0f);
  EXPECT_EQ(signed_levels.max().item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(image::to_bytes(signed_levels), levels));
}

TEST(image_io, resize_keeps_a_flat_image_flat) {
  const torch::Tensor flat = torch::full({3, 10, 20}, 0.25f);
  const torch::Tensor up = image::resize(flat, 30, 40), down = image::resize(flat, 5, 7);
  EXPECT_EQ(up.sizes(), (std::vector<std::int64_t>{3, 30, 40}));
  EXPECT_EQ(down.sizes(), (std::vector<std::int64_t>{3, 5, 7}));
  EXPECT_TRUE(torch::allclose(up, torch::full_like(up, 0.25f)));
  EXPECT_TRUE(torch::allclose(down, torch::full_like(down, 0.25f)));
  EXPECT_EQ(image::resize(flat, 10, 20).data_ptr(), flat.data_ptr());  // same size: untouched
}

TEST(image_io, jitter_flips_on_bit_0_and_crops_from_the_other_bits) {
  EXPECT_THAT(error_of([] { image::Jitter::from_seed(1, 10, 12, true); }),
              HasSubstr("cannot crop 12 pixels out of 10"));
  for (std::uint64_t seed = 0; seed < 64; seed += 2) {
    const auto even = image::Jitter::from_seed(seed, 286, 256, true);
    const auto odd = image::Jitter::from_seed(seed + 1, 286, 256, true);
    EXPECT_FALSE(even.flip);
    EXPECT_TRUE(odd.flip);
    EXPECT_EQ(even.x, odd.x);
    EXPECT_EQ(even.y, odd.y);
    EXPECT_GE(even.x, 0);
    EXPECT_LE(even.x, 30);
    EXPECT_GE(even.y, 0);
    EXPECT_LE(even.y, 30);
  }
  EXPECT_FALSE(image::Jitter::from_seed(1, 256, 256, /*allow_flip=*/false).flip);
  const torch::Tensor chw = torch::arange(2 * 4 * 5, torch::kFloat).view({2, 4, 5});
  image::Jitter jitter;
  jitter.x = 1;
  jitter.y = 2;
  jitter.flip = true;
  EXPECT_TRUE(torch::equal(jitter.apply(chw, 2), chw.narrow(1, 2, 2).narrow(2, 1, 2).flip({2})));
}

}  // namespace
}  // namespace kiln::test
