// docs/sql-cookbook.md: every query in it, run by `kiln query --csv` on a database that real
// runs made, gives the answer this test works out from the tables themselves.
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "cookbook_answers.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

/// The cookbook's queries by id: each ```sql block comes right after `<!-- cookbook: id -->`.
/// A block without an id, an id without a block and an id used twice are failures.
std::map<std::string, std::string> cookbook_queries() {
  const std::vector<std::string> text = lines(read_file(source_dir() / "docs/sql-cookbook.md"));
  const std::string open = "<!-- cookbook: ", close = " -->";
  std::map<std::string, std::string> queries;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string where = "docs/sql-cookbook.md:" + std::to_string(i + 1);
    if (text[i] == "```sql") ADD_FAILURE() << where << ": a sql block without a <!-- cookbook: id --> line before it";
    if (text[i].rfind(open, 0) != 0) continue;
    const std::size_t end = text[i].find(close, open.size());
    const std::string id = text[i].substr(open.size(), end - open.size());
    if (end == std::string::npos || i + 1 == text.size() || text[i + 1] != "```sql") {
      ADD_FAILURE() << where << ": expected a ```sql block right after " << text[i];
      continue;
    }
    std::string sql;
    for (i += 2; i < text.size() && text[i] != "```"; ++i) sql += text[i] + "\n";
    if (!queries.emplace(id, sql).second) ADD_FAILURE() << where << ": cookbook id '" << id << "' is used twice";
  }
  return queries;
}

/// The rows of CSV as `kiln query --csv` writes it (RFC 4180). An empty field that is not
/// quoted is NULL, which comes out as "NULL", as sql_rows has it.
Rows parse_csv(const std::string& text) {
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes && c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
      field += '"';
      ++i;
    } else if (c == '"') {
      in_quotes = !in_quotes;
      quoted = true;
    } else if (!in_quotes && (c == ',' || c == '\n')) {
      row.push_back(field.empty() && !quoted ? "NULL" : field);
      field.clear();
      quoted = false;
      if (c == '\n') rows.push_back(std::exchange(row, {}));
    } else {
      field += c;
    }
  }
  return rows;
}

std::optional<double> number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  // "nan" and "inf" are text here (an event kind is "nan").
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

/// Numbers compare equal to 1e-12 relative: kiln prints the shortest exact form, SQLite's
/// text has 15 digits, and a mean may add up in another order. Everything else is text.
bool same_cell(const std::string& a, const std::string& b) {
  const auto x = number(a), y = number(b);
  if (x && y) return *x == *y || std::fabs(*x - *y) <= 1e-12 * std::max(std::fabs(*x), std::fabs(*y));
  return a == b;
}

::testing::AssertionResult same_rows(const Rows& actual, const Rows& expected) {
  bool same = actual.size() == expected.size();
  for (std::size_t i = 0; same && i < actual.size(); ++i) {
    same = actual[i].size() == expected[i].size();
    for (std::size_t j = 0; same && j < actual[i].size(); ++j) same = same_cell(actual[i][j], expected[i][j]);
  }
  if (same) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  for (const Rows* rows : {&actual, &expected}) {
    failure << (rows == &actual ? "kiln query gave\n" : "expected\n");
    for (const auto& row : *rows) {
      for (const auto& cell : row) failure << "  [" << cell << "]";
      failure << "\n";
    }
  }
  return failure;
}

TEST(cookbook, every_query_in_the_doc_is_tested_and_every_tested_query_is_in_the_doc) {
  std::set<std::string> in_doc, tested;
  for (const auto& [id, sql] : cookbook_queries()) in_doc.insert(id);
  for (const auto& [id, answer] : cookbook_answers()) tested.insert(id);
  EXPECT_EQ(in_doc, tested);
  EXPECT_GE(in_doc.size(), 12u);
}

TEST(cookbook, every_query_pastes_between_double_quotes) {
  for (const auto& [id, sql] : cookbook_queries())
    EXPECT_EQ(sql.find_first_of("\"`$\\"), std::string::npos)
        << id << " has a character the shell would change inside double quotes:\n" << sql;
}

/// Runs kiln with `args` in `dir`; it must exit with `exit_code`.
void kiln_ok(const TempDir& dir, const std::vector<std::string>& args, int exit_code = 0) {
  const KilnResult result = run_kiln(args, dir.path());
  ASSERT_EQ(result.exit_code(), exit_code) << result.describe();
}

/// mlp_experiment() named mlp, with a learning rate of 1e-3, an eval metric (eval/mse every
/// 15 steps), summaries every 10 steps and a checkpoint every 10, the newest two kept.
std::string experiment() {
  const std::string extra =
      "[eval_data]\nplugin = \"synthetic_regression\"\nsize = 32\ninputs = 4\n"
      "[saver]\nevery_steps = 10\nmax_to_keep = 2\n[supervisor]\nsummary_every_steps = 10\nlog_every_steps = 0\n"
      "[[hooks]]\nplugin = \"evaluate\"\nmetric = \"mse\"\nprediction = \"prediction\"\ntarget = \"y\"\n"
      "every_steps = 15\n";
  const std::string text = replace_once(mlp_experiment(extra, /*max_steps=*/30), "name = \"t\"", "name = \"mlp\"");
  return replace_once(text, "lr = 1e-2", "lr = 1e-3");
}

TEST(cookbook, every_query_gives_the_answer_worked_out_from_the_tables) {
  TempDir dir;
  write_text(dir, "mlp.toml", experiment());
  write_text(dir, "mlp-kill.toml", experiment() + "[plugins]\npaths = [\"" + fixture_dir().string() +
                                       "\"]\n[[hooks]]\nplugin = \"kill_at\"\nstep = 25\nafter_save = 20\n");
  // mlp, then mlp-2 with another learning rate and a keep_every_hours so short that every
  // checkpoint leaving the newest two is kept, mlp-3 whose loss overflows, mlp resumed to 40
  // steps, and mlp-4, killed at step 25 and then marked crashed by `kiln runs`.
  kiln_ok(dir, {"run", "mlp.toml"});
  // mlp-2 also counts eval/ metrics as higher-is-better ([summaries]), so that the database
  // has both directions.
  kiln_ok(dir, {"run", "mlp.toml", "--fresh", "--set", "optimizers.adam.lr=1e-2", "--set",
                "saver.keep_every_hours=1e-9", "--set", "summaries.maximize=['eval/*']"});
  kiln_ok(dir, {"run", "mlp.toml", "--fresh", "--set", "optimizers.adam.lr=1e30"}, 1);
  kiln_ok(dir, {"run", "mlp.toml", "--set", "experiment.max_steps=40"});
  const KilnResult killed = run_kiln({"run", "mlp-kill.toml", "--fresh"}, dir.path());
  ASSERT_TRUE(WIFSIGNALED(killed.wait_status) && WTERMSIG(killed.wait_status) == SIGKILL) << killed.describe();
  kiln_ok(dir, {"runs"});

  const fs::path db = dir / "runs/kiln.db";
  // The story the cookbook tells is in the database.
  ASSERT_EQ(sql_rows(db, "SELECT name, status FROM runs ORDER BY id"),
            (Rows{{"mlp", "completed"}, {"mlp-2", "completed"}, {"mlp-3", "failed"}, {"mlp-4", "crashed"}}));
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM checkpoints WHERE kept = 'keep_every_hours'"), "1");
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM checkpoints WHERE deleted IS NOT NULL"), "2");
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM events WHERE kind IN ('resume', 'nan', 'failure')"), "3");
  EXPECT_EQ(sql_value(db, "SELECT COUNT(*) FROM plugins WHERE library = 'fixture_chaos'"), "1");
  EXPECT_EQ(sql_rows(db, "SELECT run_id, pattern, direction FROM summary_directions"), (Rows{{"2", "eval/*", "max"}}));
  // The sweep 'lr' as kiln sweep would record it, over the runs' learning rates, ranked by
  // eval/mse lowest first; mlp-2 was cut at step 20 and the fourth trial has not started.
  sql_exec(db, R"sql(
    INSERT INTO sweeps (id, name, experiment, spec, metric, mode, trials, created)
    VALUES (1, 'lr', 'mlp.toml', '{"choice":{"optimizers.adam.lr":["1e-3","1e-2","1e30","3e-3"]}}', 'eval/mse', 'min', 4,
            1700000000);
    INSERT INTO sweep_trials (sweep_id, trial, run, overrides, cut_step) VALUES
      (1, 1, 'mlp', '{"optimizers.adam.lr":"1e-3"}', NULL), (1, 2, 'mlp-2', '{"optimizers.adam.lr":"1e-2"}', 20),
      (1, 3, 'mlp-3', '{"optimizers.adam.lr":"1e30"}', NULL), (1, 4, 'mlp-5', '{"optimizers.adam.lr":"3e-3"}', NULL);
    UPDATE runs SET sweep_id = 1 WHERE name IN ('mlp', 'mlp-2', 'mlp-3');
    INSERT INTO events (run_id, time, step, kind, message)
    VALUES (2, 1700000001, 20, 'sweep_cut', 'eval/mse 0.5 is worse than the median 0.25 at step 20');
  )sql");

  const auto answers = cookbook_answers();
  for (const auto& [id, sql] : cookbook_queries()) {
    SCOPED_TRACE("cookbook query " + id);
    const KilnResult result = run_kiln({"query", "--db", db.string(), "--csv", sql}, dir.path());
    ASSERT_EQ(result.exit_code(), 0) << result.describe();
    EXPECT_EQ(result.err, "");
    const auto found = answers.find(id);
    if (found == answers.end()) continue;  // the test above names it
    const Rows answer = found->second(db);
    EXPECT_GT(answer.size(), 1u) << "the test database gives this query nothing to find";
    EXPECT_TRUE(same_rows(parse_csv(result.out), answer)) << sql;
  }
}

}  // namespace
}  // namespace kiln::test
