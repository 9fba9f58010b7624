// `kiln show RUN`: one run in full — what ran, how it went, what it kept, how it was configured.
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/checkpoints.hpp"
#include "store/database.hpp"
#include "store/history.hpp"
#include "store/query.hpp"
#include "store/run_ref.hpp"
#include "store/run_store.hpp"

namespace kiln::runner::cli {
namespace {

/// Events shown when a run has more (the first few and the latest ones).
constexpr std::size_t kEventsShown = 20;

void heading(const std::string& title) { fmt::print("\n{}\n", title); }

void print_overview(store::Database& db, const store::RunRow& run) {
  fmt::print("run {} (id {})  {}\n", run.name, run.id, run.status);
  auto field = [](const char* name, const std::string& value) {
    if (!value.empty()) fmt::print("  {:<11}{}\n", name, value);
  };
  field("experiment", run.experiment);
  field("started", fmt::format("{} on {} (pid {})", format_time(run.started), run.host, run.pid));
  if (run.environment) {
    field("device", store::describe_environment(*run.environment));
    field("processes", store::describe_processes(*run.environment));  // none for a single process
  }
  if (run.ended) field("ended", fmt::format("{} after {}", format_time(*run.ended), format_duration(*run.ended - run.started)));
  field("steps", std::to_string(store::steps_done(db, run.id)));
  field("run dir", run.run_dir);
  field("kiln", run.kiln_version);
  field("config", "sha256 " + run.config_hash.substr(0, 16));
  field("error", run.error);
}

/// The params under `prefix` ("optimizers.adam."), by the rest of their key.
std::map<std::string, std::string> params_under(const std::map<std::string, std::string>& params,
                                                const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (auto it = params.lower_bound(prefix); it != params.end() && it->first.rfind(prefix, 0) == 0; ++it)
    out[it->first.substr(prefix.size())] = it->second;
  return out;
}

/// An optimizer's `schedule` as the experiment wrote it: "cosine (total_steps 2000), warmup
/// 100 steps" (the trainer's PhaseSchedule::description() adds the defaults, which only the
/// training library knows), or "constant" without one.
std::string describe_schedule(const std::map<std::string, std::string>& schedule) {
  if (schedule.empty()) return "constant";
  auto value = [&](const std::string& key) {
    auto it = schedule.find(key);
    return it == schedule.end() ? std::string() : it->second;
  };
  std::string text = schedule.count("plugin") ? fmt::format("plugin '{}'", value("plugin")) : value("type");
  std::vector<std::string> keys;
  for (const auto& [key, v] : schedule)
    if (key != "type" && key != "plugin" && key != "library" && key.rfind("warmup_", 0) != 0)
      keys.push_back(key + " " + v);
  if (!keys.empty()) text += fmt::format(" ({})", fmt::join(keys, ", "));
  if (schedule.count("warmup_steps") && value("warmup_steps") != "0") {
    text += fmt::format(", warmup {} steps", value("warmup_steps"));
    if (schedule.count("warmup_start_factor")) text += fmt::format(" from {}x", value("warmup_start_factor"));
  }
  return text;
}

/// What each update is made of, from the run's recorded experiment: the effective batch, and
/// each optimizer's type, learning rate, schedule and clipping.
void print_training(store::Database& db, std::int64_t run_id, std::int64_t world_size) {
  const std::map<std::string, std::string> params = store::run_params(db, run_id);
  if (params.empty()) return;  // a run whose params were never recorded
  auto param = [&](const std::string& key, const std::string& fallback) {
    auto it = params.find(key);
    return it == params.end() ? fallback : it->second;
  };
  heading("training");
  const std::string batch = param("data.batch_size", "32"), accumulate = param("experiment.accumulate", "1");
  // batch_size is each process's: the update's is that times accumulate times the processes.
  std::string factors = batch;
  if (accumulate != "1") factors += " x accumulate " + accumulate;
  if (world_size > 1) factors += fmt::format(" x {} processes", world_size);
  std::string line = fmt::format("{} examples per update", batch);
  try {
    if (factors != batch)
      line = fmt::format("{} = {} examples per update", factors, std::stoll(batch) * std::stoll(accumulate) * world_size);
  } catch (const std::exception&) {
    line = factors;
  }
  fmt::print("  {:<11}{}\n", "batch", line);
  // Each [[optimizers]] entry is params' "optimizers.<name>.*".
  std::vector<std::string> phases;
  for (auto it = params.lower_bound("optimizers."); it != params.end() && it->first.rfind("optimizers.", 0) == 0; ++it) {
    const std::string name = it->first.substr(11, it->first.find('.', 11) - 11);
    if (phases.empty() || phases.back() != name) phases.push_back(name);
  }
  for (const std::string& name : phases) {
    const auto keys = params_under(params, "optimizers." + name + ".");
    auto key = [&](const std::string& k, const std::string& fallback) {
      auto it = keys.find(k);
      return it == keys.end() ? fallback : it->second;
    };
    std::string text = fmt::format("{}, lr {}, schedule {}", key("type", "?"), key("lr", "(the type's default)"),
                                   describe_schedule(params_under(keys, "schedule.")));
    if (keys.count("clip_norm")) text += ", clip_norm " + keys.at("clip_norm");
    if (keys.count("clip_value")) text += ", clip_value " + keys.at("clip_value");
    fmt::print("  phase {}: {}\n", name, text);
  }
}

void print_metrics(store::Database& db, std::int64_t run_id) {
  // Last value, and the lowest and highest with the first step each was reached.
  auto at = [](const std::optional<store::Point>& point) -> store::Value {
    if (!point) return {};
    return fmt::format("{} @{}", format_value(point->value), point->step);
  };
  store::QueryResult table;
  table.columns = {"tag", "step", "last", "min (at step)", "max (at step)"};
  for (const store::TagSummary& tag : store::summarize_tags(db, run_id)) {
    table.rows.push_back({tag.tag, tag.last.step,
                          std::isnan(tag.last.value) ? store::Value{"nan"} : format_value(tag.last.value),
                          at(tag.lowest), at(tag.highest)});
  }
  heading("metrics (last, and the lowest and highest with the first step each was reached)");
  if (table.rows.empty()) fmt::print("  none recorded\n");
  else print_section_table(table);
}

void print_checkpoints(store::Database& db, std::int64_t run_id) {
  store::QueryResult table;
  table.columns = {"step", "saved", "size", "saved because", "status", "path"};
  int kept = 0;
  for (const store::CheckpointRow& row : store::list_checkpoints(db, run_id, /*include_deleted=*/true)) {
    kept += !row.deleted;
    std::string status = row.deleted ? "deleted " + format_time(*row.deleted) : "kept: " + row.kept;
    table.rows.push_back({row.step, format_time(row.created), format_bytes(row.bytes), row.reason, status, row.path});
  }
  heading(fmt::format("checkpoints ({} kept, {} deleted)", kept, table.rows.size() - static_cast<std::size_t>(kept)));
  if (table.rows.empty()) fmt::print("  none\n");
  else print_section_table(table);
}

void print_plugins(store::Database& db, std::int64_t run_id) {
  store::QueryResult table;
  table.columns = {"kind", "name", "library", "version", "abi", "sha256", "path"};
  for (const store::PluginRecord& plugin : store::run_plugins(db, run_id)) {
    table.rows.push_back({plugin.kind, plugin.name, plugin.library, plugin.version, plugin.abi,
                          plugin.sha256.substr(0, 12), plugin.path});
  }
  heading("plugins");
  if (table.rows.empty()) fmt::print("  none recorded\n");
  else print_section_table(table);
}

void print_events(store::Database& db, std::int64_t run_id) {
  const std::vector<store::EventRow> events = store::run_events(db, run_id);
  const std::size_t total = events.size();
  // The first few and the latest: how the run began and how it ended.
  store::QueryResult table;
  table.columns = {"time", "step", "kind", "message"};
  const std::size_t head = kEventsShown / 4;
  for (std::size_t i = 0; i < total; ++i) {
    if (total > kEventsShown && i >= head && i < total - (kEventsShown - head)) {
      if (i == head) table.rows.push_back({"…", {}, {}, fmt::format("{} more events", total - kEventsShown)});
      continue;
    }
    const store::EventRow& event = events[i];
    store::Value step;
    if (event.step) step = *event.step;
    table.rows.push_back({format_time(event.time), step, event.kind, event.message});
  }
  heading(fmt::format("events ({})", total));
  if (table.rows.empty()) fmt::print("  none\n");
  else print_section_table(table);
}

void print_config(const store::RunRow& run) {
  heading("config (resolved)");
  const std::string& config = run.config;
  std::string indented;
  for (std::size_t begin = 0; begin < config.size();) {
    std::size_t end = config.find('\n', begin);
    if (end == std::string::npos) end = config.size();
    indented += (end > begin ? "  " : "") + config.substr(begin, end - begin) + "\n";
    begin = end + 1;
  }
  std::fputs(indented.c_str(), stdout);
}

}  // namespace

int show(const ShowArgs& args) {
  store::Database db = store::open_existing(args.database);
  const store::RunRow run = store::run_row(db, store::find_run_ref(db, args.run).id);
  print_overview(db, run);
  print_training(db, run.id, run.environment ? run.environment->world_size : 1);
  print_metrics(db, run.id);
  print_checkpoints(db, run.id);
  print_plugins(db, run.id);
  print_events(db, run.id);
  print_config(run);
  return kExitOk;
}

}  // namespace kiln::runner::cli
