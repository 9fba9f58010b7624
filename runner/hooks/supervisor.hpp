// The built-in supervisor: periodic summaries and progress, stop at max_steps or on a signal.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "config/experiment.hpp"
#include "kiln/hook.hpp"

namespace kiln::runner {

/// Decides when something periodic is due: every N steps (step % N == 0) or every T
/// seconds, at most once per step; the first call is always due.
class Schedule {
 public:
  Schedule(std::int64_t every_steps, double every_secs) : every_steps_(every_steps), every_secs_(every_secs) {}
  bool due(std::int64_t step, std::chrono::steady_clock::time_point now);
  bool enabled() const { return every_steps_ > 0 || every_secs_ > 0; }

 private:
  std::int64_t every_steps_;
  double every_secs_;
  std::optional<std::int64_t> last_step_;
  std::chrono::steady_clock::time_point last_time_;
};

/// Writes `loss/<name>` for every loss and `time/step_ms` (mean since the previous
/// summary) on its schedule, logs progress, and turns SIGINT/SIGTERM into a clean stop.
/// It runs after the other hooks (priority 1000) so that it sees what they did.
class Supervisor : public Hook {
 public:
  explicit Supervisor(SupervisorSpec spec);

  int default_priority() const override { return 1000; }
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  void end(RunContext& run) override;

 private:
  using Clock = std::chrono::steady_clock;

  SupervisorSpec spec_;
  Schedule summaries_;
  Schedule logs_;
  Clock::time_point started_;
  Clock::time_point window_start_;  // start of the steps the next time/step_ms averages
  std::int64_t window_steps_ = 0;
  std::int64_t first_step_ = 0;
};

}  // namespace kiln::runner
