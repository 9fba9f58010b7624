// Helpers of the command-line tests: text edits, stderr checks, JSON and SQLite reads.
#include "cli_support.hpp"

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <sqlite3.h>

#include "../support/experiment_file.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

bool is_progress(const std::string& line) { return !line.empty() && line.front() == '['; }

struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct SqliteFinalize {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};

}  // namespace

fs::path fixture_dir() { return KILN_FIXTURE_DIR; }

fs::path kiln_plugin_dir() { return fs::path(KILN_BINARY).parent_path() / "plugins/lib"; }

fs::path source_dir() { return KILN_SOURCE_DIR; }

std::vector<std::string> small_pix2pix_run(int max_steps, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"run", (source_dir() / "experiments/pix2pix.toml").string()};
  std::vector<std::string> all = {"experiment.max_steps=" + std::to_string(max_steps),
                                  "data.image_size=32",
                                  "data.load_size=36",
                                  "data.size=8",
                                  "eval_data.image_size=32",
                                  "eval_data.size=4",
                                  "model.image_size=32",
                                  "model.ngf=8",
                                  "model.ndf=8",
                                  "supervisor.log_every_steps=0"};
  all.insert(all.end(), sets.begin(), sets.end());
  for (const std::string& set : all) args.insert(args.end(), {"--set", set});
  return args;
}

std::string replace_once(const std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos)
    throw std::invalid_argument("expected exactly one '" + from + "' in:\n" + text);
  return text.substr(0, at) + to + text.substr(at + from.size());
}

int line_of(const std::string& text, const std::string& needle) {
  const std::vector<std::string> all = lines(text);
  int found = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].find(needle) == std::string::npos) continue;
    if (found != 0) throw std::invalid_argument("more than one line holds '" + needle + "'");
    found = static_cast<int>(i) + 1;
  }
  if (found == 0) throw std::invalid_argument("no line holds '" + needle + "'");
  return found;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> message_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : lines(text))
    if (!is_progress(line)) out.push_back(line);
  return out;
}

bool has_progress_line(const std::string& text) {
  for (const std::string& line : lines(text))
    if (is_progress(line) && line.find("] step ") != std::string::npos) return true;
  return false;
}

::testing::AssertionResult fails_with_one_error_line(const KilnResult& result, int exit_code) {
  if (!result.exited()) return ::testing::AssertionFailure() << "kiln did not exit normally: " << result.describe();
  if (result.exit_code() != exit_code)
    return ::testing::AssertionFailure() << "expected exit code " << exit_code << ", got " << result.describe();
  const std::vector<std::string> messages = message_lines(result.err);
  if (messages.size() != 1)
    return ::testing::AssertionFailure() << "expected one line on stderr, got " << messages.size() << ": "
                                         << result.describe();
  if (messages.front().rfind("error: ", 0) != 0)
    return ::testing::AssertionFailure() << "the line does not begin with 'error: ': " << messages.front();
  return ::testing::AssertionSuccess();
}

std::string error_line(const KilnResult& result) {
  const std::vector<std::string> messages = message_lines(result.err);
  return messages.empty() ? "" : messages.front();
}

std::string compact_json(const std::string& text) {
  std::string out;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      out += c;
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
      out += c;
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out += c;
    }
  }
  return out;
}

void sql_exec(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  const int opened = sqlite3_open(db.c_str(), &handle);
  std::unique_ptr<sqlite3, SqliteClose> connection(handle);
  ASSERT_EQ(opened, SQLITE_OK) << db;
  char* message = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &message);
  const std::string error = message ? message : "";
  sqlite3_free(message);
  EXPECT_EQ(rc, SQLITE_OK) << error;
}

std::vector<std::vector<std::string>> sql_rows(const fs::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, SqliteClose> connection(raw);
  if (opened != SQLITE_OK)
    throw std::runtime_error(db.string() + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(opened)));
  sqlite3_stmt* raw_statement = nullptr;
  if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &raw_statement, nullptr) != SQLITE_OK)
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(raw));
  std::unique_ptr<sqlite3_stmt, SqliteFinalize> statement(raw_statement);
  std::vector<std::vector<std::string>> rows;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(raw_statement)) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(raw_statement); ++i) {
      const unsigned char* text = sqlite3_column_text(raw_statement, i);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
  }
  if (step != SQLITE_DONE) throw std::runtime_error(sql + ": " + sqlite3_errmsg(raw));
  return rows;
}

std::string sql_value(const fs::path& db, const std::string& sql) {
  const auto rows = sql_rows(db, sql);
  if (rows.size() != 1 || rows.front().size() != 1)
    throw std::runtime_error(sql + ": expected one value, got " + std::to_string(rows.size()) + " rows");
  return rows.front().front();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

KilnResult KilnRunTest::run(const std::string& experiment, const std::vector<std::string>& extra_args,
                            const EnvChanges& env, std::chrono::milliseconds timeout) {
  write_text(dir_, "exp.toml", experiment);
  std::vector<std::string> args = {"run", "exp.toml"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  KilnProcess kiln(args, dir_.path(), env);
  return kiln.finish(timeout);
}

void KilnRunTest::expect_refused(const KilnResult& result) const {
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(result.out, "");
  EXPECT_FALSE(fs::exists(dir_ / "runs")) << "a refused experiment must create neither a run nor a database";
}

std::string KilnRunTest::error_at(const std::string& text, const std::string& needle, int column) {
  return "error: exp.toml:" + std::to_string(line_of(text, needle)) + ":" + std::to_string(column) + ": ";
}

ScopedResourceLimit::ScopedResourceLimit(int resource, rlim_t limit) : resource_(resource) {
  if (getrlimit(resource_, &saved_) != 0) throw std::system_error(errno, std::generic_category(), "getrlimit");
  rlimit lowered = saved_;
  lowered.rlim_cur = limit;
  if (setrlimit(resource_, &lowered) != 0) throw std::system_error(errno, std::generic_category(), "setrlimit");
}

ScopedResourceLimit::~ScopedResourceLimit() { setrlimit(resource_, &saved_); }

}  // namespace kiln::test
