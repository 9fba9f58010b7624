// The run history, read: the runs, and each run's summaries, events, images, params and plugins.
#include "store/history.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/json_text.hpp"
#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

// The columns of `runs` that read_run() reads, in its order; then, from schema 5, the
// environment's (kEnvironmentColumns, and kProcessesColumns from schema 7), and the config
// last when it is read.
constexpr const char* kRunColumns =
    "id, name, experiment, config_hash, status, started, ended, COALESCE(host, ''), COALESCE(pid, 0), "
    "COALESCE(kiln_version, ''), COALESCE(run_dir, ''), COALESCE(error, '')";
constexpr int kRunColumnCount = 12;
constexpr const char* kEnvironmentColumns =
    "device, device_name, device_memory, torch_version, cuda_version, cudnn_version, precision";
constexpr int kEnvironmentColumnCount = 7;
constexpr const char* kProcessesColumns = "world_size, backend, hosts";
constexpr int kProcessesColumnCount = 3;

std::string text_or_empty(const Statement& row, int column) {
  return row.column_type(column) == ColumnType::null ? std::string() : row.column_text(column);
}

double value_or_nan(const Statement& row, int column) {
  return row.column_type(column) == ColumnType::null ? std::numeric_limits<double>::quiet_NaN()
                                                     : row.column_double(column);
}

/// The environment's columns to select: kEnvironmentColumns, then kProcessesColumns where the
/// database has them (schema 7).
std::string environment_columns(bool processes) {
  return processes ? fmt::format("{}, {}", kEnvironmentColumns, kProcessesColumns) : kEnvironmentColumns;
}

/// The environment in environment_columns(processes) from `first` on; none when its device is
/// NULL. A NULL world_size (a run of an older kiln) is 1 process; hosts that are not a JSON
/// array of strings (written by another program) read as unknown, empty.
std::optional<RunEnvironment> read_environment(const Statement& row, int first, bool processes) {
  if (row.column_type(first) == ColumnType::null) return std::nullopt;
  RunEnvironment environment;
  environment.device = row.column_text(first);
  environment.device_name = text_or_empty(row, first + 1);
  if (row.column_type(first + 2) != ColumnType::null) environment.device_memory = row.column_int64(first + 2);
  environment.torch_version = text_or_empty(row, first + 3);
  environment.cuda_version = text_or_empty(row, first + 4);
  environment.cudnn_version = text_or_empty(row, first + 5);
  environment.precision = text_or_empty(row, first + 6);
  if (processes) {
    const int next = first + kEnvironmentColumnCount;
    if (row.column_type(next) != ColumnType::null) environment.world_size = row.column_int64(next);
    environment.backend = text_or_empty(row, next + 1);
    environment.hosts = parse_json_string_array(text_or_empty(row, next + 2)).value_or(std::vector<std::string>{});
  }
  return environment;
}

/// How read_run() reads `runs` in this database: which columns there are to select.
struct RunColumns {
  bool environment = false;  ///< the database has the environment columns (schema 5)
  bool processes = false;    ///< and the processes' (schema 7)
  bool config = false;

  explicit RunColumns(Database& db, bool with_config) : config(with_config) {
    const int version = schema_version(db);
    environment = version >= kRunEnvironmentSince;
    processes = version >= kRunProcessesSince;
  }

  std::string select() const {
    return fmt::format("SELECT {}{}{} FROM runs", kRunColumns, environment ? ", " + environment_columns(processes) : "",
                       config ? ", config" : "");
  }
};

/// A row selected with `columns.select()`.
RunRow read_run(const Statement& row, const RunColumns& columns) {
  RunRow run;
  run.id = row.column_int64(0);
  run.name = row.column_text(1);
  run.experiment = row.column_text(2);
  run.config_hash = row.column_text(3);
  run.status = row.column_text(4);
  run.started = row.column_double(5);
  if (row.column_type(6) != ColumnType::null) run.ended = row.column_double(6);
  run.host = row.column_text(7);
  run.pid = row.column_int64(8);
  run.kiln_version = row.column_text(9);
  run.run_dir = row.column_text(10);
  run.error = row.column_text(11);
  int next = kRunColumnCount;
  if (columns.environment) {
    run.environment = read_environment(row, next, columns.processes);
    next += kEnvironmentColumnCount + (columns.processes ? kProcessesColumnCount : 0);
  }
  if (columns.config) run.config = row.column_text(next);
  return run;
}

/// The least string greater than every string starting with `prefix`, or "" when there is
/// none (an empty prefix, or one of 0xff bytes).
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

/// The statements of the per-run lookups (a run's tags, their latest rows, its steps),
/// prepared once for a whole listing.
class Lookups {
 public:
  /// Lookups of the tags that start with `prefix`.
  Lookups(Database& db, const std::string& prefix)
      : prefix_(prefix),
        end_(prefix_end(prefix)),
        first_(db, bounded("SELECT tag FROM summaries WHERE run_id = ?1 AND tag >= ?2")),
        next_(db, bounded("SELECT tag FROM summaries WHERE run_id = ?1 AND tag > ?2")),
        last_(db, "SELECT step, value, wall_time FROM summaries WHERE run_id = ?1 AND tag = ?2 ORDER BY step DESC LIMIT 1"),
        checkpoint_(db, "SELECT MAX(step) FROM checkpoints WHERE run_id = ?1"),
        event_(db, "SELECT MAX(step) FROM events WHERE run_id = ?1") {}

  std::vector<std::string> tags(std::int64_t run_id) {
    // A skip scan: each tag is one lookup in the (run_id, tag, step) key for the next tag
    // after the last one, instead of a pass over every row of the run.
    std::vector<std::string> tags;
    Statement* select = &first_;
    select->reset();
    bind(*select, run_id, prefix_);
    while (select->step()) {
      tags.push_back(select->column_text(0));
      select->reset();
      select = &next_;
      select->reset();
      bind(*select, run_id, tags.back());
    }
    select->reset();
    return tags;
  }

  std::vector<SummaryRow> last(std::int64_t run_id) {
    std::vector<SummaryRow> rows;
    for (std::string& tag : tags(run_id)) {
      last_.reset();
      last_.bind(1, run_id).bind(2, tag);
      if (!last_.step()) continue;  // gone: a writer replaced it between the two reads
      rows.push_back({run_id, std::move(tag), last_.column_int64(0), value_or_nan(last_, 1), last_.column_double(2)});
    }
    last_.reset();
    return rows;
  }

  /// steps_done(), given the run's latest loss rows.
  std::int64_t steps(std::int64_t run_id, const std::vector<SummaryRow>& losses) {
    std::int64_t steps = 0;
    for (const SummaryRow& loss : losses) steps = std::max(steps, loss.step + 1);
    for (Statement* select : {&checkpoint_, &event_}) {
      select->reset();
      select->bind(1, run_id);
      if (select->step() && select->column_type(0) != ColumnType::null) steps = std::max(steps, select->column_int64(0));
      select->reset();
    }
    return steps;
  }

 private:
  void bind(Statement& select, std::int64_t run_id, const std::string& after) const {
    select.bind(1, run_id).bind(2, after);
    if (!end_.empty()) select.bind(3, end_);
  }

  std::string bounded(const std::string& sql) const {
    return sql + (end_.empty() ? "" : " AND tag < ?3") + " ORDER BY tag LIMIT 1";
  }

  std::string prefix_;
  std::string end_;
  Statement first_, next_, last_, checkpoint_, event_;
};

/// Lowers (or raises) `extreme` to `point` when its value is further; the first step that
/// reached a value keeps it.
void keep_extreme(std::optional<Point>& extreme, const Point& point, bool lowest) {
  if (!extreme || (lowest ? point.value < extreme->value : point.value > extreme->value)) extreme = point;
}

}  // namespace

std::vector<RunListing> list_runs(Database& db, const RunFilter& filter) {
  const RunColumns columns(db, /*with_config=*/false);
  Statement select(db, columns.select() + " WHERE (?1 = '' OR status = ?1) AND (?2 = '' OR "
                                          "(CASE WHEN ?2 GLOB '*[*?[]*' THEN name GLOB ?2 ELSE instr(name, ?2) > 0 END)) "
                                          "ORDER BY id DESC LIMIT ?3");
  select.bind(1, filter.status).bind(2, filter.name).bind(3, filter.limit > 0 ? filter.limit : int64_t{-1});
  std::vector<RunListing> runs;
  while (select.step()) {
    RunListing& line = runs.emplace_back();
    line.run = read_run(select, columns);
  }
  Lookups lookups(db, "loss/");
  for (RunListing& line : runs) {
    line.losses = lookups.last(line.run.id);
    line.steps = lookups.steps(line.run.id, line.losses);
  }
  return runs;
}

RunRow run_row(Database& db, std::int64_t id) {
  const RunColumns columns(db, /*with_config=*/true);
  Statement select(db, columns.select() + " WHERE id = ?1");
  select.bind(1, id);
  if (!select.step())
    throw StoreError(fmt::format("no run with id {} in {}", id, db.path().string()), SQLITE_NOTFOUND);
  return read_run(select, columns);
}

std::optional<RunEnvironment> run_environment(Database& db, std::int64_t run_id) {
  const int version = schema_version(db);
  if (version < kRunEnvironmentSince) return std::nullopt;
  const bool processes = version >= kRunProcessesSince;
  Statement select(db, fmt::format("SELECT {} FROM runs WHERE id = ?1", environment_columns(processes)));
  select.bind(1, run_id);
  if (!select.step()) return std::nullopt;
  return read_environment(select, 0, processes);
}

std::int64_t steps_done(Database& db, std::int64_t run_id) {
  Lookups lookups(db, "loss/");
  return lookups.steps(run_id, lookups.last(run_id));
}

std::vector<std::string> summary_tags(Database& db, std::int64_t run_id, const std::string& prefix) {
  return Lookups(db, prefix).tags(run_id);
}

std::vector<SummaryRow> last_summaries(Database& db, std::int64_t run_id, const std::string& prefix) {
  return Lookups(db, prefix).last(run_id);
}

std::vector<TagSummary> summarize_tags(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT step, value FROM summaries WHERE run_id = ?1 AND tag = ?2 ORDER BY step");
  std::vector<TagSummary> tags;
  for (std::string& tag : summary_tags(db, run_id)) {
    TagSummary summary;
    summary.tag = std::move(tag);
    select.reset();
    select.bind(1, run_id).bind(2, summary.tag);
    while (select.step()) {
      ++summary.count;
      const bool null = select.column_type(1) == ColumnType::null;
      const Point point{select.column_int64(0), null ? std::numeric_limits<double>::quiet_NaN() : select.column_double(1)};
      summary.last = point;
      if (null) continue;
      keep_extreme(summary.lowest, point, /*lowest=*/true);
      keep_extreme(summary.highest, point, /*lowest=*/false);
      if (!std::isfinite(point.value)) continue;
      keep_extreme(summary.finite_lowest, point, /*lowest=*/true);
      keep_extreme(summary.finite_highest, point, /*lowest=*/false);
      summary.finite_sum += point.value;
      ++summary.finite_count;
    }
    if (summary.count > 0) tags.push_back(std::move(summary));
  }
  return tags;
}

std::map<std::string, std::vector<Point>> summary_series(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT tag, step, value FROM summaries WHERE run_id = ?1 ORDER BY tag, step");
  select.bind(1, run_id);
  std::map<std::string, std::vector<Point>> series;
  std::vector<Point>* points = nullptr;
  std::string tag;
  while (select.step()) {
    if (!points || select.column_bytes(0) != tag.size() || select.column_text(0) != tag) {
      tag = select.column_text(0);
      points = &series[tag];
    }
    points->push_back({select.column_int64(1), value_or_nan(select, 2)});
  }
  return series;
}

void for_each_summary(Database& db, std::int64_t run_id, const std::function<void(const SummaryRow&)>& row) {
  Statement select(db, "SELECT tag, step, value, wall_time FROM summaries WHERE run_id = ?1 ORDER BY tag, step");
  select.bind(1, run_id);
  SummaryRow summary;
  summary.run_id = run_id;
  while (select.step()) {
    if (select.column_bytes(0) != summary.tag.size() || select.column_text(0) != summary.tag)
      summary.tag = select.column_text(0);
    summary.step = select.column_int64(1);
    summary.value = value_or_nan(select, 2);
    summary.wall_time = select.column_double(3);
    row(summary);
  }
}

std::set<std::string> higher_is_better(Database& db, std::int64_t run_id) {
  std::set<std::string> tags;
  if (schema_version(db) < kSummaryDirectionsSince) return tags;
  // The view decides, so that kiln compare and kiln report agree with a query of it.
  Statement select(db, "SELECT tag FROM metrics_best WHERE run_id = ?1 AND direction = 'max'");
  select.bind(1, run_id);
  while (select.step()) tags.insert(select.column_text(0));
  return tags;
}

std::map<std::string, std::string> run_params(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT key, COALESCE(value, '') FROM params WHERE run_id = ?1");
  select.bind(1, run_id);
  std::map<std::string, std::string> params;
  while (select.step()) params[select.column_text(0)] = select.column_text(1);
  return params;
}

std::vector<PluginRecord> run_plugins(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT kind, name, library, path, COALESCE(sha256, ''), COALESCE(version, ''), "
                       "COALESCE(abi, 0) FROM plugins WHERE run_id = ?1 ORDER BY kind, name");
  select.bind(1, run_id);
  std::vector<PluginRecord> plugins;
  while (select.step()) {
    PluginRecord& plugin = plugins.emplace_back();
    plugin.kind = select.column_text(0);
    plugin.name = select.column_text(1);
    plugin.library = select.column_text(2);
    plugin.path = select.column_text(3);
    plugin.sha256 = select.column_text(4);
    plugin.version = select.column_text(5);
    plugin.abi = select.column_int64(6);
  }
  return plugins;
}

std::int64_t count_events(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT COUNT(*) FROM events WHERE run_id = ?1");
  select.bind(1, run_id);
  select.step();
  return select.column_int64(0);
}

std::vector<EventRow> run_events(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT kind, step, message, time FROM events WHERE run_id = ?1 ORDER BY id");
  select.bind(1, run_id);
  std::vector<EventRow> events;
  while (select.step()) {
    EventRow& event = events.emplace_back();
    event.run_id = run_id;
    event.kind = select.column_text(0);
    if (select.column_type(1) != ColumnType::null) event.step = select.column_int64(1);
    event.message = text_or_empty(select, 2);
    event.time = select.column_double(3);
  }
  return events;
}

std::optional<EventRow> last_event(Database& db, std::int64_t run_id, std::string_view kind) {
  Statement select(db, "SELECT step, message, time FROM events WHERE run_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1");
  select.bind(1, run_id).bind(2, kind);
  if (!select.step()) return std::nullopt;
  EventRow event;
  event.run_id = run_id;
  event.kind = std::string(kind);
  if (select.column_type(0) != ColumnType::null) event.step = select.column_int64(0);
  event.message = text_or_empty(select, 1);
  event.time = select.column_double(2);
  return event;
}

std::vector<ImageRow> run_images(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT tag, step, path, wall_time FROM images WHERE run_id = ?1 ORDER BY tag, step");
  select.bind(1, run_id);
  std::vector<ImageRow> images;
  while (select.step()) {
    images.push_back({run_id, select.column_text(0), select.column_int64(1), select.column_text(2),
                      select.column_double(3)});
  }
  return images;
}

}  // namespace kiln::runner::store
