// An [[optimizers]] entry's `schedule`: a LearningRateSchedule (built-in type or plugin) and
// its warmup, as the trainer applies it at the start of every step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/config.hpp"
#include "kiln/lr_schedule.hpp"

namespace kiln::runner {

class PluginHost;

/// One phase's schedule: lr(step, base) = schedule(step, base) * warmup(step), where
/// warmup(step) rises linearly from `warmup_start_factor` at step 0 to 1 at `warmup_steps`.
class PhaseSchedule {
 public:
  PhaseSchedule(std::shared_ptr<LearningRateSchedule> schedule, std::string description, std::int64_t warmup_steps,
                double warmup_start_factor);

  /// The learning rate of the update at global step `step` for a group configured with
  /// `base_lr`. A value that is negative or not finite is an Error naming the schedule.
  double lr(std::int64_t step, double base_lr, const RunContext& run);
  /// The schedule with its keys resolved, for messages: "cosine (total_steps 2000, min_lr 0),
  /// warmup 100 steps from 0x", "plugin 'inverse_sqrt'".
  const std::string& description() const { return description_; }

  /// The schedule's own state (plugins may have some), for checkpoints.
  TensorMap state() const { return schedule_->state(); }
  void load_state(const TensorMap& state) { schedule_->load_state(state); }

  std::int64_t warmup_steps() const { return warmup_steps_; }

 private:
  std::shared_ptr<LearningRateSchedule> schedule_;
  std::string description_;
  std::int64_t warmup_steps_;
  double warmup_start_factor_;
};

/// The `schedule` of an [[optimizers]] table `optimizer`, or null when it has none. The value
/// is a table (`schedule = { type = "cosine", warmup_steps = 100 }` or `[optimizers.schedule]`)
/// naming a built-in `type` or a `plugin` (with an optional `library`), built through `host`.
/// `max_steps` is the run's: the default length of cosine, linear and onecycle. Every bad key
/// is a ConfigError at its position.
std::unique_ptr<PhaseSchedule> read_schedule(const Config& optimizer, PluginHost& host, std::int64_t max_steps);

/// The built-in types' names, in the order messages list them.
std::vector<std::string> schedule_type_names();

/// A built-in type read from its table, and what description() shows of its keys.
struct BuiltSchedule {
  std::shared_ptr<LearningRateSchedule> schedule;
  std::string description;  ///< "cosine (total_steps 2000, min_lr 0)"
};

/// Reads built-in `type`'s own keys from `table` (train/lr_schedules_builtin.cpp); an Error
/// for a name not in schedule_type_names().
BuiltSchedule make_builtin_schedule(const std::string& type, const Config& table, std::int64_t max_steps);

}  // namespace kiln::runner
