// pix2pix through the command line at a tiny size: image grids and eval/l1 in the run,
// kiln data's files, and kiln infer translating them with the run's EMA weights.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Rows = std::vector<std::vector<std::string>>;

/// experiments/pix2pix.toml at 32×32 with ngf = ndf = 8 and 6 steps: the same tables, hooks
/// every 3 steps.
std::vector<std::string> tiny() {
  return {"--set", "experiment.max_steps=6",   "--set", "data.image_size=32",      "--set", "data.load_size=36",
          "--set", "data.size=8",              "--set", "eval_data.image_size=32", "--set", "eval_data.size=4",
          "--set", "model.image_size=32",      "--set", "model.ngf=8",             "--set", "model.ndf=8",
          "--set", "saver.every_steps=3",      "--set", "hooks.evaluate.every_steps=3",
          "--set", "hooks.evaluate.count=4",   "--set", "hooks.image_summaries.every_steps=3",
          "--set", "hooks.image_summaries.count=2", "--set", "supervisor.log_every_steps=0"};
}

/// Width and height from a PNG's IHDR chunk.
std::pair<int, int> png_size(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char header[24] = {};
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  auto be32 = [&](int at) { return (header[at] << 24) | (header[at + 1] << 16) | (header[at + 2] << 8) | header[at + 3]; };
  return {be32(16), be32(20)};
}

class cli_pix2pix : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> args = {"run", (source_dir() / "experiments/pix2pix.toml").string()};
    const auto extra = tiny();
    args.insert(args.end(), extra.begin(), extra.end());
    const KilnResult result = run_kiln(args, dir_.path());
    ASSERT_EQ(result.exit_code(), 0) << result.describe();
    run_out_ = result.out;
  }

  TempDir dir_;
  std::string run_out_;
  fs::path db_ = dir_ / "runs/kiln.db";
};

TEST_F(cli_pix2pix, the_run_records_eval_l1_and_image_grids) {
  EXPECT_THAT(run_out_, HasSubstr("images         runs/pix2pix/images"));
  EXPECT_EQ(sql_rows(db_, "SELECT step FROM summaries WHERE tag = 'eval/l1' ORDER BY step"),
            (Rows{{"0"}, {"3"}, {"6"}}));
  // ema/* on the losses' schedule (summary_every_steps = 10): the first step and the last.
  EXPECT_EQ(sql_rows(db_, "SELECT step FROM summaries WHERE tag = 'ema/l1' ORDER BY step"), (Rows{{"0"}, {"5"}}));
  EXPECT_EQ(sql_rows(db_, "SELECT step FROM summaries WHERE tag = 'loss/l1' ORDER BY step"), (Rows{{"0"}, {"5"}}));
  const Rows images = sql_rows(db_, "SELECT tag, step, path FROM images ORDER BY step");
  ASSERT_EQ(images.size(), 3u);
  for (const auto& row : images) {
    EXPECT_EQ(row[0], "images/eval");
    ASSERT_TRUE(fs::exists(row[2])) << row[2];
    // Two held-out examples, one per row: input | output | target, each 32×32.
    EXPECT_EQ(png_size(row[2]), (std::pair<int, int>{96, 64})) << row[2];
  }
  EXPECT_THAT(images[2][2], HasSubstr("images-eval-6.png"));
}

TEST_F(cli_pix2pix, kiln_data_and_kiln_infer_translate_with_the_ema_weights) {
  const KilnResult data = run_kiln({"data", "synthetic_facades", "--out", "pairs", "--count", "3", "--image-size", "32",
                                    "--split", "test"},
                                   dir_.path());
  ASSERT_EQ(data.exit_code(), 0) << data.describe();
  EXPECT_EQ(png_size(dir_ / "pairs/0002.png"), (std::pair<int, int>{64, 32}));

  const KilnResult infer = run_kiln({"infer", "pix2pix", "pairs", "--paired", "--out", "out"}, dir_.path());
  ASSERT_EQ(infer.exit_code(), 0) << infer.describe();
  EXPECT_THAT(infer.out, StartsWith("translated 3 images with run pix2pix at step 6 (EMA weights) into out"));
  for (const char* name : {"0000.png", "0001.png", "0002.png"})
    EXPECT_EQ(png_size(dir_ / "out" / name), (std::pair<int, int>{32, 32})) << name;

  const KilnResult raw = run_kiln({"infer", "pix2pix", "pairs/0000.png", "--paired", "--raw", "--step", "3", "--out",
                                   "raw"},
                                  dir_.path());
  ASSERT_EQ(raw.exit_code(), 0) << raw.describe();
  EXPECT_THAT(raw.out, HasSubstr("at step 3 (trained weights)"));
  EXPECT_NE(read_file(dir_ / "raw/0000.png"), read_file(dir_ / "out/0000.png"));

  // At the same step, the EMA's averages translate differently from the trained weights.
  const KilnResult trained = run_kiln({"infer", "pix2pix", "pairs/0000.png", "--paired", "--raw", "--out", "trained"},
                                      dir_.path());
  ASSERT_EQ(trained.exit_code(), 0) << trained.describe();
  EXPECT_THAT(trained.out, HasSubstr("at step 6 (trained weights)"));
  EXPECT_NE(read_file(dir_ / "trained/0000.png"), read_file(dir_ / "out/0000.png"));
}

TEST_F(cli_pix2pix, infer_errors_are_one_line) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"infer", "nope", "pairs"}, {"infer", "pix2pix", "missing-folder"}, {"infer", "pix2pix", ".", "--step", "5"}}) {
    const KilnResult result = run_kiln(args, dir_.path());
    EXPECT_EQ(result.exit_code(), 2) << result.describe();
    EXPECT_THAT(error_line(result), StartsWith("error: ")) << result.describe();
  }
  EXPECT_THAT(error_line(run_kiln({"infer", "nope", "x"}, dir_.path())), HasSubstr("no run named 'nope'"));
  EXPECT_THAT(error_line(run_kiln({"infer", "pix2pix", ".", "--step", "5"}, dir_.path())),
              HasSubstr("has no checkpoint at step 5"));
}

}  // namespace
}  // namespace kiln::test
