// Everything `kiln report` shows about a run, loaded from the run database into plain structs.
#include "report/report_data.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "store/run_ref.hpp"
#include "store/schema.hpp"

namespace kiln::runner::report {
namespace {

using store::ColumnType;
using store::Statement;

// The schema versions that added the checkpoints and images tables (see store/schema.cpp).
constexpr int kCheckpointsSince = 2;
constexpr int kImagesSince = 3;

std::string text_or_empty(Statement& row, int column) {
  return row.column_type(column) == ColumnType::null ? "" : row.column_text(column);
}

RunInfo load_info(store::Database& db, std::int64_t id) {
  Statement row(db,
                "SELECT id, name, experiment, config, status, started, ended, host, kiln_version, run_dir, error "
                "FROM runs WHERE id = ?1");
  row.bind(1, id);
  row.step();
  RunInfo info;
  info.id = row.column_int64(0);
  info.name = row.column_text(1);
  info.experiment = row.column_text(2);
  info.config = row.column_text(3);
  info.status = row.column_text(4);
  info.started = row.column_double(5);
  if (row.column_type(6) != ColumnType::null) info.ended = row.column_double(6);
  info.host = text_or_empty(row, 7);
  info.kiln_version = text_or_empty(row, 8);
  info.run_dir = text_or_empty(row, 9);
  info.error = text_or_empty(row, 10);
  return info;
}

void load_summaries(store::Database& db, RunData& run) {
  Statement rows(db, "SELECT tag, step, value FROM summaries WHERE run_id = ?1 ORDER BY tag, step");
  rows.bind(1, run.info.id);
  while (rows.step()) {
    // SQLite stores a NaN as NULL.
    const double value =
        rows.column_type(2) == ColumnType::null ? std::numeric_limits<double>::quiet_NaN() : rows.column_double(2);
    run.summaries[rows.column_text(0)].push_back({rows.column_int64(1), value});
  }
}

void load_images(store::Database& db, RunData& run) {
  Statement rows(db, "SELECT tag, step, path FROM images WHERE run_id = ?1 ORDER BY tag, step");
  rows.bind(1, run.info.id);
  while (rows.step()) run.images.push_back({rows.column_text(0), rows.column_int64(1), rows.column_text(2)});
}

void load_events(store::Database& db, RunData& run) {
  Statement rows(db, "SELECT time, step, kind, COALESCE(message, '') FROM events WHERE run_id = ?1 ORDER BY time, id");
  rows.bind(1, run.info.id);
  while (rows.step()) {
    EventRow event;
    event.time = rows.column_double(0);
    if (rows.column_type(1) != ColumnType::null) event.step = rows.column_int64(1);
    event.kind = rows.column_text(2);
    event.message = rows.column_text(3);
    run.events.push_back(std::move(event));
  }
}

void load_params(store::Database& db, RunData& run) {
  Statement rows(db, "SELECT key, COALESCE(value, '') FROM params WHERE run_id = ?1");
  rows.bind(1, run.info.id);
  while (rows.step()) run.params[rows.column_text(0)] = rows.column_text(1);
}

}  // namespace

std::int64_t RunData::last_step() const {
  std::int64_t last = 0;
  for (const auto& [tag, points] : summaries)
    if (!points.empty()) last = std::max(last, points.back().step);
  for (const store::CheckpointRow& row : checkpoints) last = std::max(last, row.step);
  for (const EventRow& event : events)
    if (event.step) last = std::max(last, *event.step);
  return last;
}

std::optional<std::int64_t> RunData::max_steps() const {
  const auto it = params.find("experiment.max_steps");
  if (it == params.end() || it->second.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long value = std::stoll(it->second, &used);
    if (used == it->second.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

double RunData::duration(double now) const { return info.ended.value_or(now) - info.started; }

ReportData load_report(store::Database& db, const std::vector<std::string>& refs) {
  ReportData data;
  data.database = db.path();
  data.generated = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int version = store::schema_version(db);
  for (const std::string& ref : refs) {
    const store::RunRef found = store::find_run_ref(db, ref);
    const bool seen = std::any_of(data.runs.begin(), data.runs.end(),
                                  [&](const RunData& run) { return run.info.id == found.id; });
    if (seen) continue;
    RunData run;
    run.info = load_info(db, found.id);
    load_summaries(db, run);
    if (version >= kCheckpointsSince) run.checkpoints = store::list_checkpoints(db, found.id, /*include_deleted=*/true);
    if (version >= kImagesSince) load_images(db, run);
    load_events(db, run);
    load_params(db, run);
    data.runs.push_back(std::move(run));
  }
  return data;
}

}  // namespace kiln::runner::report
