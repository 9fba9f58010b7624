// How long one full pix2pix step (the discriminator's phase, then the generator's) takes.
// A measurement, not a check: disabled; run it on an idle machine with
//   kiln_pix2pix_tests --gtest_also_run_disabled_tests --gtest_filter='pix2pix_timing.*'
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

/// Median seconds of `steps` training steps after `warmup` untimed ones, on one batch.
double median_step_seconds(long image_size, long width, long batch_size, int threads, int warmup, int steps) {
  std::string text = pix2pix_experiment(image_size, "ngf = " + std::to_string(width) + "\nndf = " +
                                                        std::to_string(width) + "\n",
                                        /*max_steps=*/1000, batch_size);
  const std::string one_thread = "threads = 1";
  text.replace(text.find(one_thread), one_thread.size(), "threads = " + std::to_string(threads));
  TrainerFixture run(text);
  const Batch batch = run.trainer.loader().next();
  std::vector<double> seconds;
  for (int i = 0; i < warmup + steps; ++i) {
    Step step(run.trainer, run.trainer.global_step());
    const auto start = std::chrono::steady_clock::now();
    run.trainer.train_step(batch, step);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (i >= warmup) seconds.push_back(took.count());
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

TEST(pix2pix_timing, DISABLED_full_step_at_64_pixels) {
  std::printf("image  ngf=ndf  batch  threads  median step (ms)\n");
  for (const long width : {32L, 64L}) {
    for (const long batch_size : {1L, 4L, 8L}) {
      const double seconds = median_step_seconds(64, width, batch_size, /*threads=*/2, /*warmup=*/3, /*steps=*/15);
      std::printf("%5d  %7ld  %5ld  %7d  %16.1f\n", 64, width, batch_size, 2, seconds * 1e3);
    }
  }
}

}  // namespace
}  // namespace kiln::test
