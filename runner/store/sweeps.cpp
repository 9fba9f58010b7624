// Sweeps (issue 16): a sweep's definition and trials, written by kiln sweep, read by sweep show.
#include "store/sweeps.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include "document.hpp"
#include "kiln/error.hpp"
#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

std::optional<std::string> optional_text(const Statement& row, int column) {
  if (row.column_type(column) == ColumnType::null) return std::nullopt;
  return row.column_text(column);
}

std::optional<std::int64_t> optional_int(const Statement& row, int column) {
  if (row.column_type(column) == ColumnType::null) return std::nullopt;
  return row.column_int64(column);
}

std::string quoted_or_none(const std::optional<std::string>& value) {
  return value ? "'" + *value + "'" : "none";
}

// The top-level keys whose values differ between two JSON objects (or that one of them lacks),
// sorted; "spec" itself when either is not an object.
std::vector<std::string> differing_keys(Database& db, const std::string& before, const std::string& after) {
  Statement select(db, R"sql(
    SELECT key FROM (
      SELECT a.key FROM json_each(?1) a
      WHERE NOT EXISTS (SELECT 1 FROM json_each(?2) b WHERE b.key = a.key AND b.type = a.type AND b.atom IS a.atom
                          AND (a.atom IS NOT NULL OR b.value = a.value))
      UNION
      SELECT b.key FROM json_each(?2) b WHERE NOT EXISTS (SELECT 1 FROM json_each(?1) a WHERE a.key = b.key))
    ORDER BY key)sql");
  select.bind(1, before).bind(2, after);
  std::vector<std::string> keys;
  while (select.step()) keys.push_back(select.column_text(0));
  return keys;
}

// What differs between the sweep as recorded and as wanted now; empty when they are the same.
std::string definition_changes(Database& db, const SweepRow& recorded, const SweepRow& wanted) {
  std::vector<std::string> changes;
  if (recorded.experiment != wanted.experiment)
    changes.push_back(fmt::format("experiment '{}' -> '{}'", recorded.experiment, wanted.experiment));
  if (recorded.spec != wanted.spec) {
    std::vector<std::string> keys = differing_keys(db, recorded.spec, wanted.spec);
    // The spec names the experiment file too: said once, above.
    if (!changes.empty()) keys.erase(std::remove(keys.begin(), keys.end(), "experiment"), keys.end());
    if (keys.empty() && changes.empty()) changes.push_back("spec");
    else if (!keys.empty()) changes.push_back(fmt::format("spec key {}", fmt::join(keys, ", ")));
  }
  if (recorded.metric != wanted.metric)
    changes.push_back(fmt::format("metric {} -> {}", quoted_or_none(recorded.metric), quoted_or_none(wanted.metric)));
  if (recorded.mode != wanted.mode)
    changes.push_back(fmt::format("mode {} -> {}", quoted_or_none(recorded.mode), quoted_or_none(wanted.mode)));
  if (recorded.trials != wanted.trials)
    changes.push_back(fmt::format("trials {} -> {}", recorded.trials, wanted.trials));
  return fmt::format("{}", fmt::join(changes, "; "));
}

}  // namespace

std::optional<SweepRow> find_sweep(Database& db, const std::string& name) {
  // A database older than schema 8, opened read-only by a reading command, has no sweeps.
  if (schema_version(db) < kSweepsSince) return std::nullopt;
  Statement select(db, "SELECT id, name, experiment, spec, metric, mode, trials, created FROM sweeps WHERE name = ?1");
  select.bind(1, name);
  if (!select.step()) return std::nullopt;
  SweepRow sweep;
  sweep.id = select.column_int64(0);
  sweep.name = select.column_text(1);
  sweep.experiment = select.column_text(2);
  sweep.spec = select.column_text(3);
  sweep.metric = optional_text(select, 4);
  sweep.mode = optional_text(select, 5);
  sweep.trials = select.column_int64(6);
  sweep.created = select.column_double(7);
  return sweep;
}

SweepRow require_sweep(Database& db, const std::string& name) {
  if (std::optional<SweepRow> sweep = find_sweep(db, name)) return *sweep;
  std::vector<std::string> names;
  if (schema_version(db) >= kSweepsSince) {
    Statement all(db, "SELECT name FROM sweeps ORDER BY id");
    while (all.step()) names.push_back(all.column_text(0));
  }
  std::string hint;
  if (names.empty()) hint = "; it has no sweeps yet (kiln sweep EXPERIMENT.toml makes one)";
  else hint = kiln::detail::did_you_mean(name, names);
  throw StoreError(fmt::format("no sweep named '{}' in {}{}", name, db.path().string(), hint), SQLITE_NOTFOUND);
}

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SweepRow record_sweep(Database& db, const SweepRow& wanted, const std::vector<TrialRow>& trials) {
  Transaction transaction(db);
  if (std::optional<SweepRow> recorded = find_sweep(db, wanted.name)) {
    const std::string changes = definition_changes(db, *recorded, wanted);
    if (!changes.empty())
      throw StoreError(fmt::format("{}: the sweep '{}' exists with another definition ({}); resume it as it was, "
                                   "or pick another --name",
                                   db.path().string(), wanted.name, changes),
                       SQLITE_CONSTRAINT);
    return *recorded;
  }
  SweepRow sweep = wanted;
  if (sweep.created <= 0) sweep.created = unix_now();
  Statement insert(db, R"sql(
    INSERT INTO sweeps (name, experiment, spec, metric, mode, trials, created)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql");
  insert.bind(1, wanted.name).bind(2, wanted.experiment).bind(3, wanted.spec).bind(6, wanted.trials)
      .bind(7, sweep.created);
  if (wanted.metric) insert.bind(4, *wanted.metric);
  else insert.bind(4, nullptr);
  if (wanted.mode) insert.bind(5, *wanted.mode);
  else insert.bind(5, nullptr);
  insert.step();
  sweep.id = db.last_insert_rowid();
  Statement insert_trial(db, R"sql(
    INSERT INTO sweep_trials (sweep_id, trial, run, overrides, cut_step) VALUES (?1, ?2, ?3, ?4, ?5))sql");
  for (const TrialRow& trial : trials) {
    insert_trial.reset();
    insert_trial.bind(1, sweep.id).bind(2, trial.trial).bind(3, trial.run).bind(4, trial.overrides)
        .bind(5, trial.cut_step);
    insert_trial.step();
  }
  transaction.commit();
  return sweep;
}

std::vector<TrialRow> sweep_trials(Database& db, std::int64_t sweep_id) {
  Statement select(db, R"sql(
    SELECT b.trial, b.run, b.overrides, b.cut_step, b.run_id, coalesce(b.status, ''), b.best_value, b.best_step,
           b.rank, coalesce(b.direction, ''), coalesce(r.error, '')
    FROM sweep_best b LEFT JOIN runs r ON r.id = b.run_id
    WHERE b.sweep_id = ?1
    ORDER BY b.rank IS NULL, b.rank, b.trial)sql");
  select.bind(1, sweep_id);
  std::vector<TrialRow> trials;
  while (select.step()) {
    TrialRow trial;
    trial.trial = select.column_int64(0);
    trial.run = select.column_text(1);
    trial.overrides = select.column_text(2);
    trial.cut_step = optional_int(select, 3);
    trial.run_id = optional_int(select, 4);
    trial.status = select.column_text(5);
    if (select.column_type(6) != ColumnType::null) trial.best_value = select.column_double(6);
    trial.best_step = optional_int(select, 7);
    trial.rank = optional_int(select, 8);
    trial.direction = select.column_text(9);
    trial.error = select.column_text(10);
    trials.push_back(std::move(trial));
  }
  return trials;
}

std::vector<std::string> sweep_runs(Database& db, const std::string& name) {
  std::vector<std::string> runs;
  for (const TrialRow& trial : sweep_trials(db, require_sweep(db, name).id))
    if (trial.run_id) runs.push_back(trial.run);
  return runs;
}

void record_cut(Database& db, std::int64_t sweep_id, std::int64_t trial, std::int64_t step,
                const std::string& message) {
  Transaction transaction(db);
  Statement select(db, R"sql(
    SELECT t.run, r.id FROM sweep_trials t LEFT JOIN runs r ON r.name = t.run
    WHERE t.sweep_id = ?1 AND t.trial = ?2)sql");
  select.bind(1, sweep_id).bind(2, trial);
  if (!select.step())
    throw StoreError(fmt::format("{}: sweep {} has no trial {}", db.path().string(), sweep_id, trial), SQLITE_NOTFOUND);
  const std::string run = select.column_text(0);
  const std::optional<std::int64_t> run_id = optional_int(select, 1);
  if (!run_id)
    throw StoreError(fmt::format("{}: trial {} of sweep {} has no run '{}' to cut yet", db.path().string(), trial,
                                 sweep_id, run),
                     SQLITE_NOTFOUND);
  Statement update(db, "UPDATE sweep_trials SET cut_step = ?3 WHERE sweep_id = ?1 AND trial = ?2");
  update.bind(1, sweep_id).bind(2, trial).bind(3, step);
  update.step();
  Statement event(db, R"sql(
    INSERT INTO events (run_id, time, step, kind, message)
    VALUES (?1, (julianday('now') - 2440587.5) * 86400.0, ?2, 'sweep_cut', ?3))sql");
  event.bind(1, *run_id).bind(2, step).bind(3, message);
  event.step();
  transaction.commit();
}

void require_sweep_id(Database& db, std::int64_t sweep_id) {
  Statement select(db, "SELECT 1 FROM sweeps WHERE id = ?1");
  select.bind(1, sweep_id);
  if (!select.step())
    throw StoreError(fmt::format("{}: no sweep with id {} (KILN_SWEEP_ID; kiln sweep sets it for its trials)",
                                 db.path().string(), sweep_id),
                     SQLITE_NOTFOUND);
}

void set_run_sweep(Database& db, std::int64_t run_id, std::int64_t sweep_id) {
  Transaction transaction(db);
  require_sweep_id(db, sweep_id);
  Statement update(db, "UPDATE runs SET sweep_id = ?2 WHERE id = ?1");
  update.bind(1, run_id).bind(2, sweep_id);
  update.step();
  transaction.commit();
}

std::optional<std::int64_t> sweep_id_from_environment() {
  const char* value = std::getenv("KILN_SWEEP_ID");
  if (!value || !*value) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long id = std::strtoll(value, &end, 10);
  if (*end != '\0' || errno != 0 || id < 1 || value[0] == '+' || value[0] == ' ')
    throw kiln::Error(fmt::format("KILN_SWEEP_ID is '{}'; it must be a sweep's id, a positive integer (kiln sweep "
                                  "sets it for each trial: unset it to run alone)",
                                  value));
  return id;
}

}  // namespace kiln::runner::store
