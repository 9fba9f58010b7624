// How long one full pix2pix step (the discriminator's phase, then the generator's) takes.
// A measurement, not a check: disabled; run it on an idle machine with
//   kiln_pix2pix_tests --gtest_also_run_disabled_tests --gtest_filter='pix2pix_timing.*'
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "pix2pix_experiment.hpp"

namespace kiln::test {
namespace {

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct StepTimes {
  double fastest;     ///< wall seconds of the fastest step: the least disturbed by other load
  double median;      ///< wall seconds
  double cpu_median;  ///< process CPU seconds, all threads
};

/// `steps` training steps on one batch, after `warmup` untimed ones.
StepTimes time_steps(long image_size, long width, long batch_size, int threads, int warmup, int steps) {
  const std::string widths = "ngf = " + std::to_string(width) + "\nndf = " + std::to_string(width) + "\n";
  std::string text = pix2pix_experiment(image_size, widths, /*max_steps=*/1000, batch_size);
  const std::string one_thread = "threads = 1";
  text.replace(text.find(one_thread), one_thread.size(), "threads = " + std::to_string(threads));
  TrainerFixture run(text);
  const Batch batch = run.trainer.loader().next();
  std::vector<double> wall, cpu;
  for (int i = 0; i < warmup + steps; ++i) {
    Step step(run.trainer, run.trainer.global_step());
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = process_cpu_seconds();
    run.trainer.train_step(batch, step);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (i < warmup) continue;
    wall.push_back(took.count());
    cpu.push_back(process_cpu_seconds() - cpu_start);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall.front(), wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

TEST(pix2pix_timing, DISABLED_full_step_at_64_pixels) {
  constexpr int kThreads = 2;
  std::printf("image  ngf=ndf  batch  threads  fastest ms  median ms  cpu ms (median)\n");
  for (const long width : {32L, 64L}) {
    for (const long batch_size : {1L, 4L, 8L}) {
      const StepTimes t = time_steps(64, width, batch_size, kThreads, /*warmup=*/3, /*steps=*/15);
      std::printf("%5d  %7ld  %5ld  %7d  %10.1f  %9.1f  %15.1f\n", 64, width, batch_size, kThreads, t.fastest * 1e3,
                  t.median * 1e3, t.cpu_median * 1e3);
      std::fflush(stdout);
    }
  }
}

}  // namespace
}  // namespace kiln::test
