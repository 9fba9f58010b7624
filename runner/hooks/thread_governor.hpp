// The built-in thread governor: with `threads = 0`, fewer intra-op threads while other
// processes compete for the cores, all of them again when they are free.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "kiln/hook.hpp"

namespace kiln::runner {

/// LibTorch's intra-op threads split each operation's work evenly (OpenMP, static) and
/// spin while they wait. That is fastest on an idle machine, and several times slower as
/// soon as another process takes one of the cores: every parallel region waits for the
/// thread that shares a core with it (pix2pix on 2 cores, one taken: 4.5x its idle step at
/// 2 threads, 1.1x at 1). No fixed setting is right for both, so with `threads = 0` this
/// hook measures: after a short warm-up it times a window of steps at the current count,
/// then a window at the next count down (or up), keeps whichever is clearly faster, and
/// probes again later, less often while nothing changes. Each change is an event.
///
/// The thread count changes the order of some floating-point sums, so a run whose count
/// changed differs in the last bits from one that kept it; `threads = N` fixes the count
/// (and turns this hook off) for bit-identical reruns.
class ThreadGovernor : public Hook {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    int max_threads = 1;                  ///< the usable cores; the governor starts here
    int warmup_steps = 3;                 ///< steps left out at the start (allocations)
    int window_steps = 6;                 ///< steps timed for each setting; their median counts
    std::int64_t first_probe_every = 100; ///< steps between probes at first and after a change
    std::int64_t max_probe_every = 1600;  ///< probes grow this rare while nothing changes
    double gain = 0.85;                   ///< switch when the other median is below this share
    std::function<void(int)> set_threads; ///< at::set_num_threads when empty
    std::function<Clock::time_point()> clock;  ///< steady_clock::now when empty
  };

  explicit ThreadGovernor(Options options);

  /// After the supervisor: a step's time includes every other hook's work.
  int default_priority() const override { return priority::threads; }
  void begin(RunContext& run) override;
  void after_step(Step& step) override;

  /// The intra-op threads in use now.
  int threads() const { return threads_; }

 private:
  enum class Phase { warmup, measure, probe };

  Clock::time_point now() const;
  void apply(int threads);
  /// The count a probe tries next: down first, then up, alternating where both exist.
  int probe_target();
  void start_probe();
  void decide(RunContext& run);

  Options options_;
  int threads_;
  int settled_threads_;  // the count in use outside probes
  bool probe_down_ = true;
  Phase phase_ = Phase::warmup;
  int steps_in_phase_ = 0;
  std::int64_t probe_every_;
  std::int64_t steps_to_probe_ = 0;
  std::vector<double> current_ms_;
  std::vector<double> probe_ms_;
  Clock::time_point last_step_{};
};

}  // namespace kiln::runner
