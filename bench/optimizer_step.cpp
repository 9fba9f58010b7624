// kiln_bench_optim: one Adam step over the pix2pix generator's parameters, LibTorch's loop
// against kiln's multi-tensor steps (train/multi_tensor.hpp).
//
// LibTorch's torch::optim::Adam launches about five small kernels per parameter tensor; the
// foreach step launches about ten per list of tensors, the fused one (CUDA, LibTorch 2.x) one.
// On the CPU every kernel is a loop over memory either way, so the question there is whether
// foreach costs anything (it decides what `implementation = "auto"` runs on the CPU); on CUDA
// it is how much launch overhead goes. The parameters have the shapes of pix2pix's U-Net
// generator (256x256, ngf 64: 54.41 M parameters) and the gradients are fixed random tensors.
// The implementations run in interleaved repetitions, each first in turn; the result is the
// median of each repetition's ratio to the loop. Report only: a benchmark is not a test.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "timing.hpp"
#include "train/multi_tensor.hpp"

namespace kiln::bench {
namespace {

using runner::StepImplementation;

struct Options {
  std::int64_t ngf = 64;        // the generator's first width
  std::int64_t num_downs = 8;   // U-Net levels: 8 for 256x256
  int repetitions = 11;
  int warmup = 2;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string devices = "auto";  // auto: the CPU, and cuda:0 when there is one; or "cpu", "cuda"
};

/// The parameter shapes of plugins/pix2pix's UnetGenerator (unet_generator.cpp): per level a
/// bias-free 4x4 down-convolution, a BatchNorm between the outermost and innermost, a 4x4
/// transposed up-convolution (input doubled by the skip except at the bottleneck) and a
/// BatchNorm after it, except at the outermost, whose up-convolution has a bias.
std::vector<std::vector<std::int64_t>> generator_shapes(std::int64_t ngf, std::int64_t levels) {
  const auto channels = [ngf](std::int64_t level) {
    return ngf * std::min<std::int64_t>(std::int64_t{1} << std::min<std::int64_t>(level, 3), 8);
  };
  std::vector<std::vector<std::int64_t>> shapes;
  for (std::int64_t i = 0; i < levels; ++i) {
    const bool outermost = i == 0, innermost = i == levels - 1;
    const std::int64_t outer = outermost ? 3 : channels(i - 1), inner = channels(i);
    shapes.push_back({inner, outer, 4, 4});
    if (!outermost && !innermost) {
      shapes.push_back({inner});
      shapes.push_back({inner});
    }
    const std::int64_t up_in = innermost ? inner : 2 * inner, up_out = outermost ? 3 : outer;
    shapes.push_back({up_in, up_out, 4, 4});  // ConvTranspose2d: [in, out, k, k]
    if (outermost) {
      shapes.push_back({up_out});
    } else {
      shapes.push_back({up_out});
      shapes.push_back({up_out});
    }
  }
  return shapes;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

/// One Adam step per implementation over the same parameters, each with its own state.
void run_on(const torch::Device& device, const Options& options) {
  torch::manual_seed(0);
  std::vector<torch::Tensor> params;
  std::int64_t numel = 0;
  for (const auto& shape : generator_shapes(options.ngf, options.num_downs)) {
    torch::Tensor p = (torch::randn(shape) * 0.02).to(device).requires_grad_(true);
    p.mutable_grad() = (torch::randn(shape) * 1e-3).to(device);
    numel += p.numel();
    params.push_back(p);
  }
  std::vector<StepImplementation> implementations = {StepImplementation::loop, StepImplementation::foreach};
  if (device.is_cuda() && runner::has_fused_step("adam")) implementations.push_back(StepImplementation::fused);

  // pix2pix's Adam: lr 2e-4, betas (0.5, 0.999).
  const auto adam = torch::optim::AdamOptions(2e-4).betas({0.5, 0.999});
  std::vector<std::unique_ptr<runner::MultiTensorAdam>> optimizers;
  for (StepImplementation implementation : implementations)
    optimizers.push_back(std::make_unique<runner::MultiTensorAdam>(params, adam, implementation));

  fmt::print("{}: {:.2f} M float32 parameters in {} tensors (pix2pix generator, ngf {}){}\n", device.str(),
             static_cast<double>(numel) / 1e6, params.size(), options.ngf,
             device.is_cuda() ? "" : fmt::format("; {} threads", options.threads));
  // The first step allocates each optimizer's state: warm-up, untimed.
  for (int i = 0; i < options.warmup; ++i)
    for (auto& optimizer : optimizers) optimizer->step();
  synchronize(device);

  const std::size_t n = optimizers.size();
  std::vector<std::vector<double>> ms(n), ratios(n);
  std::vector<double> this_round(n);
  for (int r = 0; r < options.repetitions; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t which = (k + static_cast<std::size_t>(r)) % n;  // each first in turn
      synchronize(device);
      const auto start = std::chrono::steady_clock::now();
      optimizers[which]->step();
      synchronize(device);
      this_round[which] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    for (std::size_t k = 0; k < n; ++k) {
      ms[k].push_back(this_round[k]);
      ratios[k].push_back(this_round[k] / this_round[0]);
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    if (optimizers[k]->last() != implementations[k])
      throw std::runtime_error(fmt::format("asked for {}, ran {}", runner::step_implementation_name(implementations[k]),
                                           runner::step_implementation_name(optimizers[k]->last())));
    fmt::print("  {:<8} {:9.3f} ms/step  {:6.3f}x the loop  (median of {})\n",
               runner::step_implementation_name(implementations[k]), median(ms[k]), median(ratios[k]),
               options.repetitions);
  }
}

int run(const Options& options) {
  at::set_num_threads(options.threads);
  const bool cuda = torch::cuda::is_available();
  if (options.devices == "cuda" && !cuda) {
    fmt::print("no CUDA device: nothing to time\n");
    return 0;
  }
  if (options.devices != "cuda") run_on(torch::Device(torch::kCPU), options);
  if (options.devices != "cpu" && cuda) run_on(torch::Device(torch::kCUDA, 0), options);
  if (options.devices == "auto" && !cuda) fmt::print("(no CUDA device: the CPU only)\n");
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options options;
  CLI::App app("kiln_bench_optim: one Adam step over pix2pix's generator, LibTorch's loop against foreach and fused");
  app.add_option("--ngf", options.ngf, "the generator's first width (64: 54.41 M parameters)")
      ->check(CLI::PositiveNumber);
  app.add_option("--num-downs", options.num_downs, "U-Net levels (8 for 256x256)")->check(CLI::Range(2, 12));
  app.add_option("--repetitions", options.repetitions, "timed steps of each implementation")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps of each first (the first allocates the state)")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options.threads, "intra-op threads on the CPU")->check(CLI::PositiveNumber);
  app.add_option("--devices", options.devices, "auto (the CPU, and cuda:0 when there is one), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  CLI11_PARSE(app, argc, argv);
  try {
    return kiln::bench::run(options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
