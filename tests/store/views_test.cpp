// The schema's views: metrics_last, metrics_best and run_overview on hand-made runs, the
// same rows as plain reference queries (and as a model in C++) on a generated database of
// many runs, and the indexes that lookups by run and by tag use instead of scanning summaries.
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

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
                                          "SCAN s", "SCAN m", "SCAN c", "SCAN k", "SCAN rule",
                                          "SCAN summary_directions"};
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

TEST_F(views, metrics_best_is_lower_is_better_unless_a_rule_says_otherwise) {
  // No rules: every tag's best is its lowest value.
  EXPECT_EQ(rows("SELECT tag, direction, best_value, best_step FROM metrics_best WHERE run = 'a' ORDER BY tag"),
            (Rows{{std::string("eval/l1"), std::string("min"), 0.25, int64_t{20}},
                  {std::string("eval/psnr"), std::string("min"), 21.5, int64_t{20}},
                  {std::string("loss/d"), std::string("min"), 1.25, int64_t{9}},
                  {std::string("loss/g"), std::string("min"), 0.5, int64_t{9}},
                  {std::string("time/step_ms"), std::string("min"), 3.5, int64_t{19}}}));
  {
    Database db(path_);
    db.exec(R"sql(
      INSERT INTO summary_directions (run_id, pattern, direction, source) VALUES
        (1, 'eval/*', 'max', 'experiment'),     -- a pattern ...
        (1, 'eval/l1', 'min', 'hook'),          -- ... loses to an exact tag, whoever wrote it
        (1, 'loss/*', 'max', 'experiment'),
        (1, 'loss/g*', 'min', 'hook'),          -- a longer pattern wins over a shorter one
        (1, 'time/step_ms', 'max', 'hook'),
        (1, 'time/step_ms', 'min', 'experiment'),  -- of two exact rules, the experiment's
        (3, 'eval/l', 'max', 'experiment');     -- an exact tag is not a prefix
    )sql");
  }
  EXPECT_EQ(rows("SELECT run, tag, direction, best_value, best_step FROM metrics_best ORDER BY run_id, tag"),
            (Rows{{std::string("a"), std::string("eval/l1"), std::string("min"), 0.25, int64_t{20}},
                  {std::string("a"), std::string("eval/psnr"), std::string("max"), 21.5, int64_t{20}},
                  {std::string("a"), std::string("loss/d"), std::string("max"), 1.5, int64_t{0}},
                  {std::string("a"), std::string("loss/g"), std::string("min"), 0.5, int64_t{9}},
                  {std::string("a"), std::string("time/step_ms"), std::string("min"), 3.5, int64_t{19}},
                  {std::string("c"), std::string("eval/l1"), std::string("min"), 0.5, int64_t{5}}}));
  // The columns of schema 5 answer as they did.
  EXPECT_EQ(rows("SELECT min_value, min_step, max_value, max_step FROM metrics_best WHERE run = 'a' AND tag = 'loss/d'"),
            (Rows{{1.25, int64_t{9}, 1.5, int64_t{0}}}));
  EXPECT_EQ(full_scans("SELECT * FROM metrics_best WHERE run = 'a'"), std::vector<std::string>{});
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

/// A database of many runs made at random (a fixed seed): runs without summaries, tags that
/// need quoting in JSON, values from a small set so that extremes tie, NULLs (NaN),
/// infinities, tags whose values are all NULL, sparse steps, deleted checkpoints.
class generated_views : public ::testing::Test {
 protected:
  struct Row {
    std::int64_t step;
    std::optional<double> value;
    double wall_time;
  };
  using Key = std::pair<std::int64_t, std::string>;  // run id, tag

  void SetUp() override {
    Database db(path_);
    migrate(db);
    const std::vector<std::string> tags = {"loss/d", "loss/g", "eval/l1", "eval/psnr", "time/step_ms", "ema/loss/g",
                                           "", "loss/", "odd \"tag\" \\ \t", "\xc3\xa9/\xc3\xbc", "lossy", "z"};
    const double kInf = std::numeric_limits<double>::infinity();
    const std::vector<std::optional<double>> values = {0.5, 0.25, 1.5, 0.25, 2.0, std::nullopt, kInf, -kInf, 1e-300};
    const char* const statuses[] = {"completed", "failed", "stopped", "crashed"};
    Transaction transaction(db);
    Statement run(db, "INSERT INTO runs (id, name, experiment, config, config_hash, status, started, ended, error) "
                      "VALUES (?1, ?2, 'e.toml', '', 'h', ?3, ?4, ?5, ?6)");
    Statement summary(db, "INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES (?1, ?2, ?3, ?4, ?5)");
    Statement checkpoint(db, "INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason, deleted) "
                             "VALUES (?1, ?2, ?3, 1, 's', 1, 'steps', ?4)");
    for (std::int64_t id = 1; id <= kRuns; ++id) {
      const std::string status = statuses[next() % 4];
      run.reset();
      // Names out of id order, so that neither order stands in for the other.
      run.bind(1, id).bind(2, "run-" + std::to_string((id * 7) % kRuns)).bind(3, status).bind(4, 1000.0 * id);
      if (status == "crashed") run.bind(5, nullptr);
      else run.bind(5, 1000.0 * id + static_cast<double>(next() % 5000) / 8);
      if (status == "failed") run.bind(6, "boom " + std::to_string(id));
      else run.bind(6, nullptr);
      run.step();
      if (id % 5 == 0) continue;  // no summaries, no checkpoints
      for (const std::string& tag : tags) {
        if (next() % 3 == 0) continue;
        const bool all_null = next() % 10 == 0;
        const int count = 1 + static_cast<int>(next() % 12);
        std::int64_t step = static_cast<std::int64_t>(next() % 3);
        for (int i = 0; i < count; ++i, step += 1 + static_cast<std::int64_t>(next() % 4)) {
          const std::optional<double> value = all_null ? std::nullopt : values[next() % values.size()];
          const double wall_time = 1000.0 * id + static_cast<double>(step) + 0.5;
          summary.reset();
          summary.bind(1, id).bind(2, tag).bind(3, step).bind(5, wall_time);
          if (value) summary.bind(4, *value);
          else summary.bind(4, nullptr);
          summary.step();
          rows_[{id, tag}].push_back({step, value, wall_time});
        }
      }
      for (std::int64_t step = 10; step <= 40; step += 10) {
        if (next() % 2 == 0) continue;
        checkpoint.reset();
        checkpoint.bind(1, id).bind(2, step).bind(3, "ckpt-" + std::to_string(step));
        if (next() % 3 == 0) checkpoint.bind(4, 5.0);
        else checkpoint.bind(4, nullptr);
        checkpoint.step();
      }
    }
    transaction.commit();
  }

  std::uint64_t next() {  // a 64-bit LCG, the same numbers every time
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_ >> 33;
  }

  Rows rows(const std::string& sql) { return query_readonly(path_, sql).rows; }

  /// A stored value as it reads back: NULL, or the double.
  static Value value_of(const std::optional<double>& value) {
    if (!value) return {};
    return *value;
  }

  static constexpr std::int64_t kRuns = 40;
  std::uint64_t state_ = 7;
  std::map<Key, std::vector<Row>> rows_;  // as written, steps ascending
  TempDir dir_;
  fs::path path_ = dir_ / "kiln.db";
};

TEST_F(generated_views, metrics_last_and_metrics_best_match_a_model_of_the_rows_written) {
  Rows last;
  Rows best;
  for (const auto& [key, points] : rows_) {
    const auto& [id, tag] = key;
    const Value run = std::string("run-") + std::to_string((id * 7) % kRuns);
    const Row& final = points.back();
    last.push_back({id, run, tag, final.step, value_of(final.value), final.wall_time});
    // min() and max() skip NULLs; each extreme keeps the first step that reached it.
    std::optional<Row> low;
    std::optional<Row> high;
    for (const Row& point : points) {
      if (!point.value) continue;
      if (!low || *point.value < *low->value) low = point;
      if (!high || *point.value > *high->value) high = point;
    }
    best.push_back({id, run, tag, low ? value_of(low->value) : Value{}, low ? Value{low->step} : Value{},
                    high ? value_of(high->value) : Value{}, high ? Value{high->step} : Value{}});
  }
  ASSERT_GT(last.size(), 200u);
  // Ties and NULLs are there to be handled.
  EXPECT_GT(std::get<int64_t>(rows("SELECT count(*) FROM summaries WHERE value IS NULL").at(0).at(0)), 20);
  EXPECT_GT(rows("SELECT run_id, tag FROM summaries GROUP BY run_id, tag HAVING count(*) > count(DISTINCT value) + 1").size(),
            50u);
  EXPECT_GT(rows("SELECT run_id, tag FROM summaries GROUP BY run_id, tag HAVING count(value) = 0").size(), 5u);
  EXPECT_EQ(rows("SELECT run_id, run, tag, step, value, wall_time FROM metrics_last ORDER BY run_id, tag"), last);
  EXPECT_EQ(rows("SELECT run_id, run, tag, min_value, min_step, max_value, max_step FROM metrics_best "
                 "ORDER BY run_id, tag"),
            best);
  // Runs without summaries have no rows.
  EXPECT_EQ(rows("SELECT count(*) FROM metrics_last WHERE run_id % 5 = 0"), (Rows{{int64_t{0}}}));
}

TEST_F(generated_views, each_view_answers_as_a_plain_reference_query) {
  // metrics_last: the row at each (run, tag)'s highest step.
  EXPECT_EQ(rows("SELECT * FROM metrics_last ORDER BY run_id, tag"),
            rows("SELECT r.id, r.name, s.tag, s.step, s.value, s.wall_time FROM runs r JOIN summaries s ON s.run_id = r.id "
                 "WHERE s.step = (SELECT max(step) FROM summaries WHERE run_id = s.run_id AND tag = s.tag) "
                 "ORDER BY r.id, s.tag"));
  // metrics_best: grouped extremes, and the first step at each; the direction an exact rule
  // gives (the experiment's first), else the longest prefix that covers the tag, else min;
  // and the extreme it picks. Rules for a third of the runs, overlapping every way.
  {
    Database db(path_);
    db.exec(R"sql(
      INSERT INTO summary_directions (run_id, pattern, direction, source)
        SELECT id, '*', 'max', 'experiment' FROM runs WHERE id % 3 = 0
        UNION ALL SELECT id, 'loss/*', 'min', 'hook' FROM runs WHERE id % 3 = 0
        UNION ALL SELECT id, 'loss/g', 'max', 'hook' FROM runs WHERE id % 3 = 0
        UNION ALL SELECT id, 'eval/*', 'max', 'hook' FROM runs WHERE id % 3 = 1
        UNION ALL SELECT id, 'eval/psnr', 'min', 'experiment' FROM runs WHERE id % 3 = 1
        UNION ALL SELECT id, 'eval/psnr', 'max', 'hook' FROM runs WHERE id % 3 = 1
        UNION ALL SELECT id, 'eval/ps*', 'min', 'experiment' FROM runs WHERE id % 3 = 1;
    )sql");
  }
  EXPECT_GT(std::get<int64_t>(rows("SELECT count(*) FROM metrics_best WHERE direction = 'max'").at(0).at(0)), 20);
  EXPECT_EQ(rows("SELECT * FROM metrics_best ORDER BY run_id, tag"),
            rows("WITH g AS (SELECT run_id, tag, min(value) AS lo, max(value) AS hi FROM summaries GROUP BY run_id, tag), "
                 "e AS (SELECT g.*, "
                 "       (SELECT step FROM summaries WHERE run_id = g.run_id AND tag = g.tag AND value = g.lo "
                 "        ORDER BY step LIMIT 1) AS lo_step, "
                 "       (SELECT step FROM summaries WHERE run_id = g.run_id AND tag = g.tag AND value = g.hi "
                 "        ORDER BY step LIMIT 1) AS hi_step, "
                 "       coalesce((SELECT direction FROM summary_directions d WHERE d.run_id = g.run_id AND d.pattern = g.tag "
                 "                 ORDER BY d.source LIMIT 1), "
                 "                (SELECT direction FROM summary_directions d WHERE d.run_id = g.run_id "
                 "                 AND d.pattern LIKE '%*' AND instr(g.tag, rtrim(d.pattern, '*')) = 1 "
                 "                 ORDER BY length(d.pattern) DESC, d.source LIMIT 1), 'min') AS direction "
                 "     FROM g) "
                 "SELECT e.run_id, r.name, e.tag, e.lo, e.lo_step, e.hi, e.hi_step, e.direction, "
                 "       iif(e.direction = 'max', e.hi, e.lo), iif(e.direction = 'max', e.hi_step, e.lo_step) "
                 "FROM e JOIN runs r ON r.id = e.run_id ORDER BY e.run_id, e.tag"));
  // run_overview: the last rows by a window function, the newest checkpoint not deleted.
  const std::string last = "(SELECT run_id, tag, step, value FROM (SELECT *, row_number() OVER "
                            "(PARTITION BY run_id, tag ORDER BY step DESC) AS k FROM summaries) WHERE k = 1)";
  const Rows overview = rows("SELECT * FROM run_overview ORDER BY id");
  EXPECT_EQ(overview,
            rows("SELECT r.id, r.name, r.status, r.experiment, "
                 "  (SELECT max(step) + 1 FROM " + last + " WHERE run_id = r.id AND tag GLOB 'loss/*'), "
                 "  datetime(r.started, 'unixepoch', 'localtime'), datetime(r.ended, 'unixepoch', 'localtime'), "
                 "  round(r.ended - r.started, 3), "
                 "  (SELECT json_group_object(substr(tag, 6), value) FROM (SELECT * FROM " + last +
                 "   WHERE run_id = r.id AND tag GLOB 'loss/*' ORDER BY tag)), "
                 "  (SELECT json_group_object(substr(tag, 6), value) FROM (SELECT * FROM " + last +
                 "   WHERE run_id = r.id AND tag GLOB 'eval/*' ORDER BY tag)), "
                 "  (SELECT max(step) FROM checkpoints WHERE run_id = r.id AND deleted IS NULL), "
                 "  (SELECT path FROM checkpoints WHERE run_id = r.id AND deleted IS NULL ORDER BY step DESC LIMIT 1), "
                 "  r.error "
                 "FROM runs r ORDER BY r.id"));
  ASSERT_EQ(overview.size(), static_cast<std::size_t>(kRuns));
  // One of the runs without summaries: no steps, empty objects.
  EXPECT_EQ(rows("SELECT steps, losses, eval, latest_checkpoint FROM run_overview WHERE id = 5"),
            (Rows{{std::monostate{}, std::string("{}"), std::string("{}"), std::monostate{}}}));
}

TEST_F(generated_views, a_filter_on_one_run_or_one_tag_gives_that_runs_or_tags_rows) {
  for (const std::int64_t id : {1, 2, 5, 13}) {
    const std::string run = "run-" + std::to_string((id * 7) % kRuns);
    for (const std::string view : {"metrics_last", "metrics_best"}) {
      EXPECT_EQ(rows("SELECT * FROM " + view + " WHERE run = '" + run + "' ORDER BY tag"),
                rows("SELECT * FROM " + view + " WHERE run_id + 0 = " + std::to_string(id) + " ORDER BY tag"))
          << view << " " << run;
    }
    EXPECT_EQ(rows("SELECT * FROM run_overview WHERE name = '" + run + "'"),
              rows("SELECT * FROM run_overview WHERE id + 0 = " + std::to_string(id)));
  }
  EXPECT_EQ(rows("SELECT run_id, value FROM metrics_last WHERE tag = 'odd \"tag\" \\ \t' ORDER BY run_id"),
            rows("SELECT run_id, value FROM metrics_last WHERE tag || '' = 'odd \"tag\" \\ \t' ORDER BY run_id"));
  EXPECT_GT(rows("SELECT * FROM metrics_last WHERE tag = ''").size(), 5u);
}

}  // namespace
}  // namespace kiln::runner::store
