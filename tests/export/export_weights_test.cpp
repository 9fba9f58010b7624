// kiln export weights on a real run: safetensors read back by the tests' own reader, a .pt read
// by Debian's Python torch.load, every tensor equal to the checkpoint's; --ema, --step, --best,
// and the errors.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "hooks/checkpoint_file.hpp"
#include "kiln_process.hpp"
#include "exported_tensors.hpp"
#include "safetensors_reader.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
/// experiments/pix2pix.toml at 32×32, 6 steps: a generator and a discriminator with BatchNorm
/// (running statistics, an int64 batch count), the EMA of the generator, and early stopping
/// that keeps step 1's checkpoint as best (nothing beats its eval/l1 by 1e9); the saver
/// keeps steps 1 (best) and 6 (latest).
std::vector<std::string> tiny_pix2pix() {
  return small_pix2pix_run(6, {"saver.every_steps=3", "saver.max_to_keep=1", "hooks.evaluate.every_steps=3",
                               "hooks.evaluate.count=4", "hooks.image_summaries.every_steps=0",
                               "early_stopping.monitor=\"eval/l1\"", "early_stopping.min_delta=1e9"});
}

/// A checkpoint's entries under `prefix`, without it.
Tensors checkpoint_entries(const fs::path& file, const std::string& prefix) {
  Tensors out;
  for (const auto& [name, tensor] : runner::read_checkpoint(file))
    if (name.rfind(prefix, 0) == 0) out[name.substr(prefix.size())] = tensor;
  return out;
}

class export_weights : public ::testing::Test {
 protected:
  void SetUp() override {
    const KilnResult run = run_kiln(tiny_pix2pix(), dir_.path());
    ASSERT_EQ(run.exit_code(), 0) << run.describe();
    ASSERT_TRUE(fs::exists(checkpoint(1)) && fs::exists(checkpoint(6)));
  }

  fs::path checkpoint(int step) const { return dir_ / ("runs/pix2pix/checkpoints/ckpt-" + std::to_string(step) + ".kiln"); }

  /// `kiln export weights pix2pix` with `args`, which must succeed.
  KilnResult export_(const std::vector<std::string>& args) {
    std::vector<std::string> command{"export", "weights", "pix2pix"};
    command.insert(command.end(), args.begin(), args.end());
    KilnResult result = run_kiln(command, dir_.path());
    EXPECT_EQ(result.exit_code(), 0) << result.describe();
    return result;
  }

  TempDir dir_;
};

TEST_F(export_weights, safetensors_holds_the_latest_checkpoints_model_exactly) {
  const KilnResult result = export_({"--format", "safetensors", "--out", "w.safetensors"});
  EXPECT_THAT(result.out, StartsWith("wrote 68 tensors ("));
  EXPECT_THAT(result.out, HasSubstr(") of run pix2pix at step 6 (trained weights) to w.safetensors\n"));
  const SafetensorsFile file = read_safetensors(dir_ / "w.safetensors");
  const Tensors model = checkpoint_entries(checkpoint(6), "model/");
  expect_same_tensors(tensors_of(file), model);
  // Parameters and buffers by their module names: BatchNorm's statistics are there too.
  EXPECT_EQ(model.count("generator.down.1.2.running_mean"), 1u);
  EXPECT_EQ(model.at("generator.down.1.2.num_batches_tracked").scalar_type(), c10::ScalarType::Long);

  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{
                               {"format", "pt"}, {"kiln_version", "0.1.0"}, {"run", "pix2pix"}, {"step", "6"}, {"weights", "raw"}}));
  // Names sorted; the data starts at a multiple of 8 and each tensor at a multiple of its
  // element size.
  std::vector<std::string> names;
  for (const SafetensorsEntry& entry : file.entries) names.push_back(entry.name);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ((8 + file.header_length) % 8, 0u);
  EXPECT_EQ(file.header.find_last_not_of(' '), file.header.find_last_of('}'));
  for (const SafetensorsEntry& entry : file.entries)
    EXPECT_EQ(entry.begin % entry.tensor.element_size(), 0u) << entry.name;
}

TEST_F(export_weights, ema_writes_the_generators_averages_over_the_trained_weights) {
  const KilnResult result = export_({"--ema", "--format", "safetensors", "--out", "ema.safetensors"});
  EXPECT_THAT(result.out, HasSubstr("at step 6 (EMA weights) to ema.safetensors"));
  const SafetensorsFile file = read_safetensors(dir_ / "ema.safetensors");
  EXPECT_EQ(file.metadata.at("weights"), "ema");
  // What infer swaps in: the generator's shadows ([ema] params = ["generator"]), the EMA's copy
  // of every buffer, and the discriminator as trained.
  Tensors want = checkpoint_entries(checkpoint(6), "model/");
  const Tensors raw = want;
  int averaged = 0;
  for (const auto& [name, tensor] : checkpoint_entries(checkpoint(6), "hook/ema/params/")) {
    ASSERT_EQ(want.count(name), 1u) << name;
    EXPECT_THAT(name, StartsWith("generator."));
    want[name] = tensor;
    ++averaged;
  }
  for (const auto& [name, tensor] : checkpoint_entries(checkpoint(6), "hook/ema/buffers/")) want.at(name) = tensor;
  EXPECT_GT(averaged, 10);
  const Tensors got = tensors_of(file);
  expect_same_tensors(got, want);
  int differ = 0;
  for (const auto& [name, tensor] : raw) differ += !torch::equal(got.at(name), tensor);
  EXPECT_GT(differ, 10) << "the EMA's weights should differ from the trained ones after 6 steps at decay 0.99";
  EXPECT_TRUE(torch::equal(got.at("discriminator.net.0.weight"), raw.at("discriminator.net.0.weight")));
}

TEST_F(export_weights, step_and_best_pick_their_checkpoint) {
  const KilnResult step = export_({"--step", "1", "--format", "safetensors", "--out", "step1.safetensors"});
  EXPECT_THAT(step.out, HasSubstr("of run pix2pix at step 1 (trained weights)"));
  const SafetensorsFile at_1 = read_safetensors(dir_ / "step1.safetensors");
  EXPECT_EQ(at_1.metadata.at("step"), "1");
  expect_same_tensors(tensors_of(at_1), checkpoint_entries(checkpoint(1), "model/"));

  const KilnResult best = export_({"--best", "--format", "safetensors", "--out", "best.safetensors"});
  EXPECT_THAT(best.out, HasSubstr("of run pix2pix at step 1 (its best) (trained weights)"));
  expect_same_tensors(tensors_of(read_safetensors(dir_ / "best.safetensors")), checkpoint_entries(checkpoint(1), "model/"));
  // The latest differs: the three exports did read different checkpoints.
  const Tensors latest = checkpoint_entries(checkpoint(6), "model/");
  EXPECT_FALSE(torch::equal(tensors_of(at_1).at("generator.down.0.0.weight"), latest.at("generator.down.0.0.weight")));
}

TEST_F(export_weights, pt_loads_in_python_with_weights_only_every_tensor_equal) {
  if (!python_has_torch()) GTEST_SKIP() << kNoPythonTorch;
  export_({"--format", "pt", "--out", "w.pt"});
  export_({"--ema", "--format", "pt", "--out", "ema.pt"});
  const auto [how, rows] = python_listing(dir_ / "w.pt", "pt");
  // Debian's torch (1.13) has weights_only, which refuses any pickle global but the tensors'.
  EXPECT_THAT(how, HasSubstr("through torch.load, weights_only=True"));
  EXPECT_EQ(rows, listing_of(checkpoint_entries(checkpoint(6), "model/")));

  const auto [ema_how, ema_rows] = python_listing(dir_ / "ema.pt", "pt");
  const SafetensorsFile ema = read_safetensors(
      (export_({"--ema", "--format", "safetensors", "--out", "ema.safetensors"}), dir_ / "ema.safetensors"));
  EXPECT_EQ(ema_rows, listing_of(tensors_of(ema)));
  EXPECT_NE(ema_rows, rows);
}

TEST_F(export_weights, safetensors_loads_in_python_every_tensor_equal) {
  if (!python_has_torch()) GTEST_SKIP() << kNoPythonTorch;
  export_({"--format", "safetensors", "--out", "w.safetensors"});
  const auto [how, rows] = python_listing(dir_ / "w.safetensors", "safetensors");
  EXPECT_THAT(how, StartsWith("loaded "));
  EXPECT_EQ(rows, listing_of(checkpoint_entries(checkpoint(6), "model/")));
}

// The errors: one line each, exit 2, no file written.

TEST(export_weights_errors, an_unknown_run_or_checkpoint_is_one_error_line) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", 5));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);

  const KilnResult unknown = run_kiln({"export", "weights", "nope", "--format", "pt", "--out", "w.pt"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(unknown, 2));
  EXPECT_THAT(error_line(unknown), StartsWith("error: no run named 'nope' in runs/kiln.db"));

  const KilnResult step = run_kiln({"export", "weights", "t", "--step", "3", "--format", "pt", "--out", "w.pt"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(step, 2));
  EXPECT_EQ(error_line(step), "error: run 't' has no checkpoint at step 3 (it has step 5)");

  const KilnResult best = run_kiln({"export", "weights", "t", "--best", "--format", "pt", "--out", "w.pt"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(best, 2));
  EXPECT_EQ(error_line(best),
            "error: run 't' has no checkpoint kept as best (an [early_stopping] table with keep_best = true keeps "
            "one); without --best, kiln export weights uses its latest");

  // The mlp experiment has no [ema].
  const KilnResult ema = run_kiln({"export", "weights", "t", "--ema", "--format", "pt", "--out", "w.pt"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(ema, 2));
  EXPECT_EQ(error_line(ema),
            "error: run 't' has no EMA weights: its checkpoint at step 5 holds no averaged parameters (an [ema] table "
            "with `params` averages them); without --ema, kiln export weights writes the trained weights");
  EXPECT_FALSE(fs::exists(dir / "w.pt"));
}

TEST(export_weights_errors, a_run_without_a_checkpoint_is_one_error_line) {
  // The disk is full for checkpoints: the run fails at its final save and keeps none.
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", 5));
  const KilnResult run = run_kiln({"run", "exp.toml"}, dir.path(),
                                  {{"LD_PRELOAD", (fixture_dir().parent_path() / "preload/libkiln_full_disk.so").string()},
                                   {"KILN_FULL_DISK_MATCH", "ckpt-"},
                                   {"KILN_FULL_DISK_BYTES", "0"}});
  ASSERT_EQ(run.exit_code(), 1) << run.describe();
  const KilnResult result = run_kiln({"export", "weights", "t", "--format", "safetensors", "--out", "w.safetensors"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(error_line(result), "error: run 't' has no checkpoint yet");
}

TEST(export_weights_errors, an_unwritable_out_is_one_error_line_and_leaves_no_file) {
  TempDir dir;
  write_text(dir, "exp.toml", mlp_experiment("", 5));
  ASSERT_EQ(run_kiln({"run", "exp.toml"}, dir.path()).exit_code(), 0);

  const KilnResult folder = run_kiln({"export", "weights", "t", "--format", "pt", "--out", "missing/w.pt"}, dir.path());
  EXPECT_TRUE(fails_with_one_error_line(folder, 2));
  EXPECT_EQ(error_line(folder), "error: cannot write weights missing/w.pt: No such file or directory");

  // A full disk: the file already there stays as it was, and no temp file is left beside it.
  for (const char* format : {"safetensors", "pt"}) {
    SCOPED_TRACE(format);
    write_text(dir, "w.out", "before");
    const KilnResult full = run_kiln({"export", "weights", "t", "--format", format, "--out", "w.out"}, dir.path(),
                                     {{"LD_PRELOAD", (fixture_dir().parent_path() / "preload/libkiln_full_disk.so").string()},
                                      {"KILN_FULL_DISK_MATCH", "w.out"},
                                      {"KILN_FULL_DISK_BYTES", "100"}});
    EXPECT_TRUE(fails_with_one_error_line(full, 2));
    EXPECT_EQ(error_line(full), "error: cannot write weights w.out: No space left on device");
    EXPECT_EQ(read_file(dir / "w.out"), "before");
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir.path())) files.push_back(entry.path().filename().string());
    std::sort(files.begin(), files.end());
    EXPECT_THAT(files, ElementsAre("exp.toml", "runs", "w.out"));
  }
}

}  // namespace
}  // namespace kiln::test
