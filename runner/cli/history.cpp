// `kiln runs` and `kiln query`: the run history, read with plain SQL, rows printed as they come.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/database.hpp"
#include "store/query.hpp"
#include "store/query_writer.hpp"
#include "store/run_ref.hpp"
#include "store/run_store.hpp"

namespace kiln::runner::cli {
namespace {

/// Each run's last value of every loss, as "d 0.6931  g 3.42" (names without "loss/").
std::map<std::int64_t, std::string> last_losses(store::Database& db) {
  // GLOB, not LIKE: case-sensitive, so SQLite reads only the loss rows through the (tag, step) index.
  store::Statement select(db,
                          "SELECT s.run_id, substr(s.tag, 6), s.value FROM summaries s "
                          "WHERE s.tag GLOB 'loss/*' AND s.step = "
                          "(SELECT MAX(step) FROM summaries m WHERE m.run_id = s.run_id AND m.tag = s.tag) "
                          "ORDER BY s.run_id, s.tag");
  std::map<std::int64_t, std::string> losses;
  while (select.step()) {
    std::string& text = losses[select.column_int64(0)];
    if (!text.empty()) text += "  ";
    text += select.column_text(1) + " " +
            (select.column_type(2) == store::ColumnType::null ? "nan" : format_value(select.column_double(2)));
  }
  return losses;
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

}  // namespace

int runs(const RunsArgs& args) {
  if (!std::filesystem::exists(args.database))
    throw StoreError(fmt::format("no run database at {} (run an experiment first, or pass --db)",
                                 args.database.string()), 14 /* SQLITE_CANTOPEN */);
  // A run whose process died without finishing is shown as crashed, not running.
  store::RunStore(args.database).mark_crashed();

  store::Database db(args.database, store::OpenMode::read_only);
  std::string sql =
      "SELECT r.id, r.name, r.status, " + store::steps_done_sql("r.id") + ","
      " r.started, COALESCE(r.ended, CAST(strftime('%s', 'now') AS REAL)) - r.started, r.experiment"
      " FROM runs r WHERE (?1 = '' OR r.status = ?1)"
      " AND (?2 = '' OR (CASE WHEN ?2 GLOB '*[*?[]*' THEN r.name GLOB ?2 ELSE instr(r.name, ?2) > 0 END))"
      " ORDER BY r.id DESC";
  if (args.limit > 0) sql += fmt::format(" LIMIT {}", args.limit);
  store::Statement select(db, sql);
  select.bind(1, args.status).bind(2, args.name);

  const std::map<std::int64_t, std::string> losses = last_losses(db);
  store::QueryResult table;
  table.columns = {"id", "name", "status", "steps", "started", "duration", "losses", "experiment"};
  while (select.step()) {
    const std::int64_t id = select.column_int64(0);
    const auto loss = losses.find(id);
    table.rows.push_back({id, select.column_text(1), select.column_text(2),
                          select.column_type(3) == store::ColumnType::null ? store::Value{} : select.column_int64(3),
                          format_time(select.column_double(4)), format_duration(select.column_double(5)),
                          loss == losses.end() ? store::Value{} : loss->second, select.column_text(6)});
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
