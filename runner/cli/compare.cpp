// `kiln compare RUN RUN...`: how runs differ in config, and which did better at which step.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/database.hpp"
#include "store/history.hpp"
#include "store/query.hpp"
#include "store/run_ref.hpp"
#include "store/sweeps.hpp"

namespace kiln::runner::cli {
namespace {

/// One tag of one run: its last value and its lowest and highest, each with the first
/// step it was reached. NaN and infinite values are left out of the extremes.
struct Metric {
  std::int64_t last_step = 0;
  double last = NAN;
  std::optional<std::pair<double, std::int64_t>> lowest, highest;
  double sum = 0;
  std::int64_t count = 0;
};

struct RunSide {
  store::RunRef ref;
  double started = 0;
  std::optional<double> ended;
  std::int64_t steps = 0;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> plugins;  // "kind name" -> "library version sha256"
  std::map<std::string, Metric> metrics;
  std::set<std::string> higher_is_better;  // its tags declared "max" ([summaries], hooks); the rest "min"
};

/// Whether higher values of `tag` are better in every run that has it; nullopt when the runs
/// disagree (their [summaries] or hooks declare it otherwise), and then no run is the best.
std::optional<bool> higher_is_better(const std::vector<RunSide>& runs, const std::string& tag) {
  std::optional<bool> higher;
  for (const RunSide& run : runs) {
    if (!run.metrics.count(tag)) continue;
    const bool this_run = run.higher_is_better.count(tag) > 0;
    if (higher && *higher != this_run) return std::nullopt;
    higher = this_run;
  }
  return higher.value_or(false);
}

/// Metrics that are about the machine, not the model: compared by their mean.
bool is_timing(const std::string& tag) { return tag.rfind("time/", 0) == 0; }

RunSide load(store::Database& db, const std::string& name) {
  RunSide side;
  side.ref = store::find_run_ref(db, name);
  const store::RunRow run = store::run_row(db, side.ref.id);
  side.started = run.started;
  side.ended = run.ended;
  side.steps = store::steps_done(db, side.ref.id);
  side.params = store::run_params(db, side.ref.id);
  for (const store::PluginRecord& plugin : store::run_plugins(db, side.ref.id)) {
    side.plugins[plugin.kind + " " + plugin.name] =
        fmt::format("{} {} sha256 {}", plugin.library, plugin.version.empty() ? "?" : plugin.version,
                    plugin.sha256.empty() ? "?" : plugin.sha256.substr(0, 12));
  }
  side.higher_is_better = store::higher_is_better(db, side.ref.id);
  for (const store::TagSummary& tag : store::summarize_tags(db, side.ref.id)) {
    Metric& metric = side.metrics[tag.tag];
    metric.last_step = tag.last.step;
    metric.last = tag.last.value;
    if (tag.finite_lowest) metric.lowest = {{tag.finite_lowest->value, tag.finite_lowest->step}};
    if (tag.finite_highest) metric.highest = {{tag.finite_highest->value, tag.finite_highest->step}};
    metric.sum = tag.finite_sum;
    metric.count = tag.finite_count;
  }
  return side;
}

std::vector<std::string> header(const std::string& first, const std::vector<RunSide>& runs) {
  std::vector<std::string> columns{first};
  for (const RunSide& run : runs) columns.push_back(run.ref.name);
  return columns;
}

void print_runs(const std::vector<RunSide>& runs) {
  store::QueryResult table;
  table.columns = header("", runs);
  auto row = [&](const std::string& name, auto cell) {
    std::vector<store::Value>& line = table.rows.emplace_back();
    line.push_back(name);
    for (const RunSide& run : runs) line.push_back(cell(run));
  };
  row("id", [](const RunSide& r) { return store::Value{r.ref.id}; });
  row("status", [](const RunSide& r) { return store::Value{r.ref.status}; });
  row("steps", [](const RunSide& r) { return store::Value{r.steps}; });
  row("started", [](const RunSide& r) { return store::Value{format_time(r.started)}; });
  row("duration", [](const RunSide& r) {
    return r.ended ? store::Value{format_duration(*r.ended - r.started)} : store::Value{"(not ended)"};
  });
  print_section_table(table);
}

/// Rows of a key -> value map whose values are not the same in every run ("-": missing).
void print_differences(const std::vector<RunSide>& runs, std::map<std::string, std::string> RunSide::*field,
                       const std::string& what, const std::string& key_column) {
  std::set<std::string> keys;
  for (const RunSide& run : runs)
    for (const auto& [key, value] : run.*field) keys.insert(key);
  store::QueryResult table;
  table.columns = header(key_column, runs);
  for (const std::string& key : keys) {
    std::vector<std::string> values;
    for (const RunSide& run : runs) {
      const auto found = (run.*field).find(key);
      values.push_back(found == (run.*field).end() ? "-" : found->second);
    }
    if (std::all_of(values.begin(), values.end(), [&](const std::string& v) { return v == values.front(); })) continue;
    std::vector<store::Value>& line = table.rows.emplace_back();
    line.push_back(key);
    for (std::string& value : values) line.push_back(std::move(value));
  }
  if (table.rows.empty()) {
    fmt::print("\n{}: the same in every run\n", what);
    return;
  }
  fmt::print("\n{}: {} differ{}\n", what, table.rows.size(), table.rows.size() == 1 ? "s" : "");
  print_section_table(table);
}

/// The run index with the best value of `pick` (lowest, or highest when `higher`), if any.
template <class Pick>
std::optional<std::size_t> best_of(const std::vector<RunSide>& runs, const std::string& tag, bool higher, Pick pick) {
  std::optional<std::size_t> best;
  std::optional<double> best_value;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto found = runs[i].metrics.find(tag);
    if (found == runs[i].metrics.end()) continue;
    const std::optional<double> value = pick(found->second);
    if (!value || !std::isfinite(*value)) continue;
    if (!best_value || (higher ? *value > *best_value : *value < *best_value)) {
      best = i;
      best_value = value;
    }
  }
  return best;
}

void print_metrics(const std::vector<RunSide>& runs, std::vector<std::string>& verdicts) {
  std::set<std::string> tags;
  for (const RunSide& run : runs)
    for (const auto& [tag, metric] : run.metrics) tags.insert(tag);
  store::QueryResult table;
  table.columns = header("metric", runs);
  for (const std::string& tag : tags) {
    const std::optional<bool> direction = higher_is_better(runs, tag);
    const bool higher = direction.value_or(false);
    auto add_row = [&](const std::string& label, auto value_of, auto text_of) {
      const std::optional<std::size_t> winner =
          runs.size() > 1 && direction ? best_of(runs, tag, higher, value_of) : std::nullopt;
      std::vector<store::Value>& line = table.rows.emplace_back();
      line.push_back(label);
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto found = runs[i].metrics.find(tag);
        line.push_back(found == runs[i].metrics.end() ? std::string("-")
                                                      : text_of(found->second) + (winner == i ? " *" : ""));
      }
    };
    add_row(tag + " last", [](const Metric& m) { return std::optional<double>(m.last); },
            [](const Metric& m) { return fmt::format("{} @{}", format_value(m.last), m.last_step); });
    if (is_timing(tag)) {
      add_row(tag + " mean",
              [](const Metric& m) { return m.count ? std::optional<double>(m.sum / m.count) : std::nullopt; },
              [](const Metric& m) { return m.count ? format_value(m.sum / m.count) : std::string("-"); });
      continue;
    }
    auto extreme_row = [&](bool highest) {
      auto extreme = [highest](const Metric& m) { return highest ? m.highest : m.lowest; };
      add_row(tag + (highest ? " max" : " min"),
              [extreme](const Metric& m) {
                const auto e = extreme(m);
                return e ? std::optional<double>(e->first) : std::nullopt;
              },
              [extreme](const Metric& m) {
                const auto e = extreme(m);
                return e ? fmt::format("{} @{}", format_value(e->first), e->second) : std::string("-");
              });
    };
    if (!direction) {
      // Runs that disagree on which is better have no winner: both extremes, unmarked.
      extreme_row(/*highest=*/false);
      extreme_row(/*highest=*/true);
      verdicts.push_back(fmt::format("{}: none, the runs disagree whether higher or lower is better (their "
                                     "[summaries] or hooks)", tag));
      continue;
    }
    extreme_row(higher);
    auto extreme = [higher](const Metric& m) { return higher ? m.highest : m.lowest; };
    // The verdict: evaluation metrics when there are any, else the losses.
    const std::optional<std::size_t> winner = best_of(runs, tag, higher, [extreme](const Metric& m) {
      const auto e = extreme(m);
      return e ? std::optional<double>(e->first) : std::nullopt;
    });
    if (winner && runs.size() > 1) {
      const auto e = *extreme(runs[*winner].metrics.at(tag));
      verdicts.push_back(fmt::format("{} ({} is better): {} reached {} at step {}", tag, higher ? "higher" : "lower",
                                     runs[*winner].ref.name, format_value(e.first), e.second));
    }
  }
  fmt::print("\nmetrics (value @step; * marks the best of each row)\n");
  if (table.rows.empty()) fmt::print("  none recorded\n");
  else print_section_table(table);
}

}  // namespace

int compare(const CompareArgs& args) {
  if (args.sweep.empty() && args.runs.size() < 2)
    throw Error("kiln compare needs two or more runs, by name or id (or --sweep NAME: a sweep's trials)");
  store::Database db = store::open_existing(args.database);
  // A sweep's trials come first, best first; a run named too that is one of them is compared once.
  const std::vector<std::string> trials = args.sweep.empty() ? std::vector<std::string>() : store::sweep_runs(db, args.sweep);
  std::vector<RunSide> runs;
  for (const std::string& name : trials) runs.push_back(load(db, name));
  for (const std::string& name : args.runs) {
    RunSide side = load(db, name);
    const auto same = std::find_if(runs.begin(), runs.end(), [&](const RunSide& other) { return other.ref.id == side.ref.id; });
    if (same != runs.end() && same - runs.begin() < static_cast<std::ptrdiff_t>(trials.size())) continue;
    if (same != runs.end())
      throw Error(fmt::format("'{}' names run {} twice; compare needs different runs", name, side.ref.name));
    runs.push_back(std::move(side));
  }
  if (runs.size() < 2)
    throw Error(fmt::format("kiln compare needs two or more runs: sweep {} has {} trial{} with a run (name another "
                            "run too, or wait for more of its trials to start)",
                            args.sweep, trials.size(), trials.size() == 1 ? "" : "s"));
  print_runs(runs);
  print_differences(runs, &RunSide::params, "config", "key");
  print_differences(runs, &RunSide::plugins, "plugins", "plugin");
  std::vector<std::string> verdicts;
  print_metrics(runs, verdicts);
  // Evaluation metrics decide when a run has them; losses on training batches otherwise.
  std::vector<std::string> shown;
  for (const std::string& line : verdicts)
    if (line.rfind("eval/", 0) == 0) shown.push_back(line);
  if (shown.empty())
    for (const std::string& line : verdicts)
      if (line.rfind("loss/", 0) == 0) shown.push_back(line);
  if (!shown.empty()) {
    fmt::print("\nbest\n");
    for (const std::string& line : shown) fmt::print("  {}\n", line);
  }
  return kExitOk;
}

}  // namespace kiln::runner::cli
