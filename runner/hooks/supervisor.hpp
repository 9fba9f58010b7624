// The built-in supervisor: periodic summaries and progress, stop at max_steps or on a signal.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/experiment.hpp"
#include "hooks/progress.hpp"
#include "kiln/hook.hpp"
#include "kiln/schedule.hpp"
#include "train/non_finite_policy.hpp"

namespace kiln::runner {

/// The supervisor's schedules are the SDK's, the same plugin hooks use.
using kiln::Schedule;

/// How the supervisor shows progress, from `[supervisor] progress`.
enum class ProgressMode {
  off,   ///< nothing
  log,   ///< a log line every log_every_steps steps
  line,  ///< a status line on stderr, redrawn in place a few times per second
};

/// `[supervisor] progress` made concrete: "auto" is a status line when stderr is a terminal
/// and log lines otherwise, and nothing at all when log_every_steps is 0 (which silenced
/// progress before the key existed); "log" with log_every_steps 0 is nothing too.
ProgressMode resolve_progress(const SupervisorSpec& spec, bool stderr_is_terminal);

/// Writes `loss/<name>` for every loss and `time/step_ms` (mean since the previous
/// summary) on its schedule, shows progress (the step, the recent rate, the ETA and a
/// per-step EMA of each loss), and turns SIGINT/SIGTERM into a clean stop. It runs after
/// the other hooks (priority::supervisor) so that it sees what they did.
class Supervisor : public Hook, public NonFinitePolicy {
 public:
  explicit Supervisor(SupervisorSpec spec);

  /// `[supervisor] on_nan`: "skip" drops a step whose loss is not finite, "stop" fails the run.
  bool skip_non_finite() const override { return spec_.on_nan == "skip"; }

  int default_priority() const override { return priority::supervisor; }
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  void end(RunContext& run) override;

 private:
  using Clock = std::chrono::steady_clock;

  /// Adds this step's losses to their averages and the step to the rate window.
  void track(const Step& step, Clock::time_point now);
  /// The progress line for `done` steps of `max_steps` at `now`.
  std::string progress_text(std::int64_t done, std::int64_t max_steps, Clock::time_point now) const;

  SupervisorSpec spec_;
  Schedule summaries_;
  Schedule logs_;
  Clock::time_point started_;
  Clock::time_point window_start_;  // start of the steps the next time/step_ms averages
  std::int64_t window_steps_ = 0;
  ProgressMode progress_ = ProgressMode::off;
  RateWindow rate_;
  std::vector<std::pair<std::string, LossAverage>> averages_;  // in step.losses() order
  Clock::time_point next_draw_;  // the status line is not drawn again before then
};

}  // namespace kiln::runner
