// `kiln runs` and `kiln query`: the run history, read with plain SQL, rows printed as they come.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/database.hpp"
#include "store/history.hpp"
#include "store/query.hpp"
#include "store/query_writer.hpp"
#include "store/run_store.hpp"

namespace kiln::runner::cli {
namespace {

/// A run's last value of every loss, as "d 0.6931  g 3.42" (names without "loss/").
std::string describe_losses(const std::vector<store::SummaryRow>& losses) {
  std::string text;
  for (const store::SummaryRow& loss : losses) {
    if (!text.empty()) text += "  ";
    text += loss.tag.substr(5) + " " + format_value(loss.value);
  }
  return text;
}

/// Prints a query's rows to stdout as they come; a table's columns are sized by its first
/// kTableSizedByRows rows, so that memory stays bounded however many rows there are.
std::unique_ptr<store::RowWriter> row_writer(std::vector<std::string> columns, Format format) {
  constexpr std::size_t kTableSizedByRows = 1000;
  store::TextSink out = [](std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); };
  switch (format) {
    case Format::csv: return store::csv_writer(std::move(columns), std::move(out));
    case Format::json: return store::json_writer(std::move(columns), std::move(out));
    case Format::table: break;
  }
  store::TableStyle style;
  style.max_width = cell_limit();
  style.sized_by_rows = kTableSizedByRows;
  return store::table_writer(std::move(columns), std::move(style), std::move(out));
}

/// Why a run ended, when that is more than its status: a stopped run's stop event
/// ("stopped (early stopping: eval/l1 did not improve ...) at step 900 after 12.3 s"), a
/// failed or crashed run's error; none otherwise.
store::Value ending(store::Database& db, const store::RunRow& run) {
  if (run.status == "stopped")
    if (const std::optional<store::EventRow> stop = store::last_event(db, run.id, "stop")) return stop->message;
  if ((run.status == "failed" || run.status == "crashed") && !run.error.empty()) return run.error;
  return store::Value{};
}

/// Where a run trained: "cpu", "cuda:0"; "2 x cpu" for processes (each on its own device, so
/// the device's type alone), ", 2 hosts" added when they were on several; none when the run
/// has no environment recorded (a kiln older than schema 5 wrote it).
store::Value where(const store::RunRow& run) {
  if (!run.environment) return store::Value{};
  const store::RunEnvironment& env = *run.environment;
  if (env.world_size <= 1) return env.device;
  std::string text = fmt::format("{} x {}", env.world_size, env.device.substr(0, env.device.find(':')));
  std::vector<std::string> hosts = env.hosts;
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  if (hosts.size() > 1) text += fmt::format(", {} hosts", hosts.size());
  return text;
}

}  // namespace

int runs(const RunsArgs& args) {
  store::Database db = store::open_existing(args.database);
  // A run whose process died without finishing is shown as crashed, not running.
  store::RunStore(args.database).mark_crashed();

  store::RunFilter filter;
  filter.status = args.status;
  filter.name = args.name;
  filter.limit = args.limit;
  const double now = static_cast<double>(std::time(nullptr));
  store::QueryResult table;
  table.columns = {"id", "name", "status", "steps", "started", "duration", "device", "losses", "experiment", "reason"};
  for (const store::RunListing& line : store::list_runs(db, filter)) {
    const store::RunRow& run = line.run;
    const std::string losses = describe_losses(line.losses);
    table.rows.push_back({run.id, run.name, run.status, line.steps, format_time(run.started),
                          format_duration(run.ended.value_or(now) - run.started), where(run),
                          losses.empty() ? store::Value{} : losses, run.experiment, ending(db, run)});
  }
  std::fputs(store::format_table(table, cell_limit()).c_str(), stdout);
  return kExitOk;
}

int query(const QueryArgs& args) {
  store::QueryOptions options;
  options.limit = args.limit;
  options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(args.timeout * 1000)));
  store::QueryCursor cursor(args.database, args.sql, options);
  const std::unique_ptr<store::RowWriter> writer = row_writer(cursor.columns(), args.format);
  try {
    while (const std::vector<store::Value>* row = cursor.next()) writer->row(*row);
  } catch (...) {
    writer->flush();  // the rows read before the error stand; the error line says why there are no more
    throw;
  }
  const std::string cut_by = cursor.limited() ? fmt::format("--limit {}", args.limit) : "";
  writer->finish(cut_by);
  // CSV and JSON have no row count to say it in, and stdout must stay parseable.
  if (!cut_by.empty() && args.format != Format::table)
    spdlog::info("printed the first {} rows; there are more ({})", cursor.rows(), cut_by);
  return kExitOk;
}

}  // namespace kiln::runner::cli
