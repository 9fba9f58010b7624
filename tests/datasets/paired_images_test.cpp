// paired_images: its errors, and reading back what `kiln data` and image_io wrote.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/temp_dir.hpp"
#include "cli/commands.hpp"
#include "dataset_support.hpp"
#include "image/image_io.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string folder_config(const fs::path& folder, const std::string& extra = "") {
  return "path = \"" + folder.string() + "\"\n" + extra;
}

/// A uint8 H×W×3 image whose every pixel is (r, g, b) plus a position-dependent pattern.
torch::Tensor pattern(std::int64_t height, std::int64_t width, int r, int g, int b) {
  const auto ys = torch::arange(height, torch::kLong).view({height, 1, 1});
  const auto xs = torch::arange(width, torch::kLong).view({1, width, 1});
  const auto base = torch::tensor({r, g, b}, torch::kLong).view({1, 1, 3});
  return (base + 3 * xs + 5 * ys).remainder(256).to(torch::kUInt8);
}

void write_bytes(const fs::path& file, const std::string& bytes) { std::ofstream(file, std::ios::binary) << bytes; }

// ---- errors ----------------------------------------------------------------------------

TEST(paired_images, an_empty_folder_is_an_error_saying_so) {
  TempDir dir;
  EXPECT_EQ(construction_error("paired_images", folder_config(dir.path())),
            "data.toml:1:8: path: no .png or .jpg images in " + dir.path().string() + " (the folder is empty)");
}

TEST(paired_images, a_folder_without_images_lists_what_it_holds) {
  TempDir dir;
  write_bytes(dir / "notes.txt", "hello");
  write_bytes(dir / "photo.gif", "GIF89a");
  fs::create_directory(dir / "train");
  EXPECT_THAT(construction_error("paired_images", folder_config(dir.path())),
              HasSubstr("no .png or .jpg images in " + dir.path().string() + " (found notes.txt, photo.gif, train/)"));
}

TEST(paired_images, a_missing_folder_is_an_error) {
  TempDir dir;
  EXPECT_THAT(construction_error("paired_images", folder_config(dir / "nope")),
              HasSubstr((dir / "nope").string() + " is not a folder (no such path)"));
}

TEST(paired_images, rejects_an_unknown_direction) {
  TempDir dir;
  image::write_png(dir / "a.png", pattern(8, 16, 0, 0, 0));
  EXPECT_THAT(construction_error("paired_images", folder_config(dir.path(), "direction = \"AB\"\n")),
              HasSubstr("direction: expected \"AtoB\" or \"BtoA\", got \"AB\""));
}

TEST(paired_images, a_corrupt_file_names_the_file_and_stbs_reason) {
  TempDir dir;
  write_bytes(dir / "0000.png", "this is not a png");
  const auto data = make_dataset("paired_images", folder_config(dir.path(), "image_size = 8\n"));
  EXPECT_EQ(error_of([&] { data->get(0, 0); }),
            (dir / "0000.png").string() + ": cannot decode image (unknown image type)");
}

TEST(paired_images, a_truncated_file_names_the_file) {
  TempDir dir;
  const std::vector<std::uint8_t> png = image::encode_png(pattern(32, 64, 10, 20, 30));
  write_bytes(dir / "cut.png", std::string(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)));
  const auto data = make_dataset("paired_images", folder_config(dir.path(), "image_size = 32\n"));
  EXPECT_THAT(error_of([&] { data->get(0, 0); }), HasSubstr((dir / "cut.png").string() + ": cannot decode image ("));
}

TEST(paired_images, an_odd_width_names_the_file) {
  TempDir dir;
  image::write_png(dir / "odd.png", pattern(8, 17, 1, 2, 3));
  const auto data = make_dataset("paired_images", folder_config(dir.path(), "image_size = 8\n"));
  EXPECT_EQ(error_of([&] { data->get(0, 0); }),
            (dir / "odd.png").string() +
                ": width 17 is odd; a pix2pix image holds A and B side by side in equal halves");
}

// ---- reading -----------------------------------------------------------------------------

TEST(paired_images, reads_what_image_io_wrote_in_sorted_order) {
  TempDir dir;
  const torch::Tensor b = pattern(16, 32, 100, 0, 0), a = pattern(16, 32, 0, 100, 0), c = pattern(16, 32, 0, 0, 100);
  image::write_png(dir / "b.png", b);
  image::write_png(dir / "a.jpg.png", a);  // sorted by name: a.jpg.png, b.png, c.PNG
  image::write_png(dir / "c.PNG", c);
  const auto data = make_dataset("paired_images", folder_config(dir.path(), "image_size = 16\nflip = false\n"));
  ASSERT_EQ(data->size(), 3);
  const torch::Tensor expected[] = {a, b, c};
  for (std::int64_t i = 0; i < 3; ++i) {
    const Example example = data->get(i, 7);
    EXPECT_TRUE(torch::equal(example.at("input"), image::to_signed(expected[i].narrow(1, 0, 16)))) << i;
    EXPECT_TRUE(torch::equal(example.at("target"), image::to_signed(expected[i].narrow(1, 16, 16)))) << i;
  }
}

TEST(paired_images, BtoA_swaps_input_and_target) {
  TempDir dir;
  image::write_png(dir / "0.png", pattern(16, 32, 9, 99, 199));
  const auto a_to_b = make_dataset("paired_images", folder_config(dir.path(), "image_size = 16\nflip = false\n"));
  const auto b_to_a = make_dataset("paired_images",
                                   folder_config(dir.path(), "image_size = 16\nflip = false\ndirection = \"BtoA\"\n"));
  const Example ab = a_to_b->get(0, 0), ba = b_to_a->get(0, 0);
  EXPECT_FALSE(torch::equal(ab.at("input"), ab.at("target")));
  EXPECT_TRUE(torch::equal(ba.at("input"), ab.at("target")));
  EXPECT_TRUE(torch::equal(ba.at("target"), ab.at("input")));
}

TEST(paired_images, resizes_to_load_size_then_crops_and_flips_both_halves_alike) {
  TempDir dir;
  image::write_png(dir / "0.png", pattern(40, 80, 50, 60, 70));
  const auto data = make_dataset("paired_images", folder_config(dir.path(), "image_size = 24\nload_size = 32\n"));
  const Example plain = data->get(0, 0x40), flipped = data->get(0, 0x41);
  EXPECT_EQ(plain.at("input").sizes(), (std::vector<std::int64_t>{3, 24, 24}));
  EXPECT_EQ(plain.at("target").sizes(), (std::vector<std::int64_t>{3, 24, 24}));
  for (const char* key : {"input", "target"}) {
    EXPECT_TRUE(torch::equal(flipped.at(key), plain.at(key).flip({2}))) << key;
    const auto jitter = image::Jitter::from_seed(0x40, 32, 24, true);
    const torch::Tensor half = image::to_signed(pattern(40, 80, 50, 60, 70).narrow(1, key[0] == 'i' ? 0 : 40, 40));
    EXPECT_TRUE(torch::equal(plain.at(key), jitter.apply(image::resize(half, 32, 32), 24))) << key;
  }
}

TEST(paired_images, reads_back_what_kiln_data_wrote_from_synthetic_facades) {
  TempDir dir;
  runner::cli::DataArgs args;
  args.dataset = "synthetic_facades";
  args.out = dir / "facades";
  args.count = 3;
  args.image_size = 64;
  args.data_seed = 5;
  args.split = "test";
  ASSERT_EQ(runner::cli::data(args), runner::cli::kExitOk);
  EXPECT_TRUE(fs::exists(dir / "facades" / "0000.png"));
  EXPECT_TRUE(fs::exists(dir / "facades" / "0002.png"));
  EXPECT_FALSE(fs::exists(dir / "facades" / "0003.png"));
  EXPECT_EQ(image::read_image(dir / "facades" / "0001.png").sizes(), (std::vector<std::int64_t>{64, 128, 3}));

  const auto written = make_dataset("synthetic_facades", "image_size = 64\ndata_seed = 5\nsplit = \"test\"\n");
  const auto read = make_dataset("paired_images", folder_config(dir / "facades", "image_size = 64\nflip = false\n"));
  ASSERT_EQ(read->size(), 3);
  for (std::int64_t i = 0; i < 3; ++i) {
    const Example original = written->get(i, 0), back = read->get(i, 99);
    // Label colours are 8-bit levels: exact. The photo went through 8 bits once.
    EXPECT_TRUE(torch::equal(back.at("input"), original.at("input"))) << i;
    EXPECT_TRUE(torch::equal(back.at("target"), image::to_signed(image::to_bytes(original.at("target"))))) << i;
  }
}

// ---- kiln data's own errors --------------------------------------------------------------

TEST(kiln_data, needs_examples_with_input_and_target_images) {
  TempDir dir;
  runner::cli::DataArgs args;
  args.dataset = "synthetic_regression";
  args.out = dir.path();
  args.count = 2;
  EXPECT_EQ(error_of([&] { runner::cli::data(args); }),
            "dataset 'synthetic_regression' gives examples with x, y; kiln data needs 'input' and 'target' images");
}

TEST(kiln_data, refuses_more_examples_than_the_dataset_has) {
  TempDir dir;
  runner::cli::DataArgs args;
  args.dataset = "synthetic_facades";
  args.out = dir.path();
  args.count = 5;
  args.overrides = {"size=4"};
  EXPECT_THAT(error_of([&] { runner::cli::data(args); }),
              HasSubstr("--count 5 is more than the 4 examples dataset 'synthetic_facades' has"));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(kiln_data, an_unknown_key_says_what_it_might_have_meant) {
  TempDir dir;
  runner::cli::DataArgs args;
  args.dataset = "synthetic_facades";
  args.out = dir.path();
  args.count = 1;
  args.overrides = {"data_sed=3"};
  EXPECT_THAT(error_of([&] { runner::cli::data(args); }), HasSubstr("unknown key 'data_sed'"));
  EXPECT_THAT(error_of([&] { runner::cli::data(args); }), HasSubstr("did you mean 'data_seed'?"));
}

}  // namespace
}  // namespace kiln::test
