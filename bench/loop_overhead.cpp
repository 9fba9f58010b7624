// kiln_bench_loop: kiln's training loop against the loop a LibTorch user writes by hand.
//
// Both loops train the same MLP on the same synthetic data in one process, in interleaved
// rounds, so that drift on a busy machine hits both alike; the median of the per-round
// ratios is the result. See README.md next to this file.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "config/experiment.hpp"
#include "hooks/supervisor.hpp"
#include "plugins/plugin_host.hpp"
#include "store/run_store.hpp"
#include "store/writer.hpp"
#include "timing.hpp"
#include "train/store_recorder.hpp"
#include "train/trainer.hpp"

namespace kiln::bench {
namespace {

namespace fs = std::filesystem;
using runner::ExperimentSpec;
using runner::PluginHost;
using runner::Trainer;
using runner::unix_now;

struct Options {
  std::int64_t steps = 500;  // per round and loop
  int rounds = 7;
  std::int64_t warmup = 200;  // steps of each loop before the first round, not counted
  std::int64_t batch = 128;
  std::int64_t inputs = 64;
  std::vector<std::int64_t> hidden{256, 256};
  std::int64_t size = 4096;  // examples in the dataset
  double lr = 1e-3;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int workers = 1;           // kiln's loader threads (kiln's default)
  std::int64_t summary_every = 1;  // the supervisor's summary_every_steps; 0: none
  double max_ratio = 0;      // 0: report only
};

// The synthetic_regression plugin's defaults that the hand-written loop must reproduce.
constexpr std::int64_t kDataSeed = 7;
constexpr std::int64_t kTeacherHidden = 32;
constexpr double kNoise = 0.01;

/// A fresh directory under the system temp path, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / fmt::format("kiln-bench-{}-{}", getpid(), counter++);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string experiment_toml(const Options& o, const fs::path& dir) {
  return fmt::format(R"toml([experiment]
name = "bench"
seed = 1
max_steps = {steps}
threads = {threads}
runs_dir = "{runs}"
database = "{db}"

[data]
plugin = "synthetic_regression"
size = {size}
inputs = {inputs}
outputs = 1
batch_size = {batch}
shuffle = true
workers = {workers}

[model]
plugin = "mlp"
inputs = {inputs}
hidden = [{hidden}]
outputs = 1

[[losses]]
plugin = "mse"

[[optimizers]]
name = "adam"
type = "adam"
lr = {lr}
losses = ["mse"]

[supervisor]
summary_every_steps = {summary_every}
log_every_steps = 0
)toml",
                     fmt::arg("steps", o.steps), fmt::arg("threads", o.threads),
                     fmt::arg("runs", (dir / "runs").string()), fmt::arg("db", (dir / "kiln.db").string()),
                     fmt::arg("size", o.size), fmt::arg("inputs", o.inputs), fmt::arg("batch", o.batch),
                     fmt::arg("workers", o.workers), fmt::arg("hidden", fmt::join(o.hidden, ", ")),
                     fmt::arg("lr", o.lr), fmt::arg("summary_every", o.summary_every));
}

/// Times whole steps from inside a run: from the end of step `from - 1` to the end of
/// step `to - 1`, so each step in between counts with its loader wait, its hook dispatch
/// and the supervisor's summaries, and the run's begin() and end() do not count. It runs
/// after every other hook.
class StepWindow : public Hook {
 public:
  StepWindow(std::int64_t from, std::int64_t to) : from_(from), to_(to) {}
  int default_priority() const override { return std::numeric_limits<int>::max(); }
  void after_step(Step& step) override {
    const std::int64_t k = step.global_step();
    const auto now = std::chrono::steady_clock::now();
    if (k >= from_ && k < to_) step_us_.push_back(std::chrono::duration<double, std::micro>(now - last_).count());
    last_ = now;
    if (k == from_ - 1) start_ = Snapshot::now();
    if (k == to_ - 1) {
      timing_ = Timing(start_, Snapshot::now());
      timing_.step_us = std::move(step_us_);
    }
  }
  const Timing& timing() const { return timing_; }

 private:
  std::int64_t from_, to_;
  std::chrono::steady_clock::time_point last_;
  std::vector<double> step_us_;
  Snapshot start_;
  Timing timing_;
};

/// kiln as `kiln run` drives it: a Trainer with the supervisor hook, its summaries going
/// through the same StoreRecorder to a store::Writer on a SQLite database. Each round is
/// a run of its own (a fresh Trainer whose run() is called, as `kiln run` does); its
/// first kRoundWarmup steps are not timed, nor are building it and flushing the writer.
class KilnLoop {
 public:
  /// Steps at the start of each run that are not timed: the first one allocates Adam's
  /// state and waits for the loader's first batch.
  static constexpr std::int64_t kRoundWarmup = 10;

  explicit KilnLoop(const fs::path& experiment)
      : spec_(runner::load_experiment(experiment)),
        host_(spec_.plugin_paths, KILN_PLUGIN_DIR),
        store_(spec_.database),
        writer_(spec_.database) {}

  /// Runs kRoundWarmup + `steps` steps and times the last `steps`.
  Timing run(std::int64_t steps) {
    ExperimentSpec spec = spec_;
    spec.max_steps = kRoundWarmup + steps;
    Trainer trainer(spec, host_);
    trainer.add_hook("supervisor", std::make_shared<runner::Supervisor>(spec.supervisor));
    auto window = std::make_shared<StepWindow>(kRoundWarmup, spec.max_steps);
    trainer.add_hook("bench", window, window->default_priority());
    spec.root.reject_unread("");

    runner::store::RunRecord record;
    record.name = store_.unique_run_name(spec.name);
    record.experiment = spec.file.string();
    record.host = runner::store::local_host_name();
    record.pid = static_cast<std::int64_t>(getpid());
    record.started = unix_now();
    const std::int64_t run_id = store_.create_run(record);
    runner::StoreRecorder recorder(writer_, run_id);
    trainer.attach(recorder, record.name, spec.runs_dir / record.name);

    trainer.run();
    if (trainer.global_step() != spec.max_steps)
      throw Error(fmt::format("kiln stopped at step {} of {}: {}", trainer.global_step(), spec.max_steps,
                              trainer.stop_reason()));
    // Leave nothing for the writer thread to do while the other loop is timed.
    writer_.flush();
    store_.finish_run(run_id, "completed", "", unix_now());
    return window->timing();
  }

  const ExperimentSpec& spec() const { return spec_; }
  PluginHost& host() { return host_; }

 private:
  ExperimentSpec spec_;
  PluginHost host_;
  runner::store::RunStore store_;
  runner::store::Writer writer_;
};

/// The loop a competent LibTorch user writes: the same data, model and optimizer, a new
/// random permutation each epoch, no summaries, no hooks, no loader thread.
class HandLoop {
 public:
  explicit HandLoop(const Options& o) : batch_(o.batch) {
    // The synthetic_regression plugin's data, generated the way it does (checked against
    // the plugin in main()).
    auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(kDataSeed));
    torch::NoGradGuard no_grad;
    x_ = at::randn({o.size, o.inputs}, gen);
    const auto w1 = at::randn({o.inputs, kTeacherHidden}, gen) / std::sqrt(static_cast<double>(o.inputs));
    const auto w2 = at::randn({kTeacherHidden, 1}, gen) / std::sqrt(static_cast<double>(kTeacherHidden));
    y_ = torch::tanh(x_.mm(w1)).mm(w2) + kNoise * at::randn({o.size, 1}, gen);

    std::int64_t width = o.inputs;
    for (const std::int64_t h : o.hidden) {
      net_->push_back(torch::nn::Linear(width, h));
      net_->push_back(torch::nn::ReLU());
      width = h;
    }
    net_->push_back(torch::nn::Linear(width, /*out_features=*/1));
    net_->train();
    optimizer_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(o.lr));
    batches_per_epoch_ = o.size / o.batch;  // drop_last, as kiln's loader by default
    cursor_ = batches_per_epoch_;
  }

  /// Runs `steps` steps, continuing where the previous call stopped, and times them.
  Timing run(std::int64_t steps) {
    std::vector<double> step_us;
    step_us.reserve(static_cast<std::size_t>(steps));
    const Snapshot start = Snapshot::now();
    auto last = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < steps; ++i) {
      step();
      const auto now = std::chrono::steady_clock::now();
      step_us.push_back(std::chrono::duration<double, std::micro>(now - last).count());
      last = now;
    }
    Timing timing(start, Snapshot::now());
    timing.step_us = std::move(step_us);
    return timing;
  }

  const torch::Tensor& x() const { return x_; }
  const torch::Tensor& y() const { return y_; }
  std::int64_t parameters() const {
    std::int64_t n = 0;
    for (const auto& p : net_->parameters()) n += p.numel();
    return n;
  }

 private:
  /// One step, as a LibTorch user writes it.
  void step() {
    if (cursor_ == batches_per_epoch_) {
      permutation_ = torch::randperm(x_.size(0), torch::kLong);
      cursor_ = 0;
    }
    const auto index = permutation_.narrow(0, cursor_++ * batch_, batch_);
    const auto x = x_.index_select(0, index);
    const auto y = y_.index_select(0, index);
    const auto loss = torch::mse_loss(net_->forward(x), y);
    optimizer_->zero_grad();
    loss.backward();
    optimizer_->step();
  }

  std::int64_t batch_;
  torch::Tensor x_, y_, permutation_;
  torch::nn::Sequential net_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::int64_t batches_per_epoch_;
  std::int64_t cursor_;
};

/// OpenBLAS's thread count, which is process-wide (the Trainer sets it to 1, so that BLAS
/// does not fight LibTorch's OpenMP threads); 0 when BLAS is not OpenBLAS.
int blas_threads() {
  auto* get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : 0;
}

/// A different model or data would make the ratio meaningless: refuse to go on.
void check_same_work(KilnLoop& kiln, const HandLoop& hand) {
  const auto& data = kiln.spec().data.source;
  const auto dataset = kiln.host().make_dataset(data.plugin, data.library, data.config);
  std::vector<Sample> all;
  for (std::int64_t i = 0; i < dataset->size(); ++i) all.push_back({i, 0});
  const Batch batch = dataset->get_batch(all);
  // y comes out of two matrix products, whose last bits depend on how many threads BLAS
  // used (the Trainer changes that); x must be identical.
  if (!torch::equal(batch.at("x"), hand.x()) || !torch::allclose(batch.at("y"), hand.y(), /*rtol=*/1e-5, /*atol=*/1e-6))
    throw Error("the hand-written loop's data differs from the synthetic_regression plugin's; "
                "update HandLoop to the plugin's generator");
  const auto& spec = kiln.spec().model;
  std::int64_t parameters = 0;
  for (const auto& p : kiln.host().make_model(spec.plugin, spec.library, spec.config)->parameters())
    parameters += p.numel();
  if (parameters != hand.parameters())
    throw Error(fmt::format("kiln's model has {} parameters, the hand-written one {}", parameters, hand.parameters()));
}

int bench(const Options& o) {
  TempDir dir;
  const fs::path experiment = dir.path() / "bench.toml";
  std::ofstream(experiment) << experiment_toml(o, dir.path());

  KilnLoop kiln(experiment);
  at::set_num_threads(o.threads);
  HandLoop hand(o);

  fmt::print("kiln_bench_loop: mlp {}-{}-1, batch {}, adam lr {}, {} threads, loader workers {}, {}\n", o.inputs,
             fmt::join(o.hidden, "-"), o.batch, o.lr, o.threads, o.workers,
             o.summary_every == 0   ? std::string("no summaries")
             : o.summary_every == 1 ? std::string("summaries every step to SQLite")
                                    : fmt::format("summaries every {} steps to SQLite", o.summary_every));
  fmt::print("{} rounds x {} steps per loop, interleaved, after {} warm-up steps each; every kiln round is a "
             "fresh run whose first {} steps are not timed\n\n",
             o.rounds, o.steps, o.warmup, KilnLoop::kRoundWarmup);

  // The Trainer sets the thread count from the experiment; the hand-written loop gets the
  // same one before every round.
  auto run_hand = [&](std::int64_t steps) {
    at::set_num_threads(o.threads);
    return hand.run(steps);
  };
  if (o.warmup > 0) {
    kiln.run(o.warmup);
    run_hand(o.warmup);
  }
  check_same_work(kiln, hand);

  std::vector<double> kiln_us, hand_us, ratios, overheads, kiln_cpu, hand_cpu, cpu_ratios, others;
  std::vector<double> kiln_steps, hand_steps;  // every timed step's wall time, in us
  const auto per_step = [&](double secs) { return 1e6 * secs / static_cast<double>(o.steps); };
  fmt::print("       wall us/step               cpu us/step (all threads)   other\n");
  fmt::print("round    kiln     hand  kiln/hand     kiln     hand  kiln/hand  procs\n");
  for (int r = 0; r < o.rounds; ++r) {
    Timing k, h;
    // Alternate which loop goes first, so that neither always inherits the other's wake.
    if (r % 2 == 0) {
      k = kiln.run(o.steps);
      h = run_hand(o.steps);
    } else {
      h = run_hand(o.steps);
      k = kiln.run(o.steps);
    }
    kiln_us.push_back(per_step(k.wall));
    hand_us.push_back(per_step(h.wall));
    ratios.push_back(k.wall / h.wall);
    overheads.push_back(kiln_us.back() - hand_us.back());
    kiln_cpu.push_back(per_step(k.cpu));
    hand_cpu.push_back(per_step(h.cpu));
    cpu_ratios.push_back(k.cpu / h.cpu);
    others.push_back(std::max(k.others, h.others));
    kiln_steps.insert(kiln_steps.end(), k.step_us.begin(), k.step_us.end());
    hand_steps.insert(hand_steps.end(), h.step_us.begin(), h.step_us.end());
    fmt::print("{:5}  {:7.1f}  {:7.1f}  {:9.3f}  {:7.1f}  {:7.1f}  {:9.3f}  {:4.0f}%\n", r + 1, kiln_us.back(),
               hand_us.back(), ratios.back(), kiln_cpu.back(), hand_cpu.back(), cpu_ratios.back(),
               100 * others.back());
    std::fflush(stdout);
  }
  const double ratio = median(ratios);
  fmt::print("median {:7.1f}  {:7.1f}  {:9.3f}  {:7.1f}  {:7.1f}  {:9.3f}  {:4.0f}%\n\n", median(kiln_us),
             median(hand_us), ratio, median(kiln_cpu), median(hand_cpu), median(cpu_ratios),
             100 * median(others));
  // Round 1 starts with kiln, so the hand-written loop never ran before the first Trainer.
  if (const int blas = blas_threads())
    fmt::print("OpenBLAS threads: {} in both loops (set process-wide by kiln's Trainer)\n\n", blas);
  // Where the time goes: uniformly slower steps, or a few long stalls?
  std::sort(kiln_steps.begin(), kiln_steps.end());
  std::sort(hand_steps.begin(), hand_steps.end());
  fmt::print("step wall us     p10      p50      p90      p99      max\n");
  for (const auto& [name, steps] : {std::pair{"kiln", &kiln_steps}, std::pair{"hand", &hand_steps}})
    fmt::print("{:8}  {:8.1f} {:8.1f} {:8.1f} {:8.1f} {:8.1f}\n", name, percentile(*steps, 0.1), percentile(*steps, 0.5),
               percentile(*steps, 0.9), percentile(*steps, 0.99), steps->back());
  fmt::print("typical step (p50): kiln/hand = {:.3f} ({:+.1f} us/step)\n\n",
             percentile(kiln_steps, 0.5) / percentile(hand_steps, 0.5),
             percentile(kiln_steps, 0.5) - percentile(hand_steps, 0.5));
  // A core taken by another process stalls every parallel region of a step: such rounds
  // measure the scheduler, not kiln.
  if (median(others) > 0.05)
    fmt::print("warning: other processes used {:.0f}% of the machine during the rounds (median); the "
               "wall-clock numbers are unreliable, run again on a quiet machine\n",
               100 * median(others));

  const double target = o.max_ratio > 0 ? o.max_ratio : 1.05;
  const bool ok = ratio <= target;
  fmt::print("kiln/hand = {:.3f} ({:+.1f} us/step), target <= {:.2f}: {}\n", ratio, median(overheads), target,
             ok ? "ok" : "TOO SLOW");
  return ok || o.max_ratio <= 0 ? 0 : 1;
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  kiln::bench::Options o;
  CLI::App app{"kiln_bench_loop: kiln's per-step overhead against a hand-written LibTorch loop "
               "(" KILN_SOURCE_DIR "/bench/README.md)",
               "kiln_bench_loop"};
  app.add_option("--steps", o.steps, "steps per round and loop")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--rounds", o.rounds, "interleaved rounds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "warm-up steps per loop, not counted")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--batch", o.batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--inputs", o.inputs, "input features")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--hidden", o.hidden, "hidden layer widths, comma-separated")
      ->capture_default_str()->delimiter(',')->check(CLI::PositiveNumber);
  app.add_option("--size", o.size, "examples in the dataset")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", o.lr, "Adam's learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "intra-op threads for both loops")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--workers", o.workers, "kiln's loader threads (0: load on the training thread)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--summary-every", o.summary_every,
                 "kiln's summaries every N steps (0: none; the last step of a run always has them)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--max-ratio", o.max_ratio, "exit 1 when the median kiln/hand ratio is above this")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (o.size < o.batch) {
    fmt::print(stderr, "error: --size {} is smaller than --batch {}\n", o.size, o.batch);
    return 2;
  }
  try {
    return kiln::bench::bench(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
