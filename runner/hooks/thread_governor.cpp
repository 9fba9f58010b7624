// The built-in thread governor: with `threads = 0`, fewer intra-op threads while other
// processes compete for the cores, all of them again when they are free.
#include "hooks/thread_governor.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <torch/torch.h>

namespace kiln::runner {
namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace

ThreadGovernor::ThreadGovernor(Options options)
    : options_(std::move(options)),
      threads_(std::max(1, options_.max_threads)),
      settled_threads_(threads_),
      probe_every_(options_.first_probe_every) {}

ThreadGovernor::Clock::time_point ThreadGovernor::now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

void ThreadGovernor::apply(int threads) {
  threads_ = threads;
  if (options_.set_threads) options_.set_threads(threads);
  else at::set_num_threads(threads);
}

void ThreadGovernor::begin(RunContext&) {
  apply(settled_threads_);
  phase_ = Phase::warmup;
  steps_in_phase_ = 0;
  current_ms_.clear();
  probe_ms_.clear();
  last_step_ = now();
}

int ThreadGovernor::probe_target() {
  const int down = std::max(1, settled_threads_ / 2);
  const int up = std::min(options_.max_threads, settled_threads_ * 2);
  const bool can_down = down < settled_threads_;
  const bool can_up = up > settled_threads_;
  if (can_down && can_up) {
    const int target = probe_down_ ? down : up;
    probe_down_ = !probe_down_;
    return target;
  }
  return can_down ? down : up;
}

void ThreadGovernor::start_probe() {
  phase_ = Phase::probe;
  steps_in_phase_ = 0;
  probe_ms_.clear();
  apply(probe_target());
}

void ThreadGovernor::decide(RunContext& run) {
  const double current = median(current_ms_);
  const double probe = median(probe_ms_);
  if (probe < options_.gain * current) {
    run.event("threads", fmt::format("intra-op threads {} -> {}: a step took {:.1f} ms at {} and {:.1f} ms at {}{}",
                                     settled_threads_, threads_, current, settled_threads_, probe, threads_,
                                     threads_ < settled_threads_ ? " (other processes are using the cores)" : ""));
    settled_threads_ = threads_;
    probe_every_ = options_.first_probe_every;
  } else {
    apply(settled_threads_);
    probe_every_ = std::min(options_.max_probe_every, probe_every_ * 2);
  }
  phase_ = Phase::measure;
  steps_in_phase_ = 0;
  current_ms_.clear();
  steps_to_probe_ = probe_every_;
}

void ThreadGovernor::after_step(Step& step) {
  const Clock::time_point t = now();
  const double ms = std::chrono::duration<double, std::milli>(t - last_step_).count();
  last_step_ = t;
  ++steps_in_phase_;
  switch (phase_) {
    case Phase::warmup:
      if (steps_in_phase_ >= options_.warmup_steps) {
        phase_ = Phase::measure;
        steps_in_phase_ = 0;
        steps_to_probe_ = 0;  // the first probe follows the first window
      }
      break;
    case Phase::measure:
      // The window just before a probe is the one it is compared with: the load then is
      // the load during the probe, as nearly as can be had.
      current_ms_.push_back(ms);
      if (current_ms_.size() > static_cast<std::size_t>(options_.window_steps)) current_ms_.erase(current_ms_.begin());
      if (--steps_to_probe_ <= 0 && current_ms_.size() == static_cast<std::size_t>(options_.window_steps)) {
        if (options_.max_threads > 1) start_probe();
      }
      break;
    case Phase::probe:
      // The first step at the new count pays for the change (threads waking or parking).
      if (steps_in_phase_ > 1) probe_ms_.push_back(ms);
      if (probe_ms_.size() == static_cast<std::size_t>(options_.window_steps)) decide(step.run());
      break;
  }
}

}  // namespace kiln::runner
