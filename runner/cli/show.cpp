// `kiln show RUN`: one run in full — what ran, how it went, what it kept, how it was configured.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/database.hpp"
#include "store/query.hpp"
#include "store/run_ref.hpp"

namespace kiln::runner::cli {
namespace {

/// Events shown when a run has more (the first few and the latest ones).
constexpr std::size_t kEventsShown = 20;

void heading(const std::string& title) { fmt::print("\n{}\n", title); }

store::Value optional_text(store::Statement& row, int column) {
  if (row.column_type(column) == store::ColumnType::null) return {};
  return row.column_text(column);
}

void print_overview(store::Database& db, const store::RunRef& run) {
  store::Statement select(db, "SELECT experiment, status, started, ended, host, pid, kiln_version, run_dir, error, "
                              "config_hash, " + store::steps_done_sql("?1") + " FROM runs WHERE id = ?1");
  select.bind(1, run.id);
  select.step();
  const double started = select.column_double(2);
  const bool ended = select.column_type(3) != store::ColumnType::null;
  fmt::print("run {} (id {})  {}\n", run.name, run.id, select.column_text(1));
  auto field = [](const char* name, const std::string& value) {
    if (!value.empty()) fmt::print("  {:<11}{}\n", name, value);
  };
  field("experiment", select.column_text(0));
  field("started", fmt::format("{} on {} (pid {})", format_time(started), select.column_text(4), select.column_int64(5)));
  if (ended) field("ended", fmt::format("{} after {}", format_time(select.column_double(3)),
                                        format_duration(select.column_double(3) - started)));
  field("steps", select.column_text(10));
  field("run dir", select.column_text(7));
  field("kiln", select.column_text(6));
  field("config", "sha256 " + select.column_text(9).substr(0, 16));
  field("error", select.column_text(8));
}

void print_metrics(store::Database& db, std::int64_t run_id) {
  // Last value, and the lowest and highest with the first step each was reached.
  store::Statement select(db, R"sql(
    SELECT s.tag, s.step, s.value,
      (SELECT MIN(value) FROM summaries WHERE run_id = s.run_id AND tag = s.tag) AS lo,
      (SELECT MAX(value) FROM summaries WHERE run_id = s.run_id AND tag = s.tag) AS hi
    FROM summaries s
    WHERE s.run_id = ?1 AND s.step = (SELECT MAX(step) FROM summaries WHERE run_id = s.run_id AND tag = s.tag)
    ORDER BY s.tag)sql");
  select.bind(1, run_id);
  store::Statement step_of(db, "SELECT MIN(step) FROM summaries WHERE run_id = ?1 AND tag = ?2 AND value = ?3");
  auto at = [&](const std::string& tag, store::Statement& row, int column) -> store::Value {
    if (row.column_type(column) == store::ColumnType::null) return {};
    const double value = row.column_double(column);
    step_of.reset();
    step_of.bind(1, run_id).bind(2, tag).bind(3, value);
    step_of.step();
    return fmt::format("{} @{}", format_value(value), step_of.column_int64(0));
  };
  store::QueryResult table;
  table.columns = {"tag", "step", "last", "min (at step)", "max (at step)"};
  while (select.step()) {
    const std::string tag = select.column_text(0);
    table.rows.push_back({tag, select.column_int64(1),
                          select.column_type(2) == store::ColumnType::null ? store::Value{"nan"}
                                                                            : format_value(select.column_double(2)),
                          at(tag, select, 3), at(tag, select, 4)});
  }
  heading("metrics (last, and the lowest and highest with the first step each was reached)");
  if (table.rows.empty()) fmt::print("  none recorded\n");
  else print_section_table(table);
}

void print_checkpoints(store::Database& db, std::int64_t run_id) {
  store::Statement select(db, "SELECT step, created, bytes, reason, kept, deleted, path FROM checkpoints "
                              "WHERE run_id = ?1 ORDER BY step");
  select.bind(1, run_id);
  store::QueryResult table;
  table.columns = {"step", "saved", "size", "saved because", "status", "path"};
  int kept = 0;
  while (select.step()) {
    const bool deleted = select.column_type(5) != store::ColumnType::null;
    kept += !deleted;
    std::string status = deleted ? "deleted " + format_time(select.column_double(5)) : "kept: " + select.column_text(4);
    table.rows.push_back({select.column_int64(0), format_time(select.column_double(1)),
                          format_bytes(select.column_int64(2)), select.column_text(3), status, select.column_text(6)});
  }
  heading(fmt::format("checkpoints ({} kept, {} deleted)", kept, table.rows.size() - static_cast<std::size_t>(kept)));
  if (table.rows.empty()) fmt::print("  none\n");
  else print_section_table(table);
}

void print_plugins(store::Database& db, std::int64_t run_id) {
  store::Statement select(db, "SELECT kind, name, library, version, abi, substr(sha256, 1, 12), path FROM plugins "
                              "WHERE run_id = ?1 ORDER BY kind, name");
  select.bind(1, run_id);
  store::QueryResult table = store::collect(select);
  table.columns = {"kind", "name", "library", "version", "abi", "sha256", "path"};
  heading("plugins");
  if (table.rows.empty()) fmt::print("  none recorded\n");
  else print_section_table(table);
}

void print_events(store::Database& db, std::int64_t run_id) {
  store::Statement count(db, "SELECT COUNT(*) FROM events WHERE run_id = ?1");
  count.bind(1, run_id);
  count.step();
  const auto total = static_cast<std::size_t>(count.column_int64(0));
  // The first few and the latest: how the run began and how it ended.
  store::Statement select(db, "SELECT time, step, kind, message FROM events WHERE run_id = ?1 ORDER BY id");
  select.bind(1, run_id);
  store::QueryResult table;
  table.columns = {"time", "step", "kind", "message"};
  const std::size_t head = kEventsShown / 4;
  for (std::size_t i = 0; select.step(); ++i) {
    if (total > kEventsShown && i >= head && i < total - (kEventsShown - head)) {
      if (i == head) table.rows.push_back({"…", {}, {}, fmt::format("{} more events", total - kEventsShown)});
      continue;
    }
    store::Value step;
    if (select.column_type(1) != store::ColumnType::null) step = select.column_int64(1);
    table.rows.push_back({format_time(select.column_double(0)), step, select.column_text(2), optional_text(select, 3)});
  }
  heading(fmt::format("events ({})", total));
  if (table.rows.empty()) fmt::print("  none\n");
  else print_section_table(table);
}

void print_config(store::Database& db, std::int64_t run_id) {
  store::Statement select(db, "SELECT config FROM runs WHERE id = ?1");
  select.bind(1, run_id);
  select.step();
  heading("config (resolved)");
  std::string config = select.column_text(0);
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
  if (!std::filesystem::is_regular_file(args.database))
    throw StoreError(fmt::format("no run database at {} (run an experiment first, or pass --db)",
                                 args.database.string()), 14 /* SQLITE_CANTOPEN */);
  store::Database db(args.database, store::OpenMode::read_only);
  const store::RunRef run = store::find_run_ref(db, args.run);
  print_overview(db, run);
  print_metrics(db, run.id);
  print_checkpoints(db, run.id);
  print_plugins(db, run.id);
  print_events(db, run.id);
  print_config(db, run.id);
  return kExitOk;
}

}  // namespace kiln::runner::cli
