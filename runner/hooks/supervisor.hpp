// The built-in supervisor: periodic summaries and progress, stop at max_steps or on a signal.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hooks/progress.hpp"
#include "kiln/config.hpp"
#include "kiln/hook.hpp"
#include "kiln/schedule.hpp"
#include "train/non_finite_policy.hpp"
#include "train/step_values.hpp"

namespace kiln::runner {

/// The supervisor's schedules are the SDK's, the same plugin hooks use.
using kiln::Schedule;

/// How the supervisor shows progress, from `[supervisor] progress`.
enum class ProgressMode {
  off,   ///< nothing
  log,   ///< a log line every log_every_steps steps
  line,  ///< a status line on stderr, redrawn in place a few times per second
};

/// Writes `loss/<name>` for every loss, `lr/<phase>` for every phase (its first parameter
/// group's; `lr/<phase>/<group>` for the others of a phase with more), `grad_norm/<phase>` where the trainer gathers it (a
/// clip, or `grad_norms = true`) and `time/step_ms` (mean since the previous summary) on its
/// schedule, shows progress (the step, the recent rate, the ETA and a
/// per-step EMA of each loss), and turns SIGINT/SIGTERM into a clean stop. It runs after
/// the other hooks (priority::supervisor) so that it sees what they did. What is due is
/// decided at each step's after_step(); the loss values come through on_values (on CUDA a
/// step later) and are recorded, and shown, at the step they belong to.
class Supervisor : public Hook, public NonFinitePolicy, public StepValuesListener {
 public:
  /// [supervisor]
  struct Options {
    std::int64_t summary_every_steps = 10;  ///< 0 disables step-based summaries
    double summary_every_secs = 0;          ///< 0 disables time-based summaries
    std::int64_t log_every_steps = 100;     ///< progress lines on stderr; 0 disables
    /// "auto" (a status line on a terminal, else log lines), "line", "log" or "off"
    std::string progress = "auto";
    double max_time = 0;                    ///< seconds of training per process; 0 = no limit
    /// "stop" or "skip" (that step's updates). On CUDA "stop" is decided from the collected
    /// values, at most a step late, and "skip" reads each phase's loss before its update (a
    /// sync per phase): docs/architecture.md, "One training step".
    std::string on_nan = "stop";
    /// Every phase's gradient norm (before clipping) as `grad_norm/<phase>`, also where no
    /// clip_norm or clip_value needs it.
    bool grad_norms = false;

    /// The [supervisor] table (empty when the file has none); a bad value is a ConfigError at its key.
    static Options read(const Config& table);
  };

  explicit Supervisor(Options options);
  /// From its [supervisor] table, as a plugin hook is built from its own.
  explicit Supervisor(const Config& table) : Supervisor(Options::read(table)) {}

  /// `[supervisor] on_nan`: "skip" drops a step whose loss is not finite, "stop" fails the run.
  bool skip_non_finite() const override { return options_.on_nan == "skip"; }

  int default_priority() const override { return priority::supervisor; }
  void begin(RunContext& run) override;
  void after_step(Step& step) override;
  void end(RunContext& run) override;
  /// The loss/<name> summaries of a step whose summaries were due, then its time/step_ms,
  /// and its progress.
  void on_values(const StepScalars& values, RunContext& run) override;
  bool wants_grad_norms() const override { return options_.grad_norms; }

 private:
  using Clock = std::chrono::steady_clock;

  /// What after_step() decided for a step, for when its values come.
  struct Decision {
    std::int64_t step = 0;
    Clock::time_point now;
    bool last = false;       // the run's last step: everything is due
    bool summaries = false;  // loss/<name> and time/step_ms are written
    double step_ms = 0;      // time/step_ms's value
    std::vector<std::pair<std::string, double>> rates;  // lr/<phase>[/<group>] and the step's rate
  };

  /// A step's summaries that need no loss values (its rates, time/step_ms), when they are due.
  void write_timing(const Decision& decision, RunContext& run);

  /// Adds a step's losses to their averages and the step to the rate window.
  void track(const StepScalars& values, Clock::time_point now);
  /// The progress line for `done` steps of `max_steps` at `now`.
  std::string progress_text(std::int64_t done, std::int64_t max_steps, Clock::time_point now) const;

  Options options_;
  Schedule summaries_;
  Schedule logs_;
  Clock::time_point started_;
  Clock::time_point window_start_;  // start of the steps the next time/step_ms averages
  std::int64_t window_steps_ = 0;
  ProgressMode progress_ = ProgressMode::off;
  RateWindow rate_;
  std::vector<std::pair<std::string, LossAverage>> averages_;  // in step.losses() order
  Clock::time_point next_draw_;  // the status line is not drawn again before then
  std::deque<Decision> decisions_;  // steps whose values have not come yet, oldest first
};

/// `[supervisor] progress` made concrete: "auto" is a status line when stderr is a terminal
/// and log lines otherwise, and nothing at all when log_every_steps is 0 (which silenced
/// progress before the key existed); "log" with log_every_steps 0 is nothing too.
ProgressMode resolve_progress(const Supervisor::Options& options, bool stderr_is_terminal);

}  // namespace kiln::runner
