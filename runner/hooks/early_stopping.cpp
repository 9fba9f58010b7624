// The built-in early_stopping hook: stops a run whose monitored summary stopped improving,
// and keeps the best checkpoint.
#include "hooks/early_stopping.hpp"

#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "config/summary_rules.hpp"

namespace kiln::runner {

EarlyStopping::Options EarlyStopping::Options::read(const Config& table, bool has_saver,
                                                    const std::vector<std::pair<std::string, std::string>>& rules) {
  Options options;
  options.monitor = table.get<std::string>("monitor");
  if (options.monitor.empty()) table.fail("monitor", "must name a summary tag, such as \"eval/l1\"");
  // [summaries] says which way the tag is better: the mode follows it, and may not contradict it.
  const auto rule = summary_rule_for(rules, options.monitor);
  const std::string mode = table.get_choice("mode", rule ? rule->second : "min", {"min", "max"});
  if (rule && mode != rule->second)
    table.fail("mode", fmt::format("mode = \"{}\", but [summaries] {} \"{}\", which covers {}: early stopping and "
                                   "the run's best values would disagree; drop `mode` or change the rule",
                                   mode, rule->second == "max" ? "maximize lists" : "minimize lists", rule->first,
                                   options.monitor));
  options.maximize = mode == "max";
  options.patience = table.get_positive<std::int64_t>("patience", 5);
  options.min_delta = table.get_non_negative<double>("min_delta", 0.0);
  options.keep_best = table.get_or<bool>("keep_best", has_saver);
  if (options.keep_best && !has_saver)
    table.fail("keep_best", "keep_best = true needs the saver, and this experiment has [saver] enabled = false");
  return options;
}

bool EarlyStopping::improves(double value) const {
  if (!std::isfinite(value)) return false;
  if (best_step_ < 0) return true;
  return options_.maximize ? value > best_value_ + options_.min_delta : value < best_value_ - options_.min_delta;
}

std::string EarlyStopping::stop_message() const {
  const std::string evaluations = fmt::format("{} evaluation{}", without_improvement_, without_improvement_ == 1 ? "" : "s");
  if (best_step_ < 0)
    return fmt::format("early stopping: {} had no finite value in {}", options_.monitor, evaluations);
  return fmt::format("early stopping: {} did not improve on {:.6g} (step {}) by more than {} in {}", options_.monitor,
                     best_value_, best_step_, options_.min_delta, evaluations);
}

void EarlyStopping::begin(RunContext& run) {
  // Its mode says which way the monitored tag is better: kiln compare, kiln report and
  // metrics_best follow it (an experiment's [summaries] rule for the tag still wins).
  run.summary_direction(options_.monitor, options_.maximize ? Direction::max : Direction::min);
  if (without_improvement_ >= options_.patience) {
    const std::string message = stop_message();
    run.event("early_stopping", fmt::format("{} (before this resume)", message));
    run.request_stop(message);
  }
}

void EarlyStopping::after_step(Step& step) {
  RunContext& run = step.run();
  const std::optional<RunContext::SummaryValue> latest = run.latest_summary(options_.monitor);
  if (!latest || latest->step <= last_step_) return;
  last_step_ = latest->step;
  ++evaluations_;
  if (improves(latest->value)) {
    best_value_ = latest->value;
    best_step_ = latest->step;
    without_improvement_ = 0;
    if (options_.keep_best) run.keep_checkpoint("best");
    return;
  }
  ++without_improvement_;
  if (without_improvement_ >= options_.patience && !run.stop_requested()) {
    const std::string message = stop_message();
    run.event("early_stopping", message);
    run.request_stop(message);
  }
}

void EarlyStopping::end(RunContext& run) {
  if (last_step_ >= 0) return;
  const std::string message =
      fmt::format("{} was never recorded in this run's {} steps, so early stopping never ran; is it the tag "
                  "a hook writes (kiln show lists the run's tags)?",
                  options_.monitor, run.global_step());
  run.event("early_stopping", message);
  // Also where the user is looking: a misspelt monitor must not pass as a completed run.
  spdlog::warn("early stopping: {}", message);
}

TensorMap EarlyStopping::state() const {
  TensorMap state("early_stopping state");
  state.set("best_value", torch::tensor(best_value_, torch::kDouble));
  state.set("best_step", torch::tensor(best_step_, torch::kLong));
  state.set("without_improvement", torch::tensor(without_improvement_, torch::kLong));
  state.set("last_step", torch::tensor(last_step_, torch::kLong));
  state.set("evaluations", torch::tensor(evaluations_, torch::kLong));
  return state;
}

void EarlyStopping::load_state(const TensorMap& state) {
  best_value_ = state.at("best_value").item<double>();
  best_step_ = state.at("best_step").item<std::int64_t>();
  without_improvement_ = state.at("without_improvement").item<std::int64_t>();
  last_step_ = state.at("last_step").item<std::int64_t>();
  evaluations_ = state.at("evaluations").item<std::int64_t>();
}

}  // namespace kiln::runner
