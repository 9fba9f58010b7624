// Finding a run the way every command takes one: by name, or by id when it is a number.
#include "store/run_ref.hpp"

#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

#include "document.hpp"

namespace kiln::runner::store {

RunRef find_run_ref(Database& db, const std::string& ref) {
  // A name wins over an id, so a run named "3" is still found by its name.
  Statement select(db,
                   "SELECT id, name, status, COALESCE(run_dir, '') FROM runs WHERE name = ?1 "
                   "UNION ALL SELECT id, name, status, COALESCE(run_dir, '') FROM runs WHERE CAST(id AS TEXT) = ?1 "
                   "LIMIT 1");
  select.bind(1, ref);
  if (select.step()) return {select.column_int64(0), select.column_text(1), select.column_text(2), select.column_text(3)};

  std::vector<std::string> names;
  Statement all(db, "SELECT name FROM runs ORDER BY id");
  while (all.step()) names.push_back(all.column_text(0));
  std::string hint;
  if (names.empty()) hint = "; it has no runs yet";
  else hint = kiln::detail::did_you_mean(ref, names);
  if (hint.empty()) hint = " (kiln runs lists them)";
  throw StoreError(fmt::format("no run named '{}' in {}{}", ref, db.path().string(), hint), SQLITE_NOTFOUND);
}

std::optional<std::int64_t> find_run_id(Database& db, const std::string& name) {
  Statement select(db, "SELECT id FROM runs WHERE name = ?1");
  select.bind(1, name);
  if (!select.step()) return std::nullopt;
  return select.column_int64(0);
}

}  // namespace kiln::runner::store
