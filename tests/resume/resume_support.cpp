// What the resume tests share: experiments with the chaos fixture, checkpoint and store checks.
#include "resume_support.hpp"

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

#include <sys/wait.h>

#include "../cli/cli_support.hpp"
#include "../support/experiment_file.hpp"
#include "plugins/sha256.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

/// `name` quoted as an SQL string literal.
std::string sql_quote(const std::string& name) {
  std::string out = "'";
  for (const char c : name) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool has_tables(const fs::path& db) {
  return fs::exists(db) && sql_value(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'checkpoints'") == "1";
}

}  // namespace

std::string chaos_experiment(const std::string& extra, long max_steps, const std::string& hidden) {
  const std::string plugins = "[plugins]\npaths = [\"" + fixture_dir().string() + "\"]\n";
  return replace_once(mlp_experiment(plugins + extra, max_steps), "hidden = [8]", "hidden = " + hidden);
}

std::vector<CheckpointRecord> checkpoint_records(const fs::path& db, const std::string& run, bool include_deleted) {
  std::string sql =
      "SELECT c.step, c.path, c.sha256, c.reason, c.deleted IS NOT NULL FROM checkpoints c "
      "JOIN runs r ON r.id = c.run_id WHERE r.name = " + sql_quote(run);
  if (!include_deleted) sql += " AND c.deleted IS NULL";
  std::vector<CheckpointRecord> out;
  for (const auto& row : sql_rows(db, sql + " ORDER BY c.step"))
    out.push_back({std::stoll(row[0]), row[1], row[2], row[3], row[4] == "1"});
  return out;
}

std::vector<std::int64_t> steps_of(const std::vector<CheckpointRecord>& records) {
  std::vector<std::int64_t> out;
  for (const CheckpointRecord& record : records) out.push_back(record.step);
  return out;
}

CheckpointRecord record_at(const std::vector<CheckpointRecord>& records, std::int64_t step) {
  for (const CheckpointRecord& record : records)
    if (record.step == step) return record;
  throw std::invalid_argument("no checkpoint row at step " + std::to_string(step));
}

::testing::AssertionResult file_matches_row(const CheckpointRecord& record) {
  if (!fs::is_regular_file(record.path))
    return ::testing::AssertionFailure() << "checkpoint row at step " << record.step << " names " << record.path
                                         << ", which is not a file";
  const std::string actual = runner::sha256_file(record.path);
  if (actual != record.sha256)
    return ::testing::AssertionFailure() << record.path << " has sha256 " << actual << ", its row says "
                                         << record.sha256;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult store_is_consistent(const fs::path& db) {
  if (!has_tables(db)) return ::testing::AssertionSuccess();
  const auto integrity = sql_rows(db, "PRAGMA integrity_check");
  if (integrity != std::vector<std::vector<std::string>>{{"ok"}}) {
    std::string text;
    for (const auto& row : integrity) text += row.at(0) + "\n";
    return ::testing::AssertionFailure() << db << " fails PRAGMA integrity_check:\n" << text;
  }
  for (const auto& run : sql_rows(db, "SELECT name FROM runs"))
    for (const CheckpointRecord& record : checkpoint_records(db, run[0]))
      if (auto matches = file_matches_row(record); !matches) return matches << " (run " << run[0] << ")";
  const std::string twice = sql_value(
      db, "SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT run_id, tag, step FROM summaries)) FROM summaries");
  if (twice != "0")
    return ::testing::AssertionFailure() << db << ": " << twice << " summaries repeat a (run, tag, step)";
  return ::testing::AssertionSuccess();
}

std::int64_t newest_checkpoint_step(const fs::path& db, const std::string& run) {
  if (!has_tables(db)) return 0;
  const auto records = checkpoint_records(db, run);
  return records.empty() ? 0 : records.back().step;
}

bool killed_by(const KilnResult& result, int signal) {
  return WIFSIGNALED(result.wait_status) && WTERMSIG(result.wait_status) == signal;
}

std::int64_t first_progress_step(const std::string& text) {
  for (const std::string& line : lines(text)) {
    const auto at = line.find("] step ");
    if (line.empty() || line.front() != '[' || at == std::string::npos) continue;
    return std::stoll(line.substr(at + 7));
  }
  return -1;
}

}  // namespace kiln::test
