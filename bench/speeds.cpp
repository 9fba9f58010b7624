// kiln_bench_speeds: measurements that assert nothing, moved out of the test suite.
//   pix2pix-step: how long one full step of experiments/pix2pix.toml (the discriminator's
//     phase, then the generator's) takes at 64 pixels, by width and batch size;
//   checkpoint: write_checkpoint and read_checkpoint on a 50 MB checkpoint, in MB/s.
// Run on a quiet machine; the numbers in bench/README.md come from `kiln_bench_speeds all`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "config/experiment.hpp"
#include "hooks/checkpoint_file.hpp"
#include "kiln/kiln.hpp"
#include "plugins/plugin_host.hpp"
#include "timing.hpp"
#include "train/recorder.hpp"
#include "train/trainer.hpp"

namespace kiln::bench {
namespace {

namespace fs = std::filesystem;

/// A scratch folder for one measurement, removed afterwards.
class Scratch {
 public:
  Scratch() : path_(fs::temp_directory_path() / ("kiln-bench-" + std::to_string(getpid()))) {
    fs::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class NullRecorder final : public runner::Recorder {
 public:
  void summary(std::string_view, std::int64_t, double) override {}
  void event(std::string_view, std::optional<std::int64_t>, std::string_view) override {}
  void image(std::string_view, std::int64_t, const std::string&) override {}
};

struct StepTimes {
  double fastest;     ///< wall seconds of the fastest step: the least disturbed by other load
  double median;      ///< wall seconds
  double cpu_median;  ///< process CPU seconds, all threads
};

/// `steps` training steps on one batch, after `warmup` untimed ones.
StepTimes time_steps(long image_size, long width, long batch_size, int threads, int warmup, int steps) {
  Scratch scratch;
  const runner::ExperimentSpec spec = runner::load_experiment(
      fs::path(KILN_SOURCE_DIR) / "experiments" / "pix2pix.toml",
      {fmt::format("experiment.threads={}", threads), "data.workers=0", "data.flip=false",
       fmt::format("data.image_size={}", image_size), fmt::format("data.load_size={}", image_size),
       fmt::format("data.batch_size={}", batch_size), fmt::format("model.image_size={}", image_size),
       fmt::format("model.ngf={}", width), fmt::format("model.ndf={}", width)});
  runner::PluginHost host(spec.plugin_paths, KILN_PLUGIN_DIR);
  runner::Trainer trainer(spec, host);
  NullRecorder recorder;
  trainer.attach(recorder, spec.name, scratch.path());
  const Batch batch = trainer.loader().next();
  std::vector<double> wall, cpu;
  for (int i = 0; i < warmup + steps; ++i) {
    Step step(trainer, trainer.global_step());
    const Snapshot start = Snapshot::now();
    trainer.train_step(batch, step);
    const Snapshot end = Snapshot::now();
    if (i < warmup) continue;
    wall.push_back(std::chrono::duration<double>(end.wall - start.wall).count());
    cpu.push_back(end.cpu - start.cpu);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall.front(), wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

void pix2pix_step(int threads) {
  std::printf("image  ngf=ndf  batch  threads  fastest ms  median ms  cpu ms (median)\n");
  for (const long width : {32L, 64L}) {
    for (const long batch_size : {1L, 4L, 8L}) {
      const StepTimes t = time_steps(64, width, batch_size, threads, /*warmup=*/3, /*steps=*/15);
      std::printf("%5d  %7ld  %5ld  %7d  %10.1f  %9.1f  %15.1f\n", 64, width, batch_size, threads, t.fastest * 1e3,
                  t.median * 1e3, t.cpu_median * 1e3);
      std::fflush(stdout);
    }
  }
}

void checkpoint_io() {
  runner::CheckpointEntries entries;
  for (int i = 0; i < 100; ++i) entries.emplace_back("small/" + std::to_string(i), torch::randn({64}));
  for (int i = 0; i < 4; ++i) entries.emplace_back("large/" + std::to_string(i), torch::randn({3'125'000}));
  Scratch scratch;
  const fs::path file = scratch.path() / "ckpt.kiln";
  const auto start = std::chrono::steady_clock::now();
  const runner::WrittenCheckpoint written = runner::write_checkpoint(file, entries);
  const auto written_at = std::chrono::steady_clock::now();
  runner::read_checkpoint(file, written.sha256);
  const auto verified_at = std::chrono::steady_clock::now();
  runner::read_checkpoint(file);
  const auto unverified_at = std::chrono::steady_clock::now();
  const double mb = static_cast<double>(written.bytes) / 1e6;
  const auto seconds = [](auto from, auto to) { return std::chrono::duration<double>(to - from).count(); };
  std::printf("checkpoint of %.1f MB in %s: write (sha256, fsync) %.0f MB/s, read with sha256 %.0f MB/s, "
              "without %.0f MB/s\n",
              mb, fs::temp_directory_path().c_str(), mb / seconds(start, written_at),
              mb / seconds(written_at, verified_at), mb / seconds(verified_at, unverified_at));
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  CLI::App app("kiln_bench_speeds: pix2pix's step time and checkpoint I/O speed (measurements, no verdict)");
  app.require_subcommand(1);
  int threads = 2;
  CLI::App* step = app.add_subcommand("pix2pix-step", "one full pix2pix step at 64 pixels");
  step->add_option("--threads", threads, "intra-op threads")->capture_default_str();
  CLI::App* checkpoint = app.add_subcommand("checkpoint", "write and read a 50 MB checkpoint in $TMPDIR");
  CLI::App* all = app.add_subcommand("all", "both, with 2 threads");
  CLI11_PARSE(app, argc, argv);
  try {
    if (*step || *all) kiln::bench::pix2pix_step(threads);
    if (*checkpoint || *all) kiln::bench::checkpoint_io();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
