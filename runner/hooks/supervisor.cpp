// The built-in supervisor: periodic summaries and progress, stop at max_steps or on a signal.
#include "hooks/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "hooks/signals.hpp"
#include "hooks/status_line.hpp"

namespace kiln::runner {
namespace {

// A few redraws per second: enough to look live, few enough to cost nothing.
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
// Per step: the average spans about 50 steps, smooth enough to read, recent enough to follow.
constexpr double kLossDecay = 0.98;

}  // namespace

ProgressMode resolve_progress(const Supervisor::Options& options, bool stderr_is_terminal) {
  if (options.progress == "off") return ProgressMode::off;
  if (options.progress == "line") return ProgressMode::line;
  if (options.log_every_steps == 0) return ProgressMode::off;
  if (options.progress == "log") return ProgressMode::log;
  return stderr_is_terminal ? ProgressMode::line : ProgressMode::log;
}

Supervisor::Options Supervisor::Options::read(const Config& table) {
  Options options;
  options.summary_every_steps = table.get_non_negative<std::int64_t>("summary_every_steps", 10);
  options.summary_every_secs = table.get_non_negative<double>("summary_every_secs", 0.0);
  options.log_every_steps = table.get_non_negative<std::int64_t>("log_every_steps", 100);
  options.max_time = table.get_non_negative<double>("max_time", 0.0);
  options.on_nan = table.get_choice("on_nan", "stop", {"stop", "skip"});
  options.progress = table.get_choice("progress", "auto", {"auto", "line", "log", "off"});
  return options;
}

Supervisor::Supervisor(Options options)
    : options_(std::move(options)),
      summaries_(options_.summary_every_steps, options_.summary_every_secs),
      logs_(options_.log_every_steps, 0.0) {}

void Supervisor::begin(RunContext& run) {
  started_ = window_start_ = Clock::now();
  next_draw_ = started_;
  progress_ = resolve_progress(options_, StatusLine::on_stderr().is_terminal());
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
  if (options_.max_time > 0 && std::chrono::duration<double>(now - started_).count() >= options_.max_time)
    step.run().request_stop(fmt::format("max_time {} s reached", options_.max_time));
  // The last step always gets its summaries, so every run records its final losses.
  const bool last = k + 1 >= step.run().max_steps() || step.run().stop_requested();
  if (summaries_.due(k, now) || last) {
    for (const auto& [name, value] : step.losses()) step.summary("loss/" + name, value);
    const double ms = std::chrono::duration<double, std::milli>(now - window_start_).count();
    step.summary("time/step_ms", ms / static_cast<double>(window_steps_));
    window_start_ = now;
    window_steps_ = 0;
  }
  if (progress_ == ProgressMode::off) return;
  track(step, now);
  if (progress_ == ProgressMode::line && now >= next_draw_) {
    StatusLine::on_stderr().show(progress_text(k + 1, step.run().max_steps(), now));
    next_draw_ = now + kRedrawInterval;
  } else if (progress_ == ProgressMode::log && (logs_.due(k, now) || last)) {
    spdlog::info("{}", progress_text(k + 1, step.run().max_steps(), now));
  }
}

void Supervisor::end(RunContext& run) {
  const Clock::time_point now = Clock::now();
  if (progress_ == ProgressMode::line) {
    // The line ends as the run does, and with a newline, so what follows prints below it.
    if (!averages_.empty()) StatusLine::on_stderr().show(progress_text(run.global_step(), run.max_steps(), now));
    StatusLine::on_stderr().finish();
  }
  const double secs = std::chrono::duration<double>(now - started_).count();
  run.event("stop", fmt::format("{} at step {} after {:.1f} s",
                                run.stop_requested() ? "stopped (" + run.stop_reason() + ")" : "finished",
                                run.global_step(), secs));
}

void Supervisor::track(const Step& step, Clock::time_point now) {
  // The names are the same every step: compare them (no allocation), rebuild only if not.
  const TensorMap& losses = step.losses();
  bool same = averages_.size() == losses.size();
  auto average = averages_.begin();
  for (auto loss = losses.begin(); same && loss != losses.end(); ++loss, ++average) same = average->first == loss->first;
  if (!same) {
    averages_.clear();
    for (const auto& [name, value] : losses) averages_.emplace_back(name, LossAverage(kLossDecay));
  }
  average = averages_.begin();
  // item() waits for the value; on CPU the loss is already computed, so it is a copy.
  for (const auto& [name, value] : losses) (average++)->second.add(value.item<double>());
  rate_.add(std::chrono::duration<double>(now - started_).count(), step.global_step() + 1);
}

std::string Supervisor::progress_text(std::int64_t done, std::int64_t max_steps, Clock::time_point now) const {
  ProgressReport report;
  report.step = done;
  report.max_steps = max_steps;
  report.elapsed = std::chrono::duration<double>(now - started_).count();
  report.rate = rate_.rate();
  for (const auto& [name, average] : averages_) report.losses.emplace_back(name, average.value());
  return format_progress(report);
}

}  // namespace kiln::runner
