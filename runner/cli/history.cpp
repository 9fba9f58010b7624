// `kiln runs` and `kiln query`: the run history, read with plain SQL.
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/text.hpp"
#include "store/database.hpp"
#include "store/query.hpp"
#include "store/run_ref.hpp"
#include "store/run_store.hpp"

namespace kiln::runner::cli {
namespace {

void print(const store::QueryResult& result, Format format) {
  switch (format) {
    case Format::table: std::fputs(store::format_table(result, cell_limit()).c_str(), stdout); break;
    case Format::csv: std::fputs(store::format_csv(result).c_str(), stdout); break;
    case Format::json: std::fputs(store::format_json(result).c_str(), stdout); break;
  }
}

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
  print(table, Format::table);
  return kExitOk;
}

int query(const QueryArgs& args) {
  print(store::query_readonly(args.database, args.sql), args.format);
  return kExitOk;
}

}  // namespace kiln::runner::cli
