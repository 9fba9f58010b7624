// The history read API: open_existing, list_runs, steps_done, tags and their summaries, a
// run's params, plugins, events and images, on hand-made runs with exact values.
#include "store/history.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "store/schema.hpp"
#include "test_support.hpp"

namespace kiln::runner::store {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Run 1 'a' (completed: losses, eval, a NaN, an infinity, checkpoints, events, images),
/// run 2 'b' (running, nothing recorded) and run 3 'ab-3' (failed, an event past its losses).
class history : public ::testing::Test {
 protected:
  void SetUp() override {
    Database db(path_);
    migrate(db);
    db.exec(R"sql(
      INSERT INTO runs (id, name, experiment, config, config_hash, status, started, ended, host, pid, kiln_version, run_dir, error) VALUES
        (1, 'a', 'a.toml', '[model]', 'h1', 'completed', 1000.25, 1100.5, 'box', 42, '0.1.0', 'runs/a', NULL),
        (2, 'b', 'b.toml', '', 'h2', 'running', 2000, NULL, NULL, NULL, NULL, NULL, NULL),
        (3, 'ab-3', 'a.toml', '', 'h1', 'failed', 3000, 3010, 'box', 7, '0.1.0', 'runs/ab-3', 'boom');
      -- Out of step order; loss/d's step 19 is NULL (a NaN); loss/g ties its minimum at 9 and 19.
      INSERT INTO summaries (run_id, tag, step, value, wall_time) VALUES
        (1, 'loss/g', 19, 0.5, 1019), (1, 'loss/g', 0, 2.0, 1000), (1, 'loss/g', 9, 0.5, 1009),
        (1, 'loss/d', 0, 1.5, 1000), (1, 'loss/d', 9, 1.25, 1009), (1, 'loss/d', 19, NULL, 1019),
        (1, 'eval/l1', 0, 0.75, 1000), (1, 'eval/l1', 20, 0.25, 1020),
        (1, 'lossy', 30, 9.0, 1030),
        (1, 'time/step_ms', 5, 3.0, 1005), (1, 'time/step_ms', 6, 1e309, 1006), (1, 'time/step_ms', 19, 4.0, 1019),
        (3, 'loss/mse', 4, 0.125, 3004);
      INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason, kept, deleted) VALUES
        (1, 10, 'a/ckpt-10.kiln', 7, 's', 1010, 'steps', 'max_to_keep', NULL);
      INSERT INTO events (run_id, time, step, kind, message) VALUES
        (1, 1000, NULL, 'start', 'started'), (1, 1100, 20, 'stop', NULL),
        (3, 3001, 0, 'start', 'started'), (3, 3009, 8, 'failure', 'boom');
      INSERT INTO plugins (run_id, kind, name, library, path, sha256, version, abi) VALUES
        (1, 'model', 'mlp', 'mlp', '/lib/libmlp.so', 'abcdef', '1.2', 1),
        (1, 'loss', 'mse', 'losses', '/lib/liblosses.so', NULL, NULL, NULL);
      INSERT INTO params (run_id, key, value) VALUES (1, 'model.hidden', '64'), (1, 'model.note', NULL);
      INSERT INTO images (run_id, tag, step, path, wall_time) VALUES
        (1, 'samples', 20, 'a/s-20.png', 1020), (1, 'samples', 10, 'a/s-10.png', 1010), (1, 'grid', 10, 'a/g.png', 1010);
    )sql");
  }

  TempDir dir_;
  fs::path path_ = dir_ / "kiln.db";
};

TEST(history_open, open_existing_refuses_a_missing_file_or_a_folder_with_one_message) {
  TempDir dir;
  for (const fs::path& path : {dir / "nothing.db", dir.path()}) {
    try {
      open_existing(path);
      FAIL() << "opened " << path;
    } catch (const StoreError& e) {
      EXPECT_EQ(std::string(e.what()), "no run database at " + path.string() + " (run an experiment first, or pass --db)");
      EXPECT_EQ(e.code(), 14);  // SQLITE_CANTOPEN
    }
  }
  EXPECT_FALSE(fs::exists(dir / "nothing.db"));  // nothing was created
}

TEST_F(history, open_existing_reads_and_cannot_write) {
  Database db = open_existing(path_);
  EXPECT_EQ(db.mode(), OpenMode::read_only);
  EXPECT_EQ(run_row(db, 2).name, "b");
  EXPECT_THROW(db.exec("DELETE FROM runs"), StoreError);
}

TEST_F(history, run_row_reads_every_column_and_refuses_an_unknown_id) {
  Database db = open_existing(path_);
  const RunRow a = run_row(db, 1);
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.experiment, "a.toml");
  EXPECT_EQ(a.config, "[model]");
  EXPECT_EQ(a.config_hash, "h1");
  EXPECT_EQ(a.status, "completed");
  EXPECT_EQ(a.started, 1000.25);
  EXPECT_EQ(a.ended, 1100.5);
  EXPECT_EQ(a.host, "box");
  EXPECT_EQ(a.pid, 42);
  EXPECT_EQ(a.kiln_version, "0.1.0");
  EXPECT_EQ(a.run_dir, "runs/a");
  EXPECT_EQ(a.error, "");
  const RunRow b = run_row(db, 2);  // NULLs read as empty
  EXPECT_FALSE(b.ended);
  EXPECT_EQ(b.host, "");
  EXPECT_EQ(b.pid, 0);
  EXPECT_EQ(run_row(db, 3).error, "boom");
  try {
    run_row(db, 9);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), "no run with id 9 in " + path_.string());
    EXPECT_EQ(e.code(), 12);  // SQLITE_NOTFOUND
  }
}

TEST_F(history, list_runs_gives_the_newest_first_with_steps_and_latest_losses) {
  Database db = open_existing(path_);
  const std::vector<RunListing> runs = list_runs(db);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].run.name, "ab-3");
  EXPECT_EQ(runs[0].steps, 8);  // its failure event's step, past its last loss (4 + 1)
  ASSERT_EQ(runs[0].losses.size(), 1u);
  EXPECT_EQ(runs[0].losses[0].tag, "loss/mse");
  EXPECT_EQ(runs[0].losses[0].value, 0.125);
  EXPECT_EQ(runs[1].run.name, "b");
  EXPECT_EQ(runs[1].steps, 0);
  EXPECT_TRUE(runs[1].losses.empty());
  const RunListing& a = runs[2];
  EXPECT_EQ(a.run.config, "");  // a listing leaves the config out
  EXPECT_EQ(a.run.ended, 1100.5);
  EXPECT_EQ(a.steps, 20);  // loss step 19 + 1 (eval at 20 and 'lossy' at 30 do not count)
  ASSERT_EQ(a.losses.size(), 2u);
  EXPECT_EQ(a.losses[0].tag, "loss/d");
  EXPECT_EQ(a.losses[0].step, 19);
  EXPECT_TRUE(std::isnan(a.losses[0].value));
  EXPECT_EQ(a.losses[1].tag, "loss/g");
  EXPECT_EQ(a.losses[1].step, 19);
  EXPECT_EQ(a.losses[1].value, 0.5);
  EXPECT_EQ(a.losses[1].wall_time, 1019.0);
  EXPECT_EQ(a.losses[1].run_id, 1);
}

TEST_F(history, list_runs_filters_by_status_name_part_glob_and_limit) {
  Database db = open_existing(path_);
  auto names = [&](const RunFilter& filter) {
    std::vector<std::string> out;
    for (const RunListing& line : list_runs(db, filter)) out.push_back(line.run.name);
    return out;
  };
  EXPECT_EQ(names({"completed", "", 0}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(names({"", "b", 0}), (std::vector<std::string>{"ab-3", "b"}));  // a part of the name
  EXPECT_EQ(names({"", "a*", 0}), (std::vector<std::string>{"ab-3", "a"}));  // a glob
  EXPECT_EQ(names({"", "", 2}), (std::vector<std::string>{"ab-3", "b"}));
  EXPECT_EQ(names({"stopped", "", 0}), std::vector<std::string>{});
}

TEST_F(history, steps_done_is_the_latest_of_losses_checkpoints_and_events) {
  {
    Database db = open_existing(path_);
    EXPECT_EQ(steps_done(db, 1), 20);
    EXPECT_EQ(steps_done(db, 2), 0);
    EXPECT_EQ(steps_done(db, 3), 8);
  }
  Database db(path_);
  db.exec("INSERT INTO checkpoints (run_id, step, path, bytes, sha256, created, reason) VALUES (2, 30, 'p', 1, 's', 1, 'end')");
  EXPECT_EQ(steps_done(db, 2), 30);
}

TEST_F(history, summary_tags_and_last_summaries_by_prefix) {
  Database db = open_existing(path_);
  EXPECT_EQ(summary_tags(db, 1), (std::vector<std::string>{"eval/l1", "loss/d", "loss/g", "lossy", "time/step_ms"}));
  EXPECT_EQ(summary_tags(db, 1, "loss/"), (std::vector<std::string>{"loss/d", "loss/g"}));
  EXPECT_EQ(summary_tags(db, 1, "loss"), (std::vector<std::string>{"loss/d", "loss/g", "lossy"}));
  EXPECT_EQ(summary_tags(db, 1, "zzz"), std::vector<std::string>{});
  EXPECT_EQ(summary_tags(db, 2), std::vector<std::string>{});
  const std::vector<SummaryRow> last = last_summaries(db, 1);
  ASSERT_EQ(last.size(), 5u);
  EXPECT_EQ(last[0].tag, "eval/l1");
  EXPECT_EQ(last[0].step, 20);
  EXPECT_EQ(last[0].value, 0.25);
  EXPECT_EQ(last[3].tag, "lossy");
  EXPECT_EQ(last[3].step, 30);
  EXPECT_EQ(last[4].value, 4.0);
}

TEST_F(history, summarize_tags_gives_last_extremes_at_their_first_step_and_finite_means) {
  Database db = open_existing(path_);
  const std::vector<TagSummary> tags = summarize_tags(db, 1);
  ASSERT_EQ(tags.size(), 5u);
  const TagSummary& d = tags[1];
  EXPECT_EQ(d.tag, "loss/d");
  EXPECT_EQ(d.count, 3);
  EXPECT_EQ(d.last.step, 19);
  EXPECT_TRUE(std::isnan(d.last.value));
  EXPECT_EQ(d.lowest->value, 1.25);
  EXPECT_EQ(d.lowest->step, 9);
  EXPECT_EQ(d.highest->value, 1.5);
  EXPECT_EQ(d.highest->step, 0);
  EXPECT_EQ(d.finite_count, 2);
  EXPECT_EQ(d.finite_sum, 2.75);
  const TagSummary& g = tags[2];
  EXPECT_EQ(g.lowest->value, 0.5);
  EXPECT_EQ(g.lowest->step, 9);  // the first of the tie at 9 and 19
  // An infinity is the highest stored value, but not the highest finite one.
  const TagSummary& time = tags[4];
  EXPECT_EQ(time.tag, "time/step_ms");
  EXPECT_EQ(time.highest->value, kInf);
  EXPECT_EQ(time.highest->step, 6);
  EXPECT_EQ(time.finite_highest->value, 4.0);
  EXPECT_EQ(time.finite_highest->step, 19);
  EXPECT_EQ(time.finite_lowest->value, 3.0);
  EXPECT_EQ(time.finite_count, 2);
  EXPECT_EQ(time.finite_sum, 7.0);
  EXPECT_TRUE(summarize_tags(db, 2).empty());
}

TEST_F(history, summary_series_holds_every_value_by_tag_and_step) {
  Database db = open_existing(path_);
  const auto series = summary_series(db, 1);
  ASSERT_EQ(series.size(), 5u);
  const std::vector<Point>& g = series.at("loss/g");
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].step, 0);
  EXPECT_EQ(g[0].value, 2.0);
  EXPECT_EQ(g[2].step, 19);
  EXPECT_TRUE(std::isnan(series.at("loss/d").at(2).value));
  EXPECT_EQ(summary_series(db, 3).at("loss/mse").at(0).value, 0.125);
  EXPECT_TRUE(summary_series(db, 2).empty());
}

TEST_F(history, params_plugins_events_and_images_of_a_run) {
  Database db = open_existing(path_);
  EXPECT_EQ(run_params(db, 1), (std::map<std::string, std::string>{{"model.hidden", "64"}, {"model.note", ""}}));
  EXPECT_TRUE(run_params(db, 2).empty());

  const std::vector<PluginRecord> plugins = run_plugins(db, 1);
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins[0].kind, "loss");  // by kind, then name
  EXPECT_EQ(plugins[0].sha256, "");
  EXPECT_EQ(plugins[0].version, "");
  EXPECT_EQ(plugins[0].abi, 0);
  EXPECT_EQ(plugins[1].name, "mlp");
  EXPECT_EQ(plugins[1].library, "mlp");
  EXPECT_EQ(plugins[1].path, "/lib/libmlp.so");
  EXPECT_EQ(plugins[1].sha256, "abcdef");
  EXPECT_EQ(plugins[1].version, "1.2");
  EXPECT_EQ(plugins[1].abi, 1);

  EXPECT_EQ(count_events(db, 1), 2);
  EXPECT_EQ(count_events(db, 2), 0);
  const std::vector<EventRow> events = run_events(db, 3);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].run_id, 3);
  EXPECT_EQ(events[1].kind, "failure");
  EXPECT_EQ(events[1].step, 8);
  EXPECT_EQ(events[1].message, "boom");
  EXPECT_EQ(events[1].time, 3009.0);
  const std::vector<EventRow> a = run_events(db, 1);
  EXPECT_FALSE(a[0].step);
  EXPECT_EQ(a[1].message, "");  // NULL

  const std::vector<ImageRow> images = run_images(db, 1);
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0].tag, "grid");
  EXPECT_EQ(images[1].path, "a/s-10.png");
  EXPECT_EQ(images[2].step, 20);
  EXPECT_EQ(images[2].wall_time, 1020.0);
  EXPECT_TRUE(run_images(db, 2).empty());
}

TEST_F(history, listing_reads_index_entries_not_summaries) {
  // The lookups list_runs and last_summaries make, as SQLite plans them: searches, no scans.
  Database db = open_existing(path_);
  for (const char* sql : {"SELECT tag FROM summaries WHERE run_id = 1 AND tag > 'a' AND tag < 'z' ORDER BY tag LIMIT 1",
                          "SELECT step, value FROM summaries WHERE run_id = 1 AND tag = 'x' ORDER BY step DESC LIMIT 1",
                          "SELECT MAX(step) FROM checkpoints WHERE run_id = 1"}) {
    Statement plan(db, std::string("EXPLAIN QUERY PLAN ") + sql);
    while (plan.step()) EXPECT_EQ(plan.column_text(3).rfind("SEARCH", 0), 0u) << sql << ": " << plan.column_text(3);
  }
}

}  // namespace
}  // namespace kiln::runner::store
