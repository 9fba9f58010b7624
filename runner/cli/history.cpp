// `kiln runs` and `kiln query`: the run history, read with plain SQL.
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "store/query.hpp"
#include "store/run_store.hpp"

namespace kiln::runner::cli {
namespace {

/// The terminal's width when stdout is one, else 0 (no limit: pipes get whole values).
int cell_limit() {
  if (!isatty(STDOUT_FILENO)) return 0;
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return 0;
  return std::max(12, size.ws_col / 2);
}

void print(const store::QueryResult& result, Format format) {
  switch (format) {
    case Format::table: std::fputs(store::format_table(result, cell_limit()).c_str(), stdout); break;
    case Format::csv: std::fputs(store::format_csv(result).c_str(), stdout); break;
    case Format::json: std::fputs(store::format_json(result).c_str(), stdout); break;
  }
}

}  // namespace

int runs(const RunsArgs& args) {
  if (!std::filesystem::exists(args.database))
    throw StoreError(fmt::format("no run database at {} (run an experiment first, or pass --db)",
                                 args.database.string()), 14 /* SQLITE_CANTOPEN */);
  // A run whose process died without finishing is shown as crashed, not running.
  store::RunStore(args.database).mark_crashed();
  std::string sql =
      "SELECT r.id, r.name, r.status,"
      " (SELECT MAX(step) + 1 FROM summaries s WHERE s.run_id = r.id) AS steps,"
      " datetime(r.started, 'unixepoch', 'localtime') AS started,"
      " printf('%.1f s', COALESCE(r.ended, CAST(strftime('%s', 'now') AS REAL)) - r.started) AS duration,"
      " r.experiment FROM runs r";
  // --status is checked against the known statuses by the command line parser.
  if (!args.status.empty()) sql += fmt::format(" WHERE r.status = '{}'", args.status);
  sql += " ORDER BY r.id DESC";
  print(store::query_readonly(args.database, sql), Format::table);
  return kExitOk;
}

int query(const QueryArgs& args) {
  print(store::query_readonly(args.database, args.sql), args.format);
  return kExitOk;
}

}  // namespace kiln::runner::cli
