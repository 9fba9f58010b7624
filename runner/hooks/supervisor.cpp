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
  options.grad_norms = table.get_or<bool>("grad_norms", false);
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
  Decision decision;
  decision.step = k;
  decision.now = now;
  decision.last = k + 1 >= step.run().max_steps() || step.run().stop_requested();
  if (summaries_.due(k, now) || decision.last) {
    decision.summaries = true;
    const double ms = std::chrono::duration<double, std::milli>(now - window_start_).count();
    decision.step_ms = ms / static_cast<double>(window_steps_);
    window_start_ = now;
    window_steps_ = 0;
    // The rates this step's updates used (the schedules set the next step's at its start),
    // recorded with the step's other summaries.
    RunContext& run = step.run();
    for (const std::string& name : run.phase_names()) {
      PhaseHandle& phase = run.phase(name);
      for (std::size_t group = 0; group < phase.param_groups(); ++group)
        decision.rates.emplace_back(group == 0 ? "lr/" + name : fmt::format("lr/{}/{}", name, group), phase.lr(group));
    }
  }
  decisions_.push_back(decision);
  if (!hands_out_values(step.run())) on_values(values_of(step), step.run());
}

void Supervisor::on_values(const StepScalars& values, RunContext& run) {
  // A step whose values never came (it had no losses) still gets its time/step_ms.
  while (!decisions_.empty() && decisions_.front().step < values.step) {
    write_timing(decisions_.front(), run);
    decisions_.pop_front();
  }
  // Values of a step whose after_step() did not run here (the run failed in between) count for nothing.
  if (decisions_.empty() || decisions_.front().step != values.step) return;
  const Decision decision = decisions_.front();
  decisions_.pop_front();
  const std::int64_t k = decision.step;
  if (decision.summaries) {
    for (const auto& [name, value] : values.values) run.summary("loss/" + name, k, value);
    for (const auto& [phase, norm] : values.grad_norms) run.summary("grad_norm/" + phase, k, norm);
    write_timing(decision, run);
  }
  if (progress_ == ProgressMode::off) return;
  track(values, decision.now);
  if (progress_ == ProgressMode::line && decision.now >= next_draw_) {
    StatusLine::on_stderr().show(progress_text(k + 1, run.max_steps(), decision.now));
    next_draw_ = decision.now + kRedrawInterval;
  } else if (progress_ == ProgressMode::log && (logs_.due(k, decision.now) || decision.last)) {
    spdlog::info("{}", progress_text(k + 1, run.max_steps(), decision.now));
  }
}

void Supervisor::end(RunContext& run) {
  for (const Decision& decision : decisions_) write_timing(decision, run);
  decisions_.clear();
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

void Supervisor::write_timing(const Decision& decision, RunContext& run) {
  if (!decision.summaries) return;
  for (const auto& [tag, rate] : decision.rates) run.summary(tag, decision.step, rate);
  run.summary("time/step_ms", decision.step, decision.step_ms);
}

void Supervisor::track(const StepScalars& values, Clock::time_point now) {
  // The names are the same every step: compare them (no allocation), rebuild only if not.
  const auto& losses = values.values;
  bool same = averages_.size() == losses.size();
  auto average = averages_.begin();
  for (auto loss = losses.begin(); same && loss != losses.end(); ++loss, ++average) same = average->first == loss->first;
  if (!same) {
    averages_.clear();
    for (const auto& [name, value] : losses) averages_.emplace_back(name, LossAverage(kLossDecay));
  }
  average = averages_.begin();
  for (const auto& [name, value] : losses) (average++)->second.add(value);
  rate_.add(std::chrono::duration<double>(now - started_).count(), values.step + 1);
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
