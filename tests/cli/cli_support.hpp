// What the command-line tests share: where things are, experiment edits, output and database checks.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "../support/temp_dir.hpp"
#include "kiln_process.hpp"

namespace kiln::test {

/// The folder of the test plugin libraries (tests/fixtures).
std::filesystem::path fixture_dir();

/// kiln's own plugin folder, beside the binary under test (build/plugins/lib).
std::filesystem::path kiln_plugin_dir();

/// The source tree's root, for the shipped experiments.
std::filesystem::path source_dir();

/// `kiln run experiments/pix2pix.toml` shrunk to seconds: 32×32 images, 8 training and 4
/// evaluation examples, ngf = ndf = 8, `max_steps` steps, logging off; then the test's own
/// `sets` (KEY=VALUE), each as a --set.
std::vector<std::string> small_pix2pix_run(int max_steps, const std::vector<std::string>& sets);

/// `text` with its only occurrence of `from` replaced by `to`; throws when `from` is not
/// there exactly once, so that an edit cannot silently miss.
std::string replace_once(const std::string& text, const std::string& from, const std::string& to);

/// The 1-based number of the only line of `text` that contains `needle`.
int line_of(const std::string& text, const std::string& needle);

/// The lines of `text`, without their '\n'.
std::vector<std::string> lines(const std::string& text);

/// The lines of `text` that are not progress lines (those beginning with '[').
std::vector<std::string> message_lines(const std::string& text);

/// True when `text` holds one of kiln's progress lines ("[...] [info] step 3/100 ...").
bool has_progress_line(const std::string& text);

/// Succeeds when kiln exited normally (no signal, no core dump) with `exit_code`, and its
/// stderr, leaving out progress lines (those beginning with '['), is exactly one line
/// beginning "error: ".
::testing::AssertionResult fails_with_one_error_line(const KilnResult& result, int exit_code);

/// The one line that fails_with_one_error_line checks (the first non-progress line of stderr).
std::string error_line(const KilnResult& result);

/// `text` without the whitespace outside of strings: JSON that parses the same compares equal.
std::string compact_json(const std::string& text);

/// The rows of `sql` on the database at `db`, opened read-only with SQLite itself (not
/// through kiln). Each cell is its text; NULL is "NULL".
std::vector<std::vector<std::string>> sql_rows(const std::filesystem::path& db, const std::string& sql);

/// Runs `sql` on the database at `db`, read-write, with SQLite itself (as another program
/// would); SQLite's refusal is a test failure with its message.
void sql_exec(const std::filesystem::path& db, const std::string& sql);

/// The one value `sql` selects.
std::string sql_value(const std::filesystem::path& db, const std::string& sql);

/// The whole content of a file.
std::string read_file(const std::filesystem::path& path);

/// A test that runs `kiln run exp.toml` in a folder of its own, for inputs kiln must refuse.
/// Lowers one of this process's soft resource limits (RLIMIT_FSIZE, RLIMIT_AS ...) while it
/// lives. Children started meanwhile inherit the limit, as if it had been set in the child
/// before exec; so this process itself must not need more meanwhile.
class ScopedResourceLimit {
 public:
  ScopedResourceLimit(int resource, rlim_t limit);
  ~ScopedResourceLimit();
  ScopedResourceLimit(const ScopedResourceLimit&) = delete;
  ScopedResourceLimit& operator=(const ScopedResourceLimit&) = delete;

 private:
  int resource_;
  rlimit saved_{};
};

class KilnRunTest : public ::testing::Test {
 protected:
  /// Writes `experiment` to exp.toml and runs `kiln run exp.toml` with `extra_args`. A kiln
  /// still running after `timeout` is killed, which shows as death by SIGKILL.
  KilnResult run(const std::string& experiment, const std::vector<std::string>& extra_args = {},
                 const EnvChanges& env = {}, std::chrono::milliseconds timeout = std::chrono::seconds(120));

  /// What every refusal shares: exit code 2, one error line, nothing on stdout, no run.
  void expect_refused(const KilnResult& result) const;

  /// "error: exp.toml:LINE:COLUMN: " for the line of `text` that holds `needle`.
  static std::string error_at(const std::string& text, const std::string& needle, int column);

  TempDir dir_;
};

}  // namespace kiln::test
