// The built-in supervisor: periodic summaries and progress, stop at max_steps or on a signal.
#include "hooks/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "hooks/signals.hpp"

namespace kiln::runner {

bool Schedule::due(std::int64_t step, std::chrono::steady_clock::time_point now) {
  if (!enabled() || last_step_ == step) return false;
  bool fire = !last_step_.has_value();
  if (every_steps_ > 0 && step % every_steps_ == 0) fire = true;
  if (every_secs_ > 0 && std::chrono::duration<double>(now - last_time_).count() >= every_secs_) fire = true;
  if (fire) {
    last_step_ = step;
    last_time_ = now;
  }
  return fire;
}

Supervisor::Supervisor(SupervisorSpec spec)
    : spec_(spec),
      summaries_(spec.summary_every_steps, spec.summary_every_secs),
      logs_(spec.log_every_steps, 0.0) {}

void Supervisor::begin(RunContext& run) {
  started_ = window_start_ = Clock::now();
  first_step_ = run.global_step();
  run.event("start", fmt::format("run {} starts at step {} of {}", run.run_name(), run.global_step(), run.max_steps()));
}

void Supervisor::after_step(Step& step) {
  const Clock::time_point now = Clock::now();
  ++window_steps_;
  const std::int64_t k = step.global_step();
  if (const int signal = take_stop_signal()) {
    step.run().event("signal", fmt::format("{} received: stopping at step {}", signal_name(signal),
                                           step.run().global_step()));
    step.run().request_stop(signal_name(signal));
  }
  if (spec_.max_time > 0 && std::chrono::duration<double>(now - started_).count() >= spec_.max_time)
    step.run().request_stop(fmt::format("max_time {} s reached", spec_.max_time));
  // The last step always gets its summaries, so every run records its final losses.
  const bool last = k + 1 >= step.run().max_steps() || step.run().stop_requested();
  if (summaries_.due(k, now) || last) {
    for (const auto& [name, value] : step.losses()) step.summary("loss/" + name, value);
    const double ms = std::chrono::duration<double, std::milli>(now - window_start_).count();
    step.summary("time/step_ms", ms / static_cast<double>(window_steps_));
    window_start_ = now;
    window_steps_ = 0;
  }
  if (logs_.due(k, now) || (last && logs_.enabled())) {
    std::string losses;
    for (const auto& [name, value] : step.losses()) losses += fmt::format("  {} {:.5g}", name, value.item<double>());
    const double secs = std::chrono::duration<double>(now - started_).count();
    const double rate = static_cast<double>(k + 1 - first_step_) / std::max(secs, 1e-9);
    spdlog::info("step {}/{}{}  ({:.1f} steps/s)", k + 1, step.run().max_steps(), losses, rate);
  }
}

void Supervisor::end(RunContext& run) {
  const double secs = std::chrono::duration<double>(Clock::now() - started_).count();
  run.event("stop", fmt::format("{} at step {} after {:.1f} s",
                                run.stop_requested() ? "stopped (" + run.stop_reason() + ")" : "finished",
                                run.global_step(), secs));
}

}  // namespace kiln::runner
