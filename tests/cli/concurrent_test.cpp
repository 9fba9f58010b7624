// Several `kiln run` processes writing one new database at once, with readers meanwhile:
// nobody fails with "database is locked" and no row is lost.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "cli_support.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Rows = std::vector<std::vector<std::string>>;

constexpr long kSteps = 6000;
constexpr long kSaveEvery = 500;  // 12 checkpoints per run
constexpr long kKeep = 3;         // max_to_keep: 9 of them deleted again
const std::vector<std::string> kRuns = {"a", "b", "c", "d"};

/// One run of the mlp named `name`: summaries every step, a checkpoint every kSaveEvery
/// steps with retention (and a keep_every_hours clock, so `retention` gets its row), and a
/// progress line at the first step to say the run is under way.
std::string experiment(const std::string& name) {
  return replace_once(mlp_experiment("[supervisor]\nsummary_every_steps = 1\nlog_every_steps = 100000\n"
                                     "[saver]\nevery_steps = " + std::to_string(kSaveEvery) +
                                         "\nmax_to_keep = " + std::to_string(kKeep) + "\nkeep_every_hours = 1000\n",
                                     kSteps),
                      "name = \"t\"", "name = \"" + name + "\"");
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

/// Succeeds when kiln exited 0 and its stderr never mentions a locked or busy database.
::testing::AssertionResult clean(const KilnResult& result) {
  if (result.exit_code() != 0) return ::testing::AssertionFailure() << result.describe();
  const std::string err = lowercase(result.err);
  if (err.find("locked") != std::string::npos || err.find("busy") != std::string::npos)
    return ::testing::AssertionFailure() << "stderr mentions a locked database: " << result.describe();
  return ::testing::AssertionSuccess();
}

/// The first line `kiln run` prints when the run `name` completed all its steps.
std::string completed_line(const std::string& name) {
  return "run " + name + " completed: step " + std::to_string(kSteps) + " of " + std::to_string(kSteps);
}

std::string count(const fs::path& db, const std::string& name, const std::string& where) {
  return sql_value(db, "SELECT COUNT(*) FROM " + where + " AND run_id = (SELECT id FROM runs WHERE name = '" + name +
                           "')");
}

TEST(concurrent_runs, four_writers_and_readers_on_a_new_database_lose_nothing) {
  TempDir dir;
  for (const std::string& name : kRuns) write_text(dir, name + ".toml", experiment(name));
  const fs::path db = dir / "runs/kiln.db";
  ASSERT_FALSE(fs::exists(db));

  // All at once, on a database that does not exist yet: they race to create and migrate it.
  std::vector<std::unique_ptr<KilnProcess>> writers;
  for (const std::string& name : kRuns)
    writers.push_back(std::make_unique<KilnProcess>(std::vector<std::string>{"run", name + ".toml"}, dir.path()));

  // Readers start once a run is under way (before, there is no database to read), and go
  // on until every writer is done.
  const bool under_way =
      writers.front()->wait_until([](const KilnProcess& p) { return has_progress_line(p.err()); }, 120s);
  EXPECT_TRUE(under_way) << writers.front()->err();
  std::atomic<bool> writers_done{false};
  std::vector<KilnResult> reads;
  std::thread reader;
  if (under_way) {
    reader = std::thread([&] {
      do {
        reads.push_back(run_kiln({"runs"}, dir.path()));
        reads.push_back(run_kiln({"query", "SELECT COUNT(*) FROM summaries"}, dir.path()));
        reads.push_back(run_kiln({"query", "--csv", "SELECT name, status FROM runs ORDER BY name"}, dir.path()));
      } while (!writers_done);
    });
  }
  std::vector<KilnResult> writes;
  for (auto& writer : writers) writes.push_back(writer->finish(300s));
  writers_done = true;
  if (reader.joinable()) reader.join();

  for (std::size_t i = 0; i < writes.size(); ++i) {
    EXPECT_TRUE(clean(writes[i])) << "kiln run " << kRuns[i];
    EXPECT_THAT(writes[i].out, ::testing::HasSubstr(completed_line(kRuns[i])));
  }
  for (const KilnResult& read : reads) EXPECT_TRUE(clean(read));
  ASSERT_GE(reads.size(), 3u);
  RecordProperty("reads", static_cast<int>(reads.size()));

  EXPECT_EQ(sql_rows(db, "SELECT name, status FROM runs ORDER BY name"),
            (Rows{{"a", "completed"}, {"b", "completed"}, {"c", "completed"}, {"d", "completed"}}));
  const std::string steps = std::to_string(kSteps);
  const std::string params = count(db, "a", "params WHERE 1");
  EXPECT_NE(params, "0");
  for (const std::string& name : kRuns) {
    SCOPED_TRACE("run " + name);
    const std::string run = "(SELECT id FROM runs WHERE name = '" + name + "')";
    // Every step's summaries, once each.
    EXPECT_EQ(sql_rows(db, "SELECT tag, COUNT(*), COUNT(DISTINCT step), MIN(step), MAX(step) FROM summaries "
                           "WHERE run_id = " + run + " GROUP BY tag ORDER BY tag"),
              (Rows{{"loss/mse", steps, steps, "0", std::to_string(kSteps - 1)},
                    {"lr/adam", steps, steps, "0", std::to_string(kSteps - 1)},
                    {"time/step_ms", steps, steps, "0", std::to_string(kSteps - 1)}}));
    EXPECT_EQ(count(db, name, "params WHERE 1"), params);
    EXPECT_EQ(count(db, name, "plugins WHERE 1"), "3");
    // Every checkpoint recorded; all but the last kKeep deleted, their files too.
    EXPECT_EQ(sql_rows(db, "SELECT COUNT(*), MIN(step), MAX(step), SUM(deleted IS NULL), SUM(kept = 'max_to_keep'), "
                           "SUM(deleted IS NOT NULL AND kept IS NULL) FROM checkpoints WHERE run_id = " + run),
              (Rows{{std::to_string(kSteps / kSaveEvery), std::to_string(kSaveEvery), steps, std::to_string(kKeep),
                     std::to_string(kKeep), std::to_string(kSteps / kSaveEvery - kKeep)}}));
    for (const auto& row : sql_rows(db, "SELECT path, deleted IS NULL FROM checkpoints WHERE run_id = " + run))
      EXPECT_EQ(fs::exists(row[0]), row[1] == "1") << row[0];
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir / "runs" / name / "checkpoints"))
      files += entry.path().extension() == ".kiln";
    EXPECT_EQ(files, static_cast<std::size_t>(kKeep));
    EXPECT_EQ(read_file(dir / "runs" / name / "checkpoints" / "latest"), "ckpt-" + steps + ".kiln\n");
    // The keep-every-hours clock: one row, about 1000 hours after the run started.
    EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM retention r JOIN runs ON runs.id = r.run_id WHERE r.run_id = " + run +
                                " AND r.next_keep_time BETWEEN runs.started + 3599000 AND runs.started + 3601000"),
              "1");
    EXPECT_EQ(sql_rows(db, "SELECT kind, COUNT(*) FROM events WHERE kind IN ('start', 'stop', 'failure', 'nan') "
                           "AND run_id = " + run + " GROUP BY kind ORDER BY kind"),
              (Rows{{"start", "1"}, {"stop", "1"}}));
  }
}

}  // namespace
}  // namespace kiln::test
