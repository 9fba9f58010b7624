// Sweeps (schema 8): sweep_best's ranks by min and by max, record_sweep's resume and refusal,
// sweep_trials' order, record_cut and the trials' runs, on hand-made rows.
#include <chrono>
#include <cstdlib>

#include <gtest/gtest.h>

#include "store/query.hpp"
#include "store/schema.hpp"
#include "store/sweeps.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;
using Rows = std::vector<std::vector<Value>>;

SweepRow sweep_named(const std::string& name, std::optional<std::string> mode) {
  SweepRow sweep;
  sweep.name = name;
  sweep.experiment = "experiments/mlp.toml";
  sweep.spec = R"({"grid":{"optimizers.adam.lr":["0.1","0.01","0.001"]},"seed":1})";
  sweep.metric = "eval/loss";
  sweep.mode = std::move(mode);
  sweep.trials = 4;
  sweep.created = 1700000000.5;
  return sweep;
}

std::vector<TrialRow> trials_of(const std::string& name) {
  std::vector<TrialRow> trials;
  for (int i = 1; i <= 4; ++i) {
    TrialRow trial;
    trial.trial = i;
    trial.run = name + "-00" + std::to_string(i);
    trial.overrides = R"({"optimizers.adam.lr":"0.)" + std::string(static_cast<std::size_t>(i), '0') + "1\"}";
    trials.push_back(trial);
  }
  return trials;
}

/// A migrated database with sweep 's': trials 1 and 2 have runs with eval/loss values (and
/// 2 a 'max' rule for it), trial 3's run has no eval/loss, trial 4 has no run yet.
class sweeps : public ::testing::Test {
 protected:
  void SetUp() override {
    migrate(db_);
    id_ = record_sweep(db_, sweep_named("s", std::nullopt), trials_of("s")).id;
    db_.exec(R"sql(
      INSERT INTO runs (id, name, experiment, config, config_hash, status, started, error) VALUES
        (11, 's-001', 'e', '', 'h', 'completed', 1, NULL),
        (12, 's-002', 'e', '', 'h', 'running', 2, NULL),
        (13, 's-003', 'e', '', 'h', 'failed', 3, 'boom');
      INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES
        (11, 'eval/loss', 10, 0.5, 1), (11, 'eval/loss', 20, 0.25, 1), (11, 'eval/loss', 30, 0.25, 1),
        (12, 'eval/loss', 10, 0.75, 1), (12, 'eval/loss', 20, 0.125, 1),
        (13, 'loss/ce', 0, 2.0, 1);
    )sql");
  }

  Rows rows(const std::string& sql) { return query_readonly(path_, sql).rows; }

  TempDir dir_;
  fs::path path_ = dir_ / "kiln.db";
  Database db_{path_};
  std::int64_t id_ = 0;
};

TEST_F(sweeps, record_sweep_refuses_another_definition_under_the_same_name) {
  SweepRow other = sweep_named("s", "max");
  other.spec = R"({"grid":{"optimizers.adam.lr":["0.5"]},"seed":1})";
  try {
    record_sweep(db_, other, trials_of("s"));
    FAIL() << "recorded another definition";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), path_.string() + ": the sweep 's' exists with another definition (spec key grid; "
                                                      "mode none -> 'max'); resume it as it was, or pick another --name");
  }
  SweepRow moved = sweep_named("s", std::nullopt);
  moved.experiment = "experiments/other.toml";
  moved.trials = 6;
  EXPECT_THROW(
      try { record_sweep(db_, moved, trials_of("s")); } catch (const StoreError& e) {
        EXPECT_EQ(std::string(e.what()),
                  path_.string() + ": the sweep 's' exists with another definition (experiment 'experiments/mlp.toml' -> "
                                   "'experiments/other.toml'; trials 4 -> 6); resume it as it was, or pick another --name");
        throw;
      },
      StoreError);
  EXPECT_EQ(rows("SELECT count(*) FROM sweeps"), (Rows{{int64_t{1}}}));
}

TEST_F(sweeps, record_sweep_resumes_the_same_definition) {
  const SweepRow again = record_sweep(db_, sweep_named("s", std::nullopt), trials_of("s"));
  EXPECT_EQ(again.id, id_);
  EXPECT_EQ(again.metric, std::optional<std::string>("eval/loss"));
  EXPECT_EQ(again.mode, std::nullopt);
  EXPECT_EQ(again.created, 1700000000.5);
  EXPECT_EQ(rows("SELECT count(*) FROM sweep_trials"), (Rows{{int64_t{4}}}));
  const SweepRow second = record_sweep(db_, sweep_named("t", "min"), trials_of("t"));
  EXPECT_EQ(second.id, id_ + 1);
  EXPECT_EQ(find_sweep(db_, "t")->mode, std::optional<std::string>("min"));
  EXPECT_EQ(find_sweep(db_, "u"), std::nullopt);
}

TEST_F(sweeps, record_sweep_stamps_a_sweep_without_a_time_with_the_time_it_records_it) {
  SweepRow fresh = sweep_named("v", std::nullopt);
  fresh.created = 0;
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const SweepRow recorded = record_sweep(db_, fresh, trials_of("v"));
  EXPECT_GE(recorded.created, before);
  EXPECT_LT(recorded.created, before + 60);
  EXPECT_EQ(find_sweep(db_, "v")->created, recorded.created);
}

TEST_F(sweeps, require_sweep_suggests_the_closest_name) {
  try {
    require_sweep(db_, "ss");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), "no sweep named 'ss' in " + path_.string() + "; did you mean 's'?");
  }
  Database empty(dir_ / "empty.db");
  migrate(empty);
  try {
    require_sweep(empty, "s");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), "no sweep named 's' in " + (dir_ / "empty.db").string() +
                                         "; it has no sweeps yet (kiln sweep EXPERIMENT.toml makes one)");
  }
}

TEST_F(sweeps, sweep_best_ranks_by_each_runs_direction_without_a_mode) {
  // No rule: eval/loss is 'min' in both; the unranked trials (no value, no run) come after.
  EXPECT_EQ(rows("SELECT sweep, trial, run, run_id, status, direction, best_value, best_step, rank, cut_step "
                 "FROM sweep_best WHERE sweep = 's' ORDER BY trial"),
            (Rows{{std::string("s"), int64_t{1}, std::string("s-001"), int64_t{11}, std::string("completed"),
                   std::string("min"), 0.25, int64_t{20}, int64_t{2}, std::monostate{}},
                  {std::string("s"), int64_t{2}, std::string("s-002"), int64_t{12}, std::string("running"),
                   std::string("min"), 0.125, int64_t{20}, int64_t{1}, std::monostate{}},
                  {std::string("s"), int64_t{3}, std::string("s-003"), int64_t{13}, std::string("failed"),
                   std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
                  {std::string("s"), int64_t{4}, std::string("s-004"), std::monostate{}, std::monostate{},
                   std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}}}));
  // The runs' own rule: higher is better, so 0.75 at step 10 and 0.5 at step 10.
  db_.exec("INSERT INTO summary_directions VALUES (11, 'eval/*', 'max', 'experiment'), "
           "(12, 'eval/*', 'max', 'experiment')");
  EXPECT_EQ(rows("SELECT trial, direction, best_value, best_step, rank FROM sweep_best WHERE sweep_id = " +
                 std::to_string(id_) + " AND run_id IS NOT NULL ORDER BY trial"),
            (Rows{{int64_t{1}, std::string("max"), 0.5, int64_t{10}, int64_t{2}},
                  {int64_t{2}, std::string("max"), 0.75, int64_t{10}, int64_t{1}},
                  {int64_t{3}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}}}));
}

TEST_F(sweeps, sweep_best_ranks_by_the_sweeps_mode_and_shares_ties) {
  // Trial 1 of sweep 'm' is run s-002's, trial 2 s-001's: the mode 'max' wins over no rule.
  std::vector<TrialRow> trials = trials_of("m");
  trials[0].run = "s-002";
  trials[1].run = "s-001";
  trials[2].run = "s-001";
  const std::int64_t m = record_sweep(db_, sweep_named("m", "max"), trials).id;
  EXPECT_EQ(rows("SELECT trial, direction, best_value, best_step, rank FROM sweep_best WHERE sweep = 'm' ORDER BY trial"),
            (Rows{{int64_t{1}, std::string("max"), 0.75, int64_t{10}, int64_t{1}},
                  {int64_t{2}, std::string("max"), 0.5, int64_t{10}, int64_t{2}},
                  {int64_t{3}, std::string("max"), 0.5, int64_t{10}, int64_t{2}},
                  {int64_t{4}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}}}));
  const std::vector<TrialRow> ranked = sweep_trials(db_, m);
  ASSERT_EQ(ranked.size(), 4u);
  EXPECT_EQ(ranked[0].trial, 1);
  EXPECT_EQ(ranked[1].trial, 2);
  EXPECT_EQ(ranked[2].trial, 3);
  EXPECT_EQ(ranked[3].trial, 4);
  EXPECT_EQ(ranked[2].rank, std::optional<std::int64_t>(2));
}

TEST_F(sweeps, sweep_trials_are_ranked_then_by_trial_with_their_runs) {
  const std::vector<TrialRow> trials = sweep_trials(db_, id_);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[0].trial, 2);
  EXPECT_EQ(trials[0].run, "s-002");
  EXPECT_EQ(trials[0].run_id, std::optional<std::int64_t>(12));
  EXPECT_EQ(trials[0].status, "running");
  EXPECT_EQ(trials[0].best_value, std::optional<double>(0.125));
  EXPECT_EQ(trials[0].best_step, std::optional<std::int64_t>(20));
  EXPECT_EQ(trials[0].rank, std::optional<std::int64_t>(1));
  EXPECT_EQ(trials[0].direction, "min");
  EXPECT_EQ(trials[0].overrides, R"({"optimizers.adam.lr":"0.001"})");
  EXPECT_EQ(trials[1].trial, 1);
  EXPECT_EQ(trials[1].rank, std::optional<std::int64_t>(2));
  EXPECT_EQ(trials[2].trial, 3);
  EXPECT_EQ(trials[2].status, "failed");
  EXPECT_EQ(trials[2].error, "boom");
  EXPECT_EQ(trials[2].rank, std::nullopt);
  EXPECT_EQ(trials[2].best_value, std::nullopt);
  EXPECT_EQ(trials[3].trial, 4);
  EXPECT_EQ(trials[3].run_id, std::nullopt);
  EXPECT_EQ(trials[3].status, "");
}

TEST_F(sweeps, record_cut_marks_the_trial_and_tells_its_run) {
  EXPECT_THROW(record_cut(db_, id_, 9, 5, "x"), StoreError);
  try {
    record_cut(db_, id_, 4, 5, "x");
    FAIL() << "cut a trial without a run";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), path_.string() + ": trial 4 of sweep 1 has no run 's-004' to cut yet");
  }
  record_cut(db_, id_, 1, 20, "eval/loss 0.25 is worse than the median 0.2 of trials at step 20");
  EXPECT_EQ(rows("SELECT trial, cut_step FROM sweep_best WHERE sweep = 's' ORDER BY trial"),
            (Rows{{int64_t{1}, int64_t{20}},
                  {int64_t{2}, std::monostate{}},
                  {int64_t{3}, std::monostate{}},
                  {int64_t{4}, std::monostate{}}}));
  EXPECT_EQ(rows("SELECT run_id, step, kind, message FROM events"),
            (Rows{{int64_t{11}, int64_t{20}, std::string("sweep_cut"),
                   std::string("eval/loss 0.25 is worse than the median 0.2 of trials at step 20")}}));
  EXPECT_EQ(sweep_trials(db_, id_)[1].cut_step, std::optional<std::int64_t>(20));
}

TEST_F(sweeps, set_run_sweep_records_the_trials_sweep) {
  set_run_sweep(db_, 11, id_);
  EXPECT_EQ(rows("SELECT id, sweep_id FROM runs WHERE sweep_id IS NOT NULL"), (Rows{{int64_t{11}, id_}}));
  try {
    set_run_sweep(db_, 12, 99);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()),
              path_.string() + ": no sweep with id 99 (KILN_SWEEP_ID; kiln sweep sets it for its trials)");
  }
}

TEST(sweeps_before_schema_8, a_database_without_sweeps_has_none_to_find) {
  TempDir dir;
  Database db(dir / "old.db");
  db.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE); PRAGMA user_version = 7");
  EXPECT_EQ(find_sweep(db, "s"), std::nullopt);
  try {
    require_sweep(db, "s");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), "no sweep named 's' in " + (dir / "old.db").string() +
                                         "; it has no sweeps yet (kiln sweep EXPERIMENT.toml makes one)");
  }
}

TEST(sweep_id_from_environment, reads_a_positive_id_and_refuses_anything_else) {
  ::unsetenv("KILN_SWEEP_ID");
  EXPECT_EQ(sweep_id_from_environment(), std::nullopt);
  ::setenv("KILN_SWEEP_ID", "", 1);
  EXPECT_EQ(sweep_id_from_environment(), std::nullopt);
  ::setenv("KILN_SWEEP_ID", "42", 1);
  EXPECT_EQ(sweep_id_from_environment(), std::optional<std::int64_t>(42));
  for (const char* bad : {"0", "-3", "4x", "abc", "99999999999999999999"}) {
    ::setenv("KILN_SWEEP_ID", bad, 1);
    try {
      sweep_id_from_environment();
      ADD_FAILURE() << bad;
    } catch (const kiln::Error& e) {
      EXPECT_EQ(std::string(e.what()), std::string("KILN_SWEEP_ID is '") + bad +
                                           "'; it must be a sweep's id, a positive integer (kiln sweep sets it for "
                                           "each trial: unset it to run alone)");
    }
  }
  ::unsetenv("KILN_SWEEP_ID");
}

TEST_F(sweeps, sweep_best_seeks_instead_of_scanning_summaries) {
  std::vector<std::string> scans;
  for (const auto& row : rows("EXPLAIN QUERY PLAN SELECT * FROM sweep_best WHERE sweep = 's'")) {
    const std::string& detail = std::get<std::string>(row.at(3));
    for (const char* scan : {"SCAN summaries", "SCAN s", "SCAN m", "SCAN r", "SCAN runs", "SCAN rule", "SCAN t", "SCAN w", "SCAN sweeps"})
      if (detail == scan || (detail.rfind(std::string(scan) + " ", 0) == 0 && detail.find("VIRTUAL TABLE") == std::string::npos))
        scans.push_back(detail);
  }
  EXPECT_EQ(scans, std::vector<std::string>{});
}

}  // namespace
}  // namespace kiln::runner::store
