// kiln::Schedule: at multiples of N steps (a pure function of the step), or every T seconds
// in this process (its first call due); at most once per step.
#include "kiln/schedule.hpp"

#include <fmt/format.h>

namespace kiln {

Schedule::Schedule(std::int64_t every_steps, double every_secs) : every_steps_(every_steps), every_secs_(every_secs) {
  if (every_steps < 0) throw Error(fmt::format("a schedule's every_steps must be 0 or more, got {}", every_steps));
  if (!(every_secs >= 0)) throw Error(fmt::format("a schedule's every_secs must be 0 or more, got {}", every_secs));
}

Schedule Schedule::from_config(const Config& config, std::int64_t default_steps, double default_secs) {
  return Schedule(config.get_non_negative<std::int64_t>("every_steps", default_steps),
                  config.get_non_negative<double>("every_secs", default_secs));
}

bool Schedule::due(std::int64_t step, Clock::time_point now) {
  if (!enabled() || last_step_ == step) return false;
  // By steps nothing but the step decides, so a resumed run stays on the uninterrupted one's
  // grid; by time, the first call in this process starts the clock.
  bool fire = every_steps_ > 0 && step % every_steps_ == 0;
  if (every_secs_ > 0 &&
      (!last_step_ || std::chrono::duration<double>(now - last_time_).count() >= every_secs_))
    fire = true;
  if (fire) {
    last_step_ = step;
    last_time_ = now;
  }
  return fire;
}

}  // namespace kiln
