// An optimizer's `schedule` table read into a PhaseSchedule: a built-in type or a plugin,
// times its warmup, with the rate checked at every step.
#include "train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "kiln/error.hpp"
#include "plugins/plugin_host.hpp"

namespace kiln::runner {

PhaseSchedule::PhaseSchedule(std::shared_ptr<LearningRateSchedule> schedule, std::string description,
                             std::int64_t warmup_steps, double warmup_start_factor)
    : schedule_(std::move(schedule)),
      description_(std::move(description)),
      warmup_steps_(warmup_steps),
      warmup_start_factor_(warmup_start_factor) {
  if (!schedule_) throw Error(fmt::format("schedule {} was built as null", description_));
  if (warmup_steps_ < 0) throw Error(fmt::format("schedule {}: warmup_steps must be 0 or more, got {}", description_,
                                                 warmup_steps_));
  if (!(warmup_start_factor_ >= 0 && warmup_start_factor_ <= 1))
    throw Error(fmt::format("schedule {}: warmup_start_factor must be in [0, 1], got {}", description_,
                            warmup_start_factor_));
}

double PhaseSchedule::lr(std::int64_t step, double base_lr, const RunContext& run) {
  const double rate = schedule_->lr(step, base_lr, run);
  // Checked before the warmup: a factor of 0 would turn inf into nan and hide which it was.
  if (!std::isfinite(rate) || rate < 0)
    throw Error(fmt::format(
        "schedule {}: the rate at step {} is {}; a learning rate must be a finite number, 0 or more", description_,
        step, rate));
  if (step >= warmup_steps_) return rate;
  const double progress = static_cast<double>(std::max<std::int64_t>(step, 0)) / static_cast<double>(warmup_steps_);
  return rate * (warmup_start_factor_ + (1 - warmup_start_factor_) * progress);
}

std::unique_ptr<PhaseSchedule> read_schedule(const Config& optimizer, PluginHost& host, std::int64_t max_steps) {
  if (!optimizer.contains("schedule")) return nullptr;
  if (!optimizer.has_table("schedule"))
    optimizer.fail("schedule",
                   "must be a table naming a `type` or a `plugin`, e.g. schedule = { type = \"cosine\", "
                   "warmup_steps = 100 }");
  const Config table = optimizer.table("schedule");
  const bool has_type = table.contains("type");
  const bool has_plugin = table.contains("plugin");
  if (has_type && has_plugin) table.fail("plugin", "a schedule is a built-in `type` or a `plugin`, not both");
  if (!has_type && !has_plugin)
    table.fail("", fmt::format("needs a built-in `type` ({}) or a `plugin`", fmt::join(schedule_type_names(), ", ")));

  BuiltSchedule made;
  if (has_type) {
    if (table.contains("library")) table.fail("library", "goes with `plugin`: a built-in `type` has no library");
    made = make_builtin_schedule(table.get_choice("type", schedule_type_names()), table, max_steps);
  } else {
    const auto plugin = table.get<std::string>("plugin");
    const auto library = table.get_or<std::string>("library", "");
    made.schedule = host.make<LearningRateSchedule>(plugin, library, table);
    made.description =
        library.empty() ? fmt::format("plugin '{}'", plugin) : fmt::format("plugin '{}' from '{}'", plugin, library);
  }

  // The warmup is the runner's, for built-in types and plugins alike.
  const auto warmup_steps = table.get_non_negative<std::int64_t>("warmup_steps", 0);
  const auto warmup_start_factor = table.get_in_range<double>("warmup_start_factor", 0.0, 0.0, 1.0);
  if (warmup_steps == 0 && table.contains("warmup_start_factor"))
    table.fail("warmup_start_factor", "has no effect without warmup_steps (the steps it rises over)");
  if (warmup_steps > 0)
    made.description += fmt::format(", warmup {} steps from {}x", warmup_steps, warmup_start_factor);
  // Not an error: a short trial of a long run's file (--set experiment.max_steps=10) is fine.
  if (warmup_steps >= max_steps)
    spdlog::warn("{}: {}.warmup_steps = {} is not below max_steps = {}: the rate rises for the whole run and never "
                 "reaches its configured value",
                 table.where("warmup_steps").str(), table.path(), warmup_steps, max_steps);
  return std::make_unique<PhaseSchedule>(std::move(made.schedule), std::move(made.description), warmup_steps,
                                         warmup_start_factor);
}

}  // namespace kiln::runner
