// The store's reads for kiln serve (store/dashboard.hpp) and the JSON bodies it reads
// (store/json_text.hpp's flat objects), on :memory: databases.
#include <cmath>

#include <gtest/gtest.h>

#include "store/dashboard.hpp"
#include "store/json_text.hpp"
#include "store/schema.hpp"

namespace kiln::runner::store {
namespace {

class dashboard_reads : public ::testing::Test {
 protected:
  void SetUp() override {
    migrate(db_);
    db_.exec("INSERT INTO runs (id, name, experiment, config, config_hash, status, started) "
             "VALUES (1, 'a', 'e.toml', '', '', 'running', 0)");
  }

  void summary(const std::string& tag, std::int64_t step, const std::string& value) {
    db_.exec("INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES (1, '" + tag + "', " +
             std::to_string(step) + ", " + value + ", 0)");
  }

  Database db_{":memory:"};
};

TEST_F(dashboard_reads, rows_after_a_step_keep_the_latest_when_cut) {
  for (int step = 0; step < 25; ++step) summary("loss/x", step, step == 7 ? "NULL" : std::to_string(step * 2));
  const SeriesTail all = summaries_after(db_, 1, "loss/x", -1, 100);
  ASSERT_EQ(all.points.size(), 25u);
  EXPECT_FALSE(all.truncated);
  EXPECT_TRUE(std::isnan(all.points[7].value));
  const SeriesTail after = summaries_after(db_, 1, "loss/x", 20, 100);
  ASSERT_EQ(after.points.size(), 4u);
  EXPECT_EQ(after.points.front().step, 21);
  EXPECT_EQ(after.points.back().value, 48);
  const SeriesTail cut = summaries_after(db_, 1, "loss/x", -1, 10);
  ASSERT_EQ(cut.points.size(), 10u);
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.points.front().step, 15);
  EXPECT_EQ(cut.points.back().step, 24);
  EXPECT_FALSE(summaries_after(db_, 1, "loss/x", 14, 10).truncated);
  EXPECT_TRUE(summaries_after(db_, 1, "other", -1, 10).points.empty());
}

TEST_F(dashboard_reads, best_values_follow_each_tags_direction) {
  for (const auto& [step, value] : {std::pair{0, "0.5"}, {1, "0.2"}, {2, "0.2"}, {3, "0.9"}}) {
    summary("eval/l1", step, value);
    summary("eval/acc", step, value);
    summary("loss/x", step, value);
  }
  summary("eval/nan", 0, "NULL");
  db_.exec("INSERT INTO summary_directions (run_id, pattern, direction, source) VALUES (1, 'eval/acc', 'max', 'hook')");
  const std::vector<BestMetric> best = best_metrics(db_, 1, "eval/");
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].tag, "eval/acc");
  EXPECT_EQ(best[0].value, 0.9);
  EXPECT_EQ(best[0].step, 3);
  EXPECT_EQ(best[0].direction, "max");
  EXPECT_EQ(best[1].tag, "eval/l1");
  EXPECT_EQ(best[1].value, 0.2);
  EXPECT_EQ(best[1].step, 1);  // the first step that reached it
  EXPECT_EQ(best[1].direction, "min");
  EXPECT_EQ(best_metrics(db_, 1, "").size(), 3u);
}

TEST_F(dashboard_reads, one_param) {
  db_.exec("INSERT INTO params (run_id, key, value) VALUES (1, 'experiment.tags', '[ ''a'' ]'), (1, 'x', NULL)");
  EXPECT_EQ(run_param(db_, 1, "experiment.tags"), "[ 'a' ]");
  EXPECT_EQ(run_param(db_, 1, "x"), "");
  EXPECT_EQ(run_param(db_, 1, "y"), std::nullopt);
}

TEST(json_text, flat_objects_are_read_and_anything_else_refused) {
  const auto body = parse_json_flat_object(R"( {"sql": "SELECT \"a\"\n", "limit": 10, "f": false, "n": null} )");
  ASSERT_TRUE(body);
  EXPECT_EQ(body->at("sql").kind, JsonScalar::Kind::string);
  EXPECT_EQ(body->at("sql").text, "SELECT \"a\"\n");
  EXPECT_EQ(body->at("limit").kind, JsonScalar::Kind::number);
  EXPECT_EQ(body->at("limit").text, "10");
  EXPECT_EQ(body->at("f").text, "false");
  EXPECT_EQ(body->at("n").kind, JsonScalar::Kind::null);
  EXPECT_TRUE(parse_json_flat_object("{}"));
  for (const char* bad : {"", "[]", "{\"a\": [1]}", "{\"a\": {}}", "{\"a\": 1,}", "{\"a\": 1} x", "{\"a\": 1, \"a\": 2}",
                          "{\"a\": -}", "{\"a\": 1e}", "{a: 1}", "{\"a\": tru}"})
    EXPECT_FALSE(parse_json_flat_object(bad)) << bad;
}

}  // namespace
}  // namespace kiln::runner::store
