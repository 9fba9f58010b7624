// kiln_bench_gpu: kiln's pix2pix step against the same step in plain PyTorch, on one GPU.
//
// For each precision (tf32, bf16) and batch size (1, 16) at 256×256, ngf 64, ndf 64: kiln's
// step in this process (an ExperimentSetup with the built-in hooks, one batch already on the
// device, Trainer::train_step: the discriminator's phase, the generator's, then the hooks,
// the EMA among them), then bench/pix2pix_torch.py (the same networks and recipe, on random
// data already on the device) as a child process. Each side runs warm-up steps first (cuDNN's
// autotuner, the caching allocator), then a timed block of steps between two
// torch::cuda::synchronize() (torch.cuda.synchronize() in the script). It prints ms/step,
// images/s and kiln/PyTorch per setting, and issue 12's targets with PASS or MISS. See
// README.md, "GPU". Without a GPU it says so and exits 0.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "kiln/kiln.hpp"
#include "run/setup.hpp"
#include "train/device.hpp"
#include "train/recorder.hpp"
#include "train/trainer.hpp"

namespace kiln::bench {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::vector<std::string> precisions{"tf32", "bf16"};
  std::vector<std::int64_t> batches{1, 16};
  std::int64_t size = 256;
  std::int64_t ngf = 64;
  std::int64_t ndf = 64;
  int warmup = 20;  // steps before the timed block, each side
  int steps = 100;  // timed steps, each side
  std::string python = "python3";
  std::string script = KILN_SOURCE_DIR "/bench/pix2pix_torch.py";
  bool kiln_only = false;
  bool cuda_graphs = false;  // both sides capture the step as one CUDA graph and replay it
};

/// Issue 12's targets: kiln eager against plain PyTorch eager by batch size; with CUDA graphs,
/// kiln's replayed step within 1.1x of PyTorch's at any batch.
std::optional<double> target_ratio(const Options& o, std::int64_t batch) {
  if (o.cuda_graphs) return 1.1;
  if (batch == 1) return 0.7;
  if (batch == 16) return 1.0;
  return std::nullopt;
}

/// A scratch folder for one setting's run directory and database, removed afterwards.
class Scratch {
 public:
  Scratch() : path_(fs::temp_directory_path() / fmt::format("kiln-bench-gpu-{}-{}", getpid(), counter_++)) {
    fs::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

class NullRecorder final : public runner::Recorder {
 public:
  void summary(std::string_view, std::int64_t, double) override {}
  void event(std::string_view, std::optional<std::int64_t>, std::string_view) override {}
  void image(std::string_view, std::int64_t, const std::string&) override {}
};

/// The step of experiments/pix2pix.toml and pix2pix-256.toml (networks, losses, optimizers,
/// EMA, summaries every 10 steps) at the benchmark's size, with no plugin hooks (evaluation
/// and images run every few hundred steps, outside any timed block) and no saver.
std::string experiment_toml(const Options& o, const std::string& precision, std::int64_t batch, const fs::path& dir) {
  return fmt::format(R"toml([experiment]
name = "bench-gpu"
seed = 0
max_steps = {max_steps}
threads = 1
device = "cuda:0"
precision = "{precision}"
cuda_graphs = {graphs}
runs_dir = "{runs}"
database = "{db}"

[data]
plugin = "synthetic_facades"
size = {batch}
image_size = {size}
load_size = {size}
flip = false
batch_size = {batch}
workers = 0

[model]
plugin = "pix2pix"
image_size = {size}
ngf = {ngf}
ndf = {ndf}

[[losses]]
name = "d_real"
plugin = "gan"
input = "d_real"
target = "real"

[[losses]]
name = "d_fake"
plugin = "gan"
input = "d_fake"
target = "fake"

[[losses]]
name = "g_gan"
plugin = "gan"
input = "d_fake"
target = "real"

[[losses]]
name = "l1"
plugin = "l1"
prediction = "fake"
target = "target"

[[optimizers]]
name = "discriminator"
type = "adam"
params = "discriminator"
lr = 2e-4
betas = [0.5, 0.999]
losses = ["d_real", "d_fake"]

[[optimizers]]
name = "generator"
type = "adam"
params = "generator"
lr = 2e-4
betas = [0.5, 0.999]
losses = {{ g_gan = 1.0, l1 = 100.0 }}
after = ["discriminator"]

[ema]
decay = 0.99
params = ["generator"]
losses = ["d_real", "d_fake", "g_gan", "l1"]
zero_debias = true

[saver]
enabled = false

[supervisor]
summary_every_steps = 10
log_every_steps = 0
progress = "off"
)toml",
                     fmt::arg("max_steps", o.warmup + o.steps + 1), fmt::arg("precision", precision),
                     fmt::arg("graphs", o.cuda_graphs ? "true" : "false"),
                     fmt::arg("runs", (dir / "runs").string()), fmt::arg("db", (dir / "kiln.db").string()),
                     fmt::arg("batch", batch), fmt::arg("size", o.size), fmt::arg("ngf", o.ngf),
                     fmt::arg("ndf", o.ndf));
}

/// kiln's step: milliseconds per step over the timed block.
double time_kiln(const Options& o, const std::string& precision, std::int64_t batch_size) {
  Scratch scratch;
  const fs::path file = scratch.path() / "exp.toml";
  std::ofstream(file) << experiment_toml(o, precision, batch_size, scratch.path());
  runner::ExperimentSetup setup(file, {}, KILN_PLUGIN_DIR);
  runner::Trainer& trainer = setup.trainer;
  NullRecorder recorder;
  trainer.attach(recorder, setup.spec.name, scratch.path() / "runs" / setup.spec.name);

  // One batch from the loader (pinned), on the device before the first step, as the script's
  // data is: what is timed is the step, not the generation of facades on the CPU.
  const c10::Device device("cuda:0");
  Batch batch("batch");
  for (const auto& [name, tensor] : trainer.loader().next()) batch.set(name, tensor.to(device));
  torch::cuda::synchronize();

  for (const runner::OrderedHook& hook : trainer.hooks()) hook.hook->begin(trainer);
  auto one_step = [&] {
    Step step(trainer, trainer.global_step());
    trainer.train_step(batch, step);
  };
  for (int i = 0; i < o.warmup; ++i) one_step();
  torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.steps; ++i) one_step();
  torch::cuda::synchronize();
  const auto end = std::chrono::steady_clock::now();
  if (trainer.stop_requested())
    throw Error(fmt::format("kiln's run asked to stop during the benchmark: {}", trainer.stop_reason()));
  for (const runner::OrderedHook& hook : trainer.hooks()) hook.hook->end(trainer);
  return std::chrono::duration<double, std::milli>(end - start).count() / o.steps;
}

/// `text` quoted for /bin/sh.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Command {
  int status = -1;  ///< the exit code, or -1 when it did not exit normally
  std::string output;  ///< stdout and stderr together
};

Command run_command(const std::string& command) {
  Command result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string last_lines(const std::string& text, int count) {
  std::size_t at = text.size();
  for (int i = 0; i <= count && at != std::string::npos && at > 0; ++i) at = text.rfind('\n', at - 1);
  return at == std::string::npos ? text : text.substr(at + 1);
}

/// The PyTorch the script would run on: its version when `python` imports torch and torch
/// sees a GPU; otherwise nullopt and, in `why`, what is missing.
std::optional<std::string> torch_version(const Options& o, std::string& why) {
  const Command probe = run_command(
      shell_quote(o.python) + " -c " +
      shell_quote("import torch, sys; print('torch=' + torch.__version__); "
                  "sys.exit(0 if torch.cuda.is_available() else 3)"));
  const std::size_t at = probe.output.rfind("torch=");
  const std::string version =
      at == std::string::npos ? std::string() : probe.output.substr(at + 6, probe.output.find('\n', at) - at - 6);
  if (probe.status == 0 && !version.empty()) return version;
  if (probe.status == 3)
    why = fmt::format("{}'s torch {} sees no GPU", o.python, version);
  else
    why = fmt::format("{} cannot import torch: {}", o.python, last_lines(probe.output, 1).substr(0, 300));
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return std::nullopt;
}

/// The script's ms/step, or nullopt (and why) when it failed.
std::optional<double> time_torch(const Options& o, const std::string& precision, std::int64_t batch, std::string& why) {
  const std::string command = fmt::format(
      "{} {} --device cuda:0 --batch {} --size {} --ngf {} --ndf {} --precision {} --warmup {} --steps {}{}",
      shell_quote(o.python), shell_quote(o.script), batch, o.size, o.ngf, o.ndf, precision, o.warmup, o.steps,
      o.cuda_graphs ? " --cuda-graph" : "");
  const Command result = run_command(command);
  const std::string key = "ms_per_step=";
  const std::size_t at = result.output.rfind(key);
  if (result.status == 0 && at != std::string::npos) {
    try {
      return std::stod(result.output.substr(at + key.size()));
    } catch (const std::exception&) {
    }
  }
  why = fmt::format("{} exited with {} and printed:\n{}", command, result.status, last_lines(result.output, 15));
  return std::nullopt;
}

struct Row {
  std::string precision;
  std::int64_t batch = 0;
  double kiln_ms = 0;
  std::optional<double> torch_ms;
};

int bench(const Options& o) {
  if (!torch::cuda::is_available()) {
    fmt::print("kiln_bench_gpu: no CUDA GPU here ({}); nothing to measure\n",
               KILN_WITH_CUDA ? "CUDA sees no device" : "kiln's LibTorch " TORCH_VERSION " was built without CUDA");
    return 0;
  }
  const c10::Device device("cuda:0");
  std::string why_no_torch;
  std::optional<std::string> torch = o.kiln_only ? std::nullopt : torch_version(o, why_no_torch);
  if (o.kiln_only) why_no_torch = "--kiln-only";

  const runner::DeviceDescription gpu = runner::describe(device, runner::Precision::tf32);
  fmt::print("kiln_bench_gpu: pix2pix at {0}x{0}, ngf {1}, ndf {2}, on {3} ({4}); kiln's LibTorch {5}, CUDA {6}, "
             "cuDNN {7}\n",
             o.size, o.ngf, o.ndf, gpu.device, gpu.name, gpu.torch_version, gpu.cuda_version, gpu.cudnn_version);
  if (torch)
    fmt::print("plain PyTorch: {} (torch {}) running {}\n", o.python, *torch, o.script);
  else
    fmt::print("plain PyTorch: not run: {}; timing kiln alone\n", why_no_torch);
  fmt::print("each side: {} warm-up steps, then {} timed between two CUDA synchronizations; "
             "random data already on the device\n\n",
             o.warmup, o.steps);
  std::fflush(stdout);

  std::vector<Row> rows;
  const std::string header = "precision  batch  kiln ms/step  kiln img/s  torch ms/step  torch img/s  kiln/torch  target  verdict";
  for (const std::string& precision : o.precisions) {
    for (const std::int64_t batch : o.batches) {
      Row row{precision, batch, time_kiln(o, precision, batch), std::nullopt};
      if (torch) {
        std::string why;
        row.torch_ms = time_torch(o, precision, batch, why);
        if (!row.torch_ms) fmt::print(stderr, "plain PyTorch failed at {} batch {}: {}\n", precision, batch, why);
      }
      rows.push_back(row);
      fmt::print("measured {} batch {}: kiln {:.2f} ms/step{}\n", precision, batch, row.kiln_ms,
                 row.torch_ms ? fmt::format(", PyTorch {:.2f} ms/step", *row.torch_ms) : std::string());
      std::fflush(stdout);
    }
  }

  fmt::print("\n{}\n", header);
  int passed = 0, judged = 0;
  for (const Row& row : rows) {
    const double kiln_images = 1000.0 * static_cast<double>(row.batch) / row.kiln_ms;
    std::string torch_cells = fmt::format("{:>13}  {:>11}  {:>10}", "-", "-", "-");
    std::string verdict = fmt::format("{:>6}  {:>7}", "-", "-");
    if (row.torch_ms) {
      const double ratio = row.kiln_ms / *row.torch_ms;
      torch_cells = fmt::format("{:13.2f}  {:11.1f}  {:10.2f}", *row.torch_ms,
                                1000.0 * static_cast<double>(row.batch) / *row.torch_ms, ratio);
      if (const std::optional<double> target = target_ratio(o, row.batch)) {
        ++judged;
        const bool pass = ratio <= *target;
        passed += pass;
        verdict = fmt::format("<={:4.2f}  {:>7}", *target, pass ? "PASS" : "MISS");
      }
    }
    fmt::print("{:<9}  {:5}  {:12.2f}  {:10.1f}  {}  {}\n", row.precision, row.batch, row.kiln_ms, kiln_images,
               torch_cells, verdict);
  }
  if (o.cuda_graphs)
    fmt::print("\ntarget (issue 12): kiln's replayed step <= 1.1x PyTorch's replayed step: ");
  else
    fmt::print("\ntargets (issue 12): kiln eager <= 0.7x plain PyTorch eager at batch 1, <= 1.0x at batch 16: ");
  if (judged > 0)
    fmt::print("{} of {} PASS\n", passed, judged);
  else
    fmt::print("not judged (no PyTorch figure for batch 1 or 16)\n");
  return 0;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options o;
  CLI::App app{"kiln_bench_gpu: kiln's pix2pix step against plain PyTorch's on one GPU, side by side "
               "(" KILN_SOURCE_DIR "/bench/README.md, \"GPU\")",
               "kiln_bench_gpu"};
  app.add_option("--precision", o.precisions, "precisions, comma-separated (tf32, bf16, fp32, fp16)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::IsMember({"fp32", "tf32", "bf16", "fp16"}));
  app.add_option("--batch", o.batches, "batch sizes, comma-separated")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  app.add_option("--size", o.size, "image side, a power of 2")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--ngf", o.ngf, "generator width")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--ndf", o.ndf, "discriminator width")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "untimed steps first, each side")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--steps", o.steps, "timed steps, each side")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--python", o.python, "the Python that runs the PyTorch script")->capture_default_str();
  app.add_option("--script", o.script, "the plain PyTorch script")->capture_default_str();
  app.add_flag("--kiln-only", o.kiln_only, "time kiln alone");
  app.add_flag("--cuda-graphs", o.cuda_graphs,
               "both sides capture the step as one CUDA graph after the warm-up and replay it (kiln: "
               "[experiment] cuda_graphs; the script: --cuda-graph)");
  CLI11_PARSE(app, argc, argv);
  try {
    return kiln::bench::bench(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
