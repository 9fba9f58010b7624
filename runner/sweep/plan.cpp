// make_plan(): flags and [sweep] merged, the grid's product and the seeded draws.
#include "sweep/plan.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "common/splitmix.hpp"
#include "store/json_text.hpp"

namespace kiln::runner::sweep {
namespace {

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

/// "KEY=REST" as (KEY, REST); a PlanError naming the flag when there is no '=' or no key.
std::pair<std::string, std::string> split_assignment(const std::string& flag, const std::string& text,
                                                     const char* expected) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || trim(text.substr(0, eq)).empty())
    throw PlanError(fmt::format("{} {}: expected {}", flag, text, expected));
  return {trim(text.substr(0, eq)), text.substr(eq + 1)};
}

double parse_number(const std::string& flag, const std::string& text, const std::string& value) {
  std::size_t used = 0;
  double out = 0;
  try {
    out = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || !std::isfinite(out))
    throw PlanError(fmt::format("{} {}: '{}' is not a number", flag, text, value));
  return out;
}

/// A drawn number as TOML float text: "0.000123457", never an integer ("3" would be one).
std::string float_text(double value) {
  std::string text = fmt::format("{:.6g}", value);
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

/// Replaces the entry of the same key in place, else appends.
void merge(std::vector<SweptKey>& into, SweptKey key) {
  auto same = std::find_if(into.begin(), into.end(), [&](const SweptKey& k) { return k.key == key.key; });
  if (same != into.end()) *same = std::move(key);
  else into.push_back(std::move(key));
}

std::string json_list(const std::vector<SweptKey>& keys, bool ranges) {
  std::vector<std::string> items;
  for (const SweptKey& k : keys) {
    if (ranges) {
      items.push_back(fmt::format("[{},{},{}]", store::json_string(k.key), float_text(k.lo), float_text(k.hi)));
    } else {
      items.push_back(fmt::format("[{},{}]", store::json_string(k.key), store::json_string_array(k.values)));
    }
  }
  return fmt::format("[{}]", fmt::join(items, ","));
}

/// A uniform draw in [0, 1) from the generator's next number.
double unit(std::uint64_t& state) {
  state += common::kSplitmixGamma;
  return static_cast<double>(common::splitmix_finalize(state) >> 11) * 0x1.0p-53;
}

}  // namespace

std::vector<std::string> split_values(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  char quote = 0;
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        current += c;
        current += text[++i];
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  out.push_back(trim(current));
  return out;
}

SweptKey parse_list_flag(const std::string& flag, const std::string& text) {
  const auto [key, rest] = split_assignment(flag, text, "KEY=V1,V2,...");
  SweptKey out;
  out.key = key;
  out.values = split_values(rest);
  out.origin = fmt::format("{} {}", flag, text);
  if (std::any_of(out.values.begin(), out.values.end(), [](const std::string& v) { return v.empty(); }))
    throw PlanError(fmt::format("{} {}: an empty value (values are separated by commas)", flag, text));
  return out;
}

SweptKey parse_range_flag(const std::string& flag, const std::string& text, bool log) {
  const auto [key, rest] = split_assignment(flag, text, "KEY=LO:HI");
  const auto colon = rest.find(':');
  if (colon == std::string::npos) throw PlanError(fmt::format("{} {}: expected KEY=LO:HI", flag, text));
  SweptKey out;
  out.key = key;
  out.lo = parse_number(flag, text, trim(rest.substr(0, colon)));
  out.hi = parse_number(flag, text, trim(rest.substr(colon + 1)));
  out.origin = fmt::format("{} {}", flag, text);
  if (!(out.lo < out.hi)) throw PlanError(fmt::format("{} {}: LO {} is not below HI {}", flag, text, out.lo, out.hi));
  if (log && !(out.lo > 0))
    throw PlanError(fmt::format("{} {}: a log-uniform range must be positive, got LO {}", flag, text, out.lo));
  return out;
}

std::string trial_name(const std::string& sweep, std::int64_t number, std::int64_t total) {
  const int width = std::max<int>(3, static_cast<int>(std::to_string(total).size()));
  return fmt::format("{}-{:0{}}", sweep, number, width);
}

std::vector<const SweptKey*> SweepPlan::keys() const {
  std::vector<const SweptKey*> out;
  for (const auto* list : {&grid, &uniform, &log_uniform, &choice})
    for (const SweptKey& k : *list) out.push_back(&k);
  return out;
}

std::string SweepPlan::spec_json() const {
  return fmt::format(
      R"({{"choice":{},"experiment":{},"grid":{},"log_uniform":{},"random":{},"seed":{},"set":{},"uniform":{}}})",
      json_list(choice, false), store::json_string(experiment.string()), json_list(grid, false),
      json_list(log_uniform, true), random, seed, store::json_string_array(set), json_list(uniform, true));
}

SweepPlan make_plan(const std::filesystem::path& experiment, const SweepFlags& flags, const SweepTable& table,
                    const std::string& experiment_name, std::uint64_t experiment_seed) {
  SweepPlan plan;
  plan.experiment = experiment;
  plan.set = flags.set;
  plan.name = !flags.name.empty() ? flags.name : table.name.value_or(experiment_name);
  plan.parallel = flags.parallel > 0 ? flags.parallel : table.parallel.value_or(1);
  plan.seed = flags.seed ? static_cast<std::uint64_t>(*flags.seed)
                         : table.seed ? static_cast<std::uint64_t>(*table.seed) : experiment_seed;
  plan.random = flags.random > 0 ? flags.random : table.random.value_or(0);
  if (!flags.metric.empty()) plan.metric = flags.metric;
  else plan.metric = table.metric;
  if (!flags.mode.empty()) plan.mode = flags.mode;
  else plan.mode = table.mode;
  plan.median_stop = flags.median_stop || table.median_stop.value_or(false);

  plan.grid = table.grid;
  plan.uniform = table.uniform;
  plan.log_uniform = table.log_uniform;
  plan.choice = table.choice;
  for (const std::string& text : flags.grid) merge(plan.grid, parse_list_flag("--grid", text));
  for (const std::string& text : flags.uniform) merge(plan.uniform, parse_range_flag("--uniform", text, false));
  for (const std::string& text : flags.log_uniform) merge(plan.log_uniform, parse_range_flag("--log-uniform", text, true));
  for (const std::string& text : flags.choice) merge(plan.choice, parse_list_flag("--choice", text));

  const bool has_draws = !plan.uniform.empty() || !plan.log_uniform.empty() || !plan.choice.empty();
  if (plan.random > 0 && !has_draws)
    throw PlanError("--random N draws from --uniform, --log-uniform or --choice: give at least one");
  if (plan.random == 0 && has_draws)
    throw PlanError(fmt::format("{}: drawn keys need --random N (how many trials to draw)", plan.keys()[plan.grid.size()]->origin));
  if (plan.grid.empty() && plan.random == 0)
    throw PlanError("nothing to sweep: give --grid KEY=V1,V2 or --random N with --uniform, --log-uniform or --choice "
                    "(or a [sweep] table)");
  std::set<std::string> seen;
  for (const SweptKey* key : plan.keys()) {
    if (key->key == "experiment.name")
      throw PlanError(fmt::format("{}: a sweep names its trials itself (<sweep>-001, ...); use --name", key->origin));
    if (!seen.insert(key->key).second)
      throw PlanError(fmt::format("{}: '{}' is swept twice; give each key one --grid, range or --choice", key->origin, key->key));
  }

  std::int64_t points = 1;
  for (const SweptKey& key : plan.grid) points *= static_cast<std::int64_t>(key.values.size());
  const std::int64_t draws = std::max<std::int64_t>(plan.random, 1);
  const std::int64_t total = points * draws;
  if (total > 100000) throw PlanError(fmt::format("{} trials: a sweep may have at most 100000", total));
  std::uint64_t state = plan.seed;
  for (std::int64_t point = 0; point < points; ++point) {
    std::vector<std::pair<std::string, std::string>> fixed;
    std::int64_t rest = point;
    for (auto key = plan.grid.rbegin(); key != plan.grid.rend(); ++key) {
      const auto n = static_cast<std::int64_t>(key->values.size());
      fixed.emplace_back(key->key, key->values[static_cast<std::size_t>(rest % n)]);
      rest /= n;
    }
    std::reverse(fixed.begin(), fixed.end());
    for (std::int64_t draw = 0; draw < draws; ++draw) {
      Trial trial;
      trial.number = point * draws + draw + 1;
      trial.run = trial_name(plan.name, trial.number, total);
      trial.overrides = fixed;
      if (plan.random > 0) {
        for (const SweptKey& k : plan.uniform) trial.overrides.emplace_back(k.key, float_text(k.lo + unit(state) * (k.hi - k.lo)));
        for (const SweptKey& k : plan.log_uniform)
          trial.overrides.emplace_back(
              k.key, float_text(std::exp(std::log(k.lo) + unit(state) * (std::log(k.hi) - std::log(k.lo)))));
        for (const SweptKey& k : plan.choice) {
          const auto n = static_cast<double>(k.values.size());
          const auto index = std::min(static_cast<std::size_t>(unit(state) * n), k.values.size() - 1);
          trial.overrides.emplace_back(k.key, k.values[index]);
        }
      }
      plan.trials.push_back(std::move(trial));
    }
  }
  return plan;
}

}  // namespace kiln::runner::sweep
