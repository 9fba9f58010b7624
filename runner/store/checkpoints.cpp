// The `checkpoints` and `retention` tables: what the saver wrote, kept and deleted.
#include "store/checkpoints.hpp"

namespace kiln::runner::store {

void insert_checkpoint(Database& db, const CheckpointRow& row) {
  Statement insert(db, R"sql(
    INSERT OR REPLACE INTO checkpoints (run_id, step, path, bytes, sha256, created, reason, kept, deleted)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL))sql");
  insert.bind(1, row.run_id).bind(2, row.step).bind(3, row.path).bind(4, row.bytes).bind(5, row.sha256);
  insert.bind(6, row.created).bind(7, row.reason);
  if (row.kept.empty()) insert.bind(8, nullptr); else insert.bind(8, row.kept);
  insert.step();
}

void set_kept(Database& db, std::int64_t run_id, std::int64_t step, const std::string& kept) {
  Statement update(db, "UPDATE checkpoints SET kept = ?3 WHERE run_id = ?1 AND step = ?2");
  update.bind(1, run_id).bind(2, step).bind(3, kept);
  update.step();
}

void mark_deleted(Database& db, std::int64_t run_id, std::int64_t step, double when) {
  Statement update(db, "UPDATE checkpoints SET kept = NULL, deleted = ?3 WHERE run_id = ?1 AND step = ?2");
  update.bind(1, run_id).bind(2, step).bind(3, when);
  update.step();
}

std::vector<CheckpointRow> list_checkpoints(Database& db, std::int64_t run_id, bool include_deleted) {
  Statement select(db, std::string(R"sql(
    SELECT run_id, step, path, bytes, sha256, created, reason, kept, deleted
    FROM checkpoints WHERE run_id = ?1)sql") +
                           (include_deleted ? "" : " AND deleted IS NULL") + " ORDER BY step");
  select.bind(1, run_id);
  std::vector<CheckpointRow> rows;
  while (select.step()) {
    CheckpointRow row;
    row.run_id = select.column_int64(0);
    row.step = select.column_int64(1);
    row.path = select.column_text(2);
    row.bytes = select.column_int64(3);
    row.sha256 = select.column_text(4);
    row.created = select.column_double(5);
    row.reason = select.column_text(6);
    row.kept = select.column_type(7) == ColumnType::null ? "" : select.column_text(7);
    if (select.column_type(8) != ColumnType::null) row.deleted = select.column_double(8);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::optional<double> next_keep_time(Database& db, std::int64_t run_id) {
  Statement select(db, "SELECT next_keep_time FROM retention WHERE run_id = ?1");
  select.bind(1, run_id);
  if (!select.step() || select.column_type(0) == ColumnType::null) return std::nullopt;
  return select.column_double(0);
}

void set_next_keep_time(Database& db, std::int64_t run_id, double when) {
  Statement upsert(db, "INSERT OR REPLACE INTO retention (run_id, next_keep_time) VALUES (?1, ?2)");
  upsert.bind(1, run_id).bind(2, when);
  upsert.step();
}

}  // namespace kiln::runner::store
