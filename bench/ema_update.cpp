// kiln_bench_ema: one EMA update (Ema::after_step) against one plain copy of the same weights.
//
// docs/architecture.md ("Performance rules") asks the EMA update to touch each parameter byte a small constant number of
// times. A copy reads every byte once and writes it once; the update reads the shadow and
// the parameter and writes the shadow, about 1.5x a copy where memory bandwidth is the
// limit (measured 1.3-1.6x; LibTorch 1.13's lerp_ would take 2.1x). Both run on the
// same model in interleaved repetitions; the result is the median of the per-repetition
// ratios. `--max-ratio` turns the report into a check (exit 1 above it).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "train/null_run.hpp"
#include "hooks/ema.hpp"
#include "kiln/kiln.hpp"

namespace kiln::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::int64_t layers = 50;   // each a width x width weight and a bias: 2 tensors per layer
  std::int64_t width = 1000;  // 50 layers of 1000 x 1000: 50.05 M parameters in 100 tensors
  int repetitions = 21;
  int warmup = 3;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double max_ratio = 0;  // 0: report only
};

/// Square linear layers, never run forward: only their parameters matter here.
class Stack : public Model {
 public:
  Stack(std::int64_t layers, std::int64_t width) {
    for (std::int64_t i = 0; i < layers; ++i)
      register_module(fmt::format("layer{}", i), torch::nn::Linear(width, width));
  }
  Outputs forward(const Batch&, Step&) override { return Outputs("outputs"); }
};



template <class F>
double milliseconds(F&& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int run(const Options& options) {
  at::set_num_threads(options.threads);
  torch::manual_seed(0);
  Stack model(options.layers, options.width);
  const std::vector<torch::Tensor> params = model.parameters();
  std::int64_t numel = 0;
  for (const auto& p : params) numel += p.numel();

  runner::Ema::Options averaging;
  averaging.decay = 0.999;
  averaging.params = {"all"};
  runner::Ema ema(averaging);
  kiln::runner::NullRun run(model);
  ema.begin(run);

  std::vector<torch::Tensor> copies;
  for (const auto& p : params) copies.push_back(torch::empty_like(p));
  const auto copy_all = [&] {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) copies[i].copy_(params[i]);
  };
  std::int64_t k = 0;
  const auto update = [&] {
    Step step(run, k++);
    ema.after_step(step);
  };

  fmt::print("model: {:.2f} M float32 parameters in {} tensors; {} threads\n", static_cast<double>(numel) / 1e6,
             params.size(), options.threads);
  for (int i = 0; i < options.warmup; ++i) {
    copy_all();
    update();
  }
  std::vector<double> copy_ms, ema_ms, ratios;
  for (int i = 0; i < options.repetitions; ++i) {
    // Alternate which goes first, so that neither always inherits the other's cache state.
    double c = 0, e = 0;
    if (i % 2) {
      c = milliseconds(copy_all);
      e = milliseconds(update);
    } else {
      e = milliseconds(update);
      c = milliseconds(copy_all);
    }
    copy_ms.push_back(c);
    ema_ms.push_back(e);
    ratios.push_back(e / c);
  }
  const double bytes = static_cast<double>(numel) * 4;
  const double copy = median(copy_ms), update_ms = median(ema_ms), ratio = median(ratios);
  fmt::print("copy        {:8.2f} ms  ({:.1f} GB/s moved: read + write)\n", copy, 2 * bytes / copy / 1e6);
  fmt::print("ema update  {:8.2f} ms  ({:.1f} GB/s moved: 2 reads + 1 write)\n", update_ms, 3 * bytes / update_ms / 1e6);
  fmt::print("ratio       {:8.2f}x  (median of {} interleaved repetitions)\n", ratio,
             options.repetitions);
  if (options.max_ratio > 0 && ratio > options.max_ratio) {
    fmt::print(stderr, "error: ema update is {:.2f}x a copy, above --max-ratio {:.2f}\n", ratio, options.max_ratio);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options options;
  CLI::App app("kiln_bench_ema: one EMA update against one plain copy of the same parameters");
  app.add_option("--layers", options.layers, "square linear layers (2 tensors each)")->check(CLI::PositiveNumber);
  app.add_option("--width", options.width, "their width")->check(CLI::PositiveNumber);
  app.add_option("--repetitions", options.repetitions, "timed repetitions of each")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed repetitions first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", options.threads, "intra-op threads")->check(CLI::PositiveNumber);
  app.add_option("--max-ratio", options.max_ratio, "fail when the median ratio is above this; 0 reports only");
  CLI11_PARSE(app, argc, argv);
  try {
    return kiln::bench::run(options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
