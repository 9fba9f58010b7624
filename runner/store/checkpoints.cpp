// The `checkpoints` and `retention` tables: what the saver wrote, kept and deleted.
#include "store/checkpoints.hpp"

#include <algorithm>

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

namespace {

std::vector<std::string_view> split_reasons(std::string_view kept) {
  std::vector<std::string_view> reasons;
  while (!kept.empty()) {
    const std::size_t comma = kept.find(',');
    const std::string_view reason = kept.substr(0, comma);
    if (!reason.empty() && reason != kKeptRecent) reasons.push_back(reason);
    if (comma == std::string_view::npos) break;
    kept.remove_prefix(comma + 1);
  }
  return reasons;
}

std::string join_reasons(const std::vector<std::string_view>& reasons) {
  if (reasons.empty()) return kKeptRecent;
  std::string kept;
  for (std::string_view reason : reasons) {
    if (!kept.empty()) kept += ',';
    kept += reason;
  }
  return kept;
}

}  // namespace

bool kept_for(std::string_view kept, std::string_view reason) {
  for (std::string_view r : split_reasons(kept))
    if (r == reason) return true;
  return false;
}

std::string with_reason(std::string_view kept, std::string_view reason) {
  std::vector<std::string_view> reasons = split_reasons(kept);
  if (!kept_for(kept, reason)) reasons.push_back(reason);
  return join_reasons(reasons);
}

std::string without_reason(std::string_view kept, std::string_view reason) {
  std::vector<std::string_view> reasons = split_reasons(kept);
  reasons.erase(std::remove(reasons.begin(), reasons.end(), reason), reasons.end());
  return join_reasons(reasons);
}

bool keep_for(Database& db, std::int64_t run_id, std::int64_t step, std::string_view reason) {
  const std::vector<CheckpointRow> rows = list_checkpoints(db, run_id);
  const auto target = std::find_if(rows.begin(), rows.end(), [&](const CheckpointRow& row) { return row.step == step; });
  if (target == rows.end()) return false;
  for (const CheckpointRow& row : rows) {
    if (row.step == step) {
      if (!kept_for(row.kept, reason)) set_kept(db, run_id, row.step, with_reason(row.kept, reason));
    } else if (kept_for(row.kept, reason)) {
      set_kept(db, run_id, row.step, without_reason(row.kept, reason));
    }
  }
  return true;
}

std::optional<CheckpointRow> kept_checkpoint(Database& db, std::int64_t run_id, std::string_view reason) {
  std::optional<CheckpointRow> newest;
  for (CheckpointRow& row : list_checkpoints(db, run_id))
    if (kept_for(row.kept, reason)) newest = std::move(row);
  return newest;
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
