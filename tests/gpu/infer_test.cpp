// `kiln infer --device cuda` translates images as `--device cpu` does, from the same checkpoint
// of a run trained on the GPU (experiments/pix2pix.toml at 32×32, its evaluate and
// image_summaries hooks included).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../cli/cli_support.hpp"
#include "gpu_support.hpp"
#include "image/pixels.hpp"

namespace kiln::test::gpu {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class gpu_infer : public GpuTest {};

/// experiments/pix2pix.toml at 32×32 with ngf = ndf = 8 for 6 steps, on the device "auto"
/// picks (the GPU here) at fp32, so that inference on either device computes in fp32.
std::vector<std::string> tiny_on_auto() {
  return {"--set", "experiment.max_steps=6",   "--set", "data.image_size=32",      "--set", "data.load_size=36",
          "--set", "data.size=8",              "--set", "eval_data.image_size=32", "--set", "eval_data.size=4",
          "--set", "model.image_size=32",      "--set", "model.ngf=8",             "--set", "model.ndf=8",
          "--set", "saver.every_steps=3",      "--set", "hooks.evaluate.every_steps=3",
          "--set", "hooks.evaluate.count=4",   "--set", "hooks.image_summaries.every_steps=3",
          "--set", "hooks.image_summaries.count=2", "--set", "supervisor.log_every_steps=0",
          "--set", device_override("auto"),    "--set", precision_override("fp32")};
}

TEST_F(gpu_infer, translates_like_the_cpu_within_two_levels_of_255) {
  TempDir dir;
  std::vector<std::string> args = {"run", (source_dir() / "experiments/pix2pix.toml").string()};
  const auto extra = tiny_on_auto();
  args.insert(args.end(), extra.begin(), extra.end());
  const KilnResult run = run_kiln(args, dir.path());
  ASSERT_EQ(run.exit_code(), 0) << run.describe();
  EXPECT_THAT(run.out + run.err, HasSubstr("cuda:0")) << "auto trains on the GPU and kiln run says so";

  const KilnResult data = run_kiln(
      {"data", "synthetic_facades", "--out", "pairs", "--count", "3", "--image-size", "32", "--split", "test"},
      dir.path());
  ASSERT_EQ(data.exit_code(), 0) << data.describe();

  // The same checkpoint (step 6, EMA weights) on the GPU and on the CPU.
  const KilnResult on_gpu =
      run_kiln({"infer", "pix2pix", "pairs", "--paired", "--device", "cuda", "--out", "gpu"}, dir.path());
  ASSERT_EQ(on_gpu.exit_code(), 0) << on_gpu.describe();
  EXPECT_THAT(on_gpu.out, StartsWith("translated 3 images with run pix2pix at step 6 (EMA weights)"));
  const KilnResult on_cpu =
      run_kiln({"infer", "pix2pix", "pairs", "--paired", "--device", "cpu", "--out", "cpu"}, dir.path());
  ASSERT_EQ(on_cpu.exit_code(), 0) << on_cpu.describe();
  EXPECT_THAT(on_cpu.out, StartsWith("translated 3 images with run pix2pix at step 6 (EMA weights)"));

  // Tolerance: every 8-bit value within 2 levels, and on average within 0.05 of a level.
  // Both compute in fp32 (cuDNN and the CPU's kernels sum in other orders, ~1e-6 relative),
  // so only a value that lies that close to a rounding boundary between two levels moves.
  for (const char* name : {"0000.png", "0001.png", "0002.png"}) {
    const image::Pixels gpu = image::read_pixels(dir / "gpu" / name);
    const image::Pixels cpu = image::read_pixels(dir / "cpu" / name);
    ASSERT_EQ(gpu.width, 32) << name;
    ASSERT_EQ(gpu.height, 32) << name;
    ASSERT_EQ(gpu.bytes.size(), cpu.bytes.size()) << name;
    int worst = 0;
    double total = 0;
    for (std::size_t i = 0; i < gpu.bytes.size(); ++i) {
      const int d = std::abs(static_cast<int>(gpu.bytes[i]) - static_cast<int>(cpu.bytes[i]));
      worst = std::max(worst, d);
      total += d;
    }
    EXPECT_LE(worst, 2) << name << ": the largest difference, in levels of 255";
    EXPECT_LE(total / static_cast<double>(gpu.bytes.size()), 0.05) << name << ": the mean difference";
  }
}

}  // namespace
}  // namespace kiln::test::gpu
