// The built-in schedule types (constant, step, multistep, exponential, cosine, linear,
// onecycle): each reads its keys from the `schedule` table and gives PyTorch's rate at a step.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kiln/error.hpp"
#include "train/lr_schedule.hpp"

namespace kiln::runner {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// A built-in schedule: `rate(step, base_lr)` is the whole of it, so it has no state.
class FunctionSchedule final : public LearningRateSchedule {
 public:
  explicit FunctionSchedule(std::function<double(std::int64_t, double)> rate) : rate_(std::move(rate)) {}
  double lr(std::int64_t step, double base_lr, const RunContext&) override { return rate_(step, base_lr); }

 private:
  std::function<double(std::int64_t, double)> rate_;
};

BuiltSchedule built(std::string description, std::function<double(std::int64_t, double)> rate) {
  return {std::make_shared<FunctionSchedule>(std::move(rate)), std::move(description)};
}

BuiltSchedule constant(const Config&, std::int64_t) {
  return built("constant", [](std::int64_t, double base_lr) { return base_lr; });
}

/// StepLR: gamma once every step_size steps.
BuiltSchedule step(const Config& table, std::int64_t) {
  const auto step_size = table.get_positive<std::int64_t>("step_size");
  const auto gamma = table.get_positive<double>("gamma", 0.1);
  return built(fmt::format("step (step_size {}, gamma {})", step_size, gamma),
               [=](std::int64_t at, double base_lr) { return base_lr * std::pow(gamma, at / step_size); });
}

/// MultiStepLR: gamma once at each milestone (from that step on).
BuiltSchedule multistep(const Config& table, std::int64_t) {
  const auto milestones = table.get_positive<std::vector<std::int64_t>>("milestones");
  if (milestones.empty()) table.fail("milestones", "needs at least one step, e.g. milestones = [1000, 1500]");
  for (std::size_t i = 1; i < milestones.size(); ++i)
    if (milestones[i] <= milestones[i - 1])
      table.fail("milestones", fmt::format("must be strictly increasing, got {} after {}", milestones[i],
                                           milestones[i - 1]));
  const auto gamma = table.get_positive<double>("gamma", 0.1);
  return built(fmt::format("multistep (milestones [{}], gamma {})", fmt::join(milestones, ", "), gamma),
               [=](std::int64_t at, double base_lr) {
                 const auto passed = std::upper_bound(milestones.begin(), milestones.end(), at) - milestones.begin();
                 return base_lr * std::pow(gamma, static_cast<double>(passed));
               });
}

/// ExponentialLR: gamma every step.
BuiltSchedule exponential(const Config& table, std::int64_t) {
  const auto gamma = table.get_in_range<double>("gamma", 0.0, 1.0, Bounds::open_closed);
  return built(fmt::format("exponential (gamma {})", gamma), [=](std::int64_t at, double base_lr) {
    return base_lr * std::pow(gamma, static_cast<double>(at));
  });
}

/// CosineAnnealingLR's closed form, half a cosine from base_lr down to min_lr over
/// total_steps, then held at min_lr (PyTorch's would climb again).
BuiltSchedule cosine(const Config& table, std::int64_t max_steps) {
  const auto total = table.get_positive<std::int64_t>("total_steps", max_steps);
  const auto min_lr = table.get_non_negative<double>("min_lr", 0.0);
  return built(fmt::format("cosine (total_steps {}, min_lr {})", total, min_lr), [=](std::int64_t at, double base_lr) {
    if (at >= total) return min_lr;
    return min_lr + (base_lr - min_lr) * (1 + std::cos(kPi * static_cast<double>(at) / static_cast<double>(total))) / 2;
  });
}

/// Where a linear schedule starts to move: `start_step`, or `start_fraction` of the run's
/// max_steps (pix2pix's "the second half", whatever the run's length), else 0.
std::int64_t linear_start(const Config& table, std::int64_t max_steps) {
  if (table.contains("start_fraction")) {
    if (table.contains("start_step"))
      table.fail("start_fraction", "give start_step or start_fraction, not both");
    const auto fraction = table.get_in_range<double>("start_fraction", 0.0, 1.0, Bounds::closed_open);
    return static_cast<std::int64_t>(std::floor(fraction * static_cast<double>(max_steps)));
  }
  const auto start_step = table.get_non_negative<std::int64_t>("start_step", 0);
  if (!table.contains("total_steps") && start_step >= max_steps)
    table.fail("start_step", fmt::format("must be less than max_steps ({}) when total_steps is not given, got {}",
                                         max_steps, start_step));
  return start_step;
}

/// LinearLR, starting at start_step: the factor is start_factor until then, moves linearly to
/// end_factor over total_steps (by default the rest of the run), and stays there.
BuiltSchedule linear(const Config& table, std::int64_t max_steps) {
  const auto start_factor = table.get_non_negative<double>("start_factor", 1.0);
  const auto end_factor = table.get_non_negative<double>("end_factor", 0.0);
  const auto start_step = linear_start(table, max_steps);
  const auto total = table.get_positive<std::int64_t>("total_steps", max_steps - start_step);
  return built(fmt::format("linear (start_factor {}, end_factor {}, start_step {}, total_steps {})", start_factor,
                           end_factor, start_step, total),
               [=](std::int64_t at, double base_lr) {
                 const auto into = std::clamp<std::int64_t>(at - start_step, 0, total);
                 const double progress = static_cast<double>(into) / static_cast<double>(total);
                 return base_lr * (start_factor + (end_factor - start_factor) * progress);
               });
}

/// OneCycleLR's learning rate (not its momentum): from max_lr / div_factor up to max_lr over
/// the first pct_start of total_steps, then down to max_lr / div_factor / final_div_factor
/// (three_phase: back to the start over as many steps, then down). Steps from total_steps - 1
/// on keep the last rate, where PyTorch refuses to go further.
BuiltSchedule onecycle(const Config& table, std::int64_t max_steps) {
  std::optional<double> max_lr;  // the optimizer's lr when not given
  if (table.contains("max_lr")) max_lr = table.get_positive<double>("max_lr");
  const auto total = table.get_positive<std::int64_t>("total_steps", max_steps);
  const auto pct_start = table.get_in_range<double>("pct_start", 0.3, 0.0, 1.0, Bounds::open);
  const auto strategy = table.get_choice("anneal_strategy", "cos", {"cos", "linear"});
  const auto div_factor = table.get_positive<double>("div_factor", 25.0);
  const auto final_div_factor = table.get_positive<double>("final_div_factor", 1e4);
  const auto three_phase = table.get_or<bool>("three_phase", false);

  // PyTorch's phase ends: the step at which each phase reaches its end rate.
  const double rise_end = pct_start * static_cast<double>(total) - 1;
  const double fall_end = three_phase ? 2 * pct_start * static_cast<double>(total) - 2 : -1;
  const double last = static_cast<double>(total) - 1;
  if (rise_end <= 0)
    table.fail("pct_start", fmt::format("pct_start * total_steps must be more than 1 so that the rise has a step, got "
                                        "{} * {}",
                                        pct_start, total));
  // Two phases always have a decline (pct_start < 1); the third needs pct_start < (total + 1) / 2 total.
  if (three_phase && !(fall_end < last))
    table.fail("pct_start", fmt::format(
                                "leaves no steps for the third phase with three_phase and total_steps {}, got {}",
                                total, pct_start));

  const bool cos = strategy == "cos";
  const auto anneal = [cos](double from, double to, double pct) {
    return cos ? to + (from - to) / 2 * (std::cos(kPi * pct) + 1) : from + (to - from) * pct;
  };
  std::string description = fmt::format(
      "onecycle (max_lr {}, total_steps {}, pct_start {}, anneal_strategy {}, div_factor {}, final_div_factor {}, "
      "three_phase {})",
      max_lr ? fmt::format("{}", *max_lr) : "as lr", total, pct_start, strategy, div_factor, final_div_factor,
      three_phase);
  return built(std::move(description), [=](std::int64_t at, double base_lr) {
    const double peak = max_lr.value_or(base_lr);
    const double initial = peak / div_factor;
    const double floor = initial / final_div_factor;
    const double x = static_cast<double>(std::min<std::int64_t>(at, total - 1));
    if (x <= rise_end) return anneal(initial, peak, x / rise_end);
    if (!three_phase) return anneal(peak, floor, (x - rise_end) / (last - rise_end));
    if (x <= fall_end) return anneal(peak, initial, (x - rise_end) / (fall_end - rise_end));
    return anneal(initial, floor, (x - fall_end) / (last - fall_end));
  });
}

struct BuiltInType {
  const char* name;
  BuiltSchedule (*read)(const Config& table, std::int64_t max_steps);
};

constexpr BuiltInType kTypes[] = {
    {"constant", constant}, {"step", step},     {"multistep", multistep}, {"exponential", exponential},
    {"cosine", cosine},     {"linear", linear}, {"onecycle", onecycle},
};

}  // namespace

std::vector<std::string> schedule_type_names() {
  std::vector<std::string> names;
  for (const BuiltInType& type : kTypes) names.emplace_back(type.name);
  return names;
}

BuiltSchedule make_builtin_schedule(const std::string& type, const Config& table, std::int64_t max_steps) {
  for (const BuiltInType& known : kTypes)
    if (type == known.name) return known.read(table, max_steps);
  throw Error(fmt::format("no schedule type '{}' (types: {})", type, fmt::join(schedule_type_names(), ", ")));
}

}  // namespace kiln::runner
