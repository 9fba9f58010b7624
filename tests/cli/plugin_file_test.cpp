// A plugin file cut short (a copy that stopped half way) is refused with one "error:" line
// naming it, exit code 2 and no signal, wherever kiln meets it; a scan passes over it.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/experiment_file.hpp"
#include "../support/temp_dir.hpp"
#include "cli_support.hpp"
#include "kiln_process.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

/// The regex for "<file> is truncated: its segment N ends at byte M but the file has 4096 bytes".
std::string truncated_at_4096(const fs::path& file) {
  return file.string() + " is truncated: its segment [0-9] ends at byte [0-9]+ but the file has 4096 bytes";
}

class cli_plugin_file : public ::testing::Test {
 protected:
  /// `name` in the test folder: the first 4096 bytes of kiln's own libmlp.so
  /// (`head -c 4096 libmlp.so > libtrunc.so`).
  fs::path truncated_plugin(const std::string& name) {
    std::ifstream in(kiln_plugin_dir() / "libmlp.so", std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    EXPECT_GT(bytes.size(), 4096u);
    bytes.resize(4096);
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }

  TempDir dir_;
};

TEST_F(cli_plugin_file, run_refuses_a_truncated_library_named_by_path) {
  const fs::path library = truncated_plugin("libtrunc.so");
  const std::string text =
      replace_once(mlp_experiment(), "plugin = \"mlp\"\n", "plugin = \"mlp\"\nlibrary = \"./libtrunc.so\"\n");
  write_text(dir_, "exp.toml", text);
  const KilnResult result = run_kiln({"run", "exp.toml"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(error_line(result), MatchesRegex("error: exp\\.toml:" + std::to_string(line_of(text, "[model]")) +
                                               ":1: " + truncated_at_4096(library)));
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

TEST_F(cli_plugin_file, plugins_check_refuses_a_truncated_library) {
  const fs::path library = truncated_plugin("libtrunc.so");
  const KilnResult result = run_kiln({"plugins", "--check", "./libtrunc.so"}, dir_.path());
  EXPECT_TRUE(fails_with_one_error_line(result, 2));
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(error_line(result), MatchesRegex("error: " + truncated_at_4096(library)));
}

TEST_F(cli_plugin_file, truncated_library_in_a_plugin_folder_is_listed_as_refused) {
  fs::create_directories(dir_ / "extra");
  const fs::path library = truncated_plugin("extra/libtrunc.so");
  const KilnResult result = run_kiln({"plugins"}, dir_.path(), {{"KILN_PLUGIN_PATH", (dir_ / "extra").string()}});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("\n" + library.string() + "\n  refused   " + library.string() + " is truncated: "));
  EXPECT_THAT(lines(result.out), ::testing::Contains(MatchesRegex("  refused   " + truncated_at_4096(library))));
}

TEST_F(cli_plugin_file, truncated_library_in_a_plugin_folder_does_not_stop_a_run_that_scans_past_it) {
  // 'mse' has no libmse.so: kiln opens each library in the search path until one registers
  // it, the truncated one in $KILN_PLUGIN_PATH first.
  fs::create_directories(dir_ / "extra");
  truncated_plugin("extra/libaaa.so");
  write_text(dir_, "exp.toml", mlp_experiment("", /*max_steps=*/2));
  const KilnResult result =
      run_kiln({"run", "exp.toml"}, dir_.path(), {{"KILN_PLUGIN_PATH", (dir_ / "extra").string()}});
  ASSERT_EQ(result.exit_code(), 0) << result.describe();
  EXPECT_EQ(sql_value(dir_ / "runs/kiln.db", "SELECT status FROM runs"), "completed");
  EXPECT_EQ(sql_value(dir_ / "runs/kiln.db", "SELECT library FROM plugins WHERE name = 'mse'"), "losses");
}

}  // namespace
}  // namespace kiln::test
