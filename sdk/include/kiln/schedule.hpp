// kiln::Schedule: when something periodic is due, every N steps or every T seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "kiln/config.hpp"
#include "kiln/version.hpp"

namespace kiln {

/// Decides when a hook's periodic work is due, every N steps or every T seconds.
///
/// By steps it is a pure function of the step: due at every multiple of `every_steps`
/// (step % N == 0), so at step 0, a fresh run's first step (Step::global_step() in
/// after_step()). A run resumed at step 1037 with every_steps = 100 is next due at 1100, as the
/// uninterrupted run was: nothing about a step schedule needs to be in a checkpoint.
///
/// By time it is local to the process: due on its first call in the process and then once
/// `every_secs` seconds have passed since it was last due, so a resumed run starts its clock
/// again (and is due on its first call). Either way it is due at most once per step. With
/// both at 0 it is never due. The built-in supervisor's summaries follow the same rule.
/// \code
///   explicit MyHook(const kiln::Config& config) : schedule_(kiln::Schedule::from_config(config, 100)) {}
///   void after_step(kiln::Step& step) override {
///     if (schedule_.due(step.global_step())) step.summary("my/metric", measure());
///   }
/// \endcode
class KILN_API Schedule {
 public:
  using Clock = std::chrono::steady_clock;

  /// Never due.
  Schedule() = default;
  /// Every `every_steps` steps (0: not by steps) or `every_secs` seconds (0: not by time);
  /// a negative value is an Error.
  Schedule(std::int64_t every_steps, double every_secs);

  /// Reads a hook table's `every_steps` (default `default_steps`) and `every_secs` (default
  /// `default_secs`) with Config::get_non_negative: a negative value, or an every_secs that
  /// is nan or infinite, is a ConfigError at its key.
  static Schedule from_config(const Config& config, std::int64_t default_steps, double default_secs = 0);

  /// Whether the work is due at `step` (the step's global_step()). A call that answers true
  /// counts as the work done (a second call for the same step answers false), and starts the
  /// period of `every_secs` again.
  bool due(std::int64_t step) { return due(step, Clock::now()); }
  /// The same at an explicit time, for tests.
  bool due(std::int64_t step, Clock::time_point now);

  /// Whether it can ever be due.
  bool enabled() const { return every_steps_ > 0 || every_secs_ > 0; }
  std::int64_t every_steps() const { return every_steps_; }
  double every_secs() const { return every_secs_; }
  /// The step it was last due at, if any.
  std::optional<std::int64_t> last_step() const { return last_step_; }

  /// Forgets when it was last due: the time period starts again at the next call, which is
  /// due by time as the first one was, and the step it was last due at is forgotten. By
  /// steps it stays due at the multiples of every_steps only.
  void reset() { last_step_.reset(); }

 private:
  std::int64_t every_steps_ = 0;
  double every_secs_ = 0;
  std::optional<std::int64_t> last_step_;
  Clock::time_point last_time_;
};

}  // namespace kiln
