// The schema's views: metrics_last, metrics_best and run_overview on hand-made runs, and the
// indexes that lookups by run and by tag use instead of scanning summaries.
#include <gtest/gtest.h>

#include "store/query.hpp"
#include "store/schema.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;
using Rows = std::vector<std::vector<Value>>;

/// A migrated database with run 1 'a' (completed, two losses, an eval metric, checkpoints),
/// run 2 'b' (running, no summaries) and run 3 'c' (crashed).
class views : public ::testing::Test {
 protected:
  void SetUp() override {
    Database db(path_);
    migrate(db);
    db.exec(R"sql(
      INSERT INTO runs (id, name, experiment, config, config_hash, status, started, ended) VALUES
        (1, 'a', 'a.toml', '', 'h', 'completed', 1000.25, 1100.5),
        (2, 'b', 'b.toml', '', 'h', 'running', 2000, NULL),
        (3, 'c', 'c.toml', '', 'h', 'crashed', 3000, NULL);
      -- Inserted out of step order; step 20 of loss/d is NULL (a NaN), a tie for the minimum.
      INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES
        (1, 'loss/g', 19, 0.5, 1019), (1, 'loss/g', 0, 2.0, 1000), (1, 'loss/g', 9, 0.5, 1009),
        (1, 'loss/d', 0, 1.5, 1000), (1, 'loss/d', 9, 1.25, 1009), (1, 'loss/d', 19, NULL, 1019),
        (1, 'eval/l1', 0, 0.75, 1000), (1, 'eval/l1', 20, 0.25, 1020),
        (1, 'eval/psnr', 20, 21.5, 1020), (1, 'time/step_ms', 19, 3.5, 1019),
        (3, 'eval/l1', 5, 0.5, 3005);
      INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason, kept, deleted) VALUES
        (1, 10, 'a/ckpt-10.kiln', 7, 's', 1010, 'steps', 'keep_every_hours', NULL),
        (1, 15, 'a/ckpt-15.kiln', 7, 's', 1015, 'snapshot', 'max_to_keep', NULL),
        (1, 20, 'a/ckpt-20.kiln', 7, 's', 1020, 'end', NULL, 1030),
        (3, 5, 'c/ckpt-5.kiln', 7, 's', 3005, 'time', NULL, 3010);
    )sql");
  }

  Rows rows(const std::string& sql) { return query_readonly(path_, sql).rows; }

  /// The lines of EXPLAIN QUERY PLAN that read summaries, params or checkpoints whole (the
  /// views call them s, m, c and k; scans of runs and of a subquery's rows are fine).
  std::vector<std::string> full_scans(const std::string& sql) {
    const std::vector<std::string> big = {"SCAN summaries", "SCAN params", "SCAN checkpoints",
                                          "SCAN s", "SCAN m", "SCAN c", "SCAN k"};
    std::vector<std::string> scans;
    for (const auto& row : rows("EXPLAIN QUERY PLAN " + sql)) {
      const std::string& detail = std::get<std::string>(row.at(3));
      for (const std::string& scan : big)
        if (detail == scan || detail.rfind(scan + " ", 0) == 0) scans.push_back(detail);
    }
    return scans;
  }

  TempDir dir_;
  fs::path path_ = dir_ / "kiln.db";
};

TEST_F(views, metrics_last_is_the_value_at_each_tags_highest_step) {
  EXPECT_EQ(rows("SELECT run_id, run, tag, step, value, wall_time FROM metrics_last ORDER BY run_id, tag"),
            (Rows{{int64_t{1}, std::string("a"), std::string("eval/l1"), int64_t{20}, 0.25, 1020.0},
                  {int64_t{1}, std::string("a"), std::string("eval/psnr"), int64_t{20}, 21.5, 1020.0},
                  {int64_t{1}, std::string("a"), std::string("loss/d"), int64_t{19}, std::monostate{}, 1019.0},
                  {int64_t{1}, std::string("a"), std::string("loss/g"), int64_t{19}, 0.5, 1019.0},
                  {int64_t{1}, std::string("a"), std::string("time/step_ms"), int64_t{19}, 3.5, 1019.0},
                  {int64_t{3}, std::string("c"), std::string("eval/l1"), int64_t{5}, 0.5, 3005.0}}));
}

TEST_F(views, metrics_best_gives_the_first_step_of_each_extreme_and_skips_nulls) {
  EXPECT_EQ(rows("SELECT run, tag, min_value, min_step, max_value, max_step FROM metrics_best "
                 "WHERE run = 'a' AND tag GLOB 'loss/*' ORDER BY tag"),
            (Rows{{std::string("a"), std::string("loss/d"), 1.25, int64_t{9}, 1.5, int64_t{0}},
                  {std::string("a"), std::string("loss/g"), 0.5, int64_t{9}, 2.0, int64_t{0}}}));
}

TEST_F(views, run_overview_has_one_row_per_run) {
  EXPECT_EQ(rows("SELECT id, name, status, experiment, steps, ended IS NULL, duration_s, losses, eval, "
                 "latest_checkpoint_step, latest_checkpoint, error FROM run_overview WHERE id IN (1, 3) ORDER BY id"),
            (Rows{{int64_t{1}, std::string("a"), std::string("completed"), std::string("a.toml"), int64_t{20},
                   int64_t{0}, 100.25, std::string(R"({"d":null,"g":0.5})"),
                   std::string(R"({"l1":0.25,"psnr":21.5})"), int64_t{15}, std::string("a/ckpt-15.kiln"),
                   std::monostate{}},
                  // Crashed: its end is unknown, so is its duration; no losses, no checkpoint kept.
                  {int64_t{3}, std::string("c"), std::string("crashed"), std::string("c.toml"), std::monostate{},
                   int64_t{1}, std::monostate{}, std::string("{}"), std::string(R"({"l1":0.5})"),
                   std::monostate{}, std::monostate{}, std::monostate{}}}));
  // A running run's duration runs until now (the clock here is far past its start).
  const Rows running = rows("SELECT name, ended, losses, duration_s > 1e9 FROM run_overview WHERE id = 2");
  EXPECT_EQ(running, (Rows{{std::string("b"), std::monostate{}, std::string("{}"), int64_t{1}}}));
  EXPECT_EQ(rows("SELECT count(*) FROM run_overview"), (Rows{{int64_t{3}}}));
}

TEST_F(views, losses_and_eval_are_json_objects_that_json_extract_reads) {
  EXPECT_EQ(rows("SELECT json_extract(losses, '$.g'), json_extract(eval, '$.psnr') FROM run_overview WHERE name = 'a'"),
            (Rows{{0.5, 21.5}}));
}

TEST_F(views, lookups_by_run_or_by_tag_use_indexes) {
  for (const std::string sql : {
           "SELECT * FROM metrics_last WHERE run = 'a'",
           "SELECT * FROM metrics_last WHERE tag = 'loss/g'",
           "SELECT * FROM metrics_best WHERE run = 'a' AND tag = 'loss/g'",
           "SELECT * FROM run_overview WHERE name = 'a'",
           "SELECT * FROM run_overview",
           "SELECT run_id, value FROM summaries WHERE tag = 'loss/g' AND step = 9",
           "SELECT run_id FROM params WHERE key = 'optimizers.adam.lr' AND value = '0.001'",
       })
    EXPECT_EQ(full_scans(sql), std::vector<std::string>{}) << sql;
}

}  // namespace
}  // namespace kiln::runner::store
